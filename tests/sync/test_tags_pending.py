"""A member whose fields an upsert wrote, before its tags were sent: what is recorded early, what the
next run plans for it when the run stopped there (its tags, not the member again; a newer holder
removes every tag it may carry), and that a reconciliation leaves its tags unrated."""

from dataclasses import replace
from datetime import UTC, datetime

from oracle_mailchimp_dagster.mailchimp.audience_reads import AudienceMember
from oracle_mailchimp_dagster.pipeline.drift import DriftClass, compare, expected_members
from oracle_mailchimp_dagster.pipeline.settle import build_fields_commit
from oracle_mailchimp_dagster.sync.customer import Customer
from oracle_mailchimp_dagster.sync.model import Action, ListField, MemberState, PlannedAction
from oracle_mailchimp_dagster.sync.outcomes import Outcome, RecordOutcome, done
from oracle_mailchimp_dagster.sync.planning import plan_actions
from oracle_mailchimp_dagster.sync.rules import SyncPolicy
from oracle_mailchimp_dagster.sync.state import (
    state_after_success,
    state_with_tags_pending,
    tags_unsure,
    unsure_tags_hash,
)
from oracle_mailchimp_dagster.tenants.mapping import FieldMapping
from tests.support.customers import oracle_customer

FIELDS = {"COMPANY": ListField("COMPANY", "text")}
MAPPING = FieldMapping(merge_fields={"COMPANY": "OrganizationName"}).resolve()
T0 = datetime(2026, 1, 1, tzinfo=UTC)
NOW = datetime(2026, 1, 2, tzinfo=UTC)


def customer(email: str = "ann@acme.io", segment: str = "GOLD", name: str = "Acme") -> Customer:
    return oracle_customer(
        {
            "PartyNumber": "CDRM_1",
            "PartyId": 1,
            "OrganizationName": name,
            "EmailAddress": email,
            "PartyStatus": "A",
            "Type": "ZCA_CUSTOMER",
            "CustomerClassCode": segment,
            "LastUpdateDate": T0,
        }
    )


def plan(c: Customer, states: dict[str, MemberState]) -> PlannedAction:
    [action] = plan_actions([c], states, MAPPING, FIELDS, SyncPolicy())
    return action


def pending(action: PlannedAction, states: dict[str, MemberState]) -> dict[str, MemberState]:
    commit = build_fields_commit(
        "run-1", [done(action, True, "subscribed")], states, now=NOW, planned_version=0, planned_mark=None
    )
    assert commit.ledger == [] and commit.new_mark is None and not commit.retry_upserts
    return {s.customer_key: s for s in commit.member_upserts}


def test_a_new_member_written_before_its_tags_is_recorded_without_them() -> None:
    action = plan(customer(), {})
    assert action.action is Action.UPSERT and action.tags_add

    [state] = pending(action, {}).values()

    assert (state.email, state.known_status) == ("ann@acme.io", "subscribed")
    assert tags_unsure(state) and state.payload_hash == unsure_tags_hash(action.payload_hash or "")
    assert state.managed_tags == action.tags, "every tag the member may carry by now"
    assert state.merge_fields == dict(action.merge_fields)
    assert (state.last_run_id, state.last_synced_at) == ("run-1", NOW)


def test_the_next_run_sends_only_the_tags_of_a_member_written_before_the_run_stopped() -> None:
    c = customer()
    states = pending(plan(c, {}), {})

    again = plan(c, states)

    assert again.action is Action.RETAG, "the member's fields are written: its tags are what is left"
    assert again.tags_add == again.tags and again.tags and not again.tags_remove
    assert "run run-1 wrote the member, not its tags" in again.reason
    settled = state_after_success(again, states["CDRM_1"])
    assert settled is not None and settled.managed_tags == again.tags and settled.active
    assert settled.payload_hash == again.payload_hash and not tags_unsure(settled)
    assert plan(c, {"CDRM_1": settled}).action is Action.SKIP_UNCHANGED


