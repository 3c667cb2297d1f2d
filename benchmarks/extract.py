"""Extraction only, against the Fusion sandbox with the `realistic` latency: one page at a time vs
LastUpdateDate slices paged concurrently.

    .venv/bin/python -m benchmarks.extract --customers 100000 [--concurrency 1 4 8]
                                           [--framework-version 2] [--estimate-skew 0.3]
                                           [--latency realistic|none] [--burst 20]

Starts one sandbox in-process, then for each concurrency extracts every customer once (the window
ending at the sandbox's now, as a run's does) and prints JSON: wall seconds, pages, requests (the
client's HTTP calls and what the sandbox served), the counts that planned the slices, slices and
steals, peak requests in flight (as the sandbox saw them), what the adaptive limit did, records per
second, and the ideal: every request's sandbox cost (300 ms, plus 1 ms per row for pages) divided by
the concurrency. `--burst N` has the pod answer N page requests in a row with 429 (Retry-After 1 s)
after its 40th, in each run, to show the limit backing off and recovering. Each customer must come
exactly once, or it exits 1.
"""

import argparse
import json
import sys
import time
from datetime import datetime, timedelta
from typing import Any

import requests

from benchmarks.clients import fusion_client
from oracle_mailchimp_dagster.fusion import (
    MAX_EXTRACT_CONCURRENCY,
)
from oracle_mailchimp_dagster.sandbox.common.latency import LatencyProfile
from oracle_mailchimp_dagster.sandbox.fusion import (
    FusionSandboxConfig,
    RunningFusionSandbox,
    keys,
    start_fusion_sandbox,
)

ORACLE_REQUEST_S, ORACLE_ROW_S = 0.300, 0.001


def sandbox_get(sandbox: RunningFusionSandbox, path: str) -> Any:
    return requests.get(sandbox.control_url + path, timeout=30).json()


def extract(
    sandbox: RunningFusionSandbox, framework_version: int, concurrency: int, realistic: bool, burst: int = 0
) -> dict[str, Any]:
    """Every customer once, at `concurrency`; the figures of that one extraction."""
    requests.post(sandbox.control_url + "/stats/reset", timeout=30).raise_for_status()
    requests.delete(sandbox.control_url + "/faults", timeout=30).raise_for_status()
    if burst:
        rule = {"kind": "rate_limit", "retry_after": 1, "path": "/accounts$", "skip": 40, "times": burst}
        requests.post(sandbox.control_url + "/faults", json=rule, timeout=30).raise_for_status()
    now = datetime.fromisoformat(sandbox_get(sandbox, "/clock")["now"])
    client = fusion_client(sandbox, framework_version, concurrency)
    seen = bytearray(sandbox.sandbox.store.size)  # one byte per customer: came once, or not yet
    repeated = 0
    started = time.perf_counter()
    extraction = client.extract_customers(until=now + timedelta(seconds=1))
    first_row_s = None
    for customer in extraction:
        if first_row_s is None:
            first_row_s = time.perf_counter() - started
        slot = keys.slot_of_party_id(customer.party_id)
        assert slot is not None, f"PartyId {customer.party_id} is no sandbox customer"
        repeated += seen[slot]
        seen[slot] = 1
    seconds = time.perf_counter() - started
    client.close()
    served = sandbox_get(sandbox, "/stats")
    stats = extraction.stats.snapshot()
    pages, records, counts = stats.get("pages", 0), stats.get("records", 0), stats.get("count_requests", 0)
    costs = pages * ORACLE_REQUEST_S + records * ORACLE_ROW_S + counts * ORACLE_REQUEST_S
    ideal = costs / concurrency if realistic else None
    report = extraction.concurrency
    return {
        "concurrency": concurrency,
        "seconds": round(seconds, 3),
        "first_row_seconds": round(first_row_s or 0.0, 3),
        "records": records,
        "missing": seen.count(0),
        "repeated": repeated,
        "pages": pages,
        "http_calls": stats.get("http_calls", 0),
        "sandbox_requests": served["requests_total"],
        "sandbox_peak_concurrent_requests": served["peak_concurrent_requests"],
        "count_requests": counts,
        "slices": stats.get("slices", 0),
        "steals": stats.get("steals", 0),
        "retries": stats.get("retries", 0),
        "adaptive": None
        if report is None
        else {
            "limit_at_end": report.limit,
            "lowest": report.lowest,
            "backoffs": report.backoffs,
            "recoveries": report.recoveries,
            "peak_in_flight": report.peak_in_flight,
        },
        "ideal_seconds": round(ideal, 3) if ideal else None,
        "ratio": round(seconds / ideal, 4) if ideal else None,
        "records_per_second": round(records / seconds, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n", 1)[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument(
        "--concurrency",
        type=int,
        nargs="+",
        default=[1, 4],
        choices=range(1, MAX_EXTRACT_CONCURRENCY + 1),
        metavar=f"1..{MAX_EXTRACT_CONCURRENCY}",
    )
    parser.add_argument("--framework-version", type=int, default=2, choices=range(1, 10), metavar="1..9")
    parser.add_argument("--estimate-skew", type=float, default=0.0, help="sandbox totalResults noise, 0..1")
    parser.add_argument("--latency", choices=["realistic", "none"], default="realistic")
    parser.add_argument("--burst", type=int, default=0, help="429s in a row after the 40th request")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)

    started = time.perf_counter()
    latency: LatencyProfile = args.latency
    sandbox = start_fusion_sandbox(
        FusionSandboxConfig(
            customers=args.customers, seed=args.seed, latency=latency, estimate_skew=args.estimate_skew
        )
    )
    setup_s = time.perf_counter() - started
    try:
        realistic = args.latency == "realistic"
        runs = [extract(sandbox, args.framework_version, c, realistic, args.burst) for c in args.concurrency]
    finally:
        sandbox.stop()
    baseline = runs[0]["seconds"]
    for run in runs:
        run["speedup"] = round(baseline / run["seconds"], 2)
    ok = all(run["missing"] == 0 and run["repeated"] == 0 for run in runs)
    print(
        json.dumps(
            {
                "customers": args.customers,
                "framework_version": args.framework_version,
                "latency": args.latency,
                "estimate_skew": args.estimate_skew,
                "burst": args.burst,
                "sandbox_start_seconds": round(setup_s, 2),
                "runs": runs,
                "ok": ok,
            },
            indent=2,
        )
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
