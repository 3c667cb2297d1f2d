"""Hundreds of tenants on one Dagster instance: one tick of each sensor, against sandboxes with
realistic latency (Fusion: 300 ms a request, 200 ms a token grant).

    .venv/bin/python -m benchmarks.tenants --tenants 200 [--latency realistic] [--broken 1]
        [--max-tick-seconds 20] [--database sqlite|postgresql]

The sandboxes run in their own process (`oracle-mailchimp sandbox serve`); every tenant is registered
against them (one of them, or `--broken`, with a wrong Oracle client secret), gets a partition from a
real tick of `tenant_registry_sensor` and a mark (a quarter of them before Oracle's latest change, so
they get a run request; the rest after it, so they cost a probe and nothing else). Then it times:

- `tenant_registry_sensor`: the tick that adds every partition, and a steady tick;
- `oracle_change_sensor`: a first tick (every tenant probed), and a second (the requested marks are
  not probed again), with the tenants evaluated, failures isolated, the tenants not reached and the
  sandbox's peak of concurrent requests;
- `tenant_schedule_sensor`: the first tick (every tenant starts from now) and a tick 16 minutes
  later, when every tenant's `*/15` cron is due (a secret read and a run request each);
- `tenant_run_alerts_sensor`, `audience_freshness_sensor` (every tenant judged against its cron) and
  `alert_delivery_sensor`: one tick each;
- `mailchimp_audience_events_sensor`: the first tick (each tenant seen for the first time waits for
  its own interval), the worst tick (every tenant's interval has just begun: a secret read and a run
  request each) and the HTTP requests both made (none), and the tick after it.

All tenants share the sandbox's one OAuth client, so they share one token: a real fleet has a token
per tenant, fetched once an hour. `projection` adds that cost (one token grant per tenant) to the
measured tick, and projects the tick to 1,000 tenants from the measured time per probe.

Prints JSON; exits 1 when a tick takes longer than --max-tick-seconds, a tenant other than the broken
ones is not evaluated or fails, or the audience sensor makes an HTTP request.
"""

import argparse
import json
import math
import os
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import dagster as dg
import requests
from pydantic import SecretStr

from benchmarks.sandboxes import start_sandbox
from oracle_mailchimp_dagster.defs.alerts import (
    alert_delivery_sensor,
    audience_freshness_sensor,
    tenant_run_alerts_sensor,
)
from oracle_mailchimp_dagster.defs.audience import mailchimp_audience_events_sensor
from oracle_mailchimp_dagster.defs.cursors import AudienceEventsCursor, OracleChangeCursor
from oracle_mailchimp_dagster.defs.resources import AppDatabase, FusionResource, MailchimpResource
from oracle_mailchimp_dagster.defs.scheduling import build_tenant_schedule_sensor
from oracle_mailchimp_dagster.defs.sensors import PROBE_LIMITS, oracle_change_sensor, tenant_registry_sensor
from oracle_mailchimp_dagster.fusion.tokens import PROCESS_TOKEN_CACHE
from oracle_mailchimp_dagster.store.engine import Database
from oracle_mailchimp_dagster.store.migrate import upgrade_schema
from oracle_mailchimp_dagster.store.records import HighWaterMark, SecretName
from oracle_mailchimp_dagster.store.sync_store import SyncStore
from oracle_mailchimp_dagster.tenants.env_file import secrets_from_env, tenant_from_env
from oracle_mailchimp_dagster.tenants.model import mapping_with_company
from oracle_mailchimp_dagster.tenants.registry import TenantRegistry
from tests.support.scratch_db import scratch_postgres_database

PAST = HighWaterMark(timestamp=datetime(2020, 1, 1, tzinfo=UTC), key=1)
TOKEN_S = 0.200  # the sandbox's realistic token grant
PROJECTED_TENANTS = 1000
TIMED_SENSORS = (
    "tenant_registry_sensor",
    "oracle_change_sensor",
    "tenant_schedule_sensor",
    "tenant_run_alerts_sensor",
    "audience_freshness_sensor",
    "alert_delivery_sensor",
    "mailchimp_audience_events_sensor",
)


def tenant_ids(count: int) -> list[str]:
    return [f"tenant-{i:04d}" for i in range(count)]


def register(registry: TenantRegistry, env: dict[str, str], ids: list[str], broken: set[str]) -> None:
    secrets = secrets_from_env(env)
    wrong = {**secrets, SecretName.ORACLE_CLIENT_SECRET: SecretStr("not-the-client-secret")}
    for tenant_id in ids:
        config = tenant_from_env(tenant_id, env, mapping=mapping_with_company())
        registry.add(config, wrong if tenant_id in broken else secrets)


