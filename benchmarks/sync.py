"""Initial sync of a tenant through the real Dagster job, against sandboxes with realistic latency.

    .venv/bin/python -m benchmarks.sync --customers 100000 [--max-ratio 0.4] [--max-memory-mib 1024]
        [--latency realistic|none] [--extract-concurrency N] [--chunk-size N] [--chunks-in-flight N]
        [--then none|incremental|noop] [--change-share 0.01]

The sandboxes run in their own processes (`oracle-mailchimp sandbox serve --latency realistic`), so the
peak memory printed is the connector's alone: Dagster, the extract, the plan, the Mailchimp load and
the ledger commits. Prints JSON with wall time, the sequential bound and their ratio, peak memory and
the calls each API served:

- sequential bound of the extraction: the token grant (200 ms) plus, per page of 500 rows, 300 ms
  and 1 ms per row, as one keyset stream reading page after page would take;
- sequential bound of the load: the latency Mailchimp's sandbox simulated for every call of the run
  (150 ms per call plus 2 ms per member or address in it), divided by 8 (the yardstick's concurrency;
  a run of the connector uses 9 of the key's 10 connections, `defs.resources.RUN_CONCURRENCY`).

The two simulators run in two processes, as Oracle and Mailchimp run on machines of their own: in one
process they would share one interpreter lock, and serving Oracle's pages would slow Mailchimp's
answers whenever a sync reads and loads at once.

`--extract-concurrency` sets the Fusion client's pages in flight (1: one keyset stream; default: the
client's). `--then incremental` times a second run after renaming `--change-share` of the customers
(default 1%), `--then noop` a second run with nothing changed (the figures are the second run's; the
peak memory is the process's). Exits 1 when the memory or the ratio exceeds its limit (the ratio's
default limit, 0.4, applies to initial loads with realistic latency only).
"""

import argparse
import json
import math
import os
import random
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import dagster as dg
import requests

from benchmarks.sandboxes import start_sandbox
from oracle_mailchimp_dagster.defs.build import build_definitions
from oracle_mailchimp_dagster.defs.launch import JOB
from oracle_mailchimp_dagster.defs.metadata import report_values
from oracle_mailchimp_dagster.defs.partitions import TENANTS
from oracle_mailchimp_dagster.defs.resources import FusionResource
from oracle_mailchimp_dagster.fusion import FusionClient
from oracle_mailchimp_dagster.pipeline.apply import CHUNKS_IN_FLIGHT
from oracle_mailchimp_dagster.pipeline.plan import DEFAULT_CHUNK_SIZE
from oracle_mailchimp_dagster.pipeline.ports import CustomerSource
from oracle_mailchimp_dagster.store.engine import Database
from oracle_mailchimp_dagster.store.migrate import upgrade_schema
from oracle_mailchimp_dagster.tenants.env_file import secrets_from_env, tenant_from_env
from oracle_mailchimp_dagster.tenants.model import TenantConfig, mapping_with_company
from oracle_mailchimp_dagster.tenants.registry import TenantRegistry

TOKEN_S, PAGE_S, ROW_S, PAGE_ROWS = 0.200, 0.300, 0.001, 500
CONCURRENCY = 8
TENANT = "bench"
ASSETS = ("fusion_customers", "mailchimp_members", "mailchimp_sync_results")


class TunedFusion(FusionResource):
    """The Fusion resource with the client's pages in flight set (0: the client's default)."""

    extract_concurrency: int = 0

    def client(self, tenant: TenantConfig, registry: TenantRegistry) -> CustomerSource:
        client = super().client(tenant, registry)
        if self.extract_concurrency and isinstance(client, FusionClient):
            update = {"extract_concurrency": self.extract_concurrency}
            client = FusionClient(client.connection, client.options.model_copy(update=update))
        return client


def register(env: dict[str, str], registry: TenantRegistry, tenant_id: str = TENANT) -> None:
    registry.add(tenant_from_env(tenant_id, env, mapping=mapping_with_company()), secrets_from_env(env))


