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
from oracle_mailchimp_dagster.store.records import HighWaterMark
from oracle_mailchimp_dagster.store.sync_store import SyncStore
from oracle_mailchimp_dagster.sync.customer import Customer
from oracle_mailchimp_dagster.sync.emails import normalize_email
from oracle_mailchimp_dagster.sync.identity import subscriber_hash
from oracle_mailchimp_dagster.sync.mapping import mapping_problems
from oracle_mailchimp_dagster.sync.model import Action, ListField, MemberState, PlannedAction
from oracle_mailchimp_dagster.sync.planning import check_removal_guard, plan_actions, removal_count
from oracle_mailchimp_dagster.tenants.model import TenantConfig

ACTION_COLUMNS = tuple(f.name for f in fields(PlannedAction))


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


def load_states(store: SyncStore, tenant_id: str, customers: Sequence[Customer]) -> dict[str, MemberState]:
    """Last synced state of the batch's customers and of every customer sharing one of their addresses."""
    stored = store.members.by_keys(tenant_id, [c.key for c in customers])
    hashes = {m.subscriber_hash for m in stored.values() if m.subscriber_hash}
    for customer in customers:
        email = normalize_email(customer.email_address)
        if email:
            hashes.add(subscriber_hash(email))
    for member in store.members.by_subscriber_hashes(tenant_id, hashes):
        stored.setdefault(member.customer_key, member)
    return stored


@dataclass(frozen=True)
class MemberPlan:
    """The member frame: one planned action per customer, and what the results step needs."""

    actions: pd.DataFrame
    managed_members: int
    mark_candidate: HighWaterMark | None
    advances_mark: bool
    retry_keys: tuple[str, ...] = ()
    counts: dict[str, int] = field(default_factory=dict)
    invalid_by_reason: dict[str, int] = field(default_factory=dict)

    def planned(self) -> list[PlannedAction]:
        return [frame_action(row) for row in self.actions.itertuples(index=False)]


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
    """Plan every record; raises MappingError or RemovalGuardTripped before anything is written."""
    fields_by_tag = list_fields_by_tag(merge_fields)
    check_mapping(tenant, fields_by_tag)
    states = load_states(store, tenant.id, extract.customers)
    actions = plan_actions(extract.customers, states, tenant.mapping.resolve(), fields_by_tag, tenant.policy)
    managed = store.members.count(tenant.id)
    check_removal_guard(actions, tenant.policy, managed)
    counts = Counter(a.action.value for a in actions)
    counts["removals"] = removal_count(actions)
    invalid = Counter(a.reason for a in actions if a.action is Action.REJECT_INVALID)
    return MemberPlan(
        actions=action_frame(actions),
        managed_members=managed,
        mark_candidate=extract.mark_candidate,
        advances_mark=extract.advances_mark,
        retry_keys=extract.retry_keys,
        counts=dict(counts),
        invalid_by_reason=dict(invalid),
    )
