# Two commands on a fresh machine: `make demo` and `make test`. Both build .venv themselves.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The benchmark's peers (drt-core, the official Mailchimp SDK) and matplotlib live apart from the project.
PEERS_VENV := .venv-peers
PEERS_STAMP := $(PEERS_VENV)/.installed

.PHONY: demo test lint typecheck pytest load dev sandbox chaos bench bench-tenants bench-resume clean

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip==26.3
	$(BIN)/python -m pip install -q -c requirements.lock -e '.[dev]'
	touch $(STAMP)

$(PEERS_STAMP): benchmarks/peers/requirements.txt
	$(PYTHON) -m venv $(PEERS_VENV)
	$(PEERS_VENV)/bin/python -m pip install -q --upgrade pip==26.3
	$(PEERS_VENV)/bin/python -m pip install -q -r benchmarks/peers/requirements.txt
	touch $(PEERS_STAMP)

demo: $(STAMP)
	$(BIN)/oracle-mailchimp demo

test: lint typecheck pytest

# bandit: high-severity findings fail the build (a narrow `# nosec <id>` needs its reason beside it).
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/bandit -q -r oracle_mailchimp_dagster --severity-level high

typecheck: $(STAMP)
	$(BIN)/mypy

# pytest-xdist: most tests wait on subprocesses, HTTP servers and Dagster, so 4 worker processes keep
# 2 cores busy; worksteal hands a worker's queue to idle ones, so the few long tests don't set the end.
# `make pytest PYTEST_WORKERS=0` runs the suite in one process.
PYTEST_WORKERS ?= 4
pytest: $(STAMP)
	$(BIN)/pytest -q -n $(PYTEST_WORKERS) --dist worksteal

# The load tests (marked `load`) at full size, one at a time: `make test` runs them small
# (tests/support/load_size.py), e.g. 24,000 members through three clients on one key instead of 100,000.
load: $(STAMP)
	ORACLE_MAILCHIMP_TEST_LOAD=full $(BIN)/pytest -q -m load

# The sandbox and the Dagster UI (http://127.0.0.1:3000) together; Ctrl-C stops both.
dev: $(STAMP)
	$(BIN)/oracle-mailchimp dev

sandbox: $(STAMP)
	$(BIN)/oracle-mailchimp sandbox serve --latency realistic --env-file .sandbox.env

# SIGKILL the sync at 20 points (extraction, planning, Mailchimp writes, before the commit, anywhere),
# rerun each time, then count lost, duplicated and resubscribed members (all must be 0).
chaos: $(STAMP)
	$(BIN)/python -m benchmarks.chaos --kills 20 --customers 2000 --latency realistic

# Not in CI (about an hour on 2 cores): initial loads of 1k, 10k, 100k and 1M customers (realistic latency,
# and 1M with none for memory), an incremental run (1% changed) and a no-op tick on 100k, with drt-core and a
# per-record mailchimp-marketing loop on the same sandboxes; rewrites BENCHMARKS.md and docs/benchmarks/*.png.
# `make bench BENCH_ARGS="--sizes 1000 --sdk-sizes 1000 --check-sizes 1000 --then-sizes 1000"` is a quick look.
BENCH_ARGS ?= --with-1m
bench: $(STAMP) $(PEERS_STAMP)
	$(BIN)/python -m benchmarks.report --peers-venv $(PEERS_VENV) $(BENCH_ARGS)

# The sensors and schedules' ticks over 200 tenants (one with a broken pod), with realistic latency.
bench-tenants: $(STAMP)
	$(BIN)/python -m benchmarks.tenants --tenants 200 --latency realistic

# SIGKILL a 100k initial load at 60% of its member writes, rerun it: the rerun's share of a full load's writes.
bench-resume: $(STAMP)
	$(BIN)/python -m benchmarks.resume --customers 100000

clean:
	rm -rf $(VENV) $(PEERS_VENV) .pytest_cache .mypy_cache .ruff_cache
