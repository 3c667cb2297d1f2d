"""The clients' own settings built from a tenant, so a tenant is refused for whatever a client refuses.

`tenants add`, `update` and `import` validate with the models the clients use (`FusionConnection`,
`MailchimpConnection`): a setting that passed the tenant model but no client could use used to fail
the next sync after extraction, with the last line of a pydantic error. The connections of a run
(`tenants.connections`) are built by the same functions, so both always agree.
"""

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from annotated_types import Ge, Le
from pydantic import SecretStr, ValidationError

from oracle_mailchimp_dagster.fusion import (
    FusionBasicAuth,
    FusionClientOptions,
    FusionConnection,
    FusionOAuth,
)
from oracle_mailchimp_dagster.mailchimp import MailchimpConnection
from oracle_mailchimp_dagster.tenants.auth_modes import MailchimpAuthMode, OracleAuthMode

if TYPE_CHECKING:
    from oracle_mailchimp_dagster.tenants.model import MailchimpSettings, OracleSettings, TenantConfig

# Stand-ins while only the settings are checked (the secrets are checked when given).
PLACEHOLDER_SECRET = SecretStr("placeholder-secret")
PLACEHOLDER_API_KEY = SecretStr("0" * 32 + "-us1")

# The client models' fields, by where they live in the tenant configuration.
CLIENT_FIELD_PATHS = {
    "base_url": "oracle.base_url",
    "resource_path": "oracle.resource_path",
    "framework_version": "oracle.framework_version",
    "token_url": "oracle.token_url",
    "client_id": "oracle.client_id",
    "username": "oracle.client_id",
    "scope": "oracle.scope",
    "client_secret": "oracle.client_secret",
    "password": "oracle.password",
    "page_size": "oracle.page_size",
    "overlap": "oracle.overlap_minutes",
    "extract_concurrency": "oracle.extract_concurrency",
    "api_base": "mailchimp.api_base",
    "api_key": "mailchimp.api_key",
    "oauth_token": "mailchimp.oauth_token",
}


class ClientSettingError(ValueError):
    """A setting a client refuses; `path` is where it lives in the tenant configuration."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(message)
        self.path = path


def framework_versions() -> range:
    """The REST-Framework-Version values the Fusion client sends (Oracle documents 1 to 9)."""
    metadata = FusionConnection.model_fields["framework_version"].metadata
    low = next(int(m.ge) for m in metadata if isinstance(m, Ge))  # type: ignore[call-overload]
    high = next(int(m.le) for m in metadata if isinstance(m, Le))  # type: ignore[call-overload]
    return range(low, high + 1)


def _refusal(exc: ValidationError) -> ClientSettingError:
    """The client's first problem, located in the tenant configuration."""
    error = exc.errors(include_input=False)[0]
    fields = [part for part in error["loc"] if isinstance(part, str) and part in CLIENT_FIELD_PATHS]
    path = CLIENT_FIELD_PATHS[fields[-1]] if fields else "connection"
    message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
    return ClientSettingError(path, message)


def fusion_connection_for(tenant_id: str, oracle: "OracleSettings", secret: SecretStr) -> FusionConnection:
    """How the Fusion client reaches the tenant's pod with `secret` (client secret or password)."""
    auth: FusionOAuth | FusionBasicAuth
    try:
        if oracle.auth is OracleAuthMode.OAUTH:
            auth = FusionOAuth(
                token_url=oracle.token_url or "",
                client_id=oracle.client_id,
                client_secret=secret,
                scope=oracle.scope or "",
            )
        else:
            auth = FusionBasicAuth(username=oracle.client_id, password=secret)
        return FusionConnection(
            tenant=tenant_id,
            base_url=oracle.base_url,
            auth=auth,
            resource_path=oracle.resource_path,
            framework_version=int(oracle.framework_version),
        )
    except ValidationError as exc:
        raise _refusal(exc) from None


def fusion_options_for(oracle: "OracleSettings", **transport: Any) -> FusionClientOptions:
    """The Fusion client's options for the tenant's tuning (page size, look-back, concurrency), plus
    the deployment's `transport` options (retry, timeouts, max_response_bytes)."""
    try:
        return FusionClientOptions(
            page_size=oracle.page_size,
            overlap=timedelta(minutes=oracle.overlap_minutes),
            extract_concurrency=oracle.extract_concurrency,
            **transport,
        )
    except ValidationError as exc:
        raise _refusal(exc) from None


def mailchimp_connection_for(mailchimp: "MailchimpSettings", secret: SecretStr) -> MailchimpConnection:
    """How the Mailchimp client reaches the tenant's account with `secret` (API key or OAuth token)."""
    try:
        if mailchimp.auth is MailchimpAuthMode.API_KEY:
            return MailchimpConnection(api_key=secret, api_base=mailchimp.api_base)
        return MailchimpConnection(oauth_token=secret, api_base=mailchimp.api_base)
    except ValidationError as exc:
        raise _refusal(exc) from None


def check_client_settings(config: "TenantConfig") -> None:
    """Raise `ClientSettingError` for the first setting either client would refuse."""
    fusion_connection_for(config.id, config.oracle, PLACEHOLDER_SECRET)
    fusion_options_for(config.oracle)
    api_key = config.mailchimp.auth is MailchimpAuthMode.API_KEY
    mailchimp_connection_for(config.mailchimp, PLACEHOLDER_API_KEY if api_key else PLACEHOLDER_SECRET)
