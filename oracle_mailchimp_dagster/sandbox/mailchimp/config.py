"""What a Mailchimp sandbox starts with: credentials, the default audience, latency and behaviour switches.

Behaviour that Mailchimp does not document (reference §11) is a switch here, so tests can pin either reading.
"""

import hashlib
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from oracle_mailchimp_dagster.sandbox.common.latency import LatencyModel, LatencyProfile

# The sandbox's own credentials: public, fixed, and valid nowhere but the sandbox. Derived rather than
# spelled out so they cannot be mistaken for a real key committed by accident.
SANDBOX_API_KEY = hashlib.sha256(b"oracle-mailchimp-dagster sandbox api key").hexdigest()[:32] + "-us21"
SANDBOX_OAUTH_TOKEN = hashlib.sha256(b"oracle-mailchimp-dagster sandbox oauth token").hexdigest()[:32]

API_KEY_PATTERN = re.compile(r"^[0-9a-f]{32}-[a-z]+[0-9]+$")
LIST_ID_PATTERN = re.compile(r"^[0-9a-f]{10}$")
MERGE_TAG_PATTERN = re.compile(r"^[A-Z][A-Z0-9_]{0,9}$")

MergeFieldType = Literal[
    "text", "number", "address", "phone", "date", "url", "imageurl", "radio", "dropdown", "birthday", "zip"
]

# Mailchimp refuses these as "looks fake or invalid" (reference §6.3, §10: example.com, test.com, john.doe@),
# and undeliverable reserved TLDs. The reserved `.example` TLD is left out on purpose: the Oracle sandbox
# gives its generated customers `<company>.example` domains, and they must pass; add it via the switch.
DEFAULT_FAKE_DOMAINS = (
    "example.com",
    "example.net",
    "example.org",
    "test.com",
    "fake.com",
    "mailinator.com",
)
DEFAULT_FAKE_TLDS = ("test", "invalid", "localhost")
DEFAULT_FAKE_LOCAL_PARTS = ("john.doe", "test", "fake", "asdf", "noemail")

LATENCY_PROFILES: dict[str, LatencyModel] = {
    "none": LatencyModel(),
    "realistic": LatencyModel(request_ms=150.0, per_item_ms=2.0),
}


def latency_model(profile: LatencyProfile) -> LatencyModel:
    """The latency model of a named profile (a fresh copy: the control API may replace it)."""
    return LATENCY_PROFILES[profile].model_copy()


def check_api_key(value: str) -> str:
    if not API_KEY_PATTERN.fullmatch(value):
        raise ValueError("a Mailchimp API key looks like <32 lowercase hex>-<dc>, e.g. ...-us21")
    return value


class MergeFieldSpec(BaseModel):
    """One audience field to seed, as `POST /lists/{id}/merge-fields` would create it."""

    model_config = ConfigDict(extra="forbid")

    tag: str
    name: str
    type: MergeFieldType = "text"
    required: bool = False
    default_value: str = ""
    public: bool = True
    help_text: str = ""
    options: dict[str, Any] = Field(default_factory=dict)

    @field_validator("tag")
    @classmethod
    def _valid_tag(cls, value: str) -> str:
        tag = value.upper()
        if not MERGE_TAG_PATTERN.fullmatch(tag):
            raise ValueError("a merge tag is 1-10 characters: A-Z, 0-9 and _, starting with a letter")
        return tag


DEFAULT_MERGE_FIELDS = (
    MergeFieldSpec(tag="FNAME", name="First Name"),
    MergeFieldSpec(tag="LNAME", name="Last Name"),
    MergeFieldSpec(tag="ADDRESS", name="Address", type="address"),
    MergeFieldSpec(tag="PHONE", name="Phone Number", type="phone"),
    MergeFieldSpec(tag="BIRTHDAY", name="Birthday", type="birthday"),
)
# The default sandbox audience also has an optional COMPANY text field: the connector's default mapping sends
# OrganizationName there. New audiences (`POST /lists`) get only Mailchimp's own defaults above.
COMPANY_MERGE_FIELD = MergeFieldSpec(tag="COMPANY", name="Company")


