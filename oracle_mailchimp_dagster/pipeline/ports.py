"""What the pipeline needs of each API client, as protocols: the real clients satisfy them, and so do
test doubles, so an asset can run against an in-memory Fusion or audience without HTTP.

Each protocol holds exactly what a caller (pipeline steps, assets, sensors) uses; positional
parameters are positional-only, so an implementation may name them as it likes.
"""

from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from types import TracebackType
from typing import Protocol, Self

from oracle_mailchimp_dagster.fusion import CustomerCursor, FusionCustomer
from oracle_mailchimp_dagster.mailchimp import (
    ListMember,
    MailchimpProblem,
    MemberChanges,
    MemberOutcome,
    MemberUpsert,
    MergeField,
    TagChange,
)


class Counters(Protocol):
    """Named call counters (requests, pages...) read into run metadata."""

    def snapshot(self) -> dict[str, int]: ...


class CustomerStream(Protocol):
    """One pass over the customers of a window: iterate once, then read `cursor` and `stats`."""

    @property
    def since(self) -> datetime | None:
        """Where the window really started (a look-back moves it before the mark)."""
        ...

    @property
    def stats(self) -> Counters: ...

    @property
    def cursor(self) -> CustomerCursor | None:
        """The last (LastUpdateDate, PartyId) read: where the next extraction may resume."""
        ...

    def __iter__(self) -> Iterator[FusionCustomer]: ...


class Closeable(Protocol):
    """A client used as a context manager: its connections close when the step is done."""

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
        /,
    ) -> None: ...


class CustomerSource(Closeable, Protocol):
    """Oracle Fusion as the extract step and the change sensor read it."""

    @property
    def stats(self) -> Counters: ...

    def extract_customers(
        self, *, since: datetime | None, until: datetime | None, after: CustomerCursor | None
    ) -> CustomerStream: ...

    def fetch_customers_by_numbers(self, party_numbers: Iterable[str], /) -> Iterable[FusionCustomer]: ...

    def has_changes_after(self, after: datetime, /) -> bool: ...


class AudienceOptions(Protocol):
    """The client settings the executor reads."""

    @property
    def concurrency(self) -> int:
        """Requests in flight at once (the executor sizes its thread pool by it)."""
        ...


class AudienceClient(Closeable, Protocol):
    """A Mailchimp audience as the member, results and audience-event steps read and write it."""

    @property
    def options(self) -> AudienceOptions: ...

    def get_merge_fields(self, list_id: str, /) -> Iterable[MergeField]: ...

    def upsert_many(
        self, list_id: str, members: Iterable[MemberUpsert], /
    ) -> Iterable[Sequence[MemberOutcome]]: ...

    def put_member(self, list_id: str, member: MemberUpsert, /) -> ListMember: ...

    def update_member(self, list_id: str, email: str, changes: MemberChanges, /) -> ListMember: ...

    def archive_member(self, list_id: str, email: str, /) -> None: ...

    def delete_member_permanently(self, list_id: str, email: str, /) -> None: ...

    def apply_tag_changes(
        self, list_id: str, changes: Mapping[str, TagChange], /
    ) -> Mapping[str, MailchimpProblem]: ...

    def iter_members_changed_since(
        self, list_id: str, since: datetime, /, *, status: str | None
    ) -> Iterable[ListMember]: ...
