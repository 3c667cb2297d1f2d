"""A tenant's field mapping as it writes it (Oracle attribute names), and its resolution for the sync.

The tenant names Oracle attributes (`COMPANY: OrganizationName`, tags from `CustomerClassCode`);
`resolve()` turns them into `Customer` field names through the one table in `fusion.records`, so the
sync rules never see an Oracle name. An attribute that table does not know is refused here, at
`tenants add` / `update` / `import`, not silently never sent.
"""

from pydantic import BaseModel, ConfigDict, Field, field_validator

from oracle_mailchimp_dagster.fusion.records import CUSTOMER_ATTRIBUTES
from oracle_mailchimp_dagster.sync.rules import (
    BILLING_ADDRESS,
    CONTACT_FIRST_NAME,
    CONTACT_LAST_NAME,
    DERIVED_SOURCES,
    MemberMapping,
    MergeFieldSource,
    TagSource,
)


def _unknown_attribute(attribute: str) -> str:
    return f"unknown Oracle attribute {attribute!r} (known: {', '.join(sorted(CUSTOMER_ATTRIBUTES))})"


class TagRule(BaseModel):
    """Turn one Oracle attribute into one managed tag: `prefix + (values[v] or v)`."""

    model_config = ConfigDict(frozen=True)

    attribute: str
    prefix: str = ""
    values: dict[str, str] = Field(default_factory=dict)

    @field_validator("attribute")
    @classmethod
    def _known_attribute(cls, value: str) -> str:
        if value not in CUSTOMER_ATTRIBUTES:
            raise ValueError(_unknown_attribute(value))
        return value


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
            if source.startswith("@"):
                if source not in DERIVED_SOURCES:
                    known = ", ".join(sorted(DERIVED_SOURCES))
                    raise ValueError(f"merge tag {tag}: unknown derived source {source!r} (known: {known})")
            elif source not in CUSTOMER_ATTRIBUTES:
                raise ValueError(f"merge tag {tag}: {_unknown_attribute(source)}")
        return value

    def resolve(self) -> MemberMapping:
        """The mapping in `Customer` field names, as the sync rules read it."""
        return MemberMapping(
            merge_fields={
                tag: MergeFieldSource(CUSTOMER_ATTRIBUTES.get(source, source), source)
                for tag, source in self.merge_fields.items()
            },
            tags=tuple(
                TagSource(CUSTOMER_ATTRIBUTES[rule.attribute], rule.prefix, tuple(rule.values.items()))
                for rule in self.tag_rules
            ),
        )
