"""Audience events in runs: the asset reads Mailchimp per tenant partition (against the sandboxes),
records unsubscribes and cleaned addresses once, stores its mark, runs under the tenant's lease; its
sensor requests runs and makes no HTTP call."""

from datetime import UTC, datetime, timedelta
from typing import Any

import dagster as dg
import requests
from pydantic import SecretStr

from oracle_mailchimp_dagster.defs.audience import (
    AUDIENCE_EVENTS_INTERVAL,
    audience_events_job,
    interval_slot,
    mailchimp_audience_events_sensor,
)
from oracle_mailchimp_dagster.defs.build import build_definitions
from oracle_mailchimp_dagster.defs.cursors import AudienceEventsCursor, load_cursor
from oracle_mailchimp_dagster.defs.metadata import report_values
from oracle_mailchimp_dagster.defs.partitions import TENANTS
from oracle_mailchimp_dagster.defs.resources import AppDatabase, MailchimpResource
from oracle_mailchimp_dagster.defs.run_tags import MAILCHIMP_KEY_TAG, TENANT_TAG, TRIGGER_TAG
from oracle_mailchimp_dagster.sandbox.mailchimp.config import COMPANY_MERGE_FIELD
from oracle_mailchimp_dagster.store.audience_marks import AudienceMarkStore
from oracle_mailchimp_dagster.store.engine import Database
from oracle_mailchimp_dagster.store.leases import LeaseStore
from oracle_mailchimp_dagster.store.records import SecretName
from tests.fixtures.sync import SyncHarness, failure_text
from tests.support.scenario import sole_holders

ASSET = "mailchimp_audience_events"


def materialize(h: SyncHarness, tenant_id: str = "acme", **app_db: Any) -> dg.ExecuteInProcessResult:
    resources: dict[str, object] = {"mailchimp": MailchimpResource(max_attempts=3, max_retry_seconds=10)}
    resources["app_db"] = AppDatabase(database_url=h.db.url.render_as_string(hide_password=False), **app_db)
    job = build_definitions(resources).resolve_job_def(audience_events_job.name)
    return job.execute_in_process(instance=h.instance, partition_key=tenant_id, raise_on_error=False)


def metadata(result: dg.ExecuteInProcessResult) -> dict[str, Any]:
    (materialization,) = result.asset_materializations_for_node(ASSET)
    return report_values(materialization.metadata)


def add_tenant_on_new_audience(h: SyncHarness, tenant_id: str) -> None:
    created = requests.post(
        f"{h.mailchimp.url}/__sandbox/lists",
        json={"name": tenant_id, "merge_fields": [COMPANY_MERGE_FIELD.model_dump()]},
        timeout=30,
    )
    assert created.status_code == 201, created.text
    acme = h.registry.get("acme")
    mailchimp = acme.mailchimp.model_copy(update={"list_id": str(created.json()["id"])})
    h.registry.add(
        acme.model_copy(update={"id": tenant_id, "mailchimp": mailchimp}),
        {
            SecretName.ORACLE_CLIENT_SECRET: h.fusion.config.client_secret,
            SecretName.MAILCHIMP_API_KEY: SecretStr(h.mailchimp.config.api_key),
        },
    )
    h.instance.add_dynamic_partitions(TENANTS, [tenant_id])


def test_the_asset_records_unsubscribes_and_cleaned_once_per_tenant_partition(
    sync_harness: SyncHarness,
) -> None:
    h = sync_harness
    assert h.run().success
    add_tenant_on_new_audience(h, "globex")
    gone, bounced = sole_holders(h.customers(), 2)
    list_id = h.mailchimp.config.list_id
    h.mailchimp_control("POST", f"/lists/{list_id}/members/{gone['EmailAddress'].lower()}/unsubscribe")
    h.mailchimp_control("POST", f"/lists/{list_id}/members/{bounced['EmailAddress'].lower()}/bounce")
    h.fusion_control("POST", "/stats/reset")

    started = datetime.now(UTC)
    first = materialize(h)
    assert first.success, failure_text(first)
    meta = metadata(first)
    assert (meta["recorded"], meta["ledger_rows"], meta["first_read"]) == (2, 2, True)
    since = datetime.fromisoformat(meta["since"])
    assert started - timedelta(days=1, minutes=1) <= since <= started - timedelta(hours=23)
    events = {(e.email, e.event.value) for e in h.store.audience.events("acme")}
    assert events == {
        (gone["EmailAddress"].lower(), "unsubscribe"),
        (bounced["EmailAddress"].lower(), "cleaned"),
    }
    states = h.store.members.by_keys("acme", [gone["PartyNumber"], bounced["PartyNumber"]])
    assert states[gone["PartyNumber"]].known_status == "unsubscribed"
    assert states[bounced["PartyNumber"]].known_status == "cleaned"
    history = h.store.ledger.for_customer("acme", gone["PartyNumber"])
    assert (history[0].action, history[0].outcome, history[0].run_id) == (
        "audience_event",
        "unsubscribe",
        first.run_id,
    )
    mark = AudienceMarkStore(h.db).get("acme")
    assert mark is not None and mark.isoformat() == meta["next_since"] and mark > since
    assert h.fusion_control("GET", "/stats")["requests_total"] == 0  # nothing goes to Oracle

    again = materialize(h)
    assert again.success, failure_text(again)
    meta = metadata(again)
    assert (meta["recorded"], meta["ledger_rows"], meta["first_read"]) == (0, 0, False)
    assert meta["seen"] >= 1 and meta["since"] == mark.isoformat()  # the window starts at the mark
    assert len(h.store.audience.events("acme")) == 2  # idempotent
    assert len(h.store.ledger.for_customer("acme", gone["PartyNumber"])) == len(history)

    other = materialize(h, "globex")  # its own partition: its own audience and mark
    assert other.success, failure_text(other)
    assert metadata(other)["recorded"] == 0 and h.store.audience.events("globex") == []
    assert set(AudienceMarkStore(h.db).all()) == {"acme", "globex"}


