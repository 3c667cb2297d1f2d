"""The three assets in one run on both doubles: the audience, the ledger and the mark after a first
run, and a second run over the same (unchanged) customers that costs no write."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import dagster as dg

from oracle_mailchimp_dagster.defs.assets import fusion_customers, mailchimp_members, mailchimp_sync_results
from oracle_mailchimp_dagster.store.records import HighWaterMark
from oracle_mailchimp_dagster.store.sync_store import SyncStore
from tests.support.doubles import AssetRuns, InMemoryAudience, InMemoryFusion, fusion_customer, metadata

TENANT = "acme"
NOW = datetime.now(UTC).replace(microsecond=0)
ASSETS = (fusion_customers, mailchimp_members, mailchimp_sync_results)


def outcomes(store: SyncStore, result: dg.ExecuteInProcessResult) -> dict[str, str]:
    """The run's ledger by customer (one row per record)."""
    rows = store.ledger.for_run(TENANT, result.run_id)
    by_key = {row.customer_key: row.outcome for row in rows}
    assert len(by_key) == len(rows)
    return by_key


def tags(audience: InMemoryAudience) -> Iterator[tuple[str, list[str]]]:
    for email in sorted(audience.emails()):
        member = audience.member(email)
        assert member is not None
        yield email, sorted(member.tags)


def test_a_run_fills_the_audience_and_the_ledger_and_a_second_run_writes_nothing(
    materialize: AssetRuns, fusion: InMemoryFusion, audience: InMemoryAudience, store: SyncStore
) -> None:
    fusion.overlap = timedelta(minutes=5)  # the second run re-reads every customer, as a look-back does
    fusion.put(
        fusion_customer(1, "a@example.com", NOW - timedelta(minutes=3)),
        fusion_customer(2, "B@Example.com", NOW - timedelta(minutes=2), CustomerClassCode="WHOLESALE"),
        fusion_customer(3, "not-an-email", NOW - timedelta(minutes=1)),
    )
    audience.seed("b@example.com", status="unsubscribed")  # there before the sync, and stays unsubscribed
    assert store.marks.get(TENANT) is None

    first = materialize(*ASSETS)

    assert outcomes(store, first) == {"CUST-1": "created", "CUST-2": "updated", "CUST-3": "rejected"}
    a, b = audience.member("a@example.com"), audience.member("b@example.com")
    assert a is not None and b is not None
    assert (a.status, b.status) == ("transactional", "unsubscribed")
    assert a.merge_fields["FNAME"] == "Ada"
    assert dict(tags(audience)) == {
        "a@example.com": ["segment:RETAIL", "type:customer"],
        "b@example.com": ["segment:WHOLESALE", "type:customer"],
    }
    assert store.marks.get(TENANT) == HighWaterMark(NOW - timedelta(minutes=1), 3)
    assert [call.method for call in audience.writes] == ["upsert_many", "apply_tag_changes"]
    written = len(audience.calls)

    second = materialize(*ASSETS)

    assert metadata(second, "fusion_customers")["rows"] == 3
    assert outcomes(store, second) == {"CUST-1": "unchanged", "CUST-2": "unchanged", "CUST-3": "rejected"}
    assert [call.method for call in audience.calls[written:]] == ["get_merge_fields"]
    assert store.marks.get(TENANT) == HighWaterMark(NOW - timedelta(minutes=1), 3)
