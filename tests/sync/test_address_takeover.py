"""Managed tags follow the member, not the customer: a write diffs against the tags the member at that
address carries (those of the customer last written there), found by the chaos run."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from oracle_mailchimp_dagster.sync.customer import Customer
from oracle_mailchimp_dagster.sync.identity import subscriber_hash
from oracle_mailchimp_dagster.sync.model import Action, ListField, MemberState, PlannedAction
from oracle_mailchimp_dagster.sync.planning import plan_actions
from oracle_mailchimp_dagster.sync.rules import SyncPolicy
from oracle_mailchimp_dagster.tenants.mapping import FieldMapping
from tests.support.customers import oracle_customer

FIELDS = {"COMPANY": ListField("COMPANY", "text")}
MAPPING = FieldMapping(merge_fields={"COMPANY": "OrganizationName"}).resolve()
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def customer(n: int, email: str, segment: str, minutes: int = 0) -> Customer:
    return oracle_customer(
        {
            "PartyNumber": f"CDRM_{n}",
            "PartyId": n,
            "OrganizationName": f"Org {n}",
            "EmailAddress": email,
            "PartyStatus": "A",
            "Type": "ZCA_CUSTOMER",
            "CustomerClassCode": segment,
            "LastUpdateDate": T0 + timedelta(minutes=minutes),
        }
    )


def state(n: int, email: str, tags: set[str], *, wrote: bool, synced_minutes: int = 0) -> MemberState:
    """A stored state; `wrote`: this customer's data is what was sent to the member (else it shares)."""
    return MemberState(
        customer_key=f"CDRM_{n}",
        email=email,
        subscriber_hash=subscriber_hash(email),
        payload_hash="p" * 64 if wrote else None,
        known_status="subscribed",
        managed_tags=frozenset(tags),
        last_update=T0,
        last_synced_at=T0 + timedelta(minutes=synced_minutes),
    )


def plan(customers: list[Customer], states: list[MemberState]) -> dict[str, PlannedAction]:
    known = {s.customer_key: s for s in states}
    return {a.customer_key: a for a in plan_actions(customers, known, MAPPING, FIELDS, SyncPolicy())}


def test_a_customer_taking_over_a_shared_member_removes_the_previous_writers_tags() -> None:
    # CDRM_1's data (segment:GOLD) is on the member; CDRM_2 shares the address and now changes, newest.
    states = [
        state(1, "shared@acme.io", {"segment:GOLD", "type:customer"}, wrote=True),
        state(2, "shared@acme.io", set(), wrote=False),
    ]
    action = plan([customer(2, "shared@acme.io", "SILVER", minutes=5)], states)["CDRM_2"]
    assert action.action is Action.UPSERT
    assert action.tags_add == {"segment:SILVER"}
    assert action.tags_remove == {"segment:GOLD"}


def test_moving_to_a_new_address_while_the_old_is_still_shared_tags_the_new_member_fully() -> None:
    states = [
        state(1, "shared@acme.io", {"segment:GOLD", "type:customer"}, wrote=True),
        state(2, "shared@acme.io", set(), wrote=False),
    ]
    action = plan([customer(1, "own@acme.io", "GOLD", minutes=5)], states)["CDRM_1"]
    assert action.action is Action.UPSERT and action.previous_email == "shared@acme.io"
    assert action.tags_add == {"segment:GOLD", "type:customer"}
    assert action.tags_remove == frozenset()


def test_moving_onto_another_customers_member_replaces_its_tags() -> None:
    states = [
        state(1, "one@acme.io", {"segment:GOLD", "type:customer"}, wrote=True),
        state(2, "two@acme.io", {"segment:BRONZE", "type:customer"}, wrote=True),
    ]
    action = plan([customer(1, "two@acme.io", "GOLD", minutes=5)], states)["CDRM_1"]
    assert action.release_email == "one@acme.io"
    assert action.tags_add == {"segment:GOLD"}
    assert action.tags_remove == {"segment:BRONZE"}


def test_an_email_change_that_moves_the_member_diffs_against_its_tags() -> None:
    states = [state(1, "old@acme.io", {"segment:GOLD", "type:customer"}, wrote=True)]
    action = plan([customer(1, "new@acme.io", "SILVER", minutes=5)], states)["CDRM_1"]
    assert action.action is Action.EMAIL_CHANGE
    assert action.tags_add == {"segment:SILVER"}
    assert action.tags_remove == {"segment:GOLD"}