def test_the_asset_waits_for_a_sync_holding_the_tenants_lease(sync_harness: SyncHarness) -> None:
    h = sync_harness
    leases = LeaseStore(h.db)
    held = leases.try_acquire("acme", "sync-run-in-progress", timedelta(minutes=5))
    assert held is not None
    blocked = materialize(h, lease_wait_seconds=0)
    assert not blocked.success
    assert "being synced by run sync-run-in-progress" in failure_text(blocked)
    assert AudienceMarkStore(h.db).get("acme") is None  # nothing read, nothing moved

    assert leases.release(held)
    after = materialize(h, lease_wait_seconds=0)
    assert after.success, failure_text(after)
    assert leases.current("acme") is None  # the run let the lease go after its one step


def sensor_tick(h: SyncHarness, cursor: str | None) -> dg.SensorResult:
    resources = dict(h.definitions().resources or {})
    context = dg.build_sensor_context(instance=h.instance, cursor=cursor, resources=resources)
    result = mailchimp_audience_events_sensor(context)
    assert isinstance(result, dg.SensorResult)
    return result


def test_the_sensor_requests_a_run_per_tenant_and_interval_without_any_http(
    sync_harness: SyncHarness,
) -> None:
    h = sync_harness
    h.fusion_control("POST", "/stats/reset")
    h.mailchimp_control("POST", "/stats/reset")
    earlier = '{"since": {"acme": "2026-01-01T00:00:00Z"}}'  # the cursor of the sensor that read Mailchimp
    assert load_cursor(AudienceEventsCursor, earlier).requested == {}

    # Seen for the first time: it waits for its own interval to begin (no fleet-wide burst).
    seen = sensor_tick(h, earlier)
    assert seen.run_requests == []
    slot = AudienceEventsCursor.model_validate_json(seen.cursor or "").requested["acme"]
    assert slot in {interval_slot("acme", datetime.now(UTC)), interval_slot("acme", datetime.now(UTC)) - 1}

    begun = AudienceEventsCursor(requested={"acme": slot - 1}).model_dump_json()
    first = sensor_tick(h, begun)
    (request,) = first.run_requests or []
    assert request.run_key in {f"audience-events:acme:{slot}", f"audience-events:acme:{slot + 1}"}
    assert request.partition_key == "acme" and request.job_name in (None, audience_events_job.name)
    assert request.tags[TENANT_TAG] == "acme" and request.tags[TRIGGER_TAG] == "audience_events"
    assert h.mailchimp.config.api_key not in str(request.tags) and len(request.tags[MAILCHIMP_KEY_TAG]) == 16
    assert sensor_tick(h, first.cursor).run_requests == []  # once per interval
    assert h.mailchimp_requests() == 0 and h.fusion_control("GET", "/stats")["requests_total"] == 0

    # A run of the tenant still under way: no second one, even once its next interval has begun.
    h.instance.add_run(
        dg.DagsterRun(
            job_name=audience_events_job.name,
            run_id="running-audience-run",
            status=dg.DagsterRunStatus.STARTED,
            tags=request.tags,
        )
    )
    assert sensor_tick(h, begun).run_requests == []


def test_intervals_are_spread_over_tenants_and_advance_once_per_interval() -> None:
    now = datetime(2026, 12, 1, tzinfo=UTC)
    seconds = int(AUDIENCE_EVENTS_INTERVAL.total_seconds())
    tenants = [f"t{i:03d}" for i in range(200)]
    # Over one interval every tenant's slot moves on exactly once, at moments spread over it.
    moves = {
        t: [
            s
            for s in range(0, seconds, 10)
            if interval_slot(t, now + timedelta(seconds=s + 10))
            != interval_slot(t, now + timedelta(seconds=s))
        ]
        for t in tenants
    }
    assert all(len(m) == 1 for m in moves.values())
    assert len({m[0] // 60 for m in moves.values()}) == seconds // 60  # every minute of the interval


def test_the_mark_only_moves_forward_on_both_databases(db: Database, tenant_id: str) -> None:
    marks = AudienceMarkStore(db)
    t0 = datetime(2026, 12, 1, 12, tzinfo=UTC)
    assert marks.get(tenant_id) is None
    assert marks.advance(tenant_id, t0) == t0
    assert marks.advance(tenant_id, t0 - timedelta(hours=1)) == t0  # a slower run finishing late
    assert marks.advance(tenant_id, t0 + timedelta(seconds=1)) == t0 + timedelta(seconds=1)
    assert marks.all() == {tenant_id: t0 + timedelta(seconds=1)}
    assert marks.clear(tenant_id) and marks.get(tenant_id) is None
