"""Reconciliation cost: read a 100k-member audience back and compare it with the member state.

    .venv/bin/python -m benchmarks.reconcile [--customers 125000] [--min-members 100000]
        [--max-requests 110] [--max-memory-mib 256]

An initial sync fills the audience first, with no latency (it is not what is measured); then the
Mailchimp sandbox is switched to realistic latency and `oracle-mailchimp reconcile bench --json` runs as
its own process. Prints JSON: the audience size, the reconcile's Mailchimp requests (by route, from the
sandbox's stats), its wall time and its peak memory (the process's own VmHWM), and the drift counts
(all 0 after a clean sync). Exits 1 when the audience is smaller than --min-members, or the reconcile
needs more than --max-requests requests or more than --max-memory-mib.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import dagster as dg
import requests

from benchmarks.sandboxes import start_sandbox
from benchmarks.sync import TENANT, register, reset_stats, run_sync, stats
from oracle_mailchimp_dagster.sandbox.mailchimp.config import latency_model
from oracle_mailchimp_dagster.store.engine import Database
from oracle_mailchimp_dagster.store.migrate import upgrade_schema
from oracle_mailchimp_dagster.tenants.registry import TenantRegistry


def peak_rss_mib(pid: int) -> float | None:
    """The process's peak resident memory since it exec'd (VmHWM). Not ru_maxrss: Linux carries that
    over from the parent at fork and exec, so a child of a big benchmark process would seem big."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return None


def reconcile_process(env: dict[str, str], work: Path) -> tuple[dict[str, Any], float, float]:
    """`oracle-mailchimp reconcile` in its own process: its JSON report, wall seconds and peak MiB
    (VmHWM, read every 20 ms until it exits; the mark only rises, so the last reading is the peak
    but for what the last 20 ms added)."""
    cli = Path(sys.executable).with_name("oracle-mailchimp")
    out_path, err_path = work / "reconcile.out", work / "reconcile.err"
    started = time.monotonic()
    with out_path.open("wb") as out, err_path.open("wb") as err:
        proc = subprocess.Popen([str(cli), "reconcile", TENANT, "--json"], env=env, stdout=out, stderr=err)
        peak = 0.0
        while proc.poll() is None:
            peak = max(peak, peak_rss_mib(proc.pid) or 0.0)
            time.sleep(0.02)
    wall = time.monotonic() - started
    if proc.returncode not in (0, 1):
        raise SystemExit(f"reconcile failed ({proc.returncode}): {err_path.read_text()[-500:]}")
    return json.loads(out_path.read_text()), wall, peak


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=125_000, help="about 81%% become members")
    parser.add_argument("--min-members", type=int, default=100_000)
    parser.add_argument("--max-requests", type=int, default=110)
    parser.add_argument("--max-memory-mib", type=float, default=256)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="omd-reconcile-") as work:
        root = Path(work)
        os.environ["ORACLE_MAILCHIMP_DATABASE_URL"] = f"sqlite:///{root / 'app.db'}"
        os.environ["ORACLE_MAILCHIMP_KEY_FILE"] = str(root / "master.key")
        os.environ.pop("ORACLE_MAILCHIMP_MASTER_KEY", None)
        sandbox = start_sandbox(args.customers, root / "sandbox.env", "none")
        try:
            env = dict(line.split("=", 1) for line in (root / "sandbox.env").read_text().splitlines())
            fusion_base = env["ORACLE_BASE_URL"]
            mailchimp_base = env["MAILCHIMP_API_BASE"].removesuffix("/3.0")
            db = Database.from_url()
            upgrade_schema(db)
            register(env, TenantRegistry.open(db))
            (root / "dagster").mkdir()
            with dg.instance_for_test(temp_dir=str(root / "dagster")) as instance:
                synced, _ = run_sync(instance, extract_concurrency=0, chunk_size=2000, in_flight=3)
            if not synced:
                raise SystemExit("the initial sync failed")
            realistic = latency_model("realistic").model_dump()
            requests.put(mailchimp_base + "/__sandbox/latency", json=realistic, timeout=30).raise_for_status()
            reset_stats(fusion_base, mailchimp_base)
            report, wall, peak_mib = reconcile_process(dict(os.environ), root)
            mailchimp = stats(mailchimp_base)
        finally:
            sandbox.terminate()
            sandbox.wait(30)
    result = {
        "customers": args.customers,
        "audience_members": report["audience_members"],
        "managed_members": report["managed_members"],
        "mailchimp_requests": int(mailchimp["requests_total"]),
        "mailchimp_requests_by_route": {
            route: sum(by_status.values()) for route, by_status in mailchimp["requests_by_route"].items()
        },
        "reconcile_reported_requests": report["requests"],
        "wall_seconds": round(wall, 1),
        "peak_memory_mib": round(peak_mib, 1),
        "drift": {k: v for k, v in report["counts"].items() if v},
        "drift_rate": report["drift_rate"],
    }
    print(json.dumps(result, indent=2))
    ok = (
        report["audience_members"] >= args.min_members
        and result["mailchimp_requests"] <= args.max_requests
        and peak_mib <= args.max_memory_mib
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
