"""The customer record the sync reads from Oracle Fusion (`accounts` rows), typed and null-tolerant.

Attribute names are snake_case; each field's alias is the Oracle attribute, so a page body validates
straight into these models and `CUSTOMER_FIELDS` is exactly the `fields=` list to request. Pages are
validated strictly (`fusion.pages`): a value of the wrong JSON type quarantines its row as a
`QuarantinedRow`, it is never coerced.
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from oracle_mailchimp_dagster.sync.customer import SOURCE_FIELDS, Customer


def _assume_utc(value: datetime) -> datetime:
    """Pods store UTC; a timestamp without an offset is read as UTC so every value is aware."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


FusionTimestamp = Annotated[datetime, AfterValidator(_assume_utc)]


class FusionCustomer(BaseModel):
    """One customer (TCA party with its flattened primary email, phone and address).

    Only `party_id` and `last_update_date` are required: they are the extraction keyset. Everything
    else may be null on a real pod and is left to the sync to judge.
    """

    model_config = ConfigDict(frozen=True, extra="ignore", validate_by_name=True, validate_by_alias=True)

    party_id: int = Field(alias="PartyId")
    party_number: str | None = Field(default=None, alias="PartyNumber")
    organization_name: str | None = Field(default=None, alias="OrganizationName")
    email_address: str | None = Field(default=None, alias="EmailAddress")
    phone_country_code: str | None = Field(default=None, alias="PhoneCountryCode")
    phone_area_code: str | None = Field(default=None, alias="PhoneAreaCode")
    phone_number: str | None = Field(default=None, alias="PhoneNumber")
    phone_extension: str | None = Field(default=None, alias="PhoneExtension")
    formatted_phone_number: str | None = Field(default=None, alias="FormattedPhoneNumber")
    address_line1: str | None = Field(default=None, alias="AddressLine1")
    address_line2: str | None = Field(default=None, alias="AddressLine2")
    address_line3: str | None = Field(default=None, alias="AddressLine3")
    address_line4: str | None = Field(default=None, alias="AddressLine4")
    city: str | None = Field(default=None, alias="City")
    state: str | None = Field(default=None, alias="State")
    province: str | None = Field(default=None, alias="Province")
    postal_code: str | None = Field(default=None, alias="PostalCode")
    country: str | None = Field(default=None, alias="Country")
    type: str | None = Field(default=None, alias="Type")
    customer_class_code: str | None = Field(default=None, alias="CustomerClassCode")
    party_status: str | None = Field(default=None, alias="PartyStatus")
    primary_contact_name: str | None = Field(default=None, alias="PrimaryContactName")
    creation_date: FusionTimestamp | None = Field(default=None, alias="CreationDate")
    last_update_date: FusionTimestamp = Field(alias="LastUpdateDate")

    def to_customer(self) -> Customer:
        """The sync's typed record: the same fields by the same (snake_case) names."""
        return Customer(**{name: getattr(self, name) for name in _CUSTOMER_FIELD_NAMES})


# The `fields=` list: every attribute above, by its Oracle name.
CUSTOMER_FIELDS: tuple[str, ...] = tuple(
    field.alias or name for name, field in FusionCustomer.model_fields.items()
)
# The one table from Oracle attribute names to `Customer` field names (what a mapping may name).
CUSTOMER_ATTRIBUTES: dict[str, str] = {
    field.alias or name: name for name, field in FusionCustomer.model_fields.items()
}
_CUSTOMER_FIELD_NAMES = tuple(FusionCustomer.model_fields)
if set(_CUSTOMER_FIELD_NAMES) != SOURCE_FIELDS:  # pragma: no cover - a programming error, caught at import
    raise RuntimeError("FusionCustomer and sync.Customer must have the same fields")


@dataclass(frozen=True, slots=True)
class QuarantinedRow:
    """A row Oracle sent that does not validate as `FusionCustomer`, kept small: its keys and why.

    Its keyset fields are always usable (otherwise the read stops, see `FusionKeysetError`), so paging
    moves past it. `party_number` is None when it is itself unreadable; `attributes` names the Oracle
    attributes at fault and `reason` says what is wrong with each, values cut short.
    """

    party_id: int
    last_update_date: datetime
    party_number: str | None
    attributes: tuple[str, ...]
    reason: str


class CustomerPage(BaseModel):
    """One ADF collection page of customers (links are not needed and not read); `total_results` is
    the pod's estimate of the rows matching, present when asked for (`totalResults=true`)."""

    model_config = ConfigDict(extra="ignore")

    items: list[FusionCustomer]
    count: int
    has_more: bool = Field(alias="hasMore")
    limit: int | None = None
    offset: int | None = None
    total_results: int | None = Field(default=None, alias="totalResults")
