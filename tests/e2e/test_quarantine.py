"""Poison rows through real Dagster (issue 9): malformed Oracle rows are quarantined, recorded as
rejected with their reason, and the rest of the tenant syncs; a row fixed in Oracle syncs next run."""

from dataclasses import dataclass
from typing import Any

from tests.fixtures.sync import SyncHarness, metadata_value
from tests.support.expected import assert_audience_matches
from tests.support.scenario import sole_holders

POISON: list[tuple[str, Any, str]] = [
    ("PostalCode", 94065, "PostalCode: expected a string, got a number (94065)"),
    (
        "EmailAddress",
        ["a@acme.io", "b@acme.io"],
        'EmailAddress: expected a string, got a list (["a@acme.io","b@acme.io"])',
    ),
    (
        "OrganizationName",
        {"name": "Acme"},
        'OrganizationName: expected a string, got an object ({"name":"Acme"})',
    ),
    ("PartyStatus", True, "PartyStatus: expected a string, got a boolean (true)"),
    ("CreationDate", 1710148462, "CreationDate: expected an ISO 8601 timestamp, got a number (1710148462)"),
]


@dataclass
class WithoutQuarantined:
    """The audience expected from every customer but the quarantined ones."""

    harness: SyncHarness
    left_out: set[str]

    def customers(self) -> list[dict[str, Any]]:
        return [c for c in self.harness.customers() if c["PartyNumber"] not in self.left_out]

    def members(self) -> dict[str, dict[str, Any]]:
        return self.harness.members()


def test_quarantined_rows_are_rejected_and_the_rest_syncs(sync_harness: SyncHarness) -> None:
    h = sync_harness
    poisoned = sole_holders(h.customers(), len(POISON))
    for customer, (attribute, value, _) in zip(poisoned, POISON, strict=True):
        body = {"party_numbers": [customer["PartyNumber"]], "attribute": attribute, "value": value}
        h.fusion_control("POST", "/malform", json=body)
    numbers = {c["PartyNumber"] for c in poisoned}

    result = h.run()
    assert result.success, result.all_events[-1]
    ledger = {e.customer_key: e for e in h.store.ledger.for_run("acme", result.run_id)}
    assert len(ledger) == len(h.customers()), "one ledger row per customer, quarantined ones included"
    for customer, (_, _, reason) in zip(poisoned, POISON, strict=True):
        entry = ledger[customer["PartyNumber"]]
        assert (entry.action, entry.outcome, entry.detail) == (
            "reject_invalid",
            "rejected",
            f"quarantined: {reason}",
        )
        assert customer["EmailAddress"].lower() not in h.members()
    assert_audience_matches(WithoutQuarantined(h, numbers))
    (check,) = [c for c in result.get_asset_check_evaluations() if c.check_name == "quarantined_rows"]
    assert not check.passed and check.metadata["quarantined_rows"].value == len(POISON)
    assert metadata_value(result, "fusion_customers", "quarantined") == len(POISON)
    newest = max(h.customers(), key=lambda c: (c["LastUpdateDate"], c["PartyId"]))
    mark = h.store.marks.get("acme")
    assert mark is not None and mark.key == newest["PartyId"], "the mark moves past quarantined rows"

    fixed = poisoned[0]
    h.fusion_control("PATCH", f"/customers/{fixed['PartyNumber']}", json={"City": "Fixed"})
    again = h.run()
    assert again.success
    second = {e.customer_key: e for e in h.store.ledger.for_run("acme", again.run_id)}
    assert second[fixed["PartyNumber"]].outcome == "created"
    assert not numbers - {fixed["PartyNumber"]} & set(second), "unchanged poison rows are not read again"
    assert fixed["EmailAddress"].lower() in h.members()
    (check,) = [c for c in again.get_asset_check_evaluations() if c.check_name == "quarantined_rows"]
    assert check.passed
