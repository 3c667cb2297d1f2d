"""Every table round-trips through its repository, on SQLite and PostgreSQL alike."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from oracle_mailchimp_dagster.store import (
    AudienceEvent,
    AudienceEventKind,
    Database,
    HighWaterMark,
    LedgerRecord,
    RetryEntry,
    RunCommit,
    SecretName,
    SyncStore,
    TenantExistsError,
    TenantNotFoundError,
)
from oracle_mailchimp_dagster.store import tenant_rows as rows
from oracle_mailchimp_dagster.store.schema import sync_ledger
from oracle_mailchimp_dagster.sync.model import MemberState
from tests.fixtures.store import add_tenant_row

T0 = datetime(2025, 1, 5, 17, 2, 41, 507000, tzinfo=UTC)
# Text the COPY and executemany paths must carry unchanged.
AWKWARD = 'tab\there, new\nline, back\\slash, quote\' "double", \\N, émoji 📨, NUL-free'


def member(key: str, email: str, *, status: str = "subscribed", tags: tuple[str, ...] = ()) -> MemberState:
    return MemberState(
        customer_key=key,
        email=email,
        subscriber_hash=f"{abs(hash(email)) % 16**32:032x}",
        payload_hash="p" * 64,
        known_status=status,
        managed_tags=frozenset(tags),
        last_synced_at=T0,
        last_run_id="run-1",
    )


def hash_of(member: MemberState) -> str:
    assert member.subscriber_hash is not None
    return member.subscriber_hash


def test_tenant_and_secret_rows_round_trip(db: Database) -> None:
    now = datetime.now(UTC)
    row = rows.TenantRow(
        "globex", "Globex", {"oracle": {"base_url": "https://x"}, "n": [1, 2]}, False, now, now
    )
    with db.write() as conn:
        rows.insert_tenant(conn, row)
        rows.put_secret(conn, "globex", SecretName.MAILCHIMP_API_KEY, ciphertext="c1", key_id="k1", now=now)
        rows.put_secret(conn, "globex", SecretName.MAILCHIMP_API_KEY, ciphertext="c2", key_id="k2", now=now)
    with db.read() as conn:
        assert rows.get_tenant(conn, "globex") == row
        secret = rows.select_secret(conn, "globex", SecretName.MAILCHIMP_API_KEY)
        assert secret is not None and (secret.ciphertext, secret.key_id) == ("c2", "k2")
        assert rows.secret_counts_by_key(conn) == {"k2": 1}
        assert "c2" not in repr(secret)
    with db.write() as conn, pytest.raises(TenantExistsError, match="tenant 'globex' already exists"):
        rows.insert_tenant(conn, row)
    with db.write() as conn:
        rows.delete_tenant(conn, "globex")
    with db.read() as conn:
        assert rows.select_tenant(conn, "globex") is None
        assert rows.select_secrets(conn) == []
    with db.write() as conn, pytest.raises(TenantNotFoundError, match="no tenant 'globex'"):
        rows.delete_tenant(conn, "globex")


def test_mark_round_trips_with_millisecond_precision_in_utc(db: Database, tenant_id: str) -> None:
    store = SyncStore(db)
    assert store.marks.get(tenant_id) is None
    paris = timezone(timedelta(hours=1))
    store.marks.reset(tenant_id, HighWaterMark(T0.astimezone(paris), 300000012345678))
    mark = store.marks.get(tenant_id)
    assert mark == HighWaterMark(T0, 300000012345678)
    assert (
        mark is not None and mark.timestamp.tzinfo is not None and mark.timestamp.utcoffset() == timedelta(0)
    )
    store.marks.reset(tenant_id, None)
    assert store.marks.get(tenant_id) is None


def test_naive_timestamps_are_refused(db: Database, tenant_id: str) -> None:
    with pytest.raises(sa.exc.StatementError, match="has no time zone"):
        SyncStore(db).marks.reset(tenant_id, HighWaterMark(datetime(2025, 1, 1), 1))
    with pytest.raises(ValueError, match="has no time zone"):
        SyncStore(db).commit_run(
            tenant_id,
            RunCommit(
                "r",
                T0,
                ledger=[LedgerRecord("C1", None, "upsert", "ok")],
                member_upserts=[
                    MemberState("C1", "a@x.io", "h", "p", None, last_synced_at=datetime(2025, 1, 1))
                ],
            ),
        )


def test_member_state_round_trips_and_upserts(db: Database, tenant_id: str) -> None:
    store = SyncStore(db)
    ann = member("CDRM_1", "ann@acme.io", tags=("segment:gold", "type:customer"))
    bob = member("CDRM_2", AWKWARD, status="transactional")
    store.commit_run(tenant_id, RunCommit("run-1", T0, member_upserts=[ann, bob]))
    assert store.members.by_keys(tenant_id, ["CDRM_1", "CDRM_2", "CDRM_404"]) == {
        "CDRM_1": ann,
        "CDRM_2": bob,
    }
    assert store.members.by_subscriber_hashes(tenant_id, [hash_of(bob)]) == [bob]
    read_back = store.members.by_keys(tenant_id, ["CDRM_1"])["CDRM_1"]
    assert (read_back.last_synced_at, read_back.last_run_id) == (T0, "run-1")
    assert store.members.count(tenant_id) == 2
    moved = replace(
        member("CDRM_1", "ann@new.io", status="unsubscribed", tags=()),
        payload_hash=None,
        active=False,
    )
    store.commit_run(tenant_id, RunCommit("run-2", T0, member_upserts=[moved], member_deletes=["CDRM_2"]))
    assert store.members.by_keys(tenant_id, ["CDRM_1", "CDRM_2"]) == {"CDRM_1": moved}


def test_member_lookups_work_across_many_chunks(db: Database, tenant_id: str) -> None:
    store = SyncStore(db)
    members = [member(f"CDRM_{i}", f"m{i}@acme.io") for i in range(1_234)]
    store.commit_run(tenant_id, RunCommit("run-1", T0, member_upserts=members))
    found = store.members.by_keys(tenant_id, [f"CDRM_{i}" for i in range(0, 1_300, 3)])
    assert set(found) == {f"CDRM_{i}" for i in range(0, 1_234, 3)}
    assert len(store.members.by_subscriber_hashes(tenant_id, [hash_of(m) for m in members])) == 1_234


def test_ledger_round_trips_and_reads_by_run_and_customer(db: Database, tenant_id: str) -> None:
    store = SyncStore(db)
    first = [
        LedgerRecord("CDRM_1", "ann@acme.io", "upsert", "succeeded", 200),
        LedgerRecord("CDRM_2", None, "reject-invalid", "rejected", None, "Invalid Resource", AWKWARD),
        LedgerRecord(
            "CDRM_3", "c@acme.io", "upsert", "failed", 503, "Service Unavailable", "retry", attempt=2
        ),
    ]
    store.commit_run(tenant_id, RunCommit("run-1", T0, ledger=first))
    store.commit_run(
        tenant_id, RunCommit("run-2", T0, ledger=[LedgerRecord("CDRM_1", "ann@acme.io", "skip", "ok")])
    )
    entries = store.ledger.for_run(tenant_id, "run-1")
    assert [
        (e.customer_key, e.email, e.action, e.outcome, e.http_status, e.title, e.detail, e.attempt)
        for e in entries
    ] == [
        (r.customer_key, r.email, r.action, r.outcome, r.http_status, r.title, r.detail, r.attempt)
        for r in first
    ]
    assert all(e.tenant_id == tenant_id and e.run_id == "run-1" and e.recorded_at.tzinfo for e in entries)
    page = store.ledger.for_run(tenant_id, "run-1", limit=2, after_id=entries[0].id)
    assert [e.customer_key for e in page] == ["CDRM_2", "CDRM_3"]
    history = store.ledger.for_customer(tenant_id, "CDRM_1")
    assert [(e.run_id, e.action) for e in history] == [("run-2", "skip"), ("run-1", "upsert")]
    assert store.ledger.outcome_counts(tenant_id, "run-1") == {"succeeded": 1, "rejected": 1, "failed": 1}


def test_ledger_is_append_only_per_run(db: Database, tenant_id: str) -> None:
    """The same run committed twice (a re-execution) adds rows; nothing is overwritten."""
    store = SyncStore(db)
    record = LedgerRecord("CDRM_1", "ann@acme.io", "upsert", "failed", 500)
    store.commit_run(tenant_id, RunCommit("run-1", T0, ledger=[record]))
    store.commit_run(tenant_id, RunCommit("run-1", T0, ledger=[record]))
    with db.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(sync_ledger)).scalar_one() == 2


def test_retry_queue_round_trips_with_due_and_dead_letters(db: Database, tenant_id: str) -> None:
    store = SyncStore(db)
    due = RetryEntry("CDRM_1", 1, T0, "HTTP 503", False, T0)
    later = RetryEntry("CDRM_2", 2, T0 + timedelta(hours=1), AWKWARD, False, T0 - timedelta(days=1))
    dead = RetryEntry("CDRM_3", 5, T0, "gave up", True, T0 - timedelta(days=2))
    store.commit_run(tenant_id, RunCommit("run-1", T0, retry_upserts=[due, later, dead]))
    assert store.retries.entries(tenant_id, ["CDRM_1", "CDRM_2", "CDRM_3", "X"]) == {
        "CDRM_1": due,
        "CDRM_2": later,
        "CDRM_3": dead,
    }
    assert store.retries.due(tenant_id, T0 + timedelta(minutes=1)) == [due]
    assert store.retries.due(tenant_id, T0 + timedelta(hours=2)) == [due, later]
    assert store.retries.dead_letter_count(tenant_id) == 1
    assert store.retries.dead_letters(tenant_id) == [dead]
    store.commit_run(tenant_id, RunCommit("run-2", T0, retry_clears=["CDRM_1"], retry_upserts=[later]))
    assert set(store.retries.entries(tenant_id, ["CDRM_1", "CDRM_2", "CDRM_3"])) == {"CDRM_2", "CDRM_3"}


def test_audience_events_are_idempotent_and_mark_member_status(db: Database, tenant_id: str) -> None:
    store = SyncStore(db)
    ann = member("CDRM_1", "ann@acme.io")
    store.commit_run(tenant_id, RunCommit("run-1", T0, member_upserts=[ann]))
    unsubscribed = AudienceEvent("ann@acme.io", hash_of(ann), AudienceEventKind.UNSUBSCRIBE, T0, "poll")
    cleaned = AudienceEvent(
        "zed@acme.io", "f" * 32, AudienceEventKind.CLEANED, T0 + timedelta(seconds=1), "poll"
    )
    assert store.audience.record(tenant_id, [unsubscribed, cleaned, unsubscribed]) == 2
    assert store.audience.record(tenant_id, [unsubscribed, cleaned]) == 0
    assert store.audience.events(tenant_id) == [unsubscribed, cleaned]
    assert store.audience.events(tenant_id, since=T0 + timedelta(milliseconds=500)) == [cleaned]
    assert store.members.by_keys(tenant_id, ["CDRM_1"])["CDRM_1"].known_status == "unsubscribed"


def test_sync_state_of_one_tenant_is_invisible_to_another(db: Database, tenant_id: str) -> None:
    other = add_tenant_row(db, "globex")
    store = SyncStore(db)
    store.commit_run(
        tenant_id,
        RunCommit(
            "run-1",
            T0,
            ledger=[LedgerRecord("CDRM_1", "a@acme.io", "upsert", "succeeded")],
            member_upserts=[member("CDRM_1", "a@acme.io")],
            retry_upserts=[RetryEntry("CDRM_1", 1, T0, None, True, T0)],
            new_mark=HighWaterMark(T0, 1),
        ),
    )
    assert store.marks.get(other) is None
    assert store.members.by_keys(other, ["CDRM_1"]) == {}
    assert store.ledger.for_customer(other, "CDRM_1") == []
    assert store.retries.dead_letter_count(other) == 0
