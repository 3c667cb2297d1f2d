"""Plan one action per customer record: the diff between what Oracle says and what was last synced."""

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from oracle_mailchimp_dagster.errors import UserError
from oracle_mailchimp_dagster.sync.customer import Customer
from oracle_mailchimp_dagster.sync.emails import normalize_email
from oracle_mailchimp_dagster.sync.identity import subscriber_hash
from oracle_mailchimp_dagster.sync.mapping import InvalidRecord, map_customer, payload_hash
from oracle_mailchimp_dagster.sync.model import (
    REMOVALS,
    Action,
    ListField,
    MemberPayload,
    MemberState,
    PlannedAction,
)
from oracle_mailchimp_dagster.sync.rules import InactiveAction, MemberMapping, SyncPolicy
from oracle_mailchimp_dagster.sync.state import (
    NO_MEMBER,
    REJECTED,
    is_older,
    tags_unsure,
    unsure_tags_hash,
)

_NEVER = datetime.min.replace(tzinfo=UTC)
_INACTIVE_DONE = {
    InactiveAction.UNSUBSCRIBE: frozenset({"unsubscribed", "cleaned", "archived", "deleted"}),
    InactiveAction.ARCHIVE: frozenset({"archived", "deleted"}),
    InactiveAction.DELETE: frozenset({"deleted"}),
}
# The action each inactive policy plans (NONE plans a skip).
ACTION_FOR_INACTIVE = {
    InactiveAction.UNSUBSCRIBE: Action.UNSUBSCRIBE,
    InactiveAction.ARCHIVE: Action.ARCHIVE,
    InactiveAction.DELETE: Action.DELETE,
    InactiveAction.TAG: Action.RETAG,
}


class RemovalGuardTripped(UserError):
    """The plan removes more members than the tenant allows; nothing may be written (a person decides)."""


def _latest_per_key(customers: Iterable[Customer]) -> list[Customer]:
    latest: dict[str, Customer] = {}
    for customer in customers:
        known = latest.get(customer.key)
        if known is None or customer.recency >= known.recency:
            latest[customer.key] = customer
    return list(latest.values())


def _older_than_stored(c: Customer, stored: MemberState) -> PlannedAction:
    """A record older than the state already synced is not applied: member state never goes back."""
    assert stored.last_update is not None
    return PlannedAction(
        customer_key=c.key,
        action=Action.SKIP,
        reason=(
            f"Oracle record of {c.last_update_date.isoformat()} is older than the one already synced "
            f"({stored.last_update.isoformat()}); not applied"
        ),
        party_id=c.party_id,
        last_update=c.last_update_date,
        active=c.active,
        email=stored.email,
        subscriber_hash=stored.subscriber_hash,
    )


def _writers_by_address(states: Iterable[MemberState]) -> dict[str, list[MemberState]]:
    """Per address, the states of the customers whose data was written to its member (payload sent)."""
    writers: dict[str, list[MemberState]] = defaultdict(list)
    for state in states:
        if state.subscriber_hash and state.payload_hash is not None and state.known_status not in NO_MEMBER:
            writers[state.subscriber_hash].append(state)
    return writers


def _newer_holder(holders: Iterable[MemberState], winner: Customer) -> str | None:
    """A customer outside the batch (a replay) holding the address with more recent Oracle data."""
    stamp = winner.last_update_date
    newer = [h.customer_key for h in holders if h.last_update is not None and h.last_update > stamp]
    return min(newer) if newer else None


