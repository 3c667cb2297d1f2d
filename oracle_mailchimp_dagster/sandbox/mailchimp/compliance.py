"""The member status state machine of reference §8, as one pure function."""

from dataclasses import dataclass

UnsubSource = str  # "self" | "admin" | "api"


class ComplianceViolation(Exception):
    """The requested status would re-subscribe a contact Mailchimp protects (self-unsubscribed or cleaned)."""


@dataclass(frozen=True)
class StatusChange:
    status: str
    unsub_source: UnsubSource | None


def change_status(
    current: str, unsub_source: UnsubSource | None, requested: str, actor: UnsubSource = "api"
) -> StatusChange:
    """The status (and unsubscribe source) after `actor` asks for `requested` on a contact in `current`.

    `current` is never `archived`: for an archived contact pass the status it had before.

    - unsubscribed by the contact (`self`) -> subscribed: refused; -> pending (re-confirmation): allowed. The
      `self` mark stays until the contact confirms or re-subscribes on their own (a control action), so
      self-unsubscribed -> pending -> subscribed through the API is refused too;
    - unsubscribed by an admin or the API -> subscribed: allowed;
    - cleaned -> anything else: refused (Mailchimp alone cleans and nothing in the API revives a bounce;
      allowing cleaned -> unsubscribed would open cleaned -> unsubscribed -> subscribed);
    - anything -> unsubscribed: allowed, recorded as the actor's unless the contact's own opt-out stands.
    """
    if requested == current:
        return StatusChange(current, unsub_source)
    if current == "cleaned":
        raise ComplianceViolation(current)
    if requested == "subscribed" and unsub_source == "self":
        raise ComplianceViolation(current)
    kept = unsub_source if unsub_source == "self" else None
    if requested == "unsubscribed":
        return StatusChange(requested, kept or actor)
    return StatusChange(requested, kept)
