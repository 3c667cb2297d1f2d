"""The tenant settings flags shared by `tenants add` and `tenants update`, and how they become a config.

Each flag maps to one (section, field) of TenantConfig; validation errors name the flag, not the field.
"""

import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import click
from pydantic import SecretStr, ValidationError

from oracle_mailchimp_dagster.errors import UserError
from oracle_mailchimp_dagster.store import SecretName
from oracle_mailchimp_dagster.sync.rules import InactiveAction, StatusIfNew
from oracle_mailchimp_dagster.tenants import consent
from oracle_mailchimp_dagster.tenants.credential_hosts import HostNaming
from oracle_mailchimp_dagster.tenants.env_file import ALERT_WEBHOOK_KEY, read_env_file, settings_from_env
from oracle_mailchimp_dagster.tenants.errors import TenantConfigError, describe_validation_error
from oracle_mailchimp_dagster.tenants.model import MailchimpAuthMode, OracleAuthMode, TenantConfig
from oracle_mailchimp_dagster.tenants.secret_rules import secret_problem
from oracle_mailchimp_dagster.tenants.shown import shown

F = TypeVar("F", bound=Callable[..., Any])

# CLI parameter -> its path in TenantConfig (section, field[, subfield]).
SETTING_PARAMS: dict[str, tuple[str, ...]] = {
    "oracle_base_url": ("oracle", "base_url"),
    "oracle_token_url": ("oracle", "token_url"),
    "oracle_scope": ("oracle", "scope"),
    "oracle_auth": ("oracle", "auth"),
    "oracle_client_id": ("oracle", "client_id"),
    "oracle_resource_path": ("oracle", "resource_path"),
    "oracle_framework_version": ("oracle", "framework_version"),
    "oracle_overlap_minutes": ("oracle", "overlap_minutes"),
    "oracle_page_size": ("oracle", "page_size"),
    "oracle_extract_concurrency": ("oracle", "extract_concurrency"),
    "mailchimp_list_id": ("mailchimp", "list_id"),
    "mailchimp_auth": ("mailchimp", "auth"),
    "mailchimp_api_base": ("mailchimp", "api_base"),
    "schedule": ("schedule", "cron"),
    "timezone": ("schedule", "timezone"),
    "status_if_new": ("policy", "status_if_new"),
    "inactive_action": ("policy", "inactive_action"),
    "inactive_tag": ("policy", "inactive_tag"),
    "max_removals": ("policy", "max_removals"),
    "max_removal_share": ("policy", "max_removal_share"),
    "retry_max_attempts": ("policy", "retry_max_attempts"),
    "reconcile_schedule": ("reconcile", "schedule", "cron"),
    "reconcile_timezone": ("reconcile", "schedule", "timezone"),
    "max_drift_rate": ("reconcile", "max_drift_rate"),
    "reconcile_repair": ("reconcile", "repair"),
    "recreate_missing": ("reconcile", "recreate_missing"),
    "restore_archived": ("reconcile", "restore_archived"),
}
# Validation errors name the flag a user typed, not the model path.
FLAG_FOR_FIELD = {".".join(path): "--" + param.replace("_", "-") for param, path in SETTING_PARAMS.items()}
FLAG_FOR_FIELD["display_name"] = "--display-name"
# The flags that give each secret (`--...-env VAR` or `--...-stdin`).
SECRET_FLAGS = {
    SecretName.ORACLE_CLIENT_SECRET: "--oracle-client-secret",
    SecretName.ORACLE_PASSWORD: "--oracle-password",
    SecretName.MAILCHIMP_API_KEY: "--mailchimp-api-key",
    SecretName.MAILCHIMP_OAUTH_TOKEN: "--mailchimp-oauth-token",
    SecretName.ALERT_WEBHOOK_URL: "--alert-webhook-url",
}
# Host-change refusals name the flags a user types.
CLI_NAMING = HostNaming(
    setting=lambda path: FLAG_FOR_FIELD.get(path, path),
    secret_sources=lambda name: f"{SECRET_FLAGS[name]}-env or {SECRET_FLAGS[name]}-stdin",
)


def _choices(enum: type[Any]) -> click.Choice[str]:
    return click.Choice([member.value for member in enum], case_sensitive=False)


