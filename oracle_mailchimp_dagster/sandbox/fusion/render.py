"""Records to wire JSON: items with links and expanded children, child collections, collection envelopes.

Runs for every row of every page, so the full-width item is built with one `dict(zip(...))`.
"""

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from oracle_mailchimp_dagster.sandbox.fusion.params import ItemShape
from oracle_mailchimp_dagster.sandbox.fusion.schema import (
    ADDRESS_ATTRIBUTES,
    ATTRIBUTE_INDEX,
    CREATION_DATE,
    DATETIME_INDICES,
    LAST_UPDATE_DATE,
    NAMES,
    PARTY_ID,
    PARTY_NUMBER,
    Record,
)
from oracle_mailchimp_dagster.sandbox.fusion.timestamps import format_timestamp

RESOURCE = "accounts"
VERSION = "11.13.18.05"
CHILD_PAGE_LIMIT = 25
# A serialized java.util.ArrayList, as real change indicators are; the tail varies with the row version.
_CHANGE_INDICATOR = (
    "ACED0005737200136A6176612E7574696C2E41727261794C6973747881D21D99C7619D03000149000473697A6578"
)
_EMAIL = ATTRIBUTE_INDEX["EmailAddress"]
_PHONE_FIELDS = ("PhoneCountryCode", "PhoneAreaCode", "PhoneNumber", "PhoneExtension", "FormattedPhoneNumber")
_NOTHING_MALFORMED: Mapping[int, Mapping[str, Any]] = MappingProxyType({})


def data_only(record: Record) -> dict[str, Any]:
    """All attributes, timestamps formatted, no links."""
    body = dict(zip(NAMES, record, strict=True))
    body["CreationDate"] = format_timestamp(record[CREATION_DATE])
    body["LastUpdateDate"] = format_timestamp(record[LAST_UPDATE_DATE])
    return body


def _link(rel: str, href: str, name: str, kind: str) -> dict[str, Any]:
    return {"rel": rel, "href": href, "name": name, "kind": kind}


def filter_links(links: list[dict[str, Any]], rels: frozenset[str] | None) -> list[dict[str, Any]]:
    return links if rels is None else [link for link in links if link["rel"] in rels]


def address_items(record: Record) -> list[dict[str, Any]]:
    if record[ATTRIBUTE_INDEX["AddressNumber"]] is None:
        return []
    item: dict[str, Any] = {"AddressId": record[PARTY_ID] + 3}
    item.update({name: record[ATTRIBUTE_INDEX[name]] for name in ADDRESS_ATTRIBUTES})
    item["PrimaryFlag"] = True
    item["CreationDate"] = format_timestamp(record[CREATION_DATE])
    item["LastUpdateDate"] = format_timestamp(record[LAST_UPDATE_DATE])
    return [item]


def contact_point_items(record: Record) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    party_id: int = record[PARTY_ID]
    blank_phone = dict.fromkeys(_PHONE_FIELDS)
    if record[_EMAIL] is not None:
        items.append(
            {
                "ContactPointId": party_id + 4,
                "ContactPointType": "EMAIL",
                "EmailAddress": record[_EMAIL],
                **blank_phone,
                "PrimaryFlag": True,
                "Status": "A",
            }
        )
    if record[ATTRIBUTE_INDEX["PhoneNumber"]] is not None:
        phone = {name: record[ATTRIBUTE_INDEX[name]] for name in _PHONE_FIELDS}
        items.append(
            {
                "ContactPointId": party_id + 5,
                "ContactPointType": "PHONE",
                "EmailAddress": None,
                **phone,
                "PrimaryFlag": True,
                "Status": "A",
            }
        )
    return items


CHILD_BUILDERS: dict[str, Callable[[Record], list[dict[str, Any]]]] = {
    "PrimaryAddress": address_items,
    "Address": address_items,
    "ContactPoint": contact_point_items,
}


class ItemRenderer:
    """Renders records for one request: the projection, links and children it asked for, with the
    malformed values (by PartyId, see `malformed`) in place of the stored ones they cover."""

    def __init__(
        self,
        base_url: str,
        shape: ItemShape,
        framework_version: int,
        malformed: Mapping[int, Mapping[str, Any]] = _NOTHING_MALFORMED,
    ) -> None:
        self.collection_href = f"{base_url}/crmRestApi/resources/{VERSION}/{RESOURCE}"
        self.shape = shape
        self.framework_version = framework_version
        self._malformed = malformed
        fields = shape.fields
        self._dates = tuple(i for i in DATETIME_INDICES if fields is None or i in fields)

    def item(self, record: Record) -> dict[str, Any]:
        fields = self.shape.fields
        if fields is None:
            body = dict(zip(NAMES, record, strict=True))
        else:
            body = {NAMES[i]: record[i] for i in fields}
        for i in self._dates:
            value = record[i]
            if value is not None:
                body[NAMES[i]] = format_timestamp(value)
        if self._malformed:
            for name, raw in self._malformed.get(record[PARTY_ID], {}).items():
                if name in body:  # only what the projection asked for
                    body[name] = raw
        if self.shape.expand or not self.shape.only_data:
            href = f"{self.collection_href}/{record[PARTY_NUMBER]}"
            for child in self.shape.expand:
                body[child] = self.child_collection(record, child, href)
            if not self.shape.only_data:
                body["links"] = self._item_links(href, record)
        return body

    def child_collection(self, record: Record, child: str, item_href: str) -> Any:
        """A child as framework v3+ embeds it (a collection object) or as v1/v2 do (a plain array)."""
        items = CHILD_BUILDERS[child](record)
        if self.framework_version < 3:
            return items
        return self.child_envelope(items, f"{item_href}/child/{child}", child)

    def child_envelope(self, items: list[dict[str, Any]], href: str, name: str) -> dict[str, Any]:
        links = (
            []
            if self.shape.only_data
            else filter_links([_link("self", href, name, "collection")], self.shape.links)
        )
        return {
            "items": items,
            "count": len(items),
            "hasMore": False,
            "limit": CHILD_PAGE_LIMIT,
            "offset": 0,
            "links": links,
        }

    def _item_links(self, href: str, record: Record) -> list[dict[str, Any]]:
        version = f"{record[LAST_UPDATE_DATE]:016X}"
        links = [
            {
                **_link("self", href, RESOURCE, "item"),
                "properties": {"changeIndicator": _CHANGE_INDICATOR + version},
            },
            _link("canonical", href, RESOURCE, "item"),
            _link("child", f"{href}/child/PrimaryAddress", "PrimaryAddress", "collection"),
            _link("child", f"{href}/child/ContactPoint", "ContactPoint", "collection"),
        ]
        return filter_links(links, self.shape.links)

    def collection_links(self, keep_with_only_data: bool) -> list[dict[str, Any]]:
        if self.shape.only_data and not keep_with_only_data:
            return []
        return filter_links([_link("self", self.collection_href, RESOURCE, "collection")], self.shape.links)
