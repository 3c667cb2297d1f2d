"""The account and its list (audience): ping, the list itself, its merge fields."""

from typing import Any

from oracle_mailchimp_dagster.mailchimp.models import AudienceList, MergeField, MergeFieldSpec
from oracle_mailchimp_dagster.mailchimp.paging import MAX_PAGE, offset_pages
from oracle_mailchimp_dagster.mailchimp.wire import MailchimpWire


class ListCalls(MailchimpWire):
    """Account and list reads the connector checks before it writes, and merge field creation."""

    def ping(self) -> None:
        """Raise unless the credentials work against this data center."""
        self._call("GET", "/ping", scope="account")

    def get_list(self, list_id: str) -> AudienceList:
        body = self._json(
            "GET", f"/lists/{list_id}", scope="list", params={"fields": "id,name,stats.member_count"}
        )
        stats = body.get("stats") or {}
        return AudienceList(id=body["id"], name=body["name"], member_count=stats.get("member_count"))

    def get_merge_fields(self, list_id: str) -> list[MergeField]:
        def page(offset: int) -> dict[str, Any]:
            params = {"count": MAX_PAGE, "offset": offset}
            return self._json("GET", f"/lists/{list_id}/merge-fields", scope="list", params=params)

        return [
            MergeField.model_validate(entry)
            for entries in offset_pages(page, "merge_fields")
            for entry in entries
        ]

    def create_merge_field(self, list_id: str, spec: MergeFieldSpec) -> MergeField:
        body = self._json(
            "POST", f"/lists/{list_id}/merge-fields", scope="list", json_body=spec.wire(), idempotent=False
        )
        return MergeField.model_validate(body)
