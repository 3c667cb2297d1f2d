"""A tenant's non-secret configuration: where its Oracle pod and Mailchimp audience are, and the rules.

Secrets are not fields here: the registry stores them encrypted and hands them out one at a time.
Every field validates with a message that says what is wrong and what is allowed; the URL rules are in
`tenants.hosts`, the text rules in `tenants.text_rules`, and a tenant is also checked with the clients'
own settings models (`tenants.client_settings`), so nothing a client would refuse is stored.
"""

import re
import zoneinfo
from typing import Annotated, Any

from croniter import croniter
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from oracle_mailchimp_dagster.fusion import DEFAULT_EXTRACT_CONCURRENCY, MAX_EXTRACT_CONCURRENCY
from oracle_mailchimp_dagster.store.records import SecretName
from oracle_mailchimp_dagster.sync.rules import StatusIfNew, SyncPolicy
from oracle_mailchimp_dagster.tenants import text_rules
from oracle_mailchimp_dagster.tenants.auth_modes import MailchimpAuthMode, OracleAuthMode
from oracle_mailchimp_dagster.tenants.client_settings import check_client_settings, framework_versions
from oracle_mailchimp_dagster.tenants.hosts import mailchimp_api_base, service_url
from oracle_mailchimp_dagster.tenants.mapping import FieldMapping, TagRule, default_merge_fields
from oracle_mailchimp_dagster.tenants.shown import shown

TENANT_ID_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
LIST_ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")

DEFAULT_RESOURCE_PATH = "/crmRestApi/resources/11.13.18.05/accounts"
# v2 selects the SQL-like "rowmatch" q syntax (LastUpdateDate > '...'); v1 is query-by-example.
DEFAULT_FRAMEWORK_VERSION = "2"
DEFAULT_CRON = "*/15 * * * *"
# The merge fields Mailchimp gives every new audience (BIRTHDAY only on newer accounts).
DEFAULT_AUDIENCE_FIELDS = frozenset({"FNAME", "LNAME", "ADDRESS", "PHONE"})
# A pydantic error never carries the input: a URL may hold a password, a value may be megabytes long.
HIDE_INPUT = ConfigDict(hide_input_in_errors=True)


class Strict(BaseModel):
    """Frozen, and unknown keys are errors (a typo in YAML must not silently fall back to a default)."""

    model_config = ConfigDict(
        frozen=True, extra="forbid", str_strip_whitespace=True, hide_input_in_errors=True
    )


def tenant_id(value: str) -> str:
    """A tenant id: a DNS-label-like slug (it names Dagster partitions, run tags and file paths)."""
    if not TENANT_ID_PATTERN.match(value):
        raise ValueError(
            f"'{shown(value)}' is not a tenant id: use 1-63 lowercase letters, digits and hyphens, "
            "starting and ending with a letter or digit"
        )
    return value


ServiceUrl = Annotated[str, AfterValidator(service_url)]
ApiBaseUrl = Annotated[str, AfterValidator(mailchimp_api_base)]
TenantId = Annotated[str, AfterValidator(tenant_id)]


class OracleSettings(Strict):
    base_url: ServiceUrl = Field(description="The Fusion pod, e.g. https://acme.fa.us2.oraclecloud.com")
    auth: OracleAuthMode = OracleAuthMode.OAUTH
    token_url: ServiceUrl | None = Field(default=None, description="Identity domain token endpoint (oauth)")
    scope: Annotated[str, AfterValidator(text_rules.oauth_scope)] | None = Field(
        default=None, description="OAuth scope, e.g. urn:opc:resource:fa:instanceid=..."
    )
    client_id: Annotated[str, AfterValidator(text_rules.client_id)] = Field(
        min_length=1, description="OAuth client id, or the Fusion user for basic auth"
    )
    resource_path: str = DEFAULT_RESOURCE_PATH
    framework_version: str = Field(
        default=DEFAULT_FRAMEWORK_VERSION, description="REST-Framework-Version; 2+ uses rowmatch q syntax"
    )
    overlap_minutes: int = Field(default=5, ge=0, le=1440, description="Look-back before the high-water mark")
    page_size: int = Field(default=500, ge=1, le=500, description="Rows per page (Fusion caps at 500)")
    extract_concurrency: int = Field(
        default=DEFAULT_EXTRACT_CONCURRENCY,
        ge=1,
        le=MAX_EXTRACT_CONCURRENCY,
        description="Pages read from Oracle at once: the window is cut into LastUpdateDate slices read "
        "in parallel, fewer while the pod throttles (429, 5xx) or slows down; 1 reads one page at a time. "
        f"At most {MAX_EXTRACT_CONCURRENCY}: a pod is shared with the tenant's users and publishes no "
        "rate limit, and past a handful its pages only get slower",
    )

    @field_validator("resource_path")
    @classmethod
    def _path(cls, value: str) -> str:
        return text_rules.resource_path(value)

    @field_validator("framework_version")
    @classmethod
    def _version(cls, value: str) -> str:
        versions = framework_versions()
        if not (value.isascii() and value.isdigit() and len(value) < 4 and int(value) in versions):
            raise ValueError(
                f"'{shown(value)}' is not a REST framework version Oracle has "
                f"(a whole number from {versions[0]} to {versions[-1]})"
            )
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
    api_base: ApiBaseUrl | None = Field(
        default=None, description="Override https://<dc>.api.mailchimp.com/3.0 (the sandbox, a proxy)"
    )

    @field_validator("list_id")
    @classmethod
    def _list_id(cls, value: str) -> str:
        if not LIST_ID_PATTERN.match(value):
            raise ValueError(
                f"'{shown(value)}' is not a Mailchimp audience id (letters and digits, e.g. a1b2c3d4e5)"
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
            raise ValueError(f"'{shown(value)}' is not a 5-field cron expression (e.g. '*/15 * * * *')")
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"'{shown(value)}' is not an IANA time zone (e.g. UTC, Europe/Paris)") from None
        return value