class _Planner:
    def __init__(
        self,
        states: Mapping[str, MemberState],
        mapping: MemberMapping,
        fields: Mapping[str, ListField],
        policy: SyncPolicy,
    ) -> None:
        self.states = states
        self.mapping = mapping
        self.fields = fields
        self.policy = policy
        self.status_if_new = policy.status_if_new.value
        self.writers = _writers_by_address(states.values())

    def plan(self, customers: list[Customer]) -> dict[str, PlannedAction]:
        batch_keys = {c.key for c in customers}
        payloads: dict[str, MemberPayload] = {}
        planned: dict[str, PlannedAction] = {}
        for c in customers:
            if not c.active:
                continue
            try:
                payloads[c.key] = map_customer(c, self.mapping, self.fields, self.policy)
            except InvalidRecord as exc:
                planned[c.key] = self._reject(c, str(exc))
        # Which active customers hold each address once this batch is applied. A customer rejected
        # in this batch keeps its earlier claim: its member is left as it was, so nothing removes it.
        replaced = batch_keys - {
            key for key, action in planned.items() if action.action is Action.REJECT_INVALID
        }
        holders: dict[str, set[str]] = defaultdict(set)
        # Holders outside the batch, by address: a replay must not overwrite their newer data.
        outside: dict[str, list[MemberState]] = defaultdict(list)
        for state in self.states.values():
            if state.active and state.subscriber_hash and state.known_status not in NO_MEMBER:
                if state.customer_key not in replaced:
                    holders[state.subscriber_hash].add(state.customer_key)
                if state.customer_key not in batch_keys:
                    outside[state.subscriber_hash].append(state)
        by_hash: dict[str, list[Customer]] = defaultdict(list)
        for c in customers:
            if c.key in payloads:
                email_hash = subscriber_hash(payloads[c.key].email)
                holders[email_hash].add(c.key)
                by_hash[email_hash].append(c)
        for email_hash, group in by_hash.items():
            winner = max(group, key=lambda c: c.recency)
            newer = _newer_holder(outside.get(email_hash, ()), winner)
            for c in group:
                if c is winner and newer is None:
                    planned[c.key] = self._active(c, payloads[c.key], holders)
                else:
                    planned[c.key] = self._shared(c, payloads[c.key], newer or winner.key)
        for c in customers:
            if not c.active:
                planned[c.key] = self._inactive(c, holders)
        return planned

    def _base(self, c: Customer, action: Action, reason: str, **values: Any) -> PlannedAction:
        return PlannedAction(
            customer_key=c.key,
            action=action,
            reason=reason,
            party_id=c.party_id,
            last_update=c.last_update_date,
            active=c.active,
            **values,
        )

    def _reject(self, c: Customer, reason: str) -> PlannedAction:
        email = normalize_email(c.email_address)
        return self._base(c, Action.REJECT_INVALID, reason, email=email)

    def _shared(self, c: Customer, payload: MemberPayload, winner: str) -> PlannedAction:
        return self._base(
            c,
            Action.SKIP,
            f"shares its email with customer {winner}, whose newer data is used",
            email=payload.email,
            subscriber_hash=subscriber_hash(payload.email),
        )

    def _tag_changes(
        self, c: Customer, email_hash: str, wanted: frozenset[str]
    ) -> tuple[frozenset[str], frozenset[str]]:
        """The tags to add and remove for the member at this address to carry `wanted`, diffed against
        the managed tags of the customer whose data was written there last (this customer's own when
        tied). Diffing against the customer's own stored tags instead would leave another customer's
        tags on a member it takes over, and give none to a member it creates at a new address. While
        that writer's tags are unsure (half sent, `sync.state`), every wanted tag is added (adding one
        the member has changes nothing)."""
        latest = self._last_writer(c, email_hash)
        carried = latest.managed_tags if latest is not None else frozenset()
        unsure = latest is not None and tags_unsure(latest)
        return (wanted if unsure else wanted - carried), carried - wanted

    def _without_others_fields(self, c: Customer, email_hash: str, fields: dict[str, Any]) -> dict[str, Any]:
        """The payload's fields, plus an empty value for each field another customer wrote last to the
        member and this payload leaves out: a PUT keeps the fields it is not sent, and another
        customer's phone or address must not stay on the member this one takes over."""
        latest = self._last_writer(c, email_hash)
        if latest is None or latest.customer_key == c.key or not latest.merge_fields:
            return fields
        cleared = {tag: "" for tag in latest.merge_fields if tag not in fields}
        return {**fields, **cleared} if cleared else fields

    def _last_writer(self, c: Customer, email_hash: str) -> MemberState | None:
        """The state of the customer whose data was written to the address last (this customer's own
        when tied), whose data the member carries."""
        writers = self.writers.get(email_hash)
        if not writers:
            return None
        return max(writers, key=lambda s: (s.last_synced_at or _NEVER, s.customer_key == c.key))

    def _active(self, c: Customer, payload: MemberPayload, holders: Mapping[str, set[str]]) -> PlannedAction:
        prev = self.states.get(c.key)
        digest = payload_hash(payload, self.status_if_new)
        new_hash = subscriber_hash(payload.email)
        # The write lands on the member at the payload's address (an email change that moves the old
        # member instead diffs against that member's tags, below).
        tags_add, tags_remove = self._tag_changes(c, new_hash, payload.tags)
        values: dict[str, Any] = {
            "email": payload.email,
            "subscriber_hash": new_hash,
            "merge_fields": self._without_others_fields(c, new_hash, payload.merge_fields),
            "status_if_new": self.status_if_new,
            "tags": payload.tags,
            "tags_add": tags_add,
            "tags_remove": tags_remove,
            "payload_hash": digest,
            "warnings": payload.warnings,
        }
        if prev is not None and prev.known_status == REJECTED:
            if prev.payload_hash == digest and prev.email == payload.email:
                return self._base(
                    c, Action.SKIP_UNCHANGED, "Mailchimp refused this same data before", **values
                )
            return self._base(
                c, Action.UPSERT, "new member (data changed since Mailchimp refused it)", **values
            )
        if prev is None or prev.known_status in NO_MEMBER or not prev.email:
            return self._base(c, Action.UPSERT, "new member", **values)
        if prev.email != payload.email:
            old_hash = subscriber_hash(prev.email)
            others_on_old = sorted(holders.get(old_hash, set()) - {c.key})
            others_on_new = sorted(holders.get(new_hash, set()) - {c.key})
            if others_on_old:
                reason = f"email changed; old address still used by customer {others_on_old[0]}"
                return self._base(c, Action.UPSERT, reason, previous_email=prev.email, **values)
            if others_on_new:
                reason = (
                    f"email changed to an address customer {others_on_new[0]} already holds; "
                    "the old address is released by the inactive policy"
                )
                return self._base(
                    c, Action.UPSERT, reason, previous_email=prev.email, release_email=prev.email, **values
                )
            # The PATCH keeps the old member and its tags.
            moved_add, moved_remove = self._tag_changes(c, old_hash, payload.tags)
            values.update(tags_add=moved_add, tags_remove=moved_remove)
            return self._base(c, Action.EMAIL_CHANGE, "email changed", previous_email=prev.email, **values)
        if not prev.active:
            return self._base(c, Action.UPSERT, "customer reactivated", **values)
        if prev.payload_hash in (digest, unsure_tags_hash(digest)):
            # Unchanged only while the member still carries this customer's data: another holder
            # may have written the address since (and left it, which is why this one is planned).
            latest = self._last_writer(c, new_hash)
            if latest is None or latest.customer_key == c.key:
                if prev.payload_hash != digest:
                    # The fields are written; the run that wrote them stopped before settling the tags.
                    reason = f"tags not settled: run {prev.last_run_id} wrote the member, not its tags"
                    return self._base(c, Action.RETAG, reason, **values)
                return self._base(c, Action.SKIP_UNCHANGED, "same payload as last synced", **values)
            reason = f"takes the shared address back from customer {latest.customer_key}, written since"
            return self._base(c, Action.UPSERT, reason, **values)
        return self._base(c, Action.UPSERT, "fields changed", **values)

    def _inactive(self, c: Customer, holders: Mapping[str, set[str]]) -> PlannedAction:
        prev = self.states.get(c.key)
        if prev is None or not prev.email or prev.known_status in NO_MEMBER:
            return self._base(c, Action.SKIP, "inactive customer has no member")
        values: dict[str, Any] = {"email": prev.email, "subscriber_hash": subscriber_hash(prev.email)}
        if not prev.active:
            return self._base(c, Action.SKIP_UNCHANGED, "already handled as inactive", **values)
        others = sorted(holders.get(values["subscriber_hash"], set()) - {c.key})
        if others:
            return self._base(c, Action.SKIP, f"address still used by active customer {others[0]}", **values)
        policy_action = self.policy.inactive_action
        if policy_action is InactiveAction.NONE:
            return self._base(c, Action.SKIP, "inactive action is 'none'", **values)
        if prev.known_status in _INACTIVE_DONE.get(policy_action, frozenset()):
            return self._base(c, Action.SKIP_UNCHANGED, f"member already {prev.known_status}", **values)
        action = ACTION_FOR_INACTIVE[policy_action]
        if action is Action.RETAG:
            tag = self.policy.inactive_tag
            values.update(tags=prev.managed_tags | {tag}, tags_add=frozenset({tag}))
        return self._base(c, action, f"customer inactive: {policy_action.value}", **values)


