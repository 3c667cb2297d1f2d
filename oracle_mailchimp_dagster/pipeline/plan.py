"""Step 2: turn the extract into one planned action per customer, checked before any write."""

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

import pandas as pd

from oracle_mailchimp_dagster.errors import UserError
from oracle_mailchimp_dagster.mailchimp import MergeField
from oracle_mailchimp_dagster.mailchimp.models import list_fields_by_tag
from oracle_mailchimp_dagster.pipeline.extract import CustomerExtract
from oracle_mailchimp_dagster.pipeline.quarantine import quarantine_actions
from oracle_mailchimp_dagster.pipeline.states import load_states
from oracle_mailchimp_dagster.store.errors import StaleStateError
from oracle_mailchimp_dagster.store.records import HighWaterMark, SyncState
from oracle_mailchimp_dagster.store.runs import check_planned
from oracle_mailchimp_dagster.store.sync_store import SyncStore
from oracle_mailchimp_dagster.sync.mapping import mapping_problems
from oracle_mailchimp_dagster.sync.model import Action, ListField, PlannedAction
from oracle_mailchimp_dagster.sync.planning import check_removal_guard, plan_actions, removal_count
from oracle_mailchimp_dagster.tenants.model import TenantConfig

ACTION_COLUMNS = tuple(f.name for f in fields(PlannedAction))


QUARANTINED_REASON = "quarantined: a malformed row from Oracle"


class MappingError(UserError):
    """The tenant's mapping does not fit the audience's merge fields; the run stops before any write."""


def check_mapping(tenant: TenantConfig, fields_by_tag: Mapping[str, ListField]) -> None:
    problems = mapping_problems(tenant.mapping.resolve(), fields_by_tag)
    if problems:
        raise MappingError(
            f"tenant '{tenant.id}': the mapping does not fit audience {tenant.mailchimp.list_id}: "
            + "; ".join(problems)
            + f". Nothing was written. Run `oracle-mailchimp tenants test {tenant.id}` for the fix."
        )


@dataclass(frozen=True)
class MemberPlan:
    """The member frame: one planned action per customer, and what the results step needs.

    `state_version` and `mark_before` are the tenant's state the plan was made against: the results
    step executes it only while the tenant is still there (a persisted plan re-executed after another
    run committed is refused). None: a plan pickled before versions existed (the class default fills
    it in on unpickling), refused too.
    """

    actions: pd.DataFrame
    managed_members: int
    mark_candidate: HighWaterMark | None
    advances_mark: bool
    retry_keys: tuple[str, ...] = ()
    counts: dict[str, int] = field(default_factory=dict)
    invalid_by_reason: dict[str, int] = field(default_factory=dict)
    state_version: int | None = None
    mark_before: HighWaterMark | None = None

    def planned(self) -> list[PlannedAction]:
        return [frame_action(row) for row in self.actions.itertuples(index=False)]

    def check_current(self, tenant_id: str, state: SyncState | None) -> None:
        """Raise StaleStateError unless the tenant is still at the version (and, for a run that moves
        the mark, the mark) this plan was made against: before any write to Mailchimp."""
        if self.state_version is None:
            raise StaleStateError.version(tenant_id, None, 0, None)
        check_planned(tenant_id, state, self.state_version, self.mark_before, moves_mark=self.advances_mark)


def action_frame(actions: Sequence[PlannedAction]) -> pd.DataFrame:
    """Column by column: no intermediate dict per action."""
    data = {name: pd.Series([getattr(a, name) for a in actions], dtype=object) for name in ACTION_COLUMNS}
    return pd.DataFrame(data, columns=list(ACTION_COLUMNS))


def frame_action(row: Any) -> PlannedAction:
    values = row._asdict()
    values["action"] = Action(values["action"])
    return PlannedAction(**values)


def build_plan(
    extract: CustomerExtract,
    tenant: TenantConfig,
    merge_fields: Iterable[MergeField],
    store: SyncStore,
) -> MemberPlan:
    """Plan every record; raises MappingError, RemovalGuardTripped or StaleStateError (the mark moved
    since the extract) before anything is written.

    The state version is read before the member states, so a commit landing in between makes the
    plan look older than it is (refused later), never newer.
    """
    fields_by_tag = list_fields_by_tag(merge_fields)
    check_mapping(tenant, fields_by_tag)
    state = store.marks.state(tenant.id)
    version = state.state_version if state else 0
    check_planned(tenant.id, state, version, extract.mark_before, moves_mark=extract.advances_mark)
    states = load_states(store, tenant.id, extract.customers)
    actions = plan_actions(extract.customers, states, tenant.mapping.resolve(), fields_by_tag, tenant.policy)
    invalid = Counter(a.reason for a in actions if a.action is Action.REJECT_INVALID)
    if extract.quarantined:  # malformed rows: nothing sent, a `rejected` ledger row each
        actions += quarantine_actions(extract.quarantined)
        invalid[QUARANTINED_REASON] = len(extract.quarantined)  # by attribute: the extract's check
    managed = store.members.count(tenant.id)
    check_removal_guard(actions, tenant.policy, managed)
    counts = Counter(a.action.value for a in actions)
    counts["removals"] = removal_count(actions)
    return MemberPlan(
        actions=action_frame(actions),
        managed_members=managed,
        mark_candidate=extract.mark_candidate,
        advances_mark=extract.advances_mark,
        retry_keys=extract.retry_keys,
        counts=dict(counts),
        invalid_by_reason=dict(invalid),
        state_version=version,
        mark_before=extract.mark_before,
    )
