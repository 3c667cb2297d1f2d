"""Planning: one action per record, email changes, shared addresses, inactive policies, the guard."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from oracle_mailchimp_dagster.sync.identity import subscriber_hash
from oracle_mailchimp_dagster.sync.mapping import map_customer, payload_hash
from oracle_mailchimp_dagster.sync.model import Action, ListField, MemberState, PlannedAction
from oracle_mailchimp_dagster.sync.planning import RemovalGuardTripped, check_removal_guard, plan_actions
from oracle_mailchimp_dagster.sync.rules import InactiveAction, SyncPolicy
from oracle_mailchimp_dagster.sync.state import state_after_refusal, state_after_success
from oracle_mailchimp_dagster.tenants.mapping import FieldMapping
from tests.support.customers import oracle_customer, oracle_customers

FIELDS = {
    f.tag: f for f in [ListField("FNAME", "text"), ListField("LNAME", "text"), ListField("COMPANY", "text")]
}
MAPPING = FieldMapping(merge_fields={"COMPANY": "OrganizationName"}).resolve()
T0 = datetime(2026, 1, 1, tzinfo=UTC)
DEFAULT_POLICY = SyncPolicy()


def customer(n: int, email: str | None = None, status: str = "A", minutes: int = 0, **extra: Any) -> dict:
    return {
        "PartyNumber": f"CDRM_{n}",
        "PartyId": 300000000000000 + n,
        "OrganizationName": f"Org {n}",
        "EmailAddress": email if email is not None else f"c{n}@acme.io",
        "PartyStatus": status,
        "Type": "ZCA_CUSTOMER",
        "LastUpdateDate": T0 + timedelta(minutes=minutes),
        **extra,
    }


def synced(record: dict, policy: SyncPolicy = DEFAULT_POLICY, status: str = "subscribed") -> MemberState:
    payload = map_customer(oracle_customer(record), MAPPING, FIELDS, policy)
    return MemberState(
        customer_key=record["PartyNumber"],
        email=payload.email,
        subscriber_hash=subscriber_hash(payload.email),
        payload_hash=payload_hash(payload, policy.status_if_new.value),
        known_status=status,
        managed_tags=payload.tags,
        active=True,
    )


def plan(
    records: list[dict], states: list[MemberState] | None = None, policy: SyncPolicy = DEFAULT_POLICY
) -> list[PlannedAction]:
    return plan_actions(
        oracle_customers(records), {s.customer_key: s for s in states or []}, MAPPING, FIELDS, policy
    )


def only(actions: list[PlannedAction]) -> PlannedAction:
    assert len(actions) == 1
    return actions[0]


def test_new_customer_is_upserted_with_status_if_new_only() -> None:
    action = only(plan([customer(1)], policy=SyncPolicy(status_if_new="pending")))
    assert action.action is Action.UPSERT
    assert action.status_if_new == "pending"
    assert action.email == "c1@acme.io"
    assert action.merge_fields == {"COMPANY": "Org 1"}
    assert action.tags_add == {"type:customer"}


def test_unchanged_customer_costs_nothing() -> None:
    record = customer(1)
    assert only(plan([record], [synced(record)])).action is Action.SKIP_UNCHANGED


def test_changed_field_is_upserted_and_tags_diffed() -> None:
    record = customer(1)
    state = replace(synced(record), managed_tags=frozenset({"type:customer", "segment:OLD"}))
    action = only(plan([{**record, "OrganizationName": "New", "CustomerClassCode": "NEW"}], [state]))
    assert action.action is Action.UPSERT
    assert action.tags_add == {"segment:NEW"}
    assert action.tags_remove == {"segment:OLD"}


def test_email_change_patches_the_existing_member() -> None:
    record = customer(1)
    action = only(plan([{**record, "EmailAddress": "new@acme.io"}], [synced(record)]))
    assert action.action is Action.EMAIL_CHANGE
    assert action.previous_email == "c1@acme.io"
    assert action.email == "new@acme.io"


def test_email_change_onto_an_address_another_customer_holds_merges_and_releases_old() -> None:
    one, two = customer(1), customer(2)
    action = plan([{**one, "EmailAddress": "c2@acme.io"}], [synced(one), synced(two)])[0]
    assert action.action is Action.UPSERT
    assert action.release_email == "c1@acme.io"
    assert "customer CDRM_2 already holds" in action.reason


def test_email_change_keeps_old_address_another_customer_still_uses() -> None:
    one, two = customer(1, "shared@acme.io"), customer(2, "shared@acme.io")
    action = plan([{**one, "EmailAddress": "own@acme.io"}], [synced(one), synced(two)])[0]
    assert action.action is Action.UPSERT
    assert action.release_email is None
    assert "still used by customer CDRM_2" in action.reason


def test_shared_email_in_batch_gives_one_member_from_newest_customer() -> None:
    older = customer(1, "Shared@Acme.io", minutes=1)
    newer = customer(2, "shared@acme.io", minutes=5)
    actions = {a.customer_key: a for a in plan([older, newer])}
    assert actions["CDRM_2"].action is Action.UPSERT
    assert actions["CDRM_2"].merge_fields["COMPANY"] == "Org 2"
    assert actions["CDRM_1"].action is Action.SKIP
    assert "CDRM_2" in actions["CDRM_1"].reason


@pytest.mark.parametrize(
    ("policy_action", "expected"),
    [
        (InactiveAction.UNSUBSCRIBE, Action.UNSUBSCRIBE),
        (InactiveAction.ARCHIVE, Action.ARCHIVE),
        (InactiveAction.DELETE, Action.DELETE),
        (InactiveAction.TAG, Action.RETAG),
        (InactiveAction.NONE, Action.SKIP),
    ],
)
def test_inactive_customer_follows_policy(policy_action: InactiveAction, expected: Action) -> None:
    record = customer(1)
    policy = SyncPolicy(inactive_action=policy_action)
    action = only(plan([{**record, "PartyStatus": "I"}], [synced(record)], policy))
    assert action.action is expected
    if expected is Action.RETAG:
        assert action.tags_add == {"inactive-customer"}


def test_inactive_customer_never_synced_is_not_touched() -> None:
    action = only(plan([customer(1, status="I")]))
    assert action.action is Action.SKIP
    assert action.reason == "inactive customer has no member"


def test_inactive_customer_does_not_remove_address_an_active_customer_needs() -> None:
    one, two = customer(1, "shared@acme.io"), customer(2, "shared@acme.io")
    action = plan([{**one, "PartyStatus": "I"}], [synced(one), synced(two)])[0]
    assert action.action is Action.SKIP
    assert "active customer CDRM_2" in action.reason


def test_already_unsubscribed_member_is_not_unsubscribed_again() -> None:
    record = customer(1)
    action = only(plan([{**record, "PartyStatus": "I"}], [synced(record, status="unsubscribed")]))
    assert action.action is Action.SKIP_UNCHANGED


def test_duplicate_keys_keep_latest_version() -> None:
    first = customer(1, minutes=1)
    second = {**customer(1, minutes=2), "OrganizationName": "Later"}
    action = only(plan([second, first]))
    assert action.merge_fields["COMPANY"] == "Later"


def test_invalid_records_are_rejected_with_reason() -> None:
    actions = plan([customer(1, email=""), customer(2, email="bad@@x")])
    assert [(a.action, a.reason) for a in actions] == [
        (Action.REJECT_INVALID, "no email address"),
        (Action.REJECT_INVALID, "malformed email address"),
    ]


def test_removal_guard_counts_and_share() -> None:
    actions = [PlannedAction(customer_key=str(i), action=Action.UNSUBSCRIBE, reason="") for i in range(12)]
    check_removal_guard(actions, SyncPolicy(max_removals=12, max_removal_share=None), 100)
    with pytest.raises(RemovalGuardTripped, match="remove 12 members, more than the tenant's limit of 11"):
        check_removal_guard(actions, SyncPolicy(max_removals=11), 1000)
    with pytest.raises(RemovalGuardTripped, match="12 of 40 managed members"):
        check_removal_guard(actions, SyncPolicy(max_removals=None, max_removal_share=0.2), 40)
    check_removal_guard(actions[:10], SyncPolicy(max_removals=None, max_removal_share=0.2), 20)


def test_state_after_success_round_trip_is_idempotent() -> None:
    records = [customer(1), customer(2, "shared@acme.io"), customer(3, "shared@acme.io", minutes=3)]
    actions = plan(records)
    states = [s for a in actions if (s := state_after_success(a, None)) is not None]
    again = plan(records, states)
    assert {a.action for a in again} <= {Action.SKIP_UNCHANGED, Action.SKIP}


def test_customer_rejected_now_keeps_its_claim_on_its_old_address() -> None:
    one, two = customer(1, "shared@acme.io"), customer(2, "shared@acme.io")
    actions = plan([{**one, "EmailAddress": "bad"}, {**two, "PartyStatus": "I"}], [synced(one), synced(two)])
    assert [a.action for a in actions] == [Action.REJECT_INVALID, Action.SKIP]
    assert "active customer CDRM_1" in actions[1].reason


def test_data_mailchimp_refused_is_not_sent_again_until_it_changes() -> None:
    record = customer(1, "fake@acme.io")
    (refused_upsert,) = plan([record])
    refused = state_after_refusal(refused_upsert, None)
    assert refused is not None and refused.known_status == "rejected"
    assert only(plan([record], [refused])).action is Action.SKIP_UNCHANGED
    assert only(plan([{**record, "OrganizationName": "Fixed"}], [refused])).action is Action.UPSERT
    assert only(plan([{**record, "PartyStatus": "I"}], [refused])).action is Action.SKIP


def test_refusal_keeps_the_state_of_an_existing_member() -> None:
    record = customer(1)
    prev = synced(record)
    (action,) = plan([{**record, "OrganizationName": "New"}], [prev])
    assert state_after_refusal(action, prev) == prev
