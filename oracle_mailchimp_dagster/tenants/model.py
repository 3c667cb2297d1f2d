"""A tenant's non-secret configuration: where its Oracle pod and Mailchimp audience are, and the rules.

Secrets are not fields here: the registry stores them encrypted and hands them out one at a time.
Every field validates with a message that says what is wrong and what is allowed.
"""

import ipaddress
import re
import zoneinfo
from enum import StrEnum
from typing import Annotated, Any
from urllib.parse import urlsplit

from croniter import croniter
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from oracle_mailchimp_dagster.http.redaction import redact
from oracle_mailchimp_dagster.store.records import SecretName
from oracle_mailchimp_dagster.sync.rules import StatusIfNew, SyncPolicy
from oracle_mailchimp_dagster.tenants.mapping import FieldMapping, TagRule, default_merge_fields

TENANT_ID_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
LIST_ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "::1"}

DEFAULT_RESOURCE_PATH = "/crmRestApi/resources/11.13.18.05/accounts"
# v2 selects the SQL-like "rowmatch" q syntax (LastUpdateDate > '...'); v1 is query-by-example.
DEFAULT_FRAMEWORK_VERSION = "2"
DEFAULT_CRON = "*/15 * * * *"
# The merge fields Mailchimp gives every new audience (BIRTHDAY only on newer accounts).
DEFAULT_AUDIENCE_FIELDS = frozenset({"FNAME", "LNAME", "ADDRESS", "PHONE"})


class Strict(BaseModel):
    """Frozen, and unknown keys are errors (a typo in YAML must not silently fall back to a default)."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


def is_loopback(host: str) -> bool:
    """localhost or a loopback address: the only hosts plain http may reach (sandbox, tunnels)."""
    if host in LOOPBACK_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def service_url(value: str) -> str:
    """An absolute http(s) URL without query or fragment; https unless the host is loopback."""
    parts = urlsplit(value)
    shown = redact(value)  # never echo a password in userinfo or a token in the query
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"'{shown}' is not an absolute http(s) URL")
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise ValueError(
            f"'{shown}' must use https (plain http is allowed only for localhost, 127.0.0.1 and ::1)"
        )
    if parts.query or parts.fragment:
        raise ValueError(f"'{shown}' must not have a query string or fragment")
    if parts.username or parts.password:
        raise ValueError("the URL must not contain credentials; pass them as secrets")
    return value.rstrip("/")


def _slug(value: str) -> str:
    if not TENANT_ID_PATTERN.match(value):
        raise ValueError(
            f"'{value}' is not a tenant id: use 1-63 lowercase letters, digits and hyphens, "
            "starting and ending with a letter or digit"
        )
    return value


ServiceUrl = Annotated[str, AfterValidator(service_url)]
TenantId = Annotated[str, AfterValidator(_slug)]


class OracleAuthMode(StrEnum):
    OAUTH = "oauth"
    BASIC = "basic"


class MailchimpAuthMode(StrEnum):
    API_KEY = "api_key"
    OAUTH = "oauth"


class OracleSettings(Strict):
    base_url: ServiceUrl = Field(description="The Fusion pod, e.g. https://acme.fa.us2.oraclecloud.com")
    auth: OracleAuthMode = OracleAuthMode.OAUTH
    token_url: ServiceUrl | None = Field(default=None, description="Identity domain token endpoint (oauth)")
    scope: str | None = Field(
        default=None, description="OAuth scope, e.g. urn:opc:resource:fa:instanceid=..."
    )
    client_id: str = Field(min_length=1, description="OAuth client id, or the Fusion user for basic auth")
    resource_path: str = DEFAULT_RESOURCE_PATH
    framework_version: str = Field(
        default=DEFAULT_FRAMEWORK_VERSION, description="REST-Framework-Version; 2+ uses rowmatch q syntax"
    )
    overlap_minutes: int = Field(default=5, ge=0, le=1440, description="Look-back before the high-water mark")
    page_size: int = Field(default=500, ge=1, le=500, description="Rows per page (Fusion caps at 500)")

    @field_validator("resource_path")
    @classmethod
    def _path(cls, value: str) -> str:
        if not value.startswith("/") or "?" in value or "#" in value or " " in value:
            raise ValueError(f"'{value}' is not a resource path (it starts with /, no query string)")
        return value.rstrip("/")

    @field_validator("framework_version")
    @classmethod
    def _version(cls, value: str) -> str:
        if not value.isdigit() or int(value) < 1:
            raise ValueError(f"'{value}' is not a REST framework version (a whole number from 1)")
        return str(int(value))

    @model_validator(mode="after")
    def _oauth_needs_token_endpoint(self) -> "OracleSettings":
        if self.auth is OracleAuthMode.OAUTH:
            missing = [name for name in ("token_url", "scope") if not getattr(self, name)]
            if missing:
                raise ValueError(f"oauth needs {' and '.join(missing)} (or use auth basic)")
        return self

    @property
    def secret_name(self) -> SecretName:
        if self.auth is OracleAuthMode.OAUTH:
            return SecretName.ORACLE_CLIENT_SECRET
        return SecretName.ORACLE_PASSWORD


class MailchimpSettings(Strict):
    list_id: str = Field(description="The audience (list) id")
    auth: MailchimpAuthMode = MailchimpAuthMode.API_KEY
    api_base: ServiceUrl | None = Field(
        default=None, description="Override https://<dc>.api.mailchimp.com/3.0 (the sandbox, a proxy)"
    )

    @field_validator("list_id")
    @classmethod
    def _list_id(cls, value: str) -> str:
        if not LIST_ID_PATTERN.match(value):
            raise ValueError(
                f"'{value}' is not a Mailchimp audience id (letters and digits, e.g. a1b2c3d4e5)"
            )
        return value

    @property
    def secret_name(self) -> SecretName:
        if self.auth is MailchimpAuthMode.API_KEY:
            return SecretName.MAILCHIMP_API_KEY
        return SecretName.MAILCHIMP_OAUTH_TOKEN


class Schedule(Strict):
    cron: str = DEFAULT_CRON
    timezone: str = "UTC"

    @field_validator("cron")
    @classmethod
    def _cron(cls, value: str) -> str:
        if len(value.split()) != 5 or not croniter.is_valid(value):
            raise ValueError(f"'{value}' is not a 5-field cron expression (e.g. '*/15 * * * *')")
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"'{value}' is not an IANA time zone (e.g. UTC, Europe/Paris)") from None
        return value


class TenantPolicy(SyncPolicy):
    """The sync policy (see `sync.rules.SyncPolicy`) plus retries; unknown keys are errors.

    `status_if_new` defaults to "transactional" here: an ERP customer record is not marketing consent.
    Transactional adds the contact without subscribing or emailing it; choose "subscribed" only when
    Oracle holds consent, "pending" to send Mailchimp's double opt-in email. Existing members' status
    is never changed by a sync.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    status_if_new: StatusIfNew = StatusIfNew.TRANSACTIONAL
    retry_max_attempts: int = Field(
        default=5, ge=1, le=100, description="Dead-letter after this many attempts"
    )


