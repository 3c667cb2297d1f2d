"""The tenant's sync rules as the planner sees them: field mapping, tag rules and policies."""

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

# Derived sources a mapping may name besides plain Oracle attributes.
CONTACT_FIRST_NAME = "@contact_first_name"
CONTACT_LAST_NAME = "@contact_last_name"
BILLING_ADDRESS = "@billing_address"
DERIVED_SOURCES = frozenset({CONTACT_FIRST_NAME, CONTACT_LAST_NAME, BILLING_ADDRESS})


class StatusIfNew(StrEnum):
    SUBSCRIBED = "subscribed"
    PENDING = "pending"
    TRANSACTIONAL = "transactional"


class InactiveAction(StrEnum):
    """What happens to the member of a customer that Oracle inactivated."""

    UNSUBSCRIBE = "unsubscribe"
    ARCHIVE = "archive"
    DELETE = "delete"
    TAG = "tag"
    NONE = "none"


class TagRule(BaseModel):
    """Turn one Oracle attribute into one managed tag: `prefix + (values[v] or v)`."""

    model_config = ConfigDict(frozen=True)

    attribute: str
    prefix: str = ""
    values: dict[str, str] = Field(default_factory=dict)


def default_merge_fields() -> dict[str, str]:
    return {
        "FNAME": CONTACT_FIRST_NAME,
        "LNAME": CONTACT_LAST_NAME,
        "COMPANY": "OrganizationName",
        "PHONE": "FormattedPhoneNumber",
        "ADDRESS": BILLING_ADDRESS,
    }


def default_tag_rules() -> list[TagRule]:
    return [
        TagRule(attribute="CustomerClassCode", prefix="segment:"),
        TagRule(
            attribute="Type",
            prefix="type:",
            values={"ZCA_CUSTOMER": "customer", "ZCA_PROSPECT": "prospect"},
        ),
    ]


class FieldMapping(BaseModel):
    """Merge tag -> source (an Oracle attribute or one of the derived sources), plus tag rules."""

    model_config = ConfigDict(frozen=True)

    merge_fields: dict[str, str] = Field(default_factory=default_merge_fields)
    tag_rules: list[TagRule] = Field(default_factory=default_tag_rules)

    @field_validator("merge_fields")
    @classmethod
    def _valid_tags(cls, value: dict[str, str]) -> dict[str, str]:
        for tag, source in value.items():
            if not tag or len(tag) > 10 or not tag.replace("_", "").isalnum() or tag != tag.upper():
                raise ValueError(f"merge tag {tag!r} must be 1-10 upper-case letters, digits or _")
            if source.startswith("@") and source not in DERIVED_SOURCES:
                known = ", ".join(sorted(DERIVED_SOURCES))
                raise ValueError(f"merge tag {tag}: unknown derived source {source!r} (known: {known})")
        return value


class SyncPolicy(BaseModel):
    """How new and inactive customers are treated, and how much one run may remove."""

    model_config = ConfigDict(frozen=True)

    status_if_new: StatusIfNew = StatusIfNew.SUBSCRIBED
    inactive_action: InactiveAction = InactiveAction.UNSUBSCRIBE
    inactive_tag: str = "inactive-customer"
    max_removals: int | None = Field(default=1000, ge=0)
    max_removal_share: float | None = Field(default=0.2, ge=0.0, le=1.0)
    removal_share_floor: int = Field(default=10, ge=0)
    text_max_length: int = Field(default=255, ge=1)

    @model_validator(mode="after")
    def _tag_needed(self) -> "SyncPolicy":
        if self.inactive_action is InactiveAction.TAG and not self.inactive_tag.strip():
            raise ValueError("inactive_action 'tag' needs a non-empty inactive_tag")
        return self