def setting_options(command: F) -> F:
    """The tenant settings shared by `add` and `update` (all optional on update); `--status-if-new`
    is `status_option`, since it is required at `add`."""
    options = [
        click.option("--display-name", help="Human name (default: the id)."),
        click.option(
            "--env-file",
            type=click.Path(dir_okay=False, exists=True, path_type=Path),
            help="KEY=VALUE file (as `sandbox serve --env-file` writes) for the settings and secrets below; "
            "flags override it.",
        ),
        click.option(
            "--oracle-base-url",
            metavar="URL",
            help="The Fusion pod (https; http only for loopback). A new host needs the Oracle secret again.",
        ),
        click.option(
            "--oracle-token-url",
            metavar="URL",
            help="Identity domain token endpoint (oauth). A new host needs the client secret again.",
        ),
        click.option("--oracle-scope", metavar="S", help="OAuth scope (oauth)."),
        click.option("--oracle-auth", type=_choices(OracleAuthMode), help="oauth (default) or basic."),
        click.option(
            "--oracle-client-id",
            "--oracle-user",
            "oracle_client_id",
            metavar="ID",
            help="OAuth client id or basic user.",
        ),
        click.option(
            "--oracle-resource-path",
            metavar="PATH",
            help="Default /crmRestApi/resources/11.13.18.05/accounts.",
        ),
        click.option(
            "--oracle-framework-version", metavar="N", help="REST-Framework-Version (default 2: rowmatch q)."
        ),
        click.option("--oracle-overlap-minutes", type=click.IntRange(0, 1440), help="Look-back (default 5)."),
        click.option("--oracle-page-size", type=click.IntRange(1, 500), help="Rows per page (default 500)."),
        click.option(
            "--oracle-extract-concurrency",
            type=click.IntRange(1, 16),
            help="Pages read from Oracle at once, fewer while it throttles (default 4; 1: one at a time).",
        ),
        click.option("--mailchimp-list-id", metavar="L", help="The audience id."),
        click.option(
            "--mailchimp-auth", type=_choices(MailchimpAuthMode), help="api_key (default) or oauth."
        ),
        click.option(
            "--mailchimp-api-base",
            metavar="URL",
            help="Override the API base (sandbox, proxy), ending with /3.0; '' removes it. "
            "A host other than the key's data center needs the key again.",
        ),
        click.option("--schedule", metavar="CRON", help="5-field cron (default '*/15 * * * *')."),
        click.option("--timezone", metavar="TZ", help="IANA zone of the schedule (default UTC)."),
        click.option(
            "--inactive-action",
            type=_choices(InactiveAction),
            help="For inactivated customers (default unsubscribe).",
        ),
        click.option("--inactive-tag", metavar="TAG", help="Tag used by --inactive-action tag."),
        click.option("--max-removals", type=click.IntRange(min=0), help="Most removals one run may make."),
        click.option(
            "--max-removal-share",
            type=click.FloatRange(0, 1),
            help="Largest share of managed members one run may remove.",
        ),
        click.option(
            "--reconcile-schedule",
            metavar="CRON",
            help="5-field cron of the audience reconciliation (default '0 6 * * 1', weekly).",
        ),
        click.option(
            "--reconcile-timezone", metavar="TZ", help="IANA zone of --reconcile-schedule (default UTC)."
        ),
        click.option(
            "--max-drift-rate",
            type=click.FloatRange(0, 1),
            help="The drift check warns above this share of managed members (default 0.01).",
        ),
        click.option(
            "--reconcile-repair/--no-reconcile-repair",
            default=None,
            help="Scheduled reconciliations repair what drifted (default: report only).",
        ),
        click.option(
            "--recreate-missing/--no-recreate-missing",
            default=None,
            help="A repair re-creates members missing from the audience (default on).",
        ),
        click.option(
            "--restore-archived/--no-restore-archived",
            default=None,
            help="A repair restores members a person archived (default off: they stay archived).",
        ),
        click.option(
            "--retry-max-attempts",
            type=click.IntRange(1, 100),
            help="Dead-letter after N attempts (default 5).",
        ),
        click.option(
            "--oracle-client-secret-env",
            "--oracle-password-env",
            "oracle_secret_env",
            metavar="VAR",
            help="Environment variable holding the Oracle client secret (or basic password).",
        ),
        click.option(
            "--oracle-client-secret-stdin",
            "--oracle-password-stdin",
            "oracle_secret_stdin",
            is_flag=True,
            help="Read the Oracle secret from standard input.",
        ),
        click.option(
            "--mailchimp-api-key-env",
            "--mailchimp-oauth-token-env",
            "mailchimp_secret_env",
            metavar="VAR",
            help="Environment variable holding the Mailchimp API key (or OAuth token).",
        ),
        click.option(
            "--mailchimp-api-key-stdin",
            "--mailchimp-oauth-token-stdin",
            "mailchimp_secret_stdin",
            is_flag=True,
            help="Read the Mailchimp secret from standard input.",
        ),
        click.option(
            "--alert-webhook-url",
            "alert_webhook_url",
            metavar="URL",
            help="The tenant's alert webhook URL: failed runs, dead letters and a stale audience are "
            "posted there. A Slack webhook's URL is its token: prefer --alert-webhook-url-env or "
            "-stdin, which keep it out of shell history and the process list.",
        ),
        click.option(
            "--alert-webhook-url-env",
            "alert_webhook_env",
            metavar="VAR",
            help="Environment variable holding the tenant's alert webhook URL (a Slack incoming webhook or "
            "compatible; stored encrypted, as it carries a token): failed runs, dead letters and a stale "
            "audience are posted there.",
        ),
        click.option(
            "--alert-webhook-url-stdin",
            "alert_webhook_stdin",
            is_flag=True,
            help="Read the alert webhook URL from standard input.",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def status_option(*, adding: bool) -> Callable[[F], F]:
    """`--status-if-new`: required at `add` (the refusal and this help say what each status means for
    campaigns and consent, `tenants.consent`), kept as stored at `update` unless given."""
    when = (
        "Required: there is no default."
        if adding
        else "Kept as stored unless given; a change applies to members created from then on."
    )
    return click.option(
        "--status-if-new",
        type=_choices(StatusIfNew),
        help=f"Status the sync gives each member it creates. {when} {consent.choices()}; "
        f"{consent.EXISTING_KEEP}.",
    )


def require_status(params: Mapping[str, Any], tenant_id: str) -> None:
    """Refuse `tenants add` without --status-if-new, saying what each status means."""
    if params.get("status_if_new") is None:
        raise UserError(consent.status_required(f"tenants add {shown(tenant_id)}", "--status-if-new"))


def validate_config(data: dict[str, Any], tenant_id: str) -> TenantConfig:
    """The tenant config the merged settings describe, or a TenantConfigError naming the flags at fault."""
    try:
        return TenantConfig.model_validate(data)
    except ValidationError as exc:
        raise TenantConfigError(
            describe_validation_error(exc, f"tenant '{shown(tenant_id)}'", FLAG_FOR_FIELD)
        ) from None


def apply_settings(data: dict[str, Any], params: Mapping[str, Any]) -> dict[str, Any]:
    """Overlay the env file, then the flags, on a tenant's settings (an empty flag value clears it)."""
    merged = {key: dict(value) if isinstance(value, dict) else value for key, value in data.items()}
    env_file = params.get("env_file")
    if env_file is not None:
        for section, values in settings_from_env(read_env_file(env_file)).items():
            merged.setdefault(section, {}).update(values)
    for param, path in SETTING_PARAMS.items():
        value = params.get(param)
        if value is not None:
            _set(merged, path, None if value == "" else value)
    if params.get("display_name"):
        merged["display_name"] = params["display_name"]
    return merged


def _set(settings: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    """`value` at `path`, copying each dict on the way (the caller's nested settings stay as they were)."""
    node = settings
    for key in path[:-1]:
        child = node.get(key)
        node[key] = dict(child) if isinstance(child, dict) else {}
        node = node[key]
    node[path[-1]] = value


def read_alert_webhook(params: Mapping[str, Any]) -> SecretStr | None:
    """The alert webhook URL the flags (or the env file's ALERT_WEBHOOK_URL) give, checked; None when
    none is given. A refusal names the flag, never the URL (its path is a token)."""
    flag = SECRET_FLAGS[SecretName.ALERT_WEBHOOK_URL]
    env_var, direct = params.get("alert_webhook_env"), params.get("alert_webhook_url")
    if sum(bool(given) for given in (direct, env_var, params.get("alert_webhook_stdin"))) > 1:
        raise UserError(f"give the alert webhook URL once: {flag}, {flag}-env or {flag}-stdin")
    if params.get("alert_webhook_stdin") and (
        params.get("oracle_secret_stdin") or params.get("mailchimp_secret_stdin")
    ):
        raise UserError("only one secret can come from standard input; pass the other with --...-env VAR")
    if direct:
        value, source = direct, flag
    elif env_var:
        value, source = os.environ.get(env_var, ""), f"{flag}-env {env_var}"
        if not value:
            raise UserError(f"alert webhook URL: environment variable {env_var} is not set or empty")
    elif params.get("alert_webhook_stdin"):
        value, source = sys.stdin.read().rstrip("\r\n"), f"{flag}-stdin"
        if not value:
            raise UserError("alert webhook URL: nothing on standard input")
    elif params.get("env_file") and read_env_file(params["env_file"]).get(ALERT_WEBHOOK_KEY):
        value = read_env_file(params["env_file"])[ALERT_WEBHOOK_KEY]
        source = f"--env-file {params['env_file']} ({ALERT_WEBHOOK_KEY})"
    else:
        return None
    problem = secret_problem(SecretName.ALERT_WEBHOOK_URL, SecretStr(value))
    if problem is not None:
        raise UserError(f"{source}: {problem}")
    return SecretStr(value)
