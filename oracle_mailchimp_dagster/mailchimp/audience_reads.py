"""Whole-audience reads for a reconciliation: every member with only the fields drift needs.

Pages of 1,000 (Mailchimp's most) are read several at a time once the first has given `total_items`,
so 100k members cost about 101 requests and a few pages of memory however large the audience is.
"""

import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any

from oracle_mailchimp_dagster.mailchimp.endpoints import iso_timestamp
from oracle_mailchimp_dagster.mailchimp.errors import MailchimpNotFoundError, error_for
from oracle_mailchimp_dagster.mailchimp.paging import MAX_PAGE
from oracle_mailchimp_dagster.mailchimp.parallel import in_parallel
from oracle_mailchimp_dagster.mailchimp.problems import retryable_problem
from oracle_mailchimp_dagster.mailchimp.wire import MailchimpWire

_MEMBER_FIELDS = ("id", "email_address", "status", "merge_fields", "tags")
# Pages read at once: each holds 1,000 members (a few MB parsed), so a few keep memory small while the
# key's other connections stay free for writes.
PAGES_IN_FLIGHT = 4
_PAGE_FIELDS = ",".join([*(f"members.{name}" for name in _MEMBER_FIELDS), "total_items"])


@dataclass(frozen=True, slots=True)
class AudienceMember:
    """A member as a reconciliation sees it: its address, status, merge values and tag names.

    A slotted record rather than a model: a reconciliation holds pages of them, and the listing's
    shape is checked where it is read (`from_wire`)."""

    id: str
    email_address: str
    status: str
    merge_fields: dict[str, Any] = field(default_factory=dict)
    tags: tuple[str, ...] = ()

    @classmethod
    def from_wire(cls, entry: Mapping[str, Any]) -> "AudienceMember":
        try:
            tags = tuple(t["name"] if isinstance(t, dict) else str(t) for t in entry.get("tags") or ())
            merge_fields = entry.get("merge_fields") or {}
            if not isinstance(merge_fields, dict):
                raise TypeError("merge_fields is not an object")
            return cls(
                id=str(entry["id"]),
                email_address=str(entry["email_address"]),
                status=sys.intern(str(entry["status"])),
                merge_fields=merge_fields,
                tags=tags,
            )
        except (KeyError, TypeError) as exc:
            raise error_for(
                retryable_problem("Unreadable member", None, f"a listed member lacks its {exc}"),
                "GET members",
            ) from None


class AudienceReads(MailchimpWire):
    """The reads behind `oracle-mailchimp reconcile`."""

    def iter_audience_pages(
        self,
        list_id: str,
        *,
        status: str | None = None,
        since_last_changed: datetime | None = None,
        page_size: int = MAX_PAGE,
    ) -> Iterator[list[AudienceMember]]:
        """Every member of the list (archived ones only with `status="archived"`, as Mailchimp lists
        them), page by page in any order. Offsets are fixed by the first page's `total_items`; a set
        that changes while it is read can repeat or skip a row, so callers de-duplicate by `id` and
        look up any member they expected and did not see (`get_audience_member`)."""
        if not 1 <= page_size <= MAX_PAGE:
            raise ValueError(f"page_size must be between 1 and {MAX_PAGE}")
        first = self._audience_page(list_id, 0, page_size, status, since_last_changed)
        yield first[0]
        offsets = range(page_size, first[1], page_size)
        tasks = (
            partial(self._audience_page, list_id, offset, page_size, status, since_last_changed)
            for offset in offsets
        )
        workers = min(self.options.concurrency, PAGES_IN_FLIGHT)
        for members, _total in in_parallel(workers, tasks, "mailchimp-audience"):
            yield members

    def get_audience_member(self, list_id: str, subscriber_hash: str) -> AudienceMember | None:
        """One member by its hash, archived ones included; None when Mailchimp has none (404)."""
        try:
            body = self._json(
                "GET",
                f"/lists/{list_id}/members/{subscriber_hash}",
                params={"fields": ",".join(_MEMBER_FIELDS)},
            )
        except MailchimpNotFoundError:
            return None
        return AudienceMember.from_wire(body)

    def _audience_page(
        self,
        list_id: str,
        offset: int,
        page_size: int,
        status: str | None,
        since_last_changed: datetime | None,
    ) -> tuple[list[AudienceMember], int]:
        params: dict[str, Any] = {
            "count": page_size,
            "offset": offset,
            "fields": _PAGE_FIELDS,
        }
        if status is not None:
            params["status"] = status
        if since_last_changed is not None:
            params["since_last_changed"] = iso_timestamp(since_last_changed)
        body = self._json("GET", f"/lists/{list_id}/members", scope="list", params=params)
        members = [AudienceMember.from_wire(entry) for entry in body.get("members") or []]
        return members, int(body.get("total_items") or 0)