def test_the_latest_writer_decides_when_several_customers_wrote_one_member() -> None:
    states = [
        state(1, "shared@acme.io", {"segment:OLD", "type:customer"}, wrote=True, synced_minutes=1),
        state(2, "shared@acme.io", {"segment:NEW", "type:customer"}, wrote=True, synced_minutes=9),
        state(3, "shared@acme.io", set(), wrote=False),
    ]
    action = plan([customer(3, "shared@acme.io", "THIRD", minutes=30)], states)["CDRM_3"]
    assert action.tags_add == {"segment:THIRD"}
    assert action.tags_remove == {"segment:NEW"}


def test_an_unchanged_customer_on_its_own_member_still_costs_nothing() -> None:
    mine = customer(1, "me@acme.io", "GOLD")
    first = plan([mine], [])["CDRM_1"]
    stored = MemberState(
        customer_key="CDRM_1",
        email=first.email,
        subscriber_hash=first.subscriber_hash,
        payload_hash=first.payload_hash,
        known_status="subscribed",
        managed_tags=first.tags,
        last_update=mine.last_update_date,
        last_synced_at=T0,
    )
    assert plan([mine], [stored])["CDRM_1"].action is Action.SKIP_UNCHANGED


def test_a_holder_whose_data_was_overwritten_since_writes_it_again_when_the_address_comes_back_to_it() -> (
    None
):
    # CDRM_1 wrote the member, then CDRM_2 (newer) took it over; CDRM_2 has left the address, so the
    # run reads CDRM_1 again, unchanged in Oracle: its stored payload is no longer what the member has.
    old = customer(1, "shared@acme.io", "GOLD")
    first = plan([old], [])["CDRM_1"]
    states = [
        replace(
            state(1, "shared@acme.io", {"segment:GOLD", "type:customer"}, wrote=True),
            payload_hash=first.payload_hash,
        ),
        state(2, "shared@acme.io", {"segment:SILVER", "type:customer"}, wrote=True, synced_minutes=5),
    ]
    gone = replace(states[1], active=False)
    action = plan([old], [states[0], gone])["CDRM_1"]
    assert action.action is Action.UPSERT
    assert "takes the shared address back from customer CDRM_2" in action.reason
    assert action.tags_add == {"segment:GOLD"} and action.tags_remove == {"segment:SILVER"}

    still_its_own = plan([old], [replace(states[0], last_synced_at=T0 + timedelta(minutes=9)), gone])
    assert still_its_own["CDRM_1"].action is Action.SKIP_UNCHANGED


def test_taking_over_a_member_clears_the_fields_the_previous_writer_sent_and_this_one_has_not() -> None:
    # CDRM_1 (a phone) wrote the member; CDRM_2, newer and without a phone, takes it over.
    fields = {**FIELDS, "PHONE": ListField("PHONE", "phone")}
    mapping = FieldMapping(
        merge_fields={"COMPANY": "OrganizationName", "PHONE": "FormattedPhoneNumber"}
    ).resolve()
    writer = replace(
        state(1, "shared@acme.io", {"segment:GOLD"}, wrote=True),
        merge_fields={"COMPANY": "Org 1", "PHONE": "+1 555"},
    )
    known = {s.customer_key: s for s in [writer, state(2, "shared@acme.io", set(), wrote=False)]}
    [action] = plan_actions(
        [customer(2, "shared@acme.io", "SILVER", minutes=5)], known, mapping, fields, SyncPolicy()
    )
    assert action.action is Action.UPSERT
    assert action.merge_fields == {"COMPANY": "Org 2", "PHONE": ""}

    own = {"CDRM_2": replace(known["CDRM_2"], payload_hash="q" * 64, merge_fields={"COMPANY": "Org 2"})}
    [again] = plan_actions(
        [customer(2, "shared@acme.io", "SILVER", minutes=9)], own, mapping, fields, SyncPolicy()
    )
    assert again.merge_fields == {"COMPANY": "Org 2"}, "its own fields left out stay left out"