def stats(base_url: str) -> dict[str, Any]:
    return dict(requests.get(base_url + "/__sandbox/stats", timeout=30).json())


def sequential_bound(rows: int, simulated_delay_ms: float) -> dict[str, float]:
    """What a sequential sync would take: one keyset stream, then the load at the concurrency."""
    extract = TOKEN_S + math.ceil(rows / PAGE_ROWS) * PAGE_S + rows * ROW_S
    load = simulated_delay_ms / 1000 / CONCURRENCY
    return {"extract": extract, "load": load, "total": extract + load}


def run_sync(
    instance: dg.DagsterInstance, *, extract_concurrency: int, chunk_size: int, in_flight: int
) -> tuple[bool, dict[str, Any]]:
    """One run of the sync job, as the CLI runs it; its success and its assets' metadata."""
    definitions = build_definitions({"fusion": TunedFusion(extract_concurrency=extract_concurrency)})
    instance.add_dynamic_partitions(TENANTS, [TENANT])
    run_config = {
        "ops": {
            "mailchimp_members": {"config": {"chunk_size": chunk_size}},
            "mailchimp_sync_results": {"config": {"chunks_in_flight": in_flight}},
        }
    }
    result = definitions.resolve_job_def(JOB).execute_in_process(
        instance=instance, partition_key=TENANT, run_config=run_config, raise_on_error=False
    )
    metadata: dict[str, Any] = {}
    for asset in ASSETS:
        found = result.asset_materializations_for_node(asset)
        if found:
            metadata[asset] = report_values(found[0].metadata)
    return result.success, metadata


def change_customers(fusion_base: str, share: float, seed: int) -> int:
    """Rename `share` of Oracle's customers in one mutation call (the next incremental run reads them)."""
    control = fusion_base.rstrip("/") + "/__sandbox"
    numbers: list[str] = []
    while True:  # page by page, keeping the numbers only: the harness's memory is measured too
        params = {"offset": len(numbers), "limit": 5000}
        answer = requests.get(control + "/customers", params=params, timeout=120)
        answer.raise_for_status()
        items = answer.json()["items"]
        numbers += [c["PartyNumber"] for c in items]
        if len(items) < 5000:
            break
    picked = random.Random(seed).sample(numbers, max(1, int(len(numbers) * share)))
    ops = [
        {"op": "update", "party_number": n, "changes": {"OrganizationName": f"Renamed {i} Ltd"}}
        for i, n in enumerate(picked)
    ]
    requests.post(control + "/mutations", json=ops, timeout=300).raise_for_status()
    return len(picked)


