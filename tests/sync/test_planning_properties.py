"""Property tests: invariants of the planner over random batches and histories."""

from collections import Counter
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from oracle_mailchimp_dagster.sync.emails import normalize_email
from oracle_mailchimp_dagster.sync.model import REMOVALS, Action, ListField, MemberState, PlannedAction
from oracle_mailchimp_dagster.sync.planning import plan_actions
from oracle_mailchimp_dagster.sync.rules import InactiveAction, SyncPolicy
from oracle_mailchimp_dagster.sync.state import state_after_success
from oracle_mailchimp_dagster.tenants.mapping import FieldMapping
from tests.support.customers import oracle_customers

FIELDS = {"COMPANY": ListField("COMPANY", "text")}
MAPPING = FieldMapping(merge_fields={"COMPANY": "OrganizationName"}).resolve()
T0 = datetime(2026, 1, 1, tzinfo=UTC)

emails = st.sampled_from(["a@acme.io", "A@ACME.io", "b@acme.io", "c@acme.io", "bad", "", None])
records = st.lists(
    st.fixed_dictionaries(
        {
            "PartyNumber": st.sampled_from([f"CDRM_{i}" for i in range(6)]),
            "PartyId": st.integers(1, 6),
            "EmailAddress": emails,
            "PartyStatus": st.sampled_from(["A", "A", "I"]),
            "OrganizationName": st.sampled_from(["Acme", "Globex", None]),
            "CustomerClassCode": st.sampled_from(["GOLD", "SILVER", None]),
            "LastUpdateDate": st.integers(0, 50).map(lambda m: T0 + timedelta(minutes=m)),
        }
    ),
    max_size=12,
)
policies = st.builds(
    SyncPolicy, inactive_action=st.sampled_from(list(InactiveAction)), max_removals=st.none()
)


def apply(actions: list[PlannedAction], states: dict[str, MemberState]) -> dict[str, MemberState]:
    after = dict(states)
    for action in actions:
        new = state_after_success(action, states.get(action.customer_key))
        if new is None:
            after.pop(action.customer_key, None)
        else:
            after[action.customer_key] = new
    return after


def plan(batch: list[dict], states: dict[str, MemberState], policy: SyncPolicy) -> list[PlannedAction]:
    return plan_actions(oracle_customers(batch), states, MAPPING, FIELDS, policy)


@settings(max_examples=300, deadline=None)
@given(first=records, second=records, policy=policies)
def test_planner_invariants(first: list[dict], second: list[dict], policy: SyncPolicy) -> None:
    states = apply(plan(first, {}, policy), {})
    actions = plan(second, states, policy)

    # One action per distinct customer key.
    assert sorted(a.customer_key for a in actions) == sorted({r["PartyNumber"] for r in second})

    latest: dict[str, dict] = {}
    for record in second:
        known = latest.get(record["PartyNumber"])
        if known is None or (record["LastUpdateDate"], record["PartyId"]) >= (
            known["LastUpdateDate"],
            known["PartyId"],
        ):
            latest[record["PartyNumber"]] = record
    after = apply(actions, states)
    active_holders = Counter(s.subscriber_hash for s in after.values() if s.active and s.subscriber_hash)

    writes_per_address: Counter[str] = Counter()
    for action in actions:
        record = latest[action.customer_key]
        if record["PartyStatus"] != "A":
            # Inactive customers are never (re)subscribed or upserted.
            assert action.action not in (Action.UPSERT, Action.EMAIL_CHANGE)
        if action.action in REMOVALS:
            prior = states.get(action.customer_key)
            # Only members this connector manages are removed, and never one an active customer holds.
            assert prior is not None and prior.known_status is not None
            assert active_holders[action.subscriber_hash or ""] == 0
        if action.action in (Action.UPSERT, Action.EMAIL_CHANGE):
            assert action.email == normalize_email(record["EmailAddress"])
            assert action.status_if_new == policy.status_if_new.value
            writes_per_address[action.subscriber_hash or ""] += 1
    # Several customers sharing one address make one member.
    assert all(n == 1 for n in writes_per_address.values())

    # Once every write succeeded, the same batch plans no write at all.
    again = plan(second, after, policy)
    assert [a for a in again if a.writes] == []