def test_a_changed_member_written_before_its_tags_keeps_the_tags_it_carries() -> None:
    first = plan(customer(segment="GOLD"), {})
    stored = state_after_success(first, None, "subscribed")
    assert stored is not None
    changed = plan(customer(segment="SILVER", name="Acme Ltd"), {"CDRM_1": stored})
    assert changed.action is Action.UPSERT and changed.tags_add and changed.tags_remove

    [state] = pending(changed, {"CDRM_1": stored}).values()
    assert state.managed_tags == stored.managed_tags | changed.tags, "the old segment's tag, and the new"

    again = plan(customer(segment="SILVER", name="Acme Ltd"), {"CDRM_1": state})
    assert again.action is Action.RETAG
    assert (again.tags_add, again.tags_remove) == (changed.tags, changed.tags_remove)

    # Changed again in Oracle before the rerun: the upsert adds every tag it wants (some may be
    # missing) and removes the ones it does not.
    renamed = plan(customer(segment="SILVER", name="Acme Group"), {"CDRM_1": state})
    assert renamed.action is Action.UPSERT
    assert (renamed.tags_add, renamed.tags_remove) == (changed.tags, changed.tags_remove)


def test_a_newer_holder_taking_the_address_removes_every_tag_the_unsettled_member_may_carry() -> None:
    first = customer(segment="GOLD")
    states = pending(plan(first, {}), {})
    taker = oracle_customer(
        {
            "PartyNumber": "CDRM_2",
            "PartyId": 2,
            "OrganizationName": "Other",
            "EmailAddress": "ann@acme.io",
            "PartyStatus": "A",
            "Type": "ZCA_PROSPECT",
            "CustomerClassCode": "SILVER",
            "LastUpdateDate": T0.replace(hour=1),
        }
    )

    actions = {a.customer_key: a for a in plan_actions([first, taker], states, MAPPING, FIELDS, SyncPolicy())}

    takeover = actions["CDRM_2"]
    assert takeover.action is Action.UPSERT and actions["CDRM_1"].action is Action.SKIP
    assert takeover.tags_remove == states["CDRM_1"].managed_tags - takeover.tags, (
        "the first customer's tags may have reached the member: they are removed"
    )
    assert takeover.tags_add == takeover.tags


def test_nothing_is_recorded_early_without_tags_to_wait_for_or_for_a_failed_or_moving_upsert() -> None:
    action = plan(customer(), {})
    stored = state_after_success(action, None, "subscribed")
    assert stored is not None
    renamed = plan(customer(name="Acme Ltd"), {"CDRM_1": stored})
    assert renamed.action is Action.UPSERT and not (renamed.tags_add or renamed.tags_remove)
    assert state_with_tags_pending(renamed, stored) is None, "no tag to wait for: the chunk commit says it"

    moved = plan(customer(email="ann@acme-new.io", segment="SILVER"), {"CDRM_1": stored})
    assert moved.previous_email == "ann@acme.io"
    assert state_with_tags_pending(replace(moved, action=Action.UPSERT), stored) is None, (
        "an email change is recorded once the old address is dealt with"
    )

    failed = RecordOutcome(action, Outcome.FAILED_RETRYABLE, 503, "Service Unavailable")
    commit = build_fields_commit("run-1", [failed], {}, now=NOW, planned_version=0, planned_mark=None)
    assert commit.member_upserts == []


def test_a_reconciliation_does_not_rate_the_tags_of_an_unsettled_member() -> None:
    states = pending(plan(customer(segment="GOLD"), {}), {})
    [state] = states.values()
    expected, managed = expected_members([state])
    [wanted] = expected.values()
    member = AudienceMember(
        id=wanted.subscriber_hash, email_address=wanted.email, status="subscribed", tags=("segment:gold",)
    )

    assert not wanted.tags_settled
    assert compare(wanted, member, managed) == [], "half-sent tags are the next sync's to settle"
    settled = replace(wanted, tags_settled=True)
    assert {f.drift for f in compare(settled, member, managed)} == {DriftClass.MISSING_TAGS}
