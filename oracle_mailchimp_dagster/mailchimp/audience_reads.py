"""Whole-audience reads for a reconciliation: every member with only the fields drift needs.

Pages of 1,000 (Mailchimp's most) are read several at a time once the first has given `total_items`,
so 100k members cost about 101 requests and a few pages of memory however large the audience is.
"""

from collections.abc import Iterator
from datetime import datetime
from functools import partial
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from oracle_mailchimp_dagster.mailchimp.endpoints import iso_timestamp
from oracle_mailchimp_dagster.mailchimp.errors import MailchimpNotFoundError
from oracle_mailchimp_dagster.mailchimp.paging import MAX_PAGE
from oracle_mailchimp_dagster.mailchimp.parallel import in_parallel
from oracle_mailchimp_dagster.mailchimp.wire import MailchimpWire

_MEMBER_FIELDS = ("id", "email_address", "status", "merge_fields", "tags", "last_changed")
_PAGE_FIELDS = ",".join([*(f"members.{name}" for name in _MEMBER_FIELDS), "total_items"])


class AudienceMember(BaseModel):
    """A member as a reconciliation sees it: its address, status, merge values and tag names."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    id: str
    email_address: str
    status: str
    merge_fields: dict[str, Any] = Field(default_factory=dict)
    tags: tuple[str, ...] = ()
    last_changed: datetime | None = None

    @field_validator("tags", mode="before")
    @classmethod
    def _tag_names(cls, value: Any) -> Any:
        if isinstance(value, list):
            return tuple(t["name"] if isinstance(t, dict) else t for t in value)
        return value


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
        for members, _total in in_parallel(self.options.concurrency, tasks, "mailchimp-audience"):
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
        return AudienceMember.model_validate(body)

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
        members = [AudienceMember.model_validate(entry) for entry in body.get("members") or []]
        return members, int(body.get("total_items") or 0)
