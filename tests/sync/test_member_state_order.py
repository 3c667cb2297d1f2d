"""Member state never goes backwards: a record older than the stored state of its customer (by Oracle's
LastUpdateDate) is planned as a skip with its reason, writes nothing, and leaves the state as it is."""

from datetime import UTC, datetime, timedelta
from typing import Any

from oracle_mailchimp_dagster.sync.identity import subscriber_hash
from oracle_mailchimp_dagster.sync.mapping import map_customer, payload_hash
from oracle_mailchimp_dagster.sync.model import Action, ListField, MemberState, PlannedAction
from oracle_mailchimp_dagster.sync.planning import plan_actions
from oracle_mailchimp_dagster.sync.rules import SyncPolicy
from oracle_mailchimp_dagster.sync.state import state_after_refusal, state_after_success
from oracle_mailchimp_dagster.tenants.mapping import FieldMapping
from tests.support.customers import oracle_customer, oracle_customers

FIELDS = {"COMPANY": ListField("COMPANY", "text")}
MAPPING = FieldMapping(merge_fields={"COMPANY": "OrganizationName"}).resolve()
POLICY = SyncPolicy()
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def record(n: int, minutes: int, **values: Any) -> dict[str, Any]:
    return {
        "PartyNumber": f"CDRM_{n}",
        "PartyId": n,
        "EmailAddress": f"c{n}@acme.io",
        "PartyStatus": "A",
        "OrganizationName": f"Org {n}",
        "LastUpdateDate": T0 + timedelta(minutes=minutes),
        **values,
    }


def synced(row: dict[str, Any]) -> MemberState:
    """The state a successful sync of `row` leaves."""
    payload = map_customer(oracle_customer(row), MAPPING, FIELDS, POLICY)
    return MemberState(
        customer_key=row["PartyNumber"],
        email=payload.email,
        subscriber_hash=subscriber_hash(payload.email),
        payload_hash=payload_hash(payload, POLICY.status_if_new.value),
        known_status="subscribed",
        managed_tags=payload.tags,
        active=True,
        last_update=row["LastUpdateDate"],
    )


def plan(rows: list[dict[str, Any]], *states: MemberState) -> dict[str, PlannedAction]:
    actions = plan_actions(
        oracle_customers(rows), {s.customer_key: s for s in states}, MAPPING, FIELDS, POLICY
    )
    return {a.customer_key: a for a in actions}


def test_an_older_record_is_skipped_with_its_reason_and_leaves_the_state() -> None:
    stored = synced(record(1, 10, OrganizationName="New Name"))
    action = plan([record(1, 5, OrganizationName="Old Name")], stored)["CDRM_1"]

    assert action.action is Action.SKIP and not action.writes
    assert action.reason == (
        "Oracle record of 2026-01-01T00:05:00+00:00 is older than the one already synced "
        "(2026-01-01T00:10:00+00:00); not applied"
    )
    assert state_after_success(action, stored) == stored


def test_a_record_as_new_as_the_stored_one_is_planned_as_usual() -> None:
    row = record(1, 10)
    assert plan([row], synced(row))["CDRM_1"].action is Action.SKIP_UNCHANGED
    renamed = plan([record(1, 11, OrganizationName="Renamed")], synced(row))["CDRM_1"]
    assert renamed.action is Action.UPSERT and renamed.merge_fields["COMPANY"] == "Renamed"


def test_an_older_inactivation_removes_nothing_and_keeps_the_customer_active() -> None:
    stored = synced(record(1, 10))
    action = plan([record(1, 5, PartyStatus="I")], stored)["CDRM_1"]
    assert action.action is Action.SKIP
    assert state_after_success(action, stored) == stored


def test_an_older_record_keeps_the_stored_claim_on_its_address() -> None:
    """Left out of the batch, the stale customer still holds its stored address, so another customer
    inactivated on that address does not unsubscribe the member."""
    a = synced(record(1, 10, EmailAddress="shared@acme.io"))
    b = synced(record(2, 0, EmailAddress="shared@acme.io"))
    planned = plan([record(1, 5, EmailAddress="moved@acme.io"), record(2, 20, PartyStatus="I")], a, b)
    assert planned["CDRM_1"].action is Action.SKIP
    assert (planned["CDRM_2"].action, planned["CDRM_2"].reason) == (
        Action.SKIP,
        "address still used by active customer CDRM_1",
    )


def test_an_action_from_an_older_record_never_replaces_newer_state() -> None:
    """A plan made before a newer record was stored, applied after it (a stale persisted plan)."""
    newer = synced(record(1, 10, OrganizationName="New Name"))
    upsert = plan([record(1, 5, OrganizationName="Old Name")])["CDRM_1"]
    assert upsert.action is Action.UPSERT
    assert state_after_success(upsert, newer) == newer
    assert state_after_refusal(upsert, None) is not None
    rejected = MemberState(
        "CDRM_1", "c1@acme.io", newer.subscriber_hash, "x", "rejected", last_update=newer.last_update
    )
    assert state_after_refusal(upsert, rejected) == rejected