def plan_actions(
    customers: Sequence[Customer],
    states: Mapping[str, MemberState],
    mapping: MemberMapping,
    fields: Mapping[str, ListField],
    policy: SyncPolicy,
) -> list[PlannedAction]:
    """One action per distinct customer key, in first-seen order.

    `states` holds the last synced state of the batch's customers and of every other customer
    sharing one of their addresses, so shared addresses are never removed from under someone.

    A customer whose stored state came from a newer Oracle record is skipped and left out of the
    batch, so its stored state keeps its claim on its address as any customer outside the batch does.
    """
    latest = _latest_per_key(customers)
    stale = {c.key for c in latest if is_older(c.last_update_date, states.get(c.key))}
    planned = _Planner(states, mapping, fields, policy).plan([c for c in latest if c.key not in stale])
    planned.update({c.key: _older_than_stored(c, states[c.key]) for c in latest if c.key in stale})
    return [planned[c.key] for c in latest]


def removal_count(actions: Iterable[PlannedAction]) -> int:
    return sum(1 for a in actions if a.action in REMOVALS or a.release_email)


def check_removal_guard(actions: Sequence[PlannedAction], policy: SyncPolicy, managed_members: int) -> None:
    """Raise before any write when the plan removes more than the tenant allows."""
    check_removals(removal_count(actions), policy, managed_members)


def check_removals(removals: int, policy: SyncPolicy, managed_members: int) -> None:
    """`check_removal_guard` from the run's total (a plan made in chunks counts them as it goes)."""
    if policy.max_removals is not None and removals > policy.max_removals:
        raise RemovalGuardTripped(
            f"this run would remove {removals} members, more than the tenant's limit of "
            f"{policy.max_removals}; raise max_removals or check the Oracle data"
        )
    if (
        policy.max_removal_share is not None
        and removals > policy.removal_share_floor
        and managed_members > 0
        and removals / managed_members > policy.max_removal_share
    ):
        raise RemovalGuardTripped(
            f"this run would remove {removals} of {managed_members} managed members "
            f"({removals / managed_members:.0%}), more than the tenant's limit of "
            f"{policy.max_removal_share:.0%}; raise max_removal_share or check the Oracle data"
        )
