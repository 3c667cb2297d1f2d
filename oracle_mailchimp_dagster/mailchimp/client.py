"""Mailchimp Marketing API client: one taxonomy of errors, batch upserts in parallel under a per-key limit."""

from types import TracebackType

from oracle_mailchimp_dagster.mailchimp.audience_reads import AudienceReads
from oracle_mailchimp_dagster.mailchimp.batch_calls import BatchCalls
from oracle_mailchimp_dagster.mailchimp.list_calls import ListCalls
from oracle_mailchimp_dagster.mailchimp.member_calls import MemberCalls
from oracle_mailchimp_dagster.mailchimp.tag_calls import TagCalls


class MailchimpClient(ListCalls, BatchCalls, MemberCalls, TagCalls, AudienceReads):
    """One Mailchimp account. Thread-safe; every request holds a slot of the key's shared limit.

    Each concern is its own module over one shared wire (`wire.MailchimpWire`): the account and
    list, batch upserts, single members, tags as static segments, whole-audience reads.
    """

    def __repr__(self) -> str:
        return f"MailchimpClient(key_id={self.key_id!r}, api_base={self._api_base!r})"

    def __enter__(self) -> "MailchimpClient":
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
