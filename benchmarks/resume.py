"""Resume: SIGKILL an initial load at about 60% of its Mailchimp writes, rerun it, and count what the
rerun sends again.

    .venv/bin/python -m benchmarks.resume --customers 100000 [--kill-at 0.6] [--max-resent 0.45]
        [--latency realistic|none]

First a reference initial load runs to the end (`oracle-mailchimp sync` as a process) and the
Mailchimp sandbox's member writes are read: the members its batch, PUT, PATCH and DELETE calls
carried (`latency_items_by_route`). Then the audience is reset and a fresh app database loads again;
the harness polls the sandbox's stats and SIGKILLs the sync once its member writes reach `--kill-at`
of the reference's, then reruns the sync to the end. Prints JSON: the rerun's member writes as a
fraction of the full load's (a run that settles chunk by chunk sends again only what it had not
committed), and the audience compared with the expected one as `benchmarks.chaos` compares it (lost,
duplicated, resubscribed). Exits 1 when the fraction is over `--max-resent` or the audience is wrong.
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import requests

from benchmarks.chaos import History, Sandboxes, audit
from benchmarks.sandboxes import start_sandbox
from oracle_mailchimp_dagster.store.engine import Database
from oracle_mailchimp_dagster.store.migrate import upgrade_schema
from oracle_mailchimp_dagster.tenants.env_file import secrets_from_env, tenant_from_env
from oracle_mailchimp_dagster.tenants.model import mapping_with_company
from oracle_mailchimp_dagster.tenants.registry import TenantRegistry

TENANT = "resume"
RUN_TIMEOUT_S = 1800.0
POLL_S = 0.1
# The routes whose latency items are members written (batch subscribe, single-member changes); tags
# and segments (addresses added to a tag) are counted apart.
MEMBER_ROUTES = ("POST /3.0/lists/{list_id}", "/members/")


def member_writes(stats: Mapping[str, Any]) -> int:
    items = stats.get("latency_items_by_route", {})
    return sum(
        n
        for route, n in items.items()
        if not route.startswith("GET ")
        and (route == MEMBER_ROUTES[0] or MEMBER_ROUTES[1] in route)
        and "/segments" not in route
    )


def write_items(stats: Mapping[str, Any]) -> int:
    """Every item a write carried (members and tagged addresses)."""
    return sum(
        n for route, n in stats.get("latency_items_by_route", {}).items() if not route.startswith("GET ")
    )


def mailchimp_stats(sandboxes: Sandboxes) -> dict[str, Any]:
    return dict(requests.get(sandboxes.mailchimp + "/stats", timeout=30).json())


def fresh_tenant(root: Path, name: str, sandbox_env: Mapping[str, str]) -> dict[str, str]:
    """A new app database and Dagster home with the tenant registered; the sync processes' env."""
    env = {
        **os.environ,
        "DAGSTER_HOME": str(root / f"{name}-dagster"),
        "ORACLE_MAILCHIMP_DATABASE_URL": f"sqlite:///{root / f'{name}.db'}",
        "ORACLE_MAILCHIMP_KEY_FILE": str(root / "master.key"),
    }
    for variable in ("ORACLE_MAILCHIMP_MASTER_KEY", "ORACLE_MAILCHIMP_CRASH_AT"):
        env.pop(variable, None)
    os.environ.update({k: env[k] for k in ("ORACLE_MAILCHIMP_DATABASE_URL", "ORACLE_MAILCHIMP_KEY_FILE")})
    db = Database.from_url()
    upgrade_schema(db)
    TenantRegistry.open(db).add(
        tenant_from_env(TENANT, dict(sandbox_env), mapping=mapping_with_company()),
        secrets_from_env(dict(sandbox_env)),
    )
    db.dispose()
    Path(env["DAGSTER_HOME"]).mkdir()
    return env


def sync_command() -> list[str]:
    # A short lease, so the rerun takes over the killed run's lease in seconds.
    return [str(Path(sys.executable).with_name("oracle-mailchimp")), "sync", TENANT, "--lease-ttl", "3"]


def run_to_end(env: Mapping[str, str]) -> tuple[float, subprocess.CompletedProcess[str]]:
    started = time.monotonic()
    done = subprocess.run(
        sync_command(), env=dict(env), capture_output=True, text=True, timeout=RUN_TIMEOUT_S
    )
    return time.monotonic() - started, done


def run_and_kill(env: Mapping[str, str], sandboxes: Sandboxes, at_writes: int) -> dict[str, Any]:
    """Start a sync and SIGKILL it once the sandbox has taken `at_writes` member writes."""
    started = time.monotonic()
    proc = subprocess.Popen(
        sync_command(), env=dict(env), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    writes = 0
    while proc.poll() is None and time.monotonic() - started < RUN_TIMEOUT_S:
        writes = member_writes(mailchimp_stats(sandboxes))
        if writes >= at_writes:
            proc.send_signal(signal.SIGKILL)
            break
        time.sleep(POLL_S)  # polling the sandbox's stats, with the run's deadline
    proc.wait(60)
    return {
        "killed": proc.returncode == -signal.SIGKILL,
        "member_writes_at_kill": member_writes(mailchimp_stats(sandboxes)),
        "seconds_to_kill": round(time.monotonic() - started, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--kill-at", type=float, default=0.6, help="share of the full load's member writes")
    parser.add_argument("--max-resent", type=float, default=0.45, help="most rerun writes / full load's")
    parser.add_argument("--latency", choices=["realistic", "none"], default="realistic")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="omd-resume-") as work:
        root = Path(work)
        sandbox = start_sandbox(args.customers, root / "sandbox.env", args.latency)
        try:
            values = dict(line.split("=", 1) for line in (root / "sandbox.env").read_text().splitlines())
            sandboxes = Sandboxes(values)
            full_s, full = run_to_end(fresh_tenant(root, "reference", values))
            reference = mailchimp_stats(sandboxes)
            requests.post(sandboxes.mailchimp + "/reset", timeout=60).raise_for_status()

            env = fresh_tenant(root, "resumed", values)
            kill = run_and_kill(env, sandboxes, int(member_writes(reference) * args.kill_at))
            requests.post(sandboxes.mailchimp + "/stats/reset", timeout=60).raise_for_status()
            rerun_s, rerun = run_to_end(env)
            resent = mailchimp_stats(sandboxes)
            counts = audit(sandboxes, History())
        finally:
            sandbox.terminate()
            sandbox.wait(30)
    failed = [p.stdout[-500:] + p.stderr[-500:] for p in (full, rerun) if p.returncode != 0]
    full_writes = member_writes(reference)
    fraction = member_writes(resent) / full_writes if full_writes else 1.0
    report = {
        "customers": args.customers,
        "latency": args.latency,
        "full_load_seconds": round(full_s, 1),
        "full_load_member_writes": full_writes,
        "full_load_write_items": write_items(reference),
        **kill,
        "killed_at_share": round(kill["member_writes_at_kill"] / full_writes, 3) if full_writes else None,
        "rerun_seconds": round(rerun_s, 1),
        "rerun_member_writes": member_writes(resent),
        "rerun_write_items": write_items(resent),
        "rerun_share_of_full_load": round(fraction, 3),
        "rerun_write_items_share": round(write_items(resent) / max(write_items(reference), 1), 3),
        **counts,
        "failed_runs": failed,
    }
    print(json.dumps(report, indent=2))
    damage = counts["lost"] + counts["duplicated"] + counts["resubscribed"]
    ok = kill["killed"] and not failed and damage == 0 and fraction <= args.max_resent
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
