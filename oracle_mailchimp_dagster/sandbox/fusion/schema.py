"""The `accounts` resource shape: attribute names in wire order, their types and what `q` may use.

A customer is stored as a tuple in this order; `ATTRIBUTE_INDEX` maps a name to its position.
"""

from dataclasses import dataclass
from typing import Any, Literal

AttrKind = Literal["string", "integer", "datetime"]


@dataclass(frozen=True)
class Attribute:
    """One attribute as `/describe` reports it."""

    name: str
    kind: AttrKind
    max_length: int | None = None
    queryable: bool = True
    updatable: bool = True

    def describe(self) -> dict[str, object]:
        body: dict[str, object] = {
            "name": self.name,
            "type": {"string": "string", "integer": "integer", "datetime": "string"}[self.kind],
            "updatable": self.updatable,
            "mandatory": self.name in ("OrganizationName",),
            "queryable": self.queryable,
            "title": self.name,
        }
        if self.kind == "datetime":
            body["properties"] = {"fnDataType": "oracle.jbo.domain.Timestamp"}
        if self.max_length is not None:
            body["maxLength"] = str(self.max_length)
        return body


def _s(name: str, max_length: int, queryable: bool = True, updatable: bool = True) -> Attribute:
    return Attribute(name, "string", max_length, queryable, updatable)


ATTRIBUTES: tuple[Attribute, ...] = (
    Attribute("PartyId", "integer", updatable=False),
    _s("PartyNumber", 30, updatable=False),
    _s("SourceSystem", 30),
    _s("SourceSystemReferenceValue", 255),
    _s("OrganizationName", 360),
    _s("UniqueNameSuffix", 540),
    _s("PartyUniqueName", 900, updatable=False),
    _s("Type", 30),
    Attribute("OwnerPartyId", "integer"),
    _s("OwnerPartyNumber", 30),
    _s("OwnerEmailAddress", 320),
    _s("OwnerName", 360),
    Attribute("PrimaryContactPartyId", "integer"),
    _s("PrimaryContactPartyNumber", 30),
    _s("PrimaryContactName", 450),
    _s("PrimaryContactEmail", 320),
    _s("PrimaryContactPhone", 60),
    _s("PartyStatus", 1),
    _s("CustomerClassCode", 30),
    _s("CreatedByModule", 30, updatable=False),
    _s("CreatedBy", 64, updatable=False),
    Attribute("CreationDate", "datetime", updatable=False),
    Attribute("LastUpdateDate", "datetime", updatable=False),
    _s("LastUpdatedBy", 64, updatable=False),
    _s("LastUpdateLogin", 32, queryable=False, updatable=False),
    _s("PhoneCountryCode", 10),
    _s("PhoneAreaCode", 10),
    _s("PhoneNumber", 40),
    _s("PhoneExtension", 20),
    _s("FormattedPhoneNumber", 100, queryable=False, updatable=False),
    _s("EmailAddress", 320),
    _s("URL", 2000),
    _s("AddressNumber", 30, updatable=False),
    _s("AddressLine1", 240),
    _s("AddressLine2", 240),
    _s("AddressLine3", 240),
    _s("AddressLine4", 240),
    _s("City", 60),
    _s("State", 60),
    _s("Province", 60),
    _s("County", 60),
    _s("PostalCode", 60),
    _s("Country", 2),
    _s("FormattedAddress", 1000, queryable=False, updatable=False),
    _s("CurrencyCode", 15),
)

NAMES: tuple[str, ...] = tuple(a.name for a in ATTRIBUTES)
ATTRIBUTE_INDEX: dict[str, int] = {name: i for i, name in enumerate(NAMES)}
BY_NAME: dict[str, Attribute] = {a.name: a for a in ATTRIBUTES}
DATETIME_INDICES: tuple[int, ...] = tuple(i for i, a in enumerate(ATTRIBUTES) if a.kind == "datetime")

PARTY_ID = ATTRIBUTE_INDEX["PartyId"]
PARTY_NUMBER = ATTRIBUTE_INDEX["PartyNumber"]
PARTY_STATUS = ATTRIBUTE_INDEX["PartyStatus"]
CREATION_DATE = ATTRIBUTE_INDEX["CreationDate"]
LAST_UPDATE_DATE = ATTRIBUTE_INDEX["LastUpdateDate"]

#: The parts of the primary address and of the phone number (FormattedAddress and
#: FormattedPhoneNumber are derived from them).
ADDRESS_PARTS: frozenset[str] = frozenset(
    {
        "AddressLine1",
        "AddressLine2",
        "AddressLine3",
        "AddressLine4",
        "City",
        "State",
        "Province",
        "County",
        "PostalCode",
        "Country",
    }
)
PHONE_PARTS: frozenset[str] = frozenset({"PhoneCountryCode", "PhoneAreaCode", "PhoneNumber"})

#: Email, phone and address attributes: in TCA these live in child rows (contact points, locations);
#: whether editing them bumps the party's LastUpdateDate is the `child_changes_bump_parent` switch.
CHILD_ATTRIBUTES: frozenset[str] = frozenset({"EmailAddress", "PhoneExtension"}) | PHONE_PARTS | ADDRESS_PARTS

ADDRESS_ATTRIBUTES: tuple[str, ...] = (
    "AddressNumber",
    "AddressLine1",
    "AddressLine2",
    "AddressLine3",
    "AddressLine4",
    "City",
    "State",
    "Province",
    "County",
    "PostalCode",
    "Country",
    "FormattedAddress",
)

Record = tuple[Any, ...]
