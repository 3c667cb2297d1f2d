"""Property: two batches of one customer, planned and applied in any interleaving, end with the newest
Oracle data, in member state and (with the commit's version check) in the audience.

Each batch is planned (P) against the state of the moment and applied (A) later, as a run plans in one
step and commits in another; any order with each P before its A is allowed. Applying reads the state
of the moment, as `build_commit` does.
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import permutations
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from oracle_mailchimp_dagster.sync.mapping import map_customer
from oracle_mailchimp_dagster.sync.model import Action, ListField, MemberState, PlannedAction
from oracle_mailchimp_dagster.sync.planning import plan_actions
from oracle_mailchimp_dagster.sync.rules import SyncPolicy
from oracle_mailchimp_dagster.sync.state import state_after_success
from oracle_mailchimp_dagster.tenants.mapping import FieldMapping
from tests.support.customers import oracle_customer, oracle_customers

FIELDS = {"COMPANY": ListField("COMPANY", "text")}
MAPPING = FieldMapping(merge_fields={"COMPANY": "OrganizationName"}).resolve()
POLICY = SyncPolicy()
T0 = datetime(2026, 1, 1, tzinfo=UTC)
KEY = "CDRM_1"
# Every order of P0, A0, P1, A1 in which each batch is planned before it is applied.
ORDERS = sorted(
    {
        order
        for order in permutations(["P0", "A0", "P1", "A1"])
        if order.index("P0") < order.index("A0") and order.index("P1") < order.index("A1")
    }
)


@st.composite
def two_batches(draw: st.DrawFn, statuses: st.SearchStrategy[str]) -> tuple[list[dict], list[dict]]:
    """Records of one customer with distinct LastUpdateDates (so one is the newest), in two batches."""
    minutes = draw(st.lists(st.integers(0, 500), min_size=2, max_size=6, unique=True))
    rows = [
        {
            "PartyNumber": KEY,
            "PartyId": 1,
            "EmailAddress": draw(st.sampled_from(["a@acme.io", "b@acme.io", "B@Acme.io"])),
            "PartyStatus": draw(statuses),
            "OrganizationName": draw(st.sampled_from(["Acme", "Acme Ltd", "Globex"])),
            "LastUpdateDate": T0 + timedelta(minutes=m),
        }
        for m in minutes
    ]
    split = draw(st.integers(1, len(rows) - 1))
    return rows[:split], rows[split:]


@dataclass
class World:
    """The store (member state and its version) and the audience, as the runs change them."""

    state: dict[str, MemberState] = field(default_factory=dict)
    version: int = 0
    audience: dict[str, dict[str, Any]] = field(default_factory=dict)  # email -> merge fields
    written: list[datetime] = field(default_factory=list)  # source times of the records sent, in order

    def plan(self, batch: list[dict]) -> tuple[list[PlannedAction], int]:
        return plan_actions(oracle_customers(batch), self.state, MAPPING, FIELDS, POLICY), self.version

    def apply(self, actions: list[PlannedAction], planned_version: int | None) -> bool:
        """Write the actions and settle them; with a planned version, refuse (write nothing) unless the
        state is still at it, as the results step and `commit_run` do."""
        if planned_version is not None and planned_version != self.version:
            return False
        changed = False
        for action in actions:
            if action.action in (Action.UPSERT, Action.EMAIL_CHANGE):
                assert action.email is not None and action.last_update is not None
                if action.previous_email and action.action is Action.EMAIL_CHANGE:
                    self.audience.pop(action.previous_email, None)
                self.audience[action.email] = dict(action.merge_fields)
                self.written.append(action.last_update)
            prev = self.state.get(action.customer_key)
            new = state_after_success(action, prev)
            if new is not None and new != prev:
                self.state[action.customer_key] = new
                changed = True
        self.version += changed
        return True


def run(world: World, batches: tuple[list[dict], list[dict]], order: tuple[str, ...], cas: bool) -> None:
    """The interleaving, then a re-run of every batch whose commit was refused."""
    plans: dict[str, tuple[list[PlannedAction], int]] = {}
    refused = []
    for step in order:
        n = step[1]
        if step[0] == "P":
            plans[n] = world.plan(batches[int(n)])
        else:
            actions, version = plans[n]
            if not world.apply(actions, version if cas else None):
                refused.append(n)
    for n in refused:
        actions, version = world.plan(batches[int(n)])
        assert world.apply(actions, version)


def newest(batches: tuple[list[dict], list[dict]]) -> dict:
    return max((*batches[0], *batches[1]), key=lambda r: r["LastUpdateDate"])


@settings(max_examples=300)
@given(batches=two_batches(st.just("A")), order=st.sampled_from(ORDERS), cas=st.booleans())
def test_member_state_ends_with_the_newest_record(
    batches: tuple[list[dict], list[dict]], order: tuple[str, ...], cas: bool
) -> None:
    """Even without the version check: a stale plan's state never replaces newer state."""
    world = World()
    run(world, batches, order, cas)
    latest = newest(batches)
    payload = map_customer(oracle_customer(latest), MAPPING, FIELDS, POLICY)
    member = world.state[KEY]
    assert member.last_update == latest["LastUpdateDate"]
    assert (member.email, member.active) == (payload.email, True)


@settings(max_examples=300)
@given(batches=two_batches(st.just("A")), order=st.sampled_from(ORDERS))
def test_with_the_version_check_the_audience_ends_with_the_newest_record_and_never_goes_back(
    batches: tuple[list[dict], list[dict]], order: tuple[str, ...]
) -> None:
    world = World()
    run(world, batches, order, cas=True)
    latest = newest(batches)
    payload = map_customer(oracle_customer(latest), MAPPING, FIELDS, POLICY)
    assert world.audience[payload.email] == payload.merge_fields
    assert world.written == sorted(world.written)  # no older record was ever sent after a newer one


@settings(max_examples=300)
@given(
    batches=two_batches(st.sampled_from(["A", "A", "I"])), order=st.sampled_from(ORDERS), cas=st.booleans()
)
def test_the_stored_source_time_never_decreases(
    batches: tuple[list[dict], list[dict]], order: tuple[str, ...], cas: bool
) -> None:
    """Inactivations included: whatever is applied, the state's record only gets newer."""
    world = World()
    seen: list[datetime] = []
    original = world.apply

    def watched(actions: list[PlannedAction], planned_version: int | None) -> bool:
        applied = original(actions, planned_version)
        stamp = world.state[KEY].last_update if KEY in world.state else None
        if stamp is not None:
            seen.append(stamp)
        return applied

    world.apply = watched  # type: ignore[method-assign]
    run(world, batches, order, cas)
    assert seen == sorted(seen)