def reset_stats(*bases: str) -> None:
    for base in bases:
        requests.post(base.rstrip("/") + "/__sandbox/stats/reset", timeout=30).raise_for_status()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument(
        "--max-ratio", type=float, default=None, help="most wall / sequential bound (initial: 0.4)"
    )
    parser.add_argument("--max-memory-mib", type=float, default=1024)
    parser.add_argument(
        "--latency", choices=["realistic", "none"], default="realistic", help="none: memory only"
    )
    parser.add_argument("--extract-concurrency", type=int, default=0, help="1: sequential; 0: default")
    parser.add_argument("--chunk-size", type=int, default=DEFAULT_CHUNK_SIZE)
    parser.add_argument("--chunks-in-flight", type=int, default=CHUNKS_IN_FLIGHT)
    parser.add_argument(
        "--then",
        choices=["none", "incremental", "noop"],
        default="none",
        help="time a second run instead: after renaming --change-share of the customers, or unchanged",
    )
    parser.add_argument("--change-share", type=float, default=0.01)
    args = parser.parse_args(argv)
    gated = args.then == "none" and args.latency == "realistic"
    max_ratio = args.max_ratio if args.max_ratio is not None else (0.4 if gated else math.inf)
    with tempfile.TemporaryDirectory(prefix="omd-bench-") as work:
        root = Path(work)
        os.environ["ORACLE_MAILCHIMP_DATABASE_URL"] = f"sqlite:///{root / 'app.db'}"
        os.environ["ORACLE_MAILCHIMP_KEY_FILE"] = str(root / "master.key")
        os.environ.pop("ORACLE_MAILCHIMP_MASTER_KEY", None)
        sandbox = start_sandbox(args.customers, root / "sandbox.env", args.latency)
        changed = 0
        try:
            env = dict(line.split("=", 1) for line in (root / "sandbox.env").read_text().splitlines())
            fusion_base, mailchimp_base = (
                env["ORACLE_BASE_URL"],
                env["MAILCHIMP_API_BASE"].removesuffix("/3.0"),
            )
            db = Database.from_url()
            upgrade_schema(db)
            register(env, TenantRegistry.open(db))
            (root / "dagster").mkdir()
            options = {
                "extract_concurrency": args.extract_concurrency,
                "chunk_size": args.chunk_size,
                "in_flight": args.chunks_in_flight,
            }
            with dg.instance_for_test(temp_dir=str(root / "dagster")) as instance:
                if args.then != "none":
                    success, metadata = run_sync(instance, **options)  # the initial load, not timed
                    if args.then == "incremental":
                        changed = change_customers(fusion_base, args.change_share, seed=7)
                    reset_stats(fusion_base, mailchimp_base)
                started, cpu_before = time.monotonic(), time.process_time()
                success, metadata = run_sync(instance, **options)
                wall, cpu = time.monotonic() - started, time.process_time() - cpu_before
            fusion, mailchimp = stats(fusion_base), stats(mailchimp_base)
        finally:
            sandbox.terminate()
            sandbox.wait(30)
    if not success:
        print(json.dumps({"error": "the sync failed", "metadata": str(metadata)[:2000]}))
        return 1
    extract, plan, results = (metadata[a] for a in ASSETS)
    rows = int(extract["rows"])
    bound = sequential_bound(rows, float(mailchimp["simulated_delay_ms"]))
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    report = {
        "customers": args.customers,
        "run": {"none": "initial load", "incremental": "incremental", "noop": "no change"}[args.then],
        "changed": changed,
        "latency": args.latency,
        "extract_concurrency": args.extract_concurrency or "default",
        "chunk_size": args.chunk_size,
        "chunks_in_flight": args.chunks_in_flight,
        "chunks": int(plan["chunks"]),
        "records": int(results["records"]),
        "created": int(results["outcome_created"]),
        "failed": int(results["failed"]),
        "pages": int(extract["pages"]),
        "oracle_requests": fusion["requests_total"],
        "mailchimp_requests": mailchimp["requests_total"],
        "mailchimp_requests_by_route": {
            k: sum(v.values()) for k, v in mailchimp["requests_by_route"].items()
        },
        "peak_mailchimp_in_flight": max(mailchimp["peak_in_flight_by_key"].values(), default=0),
        "sent_while_reading": int(extract.get("sent_while_reading", 0)),
        "read_waited_for_load_seconds": extract.get("read_waited_for_load_s", 0.0),
        "step_seconds": {
            "extract": extract["duration_s"],
            "plan": plan["duration_s"],
            "sync_results": results["duration_s"],
        },
        "wall_seconds": round(wall, 1),
        "connector_cpu_seconds": round(cpu, 1),
        "sequential_bound_seconds": round(bound["total"], 1),
        "sequential_bound_extract_seconds": round(bound["extract"], 1),
        "sequential_bound_load_seconds": round(bound["load"], 1),
        "ratio": round(wall / bound["total"], 3),
        "records_per_second": round(int(results["records"]) / wall, 1),
        "spooled_mib": extract["spooled_mib"],
        "peak_memory_mib": round(peak_mib, 1),
    }
    print(json.dumps(report, indent=2))
    return 0 if report["ratio"] <= max_ratio and peak_mib <= args.max_memory_mib else 1


if __name__ == "__main__":
    sys.exit(main())
