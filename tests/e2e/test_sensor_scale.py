"""The Oracle change sensor with many tenants, against the Fusion sandbox at realistic latency (300 ms
a probe, 200 ms a token): probes run concurrently, one tenant's broken credentials are isolated and
counted while the others are evaluated and requested, and a tick that runs out of budget resumes
with the tenants it did not reach. Asserted structurally (the sandbox's peak concurrency, the cursor),
never by timing; the 200-tenant figures come from `benchmarks.tenants` (a small run of it is here)."""

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import pytest
from pydantic import SecretStr

from oracle_mailchimp_dagster.defs.cursors import OracleChangeCursor
from oracle_mailchimp_dagster.defs.partitions import TENANTS
from oracle_mailchimp_dagster.defs.resources import AppDatabase, FusionResource
from oracle_mailchimp_dagster.defs.sensors import ProbeLimits, detect_oracle_changes
from oracle_mailchimp_dagster.store.records import HighWaterMark, SecretName
from tests.fixtures.sync import SyncHarness
from tests.support.dagster_dev import poll

REPO = Path(__file__).resolve().parents[2]
PAST = HighWaterMark(timestamp=datetime(2020, 1, 1, tzinfo=UTC), key=1)  # Oracle changed since
FUTURE = HighWaterMark(timestamp=datetime.now(UTC) + timedelta(days=1), key=1)  # nothing after it


def add_fleet(h: SyncHarness, count: int, *, broken: str | None = None) -> list[str]:
    """`count` tenants like acme (acme included) on the same sandboxes; `broken` has a wrong Oracle
    client secret. Every tenant gets a mark and a partition."""
    acme = h.registry.get("acme")
    ids = ["acme"] + [f"t{i:02d}" for i in range(1, count - (1 if broken else 0))]
    for tenant_id in [*ids[1:], *([broken] if broken else [])]:
        secret = SecretStr("not-the-client-secret") if tenant_id == broken else h.fusion.config.client_secret
        h.registry.add(
            acme.model_copy(update={"id": tenant_id}),
            {
                SecretName.ORACLE_CLIENT_SECRET: secret,
                SecretName.MAILCHIMP_API_KEY: SecretStr(h.mailchimp.config.api_key),
            },
        )
    every = [*ids, *([broken] if broken else [])]
    h.instance.add_dynamic_partitions(TENANTS, every[1:])
    return every


def tick(h: SyncHarness, cursor: str | None, limits: ProbeLimits | None = None) -> dg.SensorResult:
    context = dg.build_sensor_context(instance=h.instance, cursor=cursor)
    app_db = AppDatabase(database_url=h.db.url.render_as_string(hide_password=False))
    fusion = FusionResource(max_attempts=3, max_retry_seconds=10)
    return detect_oracle_changes(context, app_db, fusion, *([limits] if limits else []))


def realistic_latency(h: SyncHarness) -> None:
    h.fusion_control("PATCH", "/config", json={"latency": "realistic"})
    h.fusion_control("POST", "/stats/reset")


def test_probes_run_concurrently_and_a_broken_tenant_is_isolated(
    sync_harness: SyncHarness, capsys: pytest.CaptureFixture[str]
) -> None:
    h = sync_harness
    tenants = add_fleet(h, 20, broken="broken")
    changed = set(tenants[::2]) - {"broken"}
    for tenant_id in tenants:
        h.store.marks.reset(tenant_id, PAST if tenant_id in changed or tenant_id == "broken" else FUTURE)
    realistic_latency(h)

    first = tick(h, None)
    cursor = OracleChangeCursor.model_validate_json(first.cursor or "")
    assert cursor.last_tick is not None
    summary = cursor.last_tick
    assert (summary.tenants, summary.evaluated, summary.failed, summary.unreached) == (20, 19, 1, 0)
    assert cursor.failures == {"broken": 1}
    requested = {r.partition_key for r in first.run_requests or []}
    assert requested == changed and summary.requested == len(changed)
    stats = h.fusion_control("GET", "/stats")
    assert stats["peak_concurrent_requests"] >= 4  # one at a time would be 1
    assert stats["requests_by_route"]["POST /oauth2/v1/token"].get("401") == 1  # the broken one, once
    log = capsys.readouterr().err
    assert "tenant 'broken': change detection failed (1 tick(s) in a row)" in log
    assert "`oracle-mailchimp tenants test broken`" in log
    assert "not-the-client-secret" not in log and "not-the-client-secret" not in (first.cursor or "")
    assert "evaluated 19 of 20 tenant(s)" in log and "1 failed (broken)" in log

    second = tick(h, first.cursor)
    cursor = OracleChangeCursor.model_validate_json(second.cursor or "")
    assert second.run_requests == []  # each mark is requested once
    assert cursor.failures == {"broken": 2}  # retried, and counted again
    assert cursor.last_tick is not None and cursor.last_tick.evaluated == 19

    h.registry.update(
        h.registry.get("broken"), {SecretName.ORACLE_CLIENT_SECRET: h.fusion.config.client_secret}
    )
    fixed = tick(h, second.cursor)
    assert [r.partition_key for r in fixed.run_requests or []] == ["broken"]
    assert OracleChangeCursor.model_validate_json(fixed.cursor or "").failures == {}