def tenant_merge_fields() -> dict[str, str]:
    """The sync defaults restricted to the merge fields every new audience has (no COMPANY)."""
    return {tag: source for tag, source in default_merge_fields().items() if tag in DEFAULT_AUDIENCE_FIELDS}


class TenantMapping(FieldMapping):
    """Merge tag -> Oracle attribute or derived source, and tag rules (see `tenants.mapping.FieldMapping`).

    Defaults: FNAME/LNAME from PrimaryContactName, PHONE from FormattedPhoneNumber, ADDRESS from the
    billing address, tags `segment:<CustomerClassCode>` and `type:<customer|prospect>`. Add e.g.
    `COMPANY: OrganizationName` once the audience has that field (`tenants test` checks).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    merge_fields: dict[str, str] = Field(default_factory=tenant_merge_fields)

    @field_validator("tag_rules", mode="before")
    @classmethod
    def _known_rule_keys(cls, value: Any) -> Any:
        for rule in value if isinstance(value, list) else []:
            unknown = sorted(set(rule) - set(TagRule.model_fields)) if isinstance(rule, dict) else []
            if unknown:
                raise ValueError(
                    f"unknown tag rule setting {', '.join(unknown)} (allowed: attribute, prefix, values)"
                )
        return value


def mapping_with_company() -> TenantMapping:
    """The default mapping plus COMPANY from OrganizationName, for audiences that have that field."""
    return TenantMapping(merge_fields={**tenant_merge_fields(), "COMPANY": "OrganizationName"})


class TenantConfig(Strict):
    id: TenantId
    display_name: str = Field(default="", max_length=200)
    enabled: bool = True
    oracle: OracleSettings
    mailchimp: MailchimpSettings
    schedule: Schedule = Schedule()
    policy: TenantPolicy = TenantPolicy()
    mapping: TenantMapping = TenantMapping()

    @model_validator(mode="before")
    @classmethod
    def _display_name_defaults_to_id(cls, data: Any) -> Any:
        if isinstance(data, dict) and not data.get("display_name") and isinstance(data.get("id"), str):
            return {**data, "display_name": data["id"]}
        return data

    def required_secrets(self) -> tuple[SecretName, SecretName]:
        """The credentials this tenant's auth modes need: (Oracle, Mailchimp)."""
        return (self.oracle.secret_name, self.mailchimp.secret_name)

    def stored_config(self) -> dict[str, Any]:
        """What goes in `tenants.config` (id, display name and enabled have their own columns)."""
        return self.model_dump(mode="json", exclude={"id", "display_name", "enabled"})

    @classmethod
    def from_stored(
        cls, tenant_id: str, display_name: str, enabled: bool, config: dict[str, Any]
    ) -> "TenantConfig":
        return cls.model_validate(
            {**config, "id": tenant_id, "display_name": display_name, "enabled": enabled}
        )