# Monday 06:00: a weekly reconciliation, before the working week's campaigns.
DEFAULT_RECONCILE_CRON = "0 6 * * 1"


class ReconcileSettings(Strict):
    """When and how the audience is reconciled with the member state (`oracle-mailchimp reconcile`).

    Repair is off by default: a reconciliation reports drift; with `repair` it re-sends stale merge
    fields and managed tags and re-creates missing members (`recreate_missing`). A member a person
    archived stays archived unless `restore_archived`. Statuses are never changed by a repair.
    """

    schedule: Schedule = Schedule(cron=DEFAULT_RECONCILE_CRON)
    max_drift_rate: float = Field(
        default=0.01, ge=0, le=1, description="The drift check warns above this share of managed members"
    )
    repair: bool = False
    recreate_missing: bool = True
    restore_archived: bool = False


class TenantPolicy(SyncPolicy):
    """The sync policy (see `sync.rules.SyncPolicy`) plus retries; unknown keys are errors.

    `status_if_new` defaults to "transactional" for tenants built in code: an ERP customer record is
    not marketing consent. Transactional adds the contact without subscribing or emailing it, and it
    cannot receive campaigns; "subscribed" only when Oracle holds consent, "pending" to send
    Mailchimp's double opt-in email. Existing members' status is never changed by a sync. Where a
    person registers a tenant (`tenants add`, a new tenant in `tenants import`, the demo) the status
    is stated, never defaulted (`tenants.consent`).
    """

    model_config = ConfigDict(frozen=True, extra="forbid", **HIDE_INPUT)

    status_if_new: StatusIfNew = StatusIfNew.TRANSACTIONAL
    retry_max_attempts: int = Field(
        default=5, ge=1, le=100, description="Dead-letter after this many attempts"
    )

    @field_validator("inactive_tag")
    @classmethod
    def _plain_tag(cls, value: str) -> str:
        return text_rules.plain_text(value)


def tenant_merge_fields() -> dict[str, str]:
    """The sync defaults restricted to the merge fields every new audience has (no COMPANY)."""
    return {tag: source for tag, source in default_merge_fields().items() if tag in DEFAULT_AUDIENCE_FIELDS}


class TenantMapping(FieldMapping):
    """Merge tag -> Oracle attribute or derived source, and tag rules (see `tenants.mapping.FieldMapping`).

    Defaults: FNAME/LNAME from PrimaryContactName, PHONE from FormattedPhoneNumber, ADDRESS from the
    billing address, tags `segment:<CustomerClassCode>` and `type:<customer|prospect>`. Add e.g.
    `COMPANY: OrganizationName` once the audience has that field (`tenants test` checks).
    """

    model_config = ConfigDict(frozen=True, extra="forbid", **HIDE_INPUT)

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
    display_name: Annotated[str, AfterValidator(text_rules.display_name)] = ""
    enabled: bool = True
    oracle: OracleSettings
    mailchimp: MailchimpSettings
    schedule: Schedule = Schedule()
    reconcile: ReconcileSettings = ReconcileSettings()
    policy: TenantPolicy = TenantPolicy()
    mapping: TenantMapping = TenantMapping()

    @model_validator(mode="before")
    @classmethod
    def _display_name_defaults_to_id(cls, data: Any) -> Any:
        tenant = data.get("id") if isinstance(data, dict) else None
        if isinstance(tenant, str) and TENANT_ID_PATTERN.match(tenant) and not data.get("display_name"):
            return {**data, "display_name": tenant}
        return data

    @model_validator(mode="after")
    def _clients_accept_it(self) -> "TenantConfig":
        """Whatever the Fusion or Mailchimp client would refuse is refused now, not after extraction."""
        check_client_settings(self)
        return self

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