class Sandbox:
    """The two simulators' control APIs: request statistics, and their reset."""

    def __init__(self, env: dict[str, str]) -> None:
        self.bases = {
            "fusion": env["ORACLE_BASE_URL"].rstrip("/") + "/__sandbox",
            "mailchimp": env["MAILCHIMP_API_BASE"].removesuffix("/3.0") + "/__sandbox",
        }

    def reset(self) -> None:
        for base in self.bases.values():
            requests.post(base + "/stats/reset", timeout=30).raise_for_status()

    def stats(self, name: str) -> dict[str, Any]:
        return dict(requests.get(self.bases[name] + "/stats", timeout=30).json())

    def requests_total(self) -> int:
        return sum(int(self.stats(name)["requests_total"]) for name in self.bases)


def timed(sensor: dg.SensorDefinition, context: dg.SensorEvaluationContext) -> tuple[dg.SensorResult, float]:
    """One tick of `sensor`, as the daemon would evaluate it, and its seconds."""
    started = time.monotonic()
    result = sensor(context)
    seconds = round(time.monotonic() - started, 3)
    assert isinstance(result, dg.SensorResult), result
    return result, seconds


def time_scheduling_and_alerts(
    instance: dg.DagsterInstance, context: Any, count: int
) -> dict[str, dict[str, Any]]:
    """One tick of the scheduling sensor with nothing due and one with every tenant due, and one
    tick of each alert sensor."""
    report: dict[str, dict[str, Any]] = {}
    start = datetime.now(UTC)
    clock = {"now": start}
    schedule_sensor = build_tenant_schedule_sensor(lambda: clock["now"])
    first, first_s = timed(schedule_sensor, context(instance, None))
    clock["now"] = start + timedelta(minutes=16)  # past a */15 tick for every tenant
    due, due_s = timed(schedule_sensor, context(instance, first.cursor))
    report["tenant_schedule_sensor"] = {
        "tick_seconds": due_s,
        "first_tick_seconds": first_s,
        "requested": len(due.run_requests or []),
        "expected_requests": count,
    }
    for sensor in (tenant_run_alerts_sensor, audience_freshness_sensor, alert_delivery_sensor):
        started = time.monotonic()
        sensor(context(instance, None))
        report[sensor.name] = {"tick_seconds": round(time.monotonic() - started, 3)}
    return report


def measure(
    env: dict[str, str], db: Database, count: int, broken_count: int, dagster_dir: Path
) -> dict[str, Any]:
    """Register `count` tenants on the sandboxes in `env` and time each sensor's ticks."""
    ids = tenant_ids(count)
    broken = set(ids[1 : 1 + broken_count])
    registry = TenantRegistry.open(db)
    started = time.monotonic()
    register(registry, env, ids, broken)
    store = SyncStore(db)
    future = HighWaterMark(timestamp=datetime.now(UTC) + timedelta(days=1), key=1)
    for index, tenant_id in enumerate(ids):
        store.marks.reset(tenant_id, PAST if index % 4 == 0 else future)
    setup_s = round(time.monotonic() - started, 1)
    sandbox = Sandbox(env)
    resources: dict[str, Any] = {
        "app_db": AppDatabase(database_url=db.url.render_as_string(hide_password=False)),
        "fusion": FusionResource(),
        "mailchimp": MailchimpResource(),
    }

    def context(instance: dg.DagsterInstance, cursor: str | None) -> dg.SensorEvaluationContext:
        return dg.build_sensor_context(instance=instance, cursor=cursor, resources=resources)

    report: dict[str, Any] = {"tenants": count, "broken": len(broken), "setup_seconds": setup_s}
    with dg.instance_for_test(temp_dir=str(dagster_dir)) as instance:
        adding, add_s = timed(tenant_registry_sensor, context(instance, None))
        for request in adding.dynamic_partitions_requests or []:
            assert isinstance(request, dg.AddDynamicPartitionsRequest)
            instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
        steady, steady_s = timed(tenant_registry_sensor, context(instance, None))
        report["tenant_registry_sensor"] = {
            "tick_seconds": add_s,
            "steady_tick_seconds": steady_s,
            "partitions": len(instance.get_dynamic_partitions("tenants")),
            "steady_requests": len(steady.dynamic_partitions_requests or []),
        }

        PROCESS_TOKEN_CACHE.clear()
        sandbox.reset()
        first, first_s = timed(oracle_change_sensor, context(instance, None))
        fusion = sandbox.stats("fusion")
        cursor = OracleChangeCursor.model_validate_json(first.cursor or "")
        second, second_s = timed(oracle_change_sensor, context(instance, first.cursor))
        summary, again = cursor.last_tick, OracleChangeCursor.model_validate_json(second.cursor or "")
        assert summary is not None and again.last_tick is not None
        report["oracle_change_sensor"] = {
            "tick_seconds": first_s,
            "second_tick_seconds": second_s,
            "workers": PROBE_LIMITS.workers,
            "evaluated": summary.evaluated,
            "failed": summary.failed,
            "failures_isolated": sorted(cursor.failures),
            "unreached": summary.unreached,
            "requested": summary.requested,
            "second_tick_evaluated": again.last_tick.evaluated,
            "second_tick_requested": again.last_tick.requested,
            "oracle_requests": fusion["requests_total"],
            "peak_concurrent_requests": fusion["peak_concurrent_requests"],
        }

        sandbox.reset()
        seen, seen_s = timed(mailchimp_audience_events_sensor, context(instance, None))
        slots = AudienceEventsCursor.model_validate_json(seen.cursor or "").requested
        # The worst tick: every tenant's interval has just begun (each needs its secret and a request).
        all_due = AudienceEventsCursor(requested={t: slot - 1 for t, slot in slots.items()})
        audience, audience_s = timed(
            mailchimp_audience_events_sensor, context(instance, all_due.model_dump_json())
        )
        later, later_s = timed(mailchimp_audience_events_sensor, context(instance, audience.cursor))
        report["mailchimp_audience_events_sensor"] = {
            "tick_seconds": audience_s,
            "first_sight_tick_seconds": seen_s,
            "second_tick_seconds": later_s,
            "first_sight_requested": len(seen.run_requests or []),
            "requested": len(audience.run_requests or []),
            "second_tick_requested": len(later.run_requests or []),
            "http_requests": sandbox.requests_total(),
            "runs_per_hour": count * 12,
        }
        report.update(time_scheduling_and_alerts(instance, context, count))
    report["projection"] = projection(report["oracle_change_sensor"], count)
    return report


