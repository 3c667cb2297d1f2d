# Two commands on a fresh machine: `make demo` and `make test`. Both build .venv themselves.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck pytest load dev sandbox chaos clean

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip==26.3
	$(BIN)/python -m pip install -q -c requirements.lock -e '.[dev]'
	touch $(STAMP)

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

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