def test_a_tick_out_of_budget_resumes_with_the_tenants_it_did_not_reach(sync_harness: SyncHarness) -> None:
    h = sync_harness
    tenants = add_fleet(h, 20)
    for tenant_id in tenants:
        h.store.marks.reset(tenant_id, FUTURE)  # every tenant costs a probe (>= 300 ms), none a run
    realistic_latency(h)
    # Two probes at a time for one second: a tick reaches at most ~8 of the 20.
    limits = ProbeLimits(workers=2, start_budget_s=1.0, tick_budget_s=30.0)

    raw: str | None = None
    previous = OracleChangeCursor()
    for ticks in range(1, 21):
        result = tick(h, raw, limits)
        raw = result.cursor
        cursor = OracleChangeCursor.model_validate_json(raw or "")
        assert cursor.last_tick is not None and cursor.last_tick.failed == 0
        now = {t for t, n in cursor.evaluated_in.items() if n == cursor.tick}
        left = set(tenants) - now
        assert now and cursor.last_tick.evaluated == len(now) and cursor.last_tick.unreached == len(left)
        if ticks == 1:
            assert left  # the budget ran out before every tenant was reached
        else:
            # Those evaluated now had waited at least as long as any left for the next tick.
            waited = previous.evaluated_in.get
            assert max(waited(t, -1) for t in now) <= min((waited(t, -1) for t in left), default=ticks)
        previous = cursor
        if set(cursor.evaluated_in) == set(tenants):
            break
    assert set(previous.evaluated_in) == set(tenants)  # every tenant reached within a few ticks
    assert ticks <= 10


def test_a_probe_unanswered_at_the_end_of_the_budget_counts_as_failed(sync_harness: SyncHarness) -> None:
    h = sync_harness
    tenants = add_fleet(h, 5)
    for tenant_id in tenants:
        h.store.marks.reset(tenant_id, FUTURE)
    rule = {"kind": "delay", "delay_ms": 4000, "method": "GET", "path": "/accounts", "times": 1}
    h.fusion_control("POST", "/faults", json=rule)  # the first probe hangs past the tick's end
    result = tick(h, None, ProbeLimits(workers=4, start_budget_s=1.0, tick_budget_s=2.0))
    cursor = OracleChangeCursor.model_validate_json(result.cursor or "")
    assert cursor.last_tick is not None
    assert (cursor.last_tick.evaluated, cursor.last_tick.failed, cursor.last_tick.unreached) == (4, 1, 0)
    (hung,) = cursor.failures
    assert cursor.evaluated_in[hung] == cursor.tick  # not kept at the front of the next tick's queue
    poll(lambda: h.fusion_control("GET", "/stats")["in_flight"] == 0 or None, 30, "the hung probe to end")


def test_the_benchmark_with_twenty_tenants_one_broken(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "benchmarks.tenants", "--tenants", "20", "--latency", "realistic"]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout)
    change = report["oracle_change_sensor"]
    assert (change["evaluated"], change["failed"], change["unreached"]) == (19, 1, 0)
    assert change["peak_concurrent_requests"] >= 4
    assert report["mailchimp_audience_events_sensor"]["requested"] == 20
    assert report["mailchimp_audience_events_sensor"]["http_requests"] == 0
