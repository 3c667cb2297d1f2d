"""The drift rules on their own: who speaks for a shared address, what counts towards the rate, what is
never called missing, and what a repair never puts back (no sandbox: doubles for the client and store)."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from oracle_mailchimp_dagster.mailchimp.audience_reads import AudienceMember
from oracle_mailchimp_dagster.pipeline.drift import (
    DriftClass,
    DriftReport,
    compare,
    expected_members,
    missing,
)
from oracle_mailchimp_dagster.pipeline.reconcile import LeaseLostError, ReconcileOptions, reconcile
from oracle_mailchimp_dagster.store import Database
from oracle_mailchimp_dagster.sync.model import Action, MemberState, PlannedAction
from oracle_mailchimp_dagster.sync.state import state_after_success
from tests.support.tenant_samples import config

T0 = datetime(2026, 11, 1, tzinfo=UTC)


def state(
    key: str, *, synced: datetime, tags: frozenset[str], fields: dict[str, Any], **kw: Any
) -> MemberState:
    values: dict[str, Any] = {
        "customer_key": key,
        "email": "shared@acme.io",
        "subscriber_hash": "h1",
        "payload_hash": f"p-{key}",
        "known_status": "transactional",
        "managed_tags": tags,
        "last_update": T0,
        "last_synced_at": synced,
        "merge_fields": fields,
    }
    return MemberState(**{**values, **kw})


def member(**kw: Any) -> AudienceMember:
    base: dict[str, Any] = {"id": "h1", "email_address": "shared@acme.io", "status": "transactional"}
    return AudienceMember(**{**base, **kw})


def test_the_holder_that_wrote_the_member_last_speaks_for_a_shared_address() -> None:
    # Same Oracle time, the sync wrote B last: A's row still holds its older payload.
    old = state("A", synced=T0, tags=frozenset({"Old"}), fields={"COMPANY": "Old Co"})
    new = state("B", synced=T0 + timedelta(hours=1), tags=frozenset({"New"}), fields={"COMPANY": "New Co"})
    for order in ([old, new], [new, old]):
        expected, managed = expected_members(order)
        assert expected["h1"].customer_key == "B"
        shown = member(merge_fields={"COMPANY": "New Co"}, tags=("New",))
        assert compare(expected["h1"], shown, managed) == []


def test_an_address_spelled_in_another_case_is_reported_but_not_rated_as_drift() -> None:
    expected, managed = expected_members([state("A", synced=T0, tags=frozenset(), fields={})])
    findings = compare(expected["h1"], member(email_address="Shared@Acme.io"), managed)
    assert [f.drift for f in findings] == [DriftClass.EMAIL_DIFFERS]
    report = DriftReport(managed=1)
    report.add(findings)
    assert report.counts["email_differs"] == 1 and report.rate == 0.0


@pytest.mark.parametrize("status", ["unsubscribed", "cleaned"])
def test_a_gone_member_that_was_unsubscribed_or_cleaned_is_not_called_missing(status: str) -> None:
    expected, _ = expected_members([state("A", synced=T0, tags=frozenset(), fields={}, known_status=status)])
    assert missing(expected["h1"]) == []


def test_unchanged_state_from_before_the_fields_were_kept_gains_them() -> None:
    prev = state("A", synced=T0, tags=frozenset(), fields={}, merge_fields=None)
    action = PlannedAction(
        "A", Action.SKIP_UNCHANGED, "same payload", last_update=T0, merge_fields={"FNAME": "Ann"}
    )
    after = state_after_success(action, prev)
    assert after is not None and after.merge_fields == {"FNAME": "Ann"}
    kept = state_after_success(action, after)
    assert kept is not None and kept.merge_fields == {"FNAME": "Ann"}


class _Store:
    """The store's reads a reconciliation makes, over a list of states."""

    def __init__(self, states: list[MemberState], db: Database) -> None:
        self.states = states
        self.members = self
        self.db = db  # the repairs' ledger rows go to a real database

    def iter_tenant(self, tenant_id: str) -> list[MemberState]:
        return self.states

    def by_keys(self, tenant_id: str, keys: Any) -> dict[str, MemberState]:
        return {s.customer_key: s for s in self.states if s.customer_key in set(keys)}


class _Client:
    """An audience with no members; records every write (there must be none)."""

    class options:
        concurrency = 2

    class stats:
        @staticmethod
        def snapshot() -> dict[str, int]:
            return {"http_calls": 0}

    def __init__(self) -> None:
        self.writes: list[Any] = []

    def iter_audience_pages(self, list_id: str, **kw: Any) -> Any:
        yield []

    def get_audience_member(self, list_id: str, digest: str) -> None:
        return None

    def put_member(self, list_id: str, body: Any) -> None:
        self.writes.append(body)

    def apply_tag_changes(self, list_id: str, changes: Any) -> dict[str, Any]:
        self.writes.append(changes)
        return {}


def repair(states: list[MemberState], db: Database, still_held: Any = lambda: True) -> tuple[Any, _Client]:
    client = _Client()
    result = reconcile(
        client,  # type: ignore[arg-type]
        tenant=config(),
        store=_Store(states, db),  # type: ignore[arg-type]
        run_id="r1",
        options=ReconcileOptions(repair=True),
        now=T0,
        still_held=still_held,
    )
    return result, client


def test_a_missing_member_stored_subscribed_is_not_put_back(db: Database) -> None:
    subscribed = state("A", synced=T0, tags=frozenset(), fields={"FNAME": "A"}, known_status="subscribed")
    result, client = repair([subscribed], db)
    assert result.report.counts["missing_member"] == 1
    assert client.writes == []
    [row] = result.repair_rows
    assert row.outcome == "skipped" and "never resubscribed" in (row.detail or "")


def test_no_repair_is_made_once_the_lease_is_lost(db: Database) -> None:
    gone = state("A", synced=T0, tags=frozenset(), fields={"FNAME": "A"})
    with pytest.raises(LeaseLostError, match="nothing was repaired"):
        repair([gone], db, still_held=lambda: False)


def test_no_member_is_recreated_when_most_managed_members_are_missing(db: Database) -> None:
    states = [
        state(
            f"C{i}",
            synced=T0,
            tags=frozenset(),
            fields={"FNAME": "A"},
            subscriber_hash=f"h{i}",
            email=f"c{i}@acme.io",
        )
        for i in range(10)
    ]
    result, client = repair(states, db)
    assert result.report.counts["missing_member"] == 10 and result.mass_missing
    assert client.writes == []
    assert {row.outcome for row in result.repair_rows} == {"skipped"}
    assert all("is this the tenant's audience" in (row.detail or "") for row in result.repair_rows)
