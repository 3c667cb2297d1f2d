"""Initial sync of a tenant through the real Dagster job, against sandboxes with realistic latency.

    .venv/bin/python -m benchmarks.sync --customers 100000 [--max-ratio 1.5] [--max-memory-mib 1024]

The sandboxes run in their own process (`oracle-mailchimp sandbox serve --latency realistic`), so the
peak memory printed is the connector's alone: Dagster, the extract, the plan, the Mailchimp load and
the ledger commit. Prints JSON with wall time, the ideal time and their ratio, and peak memory:

- ideal extraction: the token grant (200 ms) plus, per page, 300 ms and 1 ms per returned row (pages
  follow each other: keyset paging is sequential);
- ideal load: the latency Mailchimp's sandbox simulated for every call of the run (150 ms per call
  plus 2 ms per member or address in it), divided by the connector's concurrency (8).

Exits 1 when the ratio or the memory exceeds its limit.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import dagster as dg
import requests

from oracle_mailchimp_dagster.defs.launch import SyncRequest, launch_sync
from oracle_mailchimp_dagster.store.engine import Database
from oracle_mailchimp_dagster.store.migrate import upgrade_schema
from oracle_mailchimp_dagster.tenants.env_file import secrets_from_env, tenant_from_env
from oracle_mailchimp_dagster.tenants.model import (
    mapping_with_company,
)
from oracle_mailchimp_dagster.tenants.registry import TenantRegistry

TOKEN_S, PAGE_S, ROW_S = 0.200, 0.300, 0.001
CONCURRENCY = 8


def start_sandbox(customers: int, env_file: Path, latency: str) -> subprocess.Popen[bytes]:
    cli = Path(sys.executable).with_name("oracle-mailchimp")
    command = [str(cli), "sandbox", "serve", "--customers", str(customers), "--latency", latency]
    proc = subprocess.Popen([*command, "--env-file", str(env_file)], stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not (env_file.exists() and env_file.read_text().endswith("\n")):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit("the sandbox did not start")
        time.sleep(0.1)
    return proc


def register(env: dict[str, str], registry: TenantRegistry) -> None:
    registry.add(tenant_from_env("bench", env, mapping=mapping_with_company()), secrets_from_env(env))


def stats(base_url: str) -> dict[str, Any]:
    return dict(requests.get(base_url + "/__sandbox/stats", timeout=30).json())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--max-ratio", type=float, default=1.5)
    parser.add_argument("--max-memory-mib", type=float, default=1024)
    parser.add_argument(
        "--latency", choices=["realistic", "none"], default="realistic", help="none: memory only"
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="omd-bench-") as work:
        root = Path(work)
        os.environ["ORACLE_MAILCHIMP_DATABASE_URL"] = f"sqlite:///{root / 'app.db'}"
        os.environ["ORACLE_MAILCHIMP_KEY_FILE"] = str(root / "master.key")
        os.environ.pop("ORACLE_MAILCHIMP_MASTER_KEY", None)
        sandbox = start_sandbox(args.customers, root / "sandbox.env", args.latency)
        try:
            env = dict(line.split("=", 1) for line in (root / "sandbox.env").read_text().splitlines())
            db = Database.from_url()
            upgrade_schema(db)
            registry = TenantRegistry.open(db)
            register(env, registry)
            (root / "dagster").mkdir()
            with dg.instance_for_test(temp_dir=str(root / "dagster")) as instance:
                started = time.monotonic()
                summary = launch_sync(SyncRequest("bench"), registry, instance)
                wall = time.monotonic() - started
            fusion_base = env["ORACLE_BASE_URL"]
            mailchimp_base = env["MAILCHIMP_API_BASE"].removesuffix("/3.0")
            fusion, mailchimp = stats(fusion_base), stats(mailchimp_base)
        finally:
            sandbox.terminate()
            sandbox.wait(30)
    if not summary.success:
        print(json.dumps({"error": summary.error}))
        return 1
    extract = summary.metadata["fusion_customers"]
    results = summary.metadata["mailchimp_sync_results"]
    pages = int(extract["pages"])
    ideal_extract = TOKEN_S + pages * PAGE_S + int(extract["rows"]) * ROW_S
    ideal_load = float(mailchimp["simulated_delay_ms"]) / 1000 / CONCURRENCY
    ideal = ideal_extract + ideal_load
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    report = {
        "customers": args.customers,
        "records": int(results["records"]),
        "created": int(results["outcome_created"]),
        "failed": int(results["failed"]),
        "pages": pages,
        "oracle_requests": fusion["requests_total"],
        "mailchimp_requests": mailchimp["requests_total"],
        "mailchimp_requests_by_route": {
            k: sum(v.values()) for k, v in mailchimp["requests_by_route"].items()
        },
        "peak_mailchimp_in_flight": max(mailchimp["peak_in_flight_by_key"].values(), default=0),
        "step_seconds": {
            "extract": extract["duration_s"],
            "sync_results": results["duration_s"],
        },
        "wall_seconds": round(wall, 1),
        "ideal_seconds": round(ideal, 1),
        "ideal_extract_seconds": round(ideal_extract, 1),
        "ideal_load_seconds": round(ideal_load, 1),
        "ratio": round(wall / ideal, 3),
        "records_per_second": round(int(results["records"]) / wall, 1),
        "peak_memory_mib": round(peak_mib, 1),
    }
    print(json.dumps(report, indent=2))
    return 0 if report["ratio"] <= args.max_ratio and peak_mib <= args.max_memory_mib else 1


if __name__ == "__main__":
    sys.exit(main())
