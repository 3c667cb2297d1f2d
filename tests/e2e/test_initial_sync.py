"""An initial sync through real Dagster leaves the audience exactly as Oracle says it should be."""

from collections import Counter

from tests.fixtures.sync import SyncHarness
from tests.support.expected import assert_audience_matches


def test_initial_sync_builds_the_expected_audience(sync_harness: SyncHarness) -> None:
    result = sync_harness.run()
    assert result.success, result.all_events[-1]
    assert_audience_matches(sync_harness)
    members = sync_harness.members()
    assert Counter(m["status"] for m in members.values()) == {"transactional": len(members)}

    ledger = sync_harness.store.ledger.for_run("acme", result.run_id)
    customers = sync_harness.customers()
    assert len(ledger) == len(customers)  # one row per record
    outcomes = Counter(e.outcome for e in ledger)
    assert outcomes["created"] == len(members)
    assert outcomes["rejected"] > 0 and outcomes["failed_invalid"] > 0
    assert sync_harness.store.marks.get("acme") is not None

    materialization = result.asset_materializations_for_node("mailchimp_sync_results")[0]
    assert materialization.metadata["outcome_created"].value == len(members)
    assert materialization.metadata["ledger_run_id"].value == result.run_id
    # The real client's counters reach the extract's metadata (it counts `http_calls`, not `requests`).
    extract = result.asset_materializations_for_node("fusion_customers")[0].metadata
    http_calls, pages = extract["http_calls"].value, extract["pages"].value
    assert isinstance(http_calls, int) and isinstance(pages, int)
    assert http_calls >= pages > 0


def test_initial_sync_on_postgresql_storage_and_app_database(postgres_sync_harness: SyncHarness) -> None:
    h = postgres_sync_harness
    assert type(h.instance.run_storage).__name__ == "PostgresRunStorage"
    assert h.db.dialect == "postgresql"
    result = h.run()
    assert result.success
    assert_audience_matches(h)
    assert h.instance.get_run_by_id(result.run_id) is not None
    assert len(h.store.ledger.for_run("acme", result.run_id)) == len(h.customers())
