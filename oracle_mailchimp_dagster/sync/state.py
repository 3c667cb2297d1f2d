"""The member state a record leaves behind once its planned action has succeeded.

Member state never goes backwards: a record older (by Oracle's last-update time) than the one the
stored state came from leaves that state as it is, whatever its action.
"""

from dataclasses import replace
from datetime import datetime

from oracle_mailchimp_dagster.sync.model import Action, MemberState, PlannedAction

SHARED = "shared"
# Mailchimp refused this customer's data for good (fake address, compliance): no member exists.
REJECTED = "rejected"
# Known statuses under which the customer has no member in the list.
NO_MEMBER = frozenset({None, "deleted", REJECTED})
_REMOVED_STATUS = {Action.UNSUBSCRIBE: "unsubscribed", Action.ARCHIVE: "archived", Action.DELETE: "deleted"}


def is_older(last_update: datetime | None, prev: MemberState | None) -> bool:
    """A record last updated at `last_update` is older than the one the stored state `prev` came from."""
    return (
        prev is not None
        and prev.last_update is not None
        and last_update is not None
        and last_update < prev.last_update
    )


def state_after_success(
    action: PlannedAction, prev: MemberState | None, member_status: str | None = None
) -> MemberState | None:
    """New state for the customer, or None when it has none (never synced, nothing written).

    `member_status` is the status Mailchimp reported for the member after the write, if any.
    """
    if is_older(action.last_update, prev):
        return prev
    kind = action.action
    if kind in (Action.UPSERT, Action.EMAIL_CHANGE):
        return MemberState(
            customer_key=action.customer_key,
            email=action.email,
            subscriber_hash=action.subscriber_hash,
            payload_hash=action.payload_hash,
            known_status=member_status or (prev.known_status if prev else None) or action.status_if_new,
            managed_tags=action.tags,
            active=True,
            last_update=action.last_update,
            merge_fields=dict(action.merge_fields),
        )
    if kind in _REMOVED_STATUS:
        assert prev is not None, "a removal is only planned for a synced customer"
        return replace(prev, known_status=_REMOVED_STATUS[kind], active=False, last_update=action.last_update)
    if kind is Action.RETAG:
        # An inactive customer's tag, or the tags a run that wrote the member stopped before (that
        # retag settles the payload hash its fields were written with).
        assert prev is not None, "a retag is only planned for a synced customer"
        return replace(
            prev,
            payload_hash=action.payload_hash or prev.payload_hash,
            managed_tags=action.tags,
            active=action.active,
            last_update=action.last_update,
        )
    if kind is Action.SKIP and action.active and action.email:
        # Shares its address with a newer customer: the member exists and this customer holds it too.
        return MemberState(
            customer_key=action.customer_key,
            email=action.email,
            subscriber_hash=action.subscriber_hash,
            payload_hash=None,
            known_status=(prev.known_status if prev else None) or SHARED,
            managed_tags=prev.managed_tags if prev else frozenset(),
            active=True,
            last_update=action.last_update,
        )
    if kind in (Action.SKIP, Action.SKIP_UNCHANGED) and not action.active:
        return replace(prev, active=False, last_update=action.last_update) if prev is not None else None
    if kind is Action.SKIP_UNCHANGED and prev is not None:
        # Nothing to send, but this record is the newest seen: a later, older one must be judged by it.
        # State stored before the merge fields were kept gets them now (they are what was sent).
        fields = prev.merge_fields if prev.merge_fields is not None else (dict(action.merge_fields) or None)
        return replace(prev, last_update=action.last_update, merge_fields=fields)
    return prev


# A state whose tags may be half sent (`state_with_tags_pending`) stores its payload's digest with this
# first character instead of the digest's own (a digest is hex): the payload is current, the tags unsure.
_TAGS_UNSURE = "~"


def unsure_tags_hash(digest: str) -> str:
    """The payload hash a state stores while its tags may be half sent (see `tags_unsure`)."""
    return _TAGS_UNSURE + digest[1:]


def tags_unsure(state: MemberState) -> bool:
    """The member's fields are this state's, but its tags may be anywhere between the ones it
    carried before and `managed_tags`: a run recorded the write and stopped before settling the tags."""
    return state.payload_hash is not None and state.payload_hash.startswith(_TAGS_UNSURE)


def state_with_tags_pending(
    action: PlannedAction, prev: MemberState | None, member_status: str | None = None
) -> MemberState | None:
    """The state of a member whose fields an upsert just wrote, before its tag changes are sent: the
    fields as written, the payload hash marked unsure (`unsure_tags_hash`), and as `managed_tags`
    every tag the member may carry: those it carried (what the planner diffed against) and those
    being added. A later write diffs against them: it removes what it does not want and adds all it
    wants. None when there is nothing to record early: no tag change to wait for, or an upsert that
    moves or releases an old address (that is recorded once the whole action is)."""
    if action.action is not Action.UPSERT or not (action.tags_add or action.tags_remove):
        return None
    if action.previous_email is not None or action.release_email is not None:
        return None
    if action.payload_hash is None:
        return None
    written = state_after_success(action, prev, member_status)
    if written is None or written is prev or written.email is None:
        return None
    carried = (action.tags - action.tags_add) | action.tags_remove
    return replace(
        written, payload_hash=unsure_tags_hash(action.payload_hash), managed_tags=carried | action.tags
    )


def state_after_refusal(action: PlannedAction, prev: MemberState | None) -> MemberState | None:
    """After Mailchimp refused a new member for good: remember the refused payload, so the same data
    is not sent again (it would be refused again), until the customer changes in Oracle.

    Only for a customer without a member; an existing member keeps its state.
    """
    if action.action is not Action.UPSERT or (prev is not None and prev.known_status not in NO_MEMBER):
        return prev
    if is_older(action.last_update, prev):
        return prev
    return MemberState(
        customer_key=action.customer_key,
        email=action.email,
        subscriber_hash=action.subscriber_hash,
        payload_hash=action.payload_hash,
        known_status=REJECTED,
        managed_tags=frozenset(),
        active=True,
        last_update=action.last_update,
    )
