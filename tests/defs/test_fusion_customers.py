"""`fusion_customers` on the in-memory Fusion: the window it reads and the metadata it reports."""

from datetime import UTC, datetime, timedelta

from oracle_mailchimp_dagster.defs.assets import fusion_customers
from oracle_mailchimp_dagster.fusion import CustomerCursor
from oracle_mailchimp_dagster.pipeline.extract import ExtractMode
from oracle_mailchimp_dagster.pipeline.extract_spool import ExtractManifest
from oracle_mailchimp_dagster.store.records import HighWaterMark
from oracle_mailchimp_dagster.store.sync_store import SyncStore
from tests.support.doubles import (
    AssetRuns,
    FusionCall,
    InMemoryFusion,
    InMemoryValues,
    fusion_customer,
    metadata,
)

TENANT = "acme"
NOW = datetime.now(UTC).replace(microsecond=0)


def seed(fusion: InMemoryFusion) -> None:
    """Two customers sharing a timestamp (PartyId breaks the tie), an older one, and one past `now`."""
    fusion.put(
        fusion_customer(3, "c@example.com", NOW - timedelta(hours=1)),
        fusion_customer(2, "b@example.com", NOW - timedelta(hours=1)),
        fusion_customer(1, "a@example.com", NOW - timedelta(hours=2)),
        fusion_customer(4, "d@example.com", NOW + timedelta(days=1)),
    )


def test_first_run_reads_every_customer_up_to_now_and_marks_the_last_in_keyset_order(
    materialize: AssetRuns, fusion: InMemoryFusion, values: InMemoryValues
) -> None:
    seed(fusion)

    result = materialize(fusion_customers)

    extract: ExtractManifest = values.get("fusion_customers", TENANT)
    assert sorted(c.key for c in extract.customers()) == ["CUST-1", "CUST-2", "CUST-3"]
    assert extract.mode is ExtractMode.INCREMENTAL
    assert extract.mark_candidate == HighWaterMark(NOW - timedelta(hours=1), 3)
    assert extract.window_end is not None
    assert fusion.calls == [FusionCall("extract_customers", since=None, until=extract.window_end)]
    md = metadata(result, "fusion_customers")
    assert md["mode"] == "incremental"
    assert md["rows"] == 3
    assert md["window_start"] == "beginning"
    assert md["mark_before"] == "none"
    assert md["retries_due"] == 0
    assert (md["pages"], md["http_calls"]) == (1, 1)


def test_later_run_resumes_strictly_after_the_mark(
    materialize: AssetRuns, fusion: InMemoryFusion, values: InMemoryValues, store: SyncStore
) -> None:
    seed(fusion)
    mark = HighWaterMark(NOW - timedelta(hours=1), 2)
    store.marks.reset(TENANT, mark)

    result = materialize(fusion_customers)

    extract: ExtractManifest = values.get("fusion_customers", TENANT)
    assert [c.key for c in extract.customers()] == ["CUST-3"]
    assert fusion.calls[0].after == CustomerCursor(mark.timestamp, mark.key)
    md = metadata(result, "fusion_customers")
    assert md["rows"] == 1
    assert md["mark_before"] == f"{mark.timestamp.isoformat()} / PartyId 2"