def projection(change: dict[str, Any], count: int) -> dict[str, Any]:
    """The first tick with a token grant per tenant (a real fleet's cold tick), and both ticks at
    1,000 tenants, from the measured seconds per round (`workers` probes side by side)."""
    workers = change["workers"]
    per_round = change["tick_seconds"] / math.ceil(count / workers)
    rounds_at = math.ceil(PROJECTED_TENANTS / workers)
    return {
        "seconds_per_round": round(per_round, 3),
        "cold_tokens_tick_seconds": round(change["tick_seconds"] + math.ceil(count / workers) * TOKEN_S, 1),
        f"tick_seconds_at_{PROJECTED_TENANTS}": round(rounds_at * per_round, 1),
        f"cold_tokens_tick_seconds_at_{PROJECTED_TENANTS}": round(rounds_at * (per_round + TOKEN_S), 1),
        "start_budget_seconds": PROBE_LIMITS.start_budget_s,
        "tick_budget_seconds": PROBE_LIMITS.tick_budget_s,
    }


def failures(report: dict[str, Any], max_tick_s: float) -> list[str]:
    """What makes the run fail, one line each."""
    problems, count = [], report["tenants"]
    for sensor in TIMED_SENSORS:
        seconds = report[sensor]["tick_seconds"]
        if seconds > max_tick_s:
            problems.append(f"{sensor}: a tick took {seconds} s (limit {max_tick_s} s)")
    change = report["oracle_change_sensor"]
    healthy = report["tenants"] - report["broken"]
    if change["evaluated"] != healthy or change["failed"] != report["broken"]:
        problems.append(f"oracle_change_sensor evaluated {change['evaluated']} of {healthy} healthy tenants")
    schedule = report["tenant_schedule_sensor"]
    if schedule["requested"] != schedule["expected_requests"]:
        problems.append(f"tenant_schedule_sensor requested {schedule['requested']} of {count} due tenants")
    if report["mailchimp_audience_events_sensor"]["http_requests"]:
        problems.append("mailchimp_audience_events_sensor made HTTP requests")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tenants", type=int, default=200)
    parser.add_argument("--broken", type=int, default=1, help="tenants with a wrong Oracle client secret")
    parser.add_argument("--latency", choices=["realistic", "none"], default="realistic")
    parser.add_argument("--max-tick-seconds", type=float, default=20.0)
    parser.add_argument(
        "--database", choices=["sqlite", "postgresql"], default="sqlite", help="the app database"
    )
    args = parser.parse_args(argv)
    if not 0 <= args.broken < args.tenants:
        parser.error("--broken must be at least 0 and less than --tenants")
    with tempfile.TemporaryDirectory(prefix="omd-bench-tenants-") as work, ExitStack() as stack:
        root = Path(work)
        url = f"sqlite:///{root / 'app.db'}"
        if args.database == "postgresql":
            url = stack.enter_context(scratch_postgres_database("omd_bench")).render_as_string(
                hide_password=False
            )
        os.environ["ORACLE_MAILCHIMP_DATABASE_URL"] = url
        os.environ["ORACLE_MAILCHIMP_KEY_FILE"] = str(root / "master.key")
        os.environ.pop("ORACLE_MAILCHIMP_MASTER_KEY", None)
        sandbox = start_sandbox(200, root / "sandbox.env", args.latency)
        try:
            env = dict(line.split("=", 1) for line in (root / "sandbox.env").read_text().splitlines())
            db = Database.from_url()
            upgrade_schema(db)
            (root / "dagster").mkdir()
            report = measure(env, db, args.tenants, args.broken, root / "dagster")
            db.dispose()
        finally:
            sandbox.terminate()
            sandbox.wait(30)
    problems = failures(report, args.max_tick_seconds)
    report["latency"] = args.latency
    report["database"] = args.database
    report["problems"] = problems
    print(json.dumps(report, indent=2))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