class MailchimpSwitches(BaseModel):
    """Behaviour switches; all can be changed at run time through `PATCH /__sandbox/switches`."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    max_connections: int = Field(default=10, ge=1)
    retry_after_s: int | None = Field(default=None, ge=0)
    check_datacenter: bool = False
    wrong_datacenter_status: Literal[401, 403] = 403
    include_archived_by_default: bool = False
    since_inclusive: bool = True
    text_max_len: int = Field(default=255, ge=1)
    text_too_long: Literal["truncate", "error"] = "truncate"
    tag_name_max_len: int = Field(default=100, ge=1)
    batch_max_members: int = Field(default=500, ge=1)
    segment_batch_max_members: int = Field(default=500, ge=1)
    # Whether bulk segment changes refuse contacts that are not subscribed (Mailchimp documents neither way;
    # tags can be given to any contact in the web app and through `.../members/{hash}/tags`).
    segment_members_must_be_subscribed: bool = False
    fake_domains: list[str] = Field(default_factory=lambda: list(DEFAULT_FAKE_DOMAINS))
    fake_tlds: list[str] = Field(default_factory=lambda: list(DEFAULT_FAKE_TLDS))
    fake_local_parts: list[str] = Field(default_factory=lambda: list(DEFAULT_FAKE_LOCAL_PARTS))
    signup_velocity_emails: list[str] = Field(default_factory=list)

    @field_validator("fake_domains", "fake_tlds", "fake_local_parts", "signup_velocity_emails", mode="after")
    @classmethod
    def _lowercase(cls, values: list[str]) -> list[str]:
        return [v.strip().lower() for v in values]


class MailchimpSandboxConfig(BaseModel):
    """Everything a Mailchimp sandbox starts from; `reset` returns to exactly this."""

    model_config = ConfigDict(extra="forbid")

    api_key: str = Field(default=SANDBOX_API_KEY, repr=False)
    extra_api_keys: list[str] = Field(default_factory=list, repr=False)
    oauth_tokens: list[str] = Field(default_factory=lambda: [SANDBOX_OAUTH_TOKEN], repr=False)
    dc: str = "us21"
    list_id: str = "a1b2c3d4e5"
    list_name: str = "Oracle Fusion Customers"
    merge_fields: list[MergeFieldSpec] = Field(default_factory=list)
    include_birthday: bool = True
    include_company: bool = True
    account_name: str = "Oracle Mailchimp Sandbox"
    login_email: str = "owner@oracle-mailchimp-sandbox.io"
    latency: LatencyProfile = "none"
    seed: int = 0
    switches: MailchimpSwitches = Field(default_factory=MailchimpSwitches)

    @field_validator("api_key")
    @classmethod
    def _valid_key(cls, value: str) -> str:
        return check_api_key(value)

    @field_validator("extra_api_keys")
    @classmethod
    def _valid_keys(cls, values: list[str]) -> list[str]:
        return [check_api_key(v) for v in values]

    @field_validator("list_id")
    @classmethod
    def _valid_list_id(cls, value: str) -> str:
        if not LIST_ID_PATTERN.fullmatch(value):
            raise ValueError("a list id is 10 lowercase hex characters, e.g. a1b2c3d4e5")
        return value

    def new_list_merge_fields(self) -> list[MergeFieldSpec]:
        """The fields Mailchimp gives every new audience (BIRTHDAY only on newer accounts)."""
        return [f for f in DEFAULT_MERGE_FIELDS if self.include_birthday or f.tag != "BIRTHDAY"]

    def default_merge_fields(self) -> list[MergeFieldSpec]:
        """The default audience's fields: Mailchimp's defaults, COMPANY, then the configured extras."""
        extra_tags = {f.tag for f in self.merge_fields}
        defaults = [*self.new_list_merge_fields(), *([COMPANY_MERGE_FIELD] if self.include_company else [])]
        return [f for f in defaults if f.tag not in extra_tags] + list(self.merge_fields)
