"""Single members, addressed by their subscriber hash: upsert, change, archive, erase, tag, list changes."""

from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from oracle_mailchimp_dagster.mailchimp.endpoints import iso_timestamp
from oracle_mailchimp_dagster.mailchimp.models import ListMember, MemberChanges, MemberUpsert
from oracle_mailchimp_dagster.mailchimp.paging import MAX_PAGE, offset_pages
from oracle_mailchimp_dagster.mailchimp.wire import MailchimpWire
from oracle_mailchimp_dagster.sync.identity import subscriber_hash

_AUDIENCE_FIELDS = (
    "members.id,members.email_address,members.status,members.last_changed,members.unsubscribe_reason,"
    "total_items"
)


class MemberCalls(MailchimpWire):
    """One member per call; the reads of members whose status changed."""

    def put_member(
        self, list_id: str, member: MemberUpsert, *, skip_merge_validation: bool = False
    ) -> ListMember:
        """Upsert one member (PUT on its hash) with `status_if_new`; returns the member as stored."""
        params = {"skip_merge_validation": "true"} if skip_merge_validation else None
        body = self._json(
            "PUT", _member_path(list_id, member.email_address), json_body=member.wire(), params=params
        )
        return ListMember.model_validate(body)

    def update_member(self, list_id: str, email: str, changes: MemberChanges) -> ListMember:
        """PATCH an existing member (found by its current address)."""
        body = self._json("PATCH", _member_path(list_id, email), json_body=changes.wire())
        return ListMember.model_validate(body)

    def change_email(self, list_id: str, old_email: str, new_email: str) -> ListMember:
        """Move an existing member to a new address (PATCH of the old hash); its id becomes md5(new)."""
        return self.update_member(list_id, old_email, MemberChanges(email_address=new_email))

    def archive_member(self, list_id: str, email: str) -> None:
        """DELETE: the member is archived (restorable, not billed)."""
        self._call("DELETE", _member_path(list_id, email))

    def delete_member_permanently(self, list_id: str, email: str) -> None:
        """GDPR erasure: the address can never be re-imported. Use only for erasure requests."""
        self._call("POST", _member_path(list_id, email) + "/actions/delete-permanent")

    def update_tags(
        self,
        list_id: str,
        email: str,
        *,
        add: Iterable[str] = (),
        remove: Iterable[str] = (),
        is_syncing: bool = True,
    ) -> None:
        """Add and remove tags on one member; `is_syncing` keeps tag automations from firing."""
        tags = [{"name": name, "status": "active"} for name in add]
        tags += [{"name": name, "status": "inactive"} for name in remove]
        if not tags:
            return
        self._call(
            "POST",
            _member_path(list_id, email) + "/tags",
            json_body={"tags": tags, "is_syncing": is_syncing},
        )

    def iter_members_changed_since(
        self,
        list_id: str,
        since: datetime,
        *,
        status: str | None = None,
        page_size: int = MAX_PAGE,
    ) -> Iterator[ListMember]:
        """Members whose `last_changed` is at or after `since`, oldest first, each change once.

        Offset pages over a set that may change meanwhile: each page re-reads the tail of the
        previous one (a tenth of a page), so members moving to the end between two requests shift
        nothing out of sight. Re-read rows are dropped by (id, last_changed); a member that changed
        again during the scan is yielded again with its newer state.
        """
        if not 1 <= page_size <= MAX_PAGE:
            raise ValueError(f"page_size must be between 1 and {MAX_PAGE}")

        def page(offset: int) -> dict[str, Any]:
            params: dict[str, Any] = {
                "since_last_changed": iso_timestamp(since),
                "sort_field": "last_changed",
                "sort_dir": "ASC",
                "count": page_size,
                "offset": offset,
                "fields": _AUDIENCE_FIELDS,
            }
            if status is not None:
                params["status"] = status
            return self._json("GET", f"/lists/{list_id}/members", scope="list", params=params)

        seen: set[tuple[str, datetime | None]] = set()
        for entries in offset_pages(page, "members", page_size=page_size, overlap=page_size // 10):
            for entry in entries:
                member = ListMember.model_validate(entry)
                key = (member.id, member.last_changed)
                if key not in seen:
                    seen.add(key)
                    yield member


def _member_path(list_id: str, email: str) -> str:
    return f"/lists/{list_id}/members/{subscriber_hash(email)}"
