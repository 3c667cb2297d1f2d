"""`oracle-mailchimp tenants`: register, inspect, change, remove, import and test tenants.

Secrets come from an environment variable (`--...-env VAR`), standard input (`--...-stdin`), the
sandbox env file (`--env-file`) or a hidden prompt, never from the command line itself.
"""

import json
import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import click
import yaml
from pydantic import SecretStr, ValidationError

from oracle_mailchimp_dagster.diagnostics.checks import render_report, report_json, run_checks
from oracle_mailchimp_dagster.diagnostics.probes import connect_probes
from oracle_mailchimp_dagster.errors import UserError
from oracle_mailchimp_dagster.secrets.keystore import KEYS_HELP
from oracle_mailchimp_dagster.store import LOCATION_HELP, SecretName, SyncStore, TenantExistsError
from oracle_mailchimp_dagster.sync.rules import InactiveAction, StatusIfNew
from oracle_mailchimp_dagster.tenants.env_file import (
    MAILCHIMP_SECRET_KEY,
    ORACLE_SECRET_KEY,
    read_env_file,
    settings_from_env,
)
from oracle_mailchimp_dagster.tenants.errors import TenantConfigError, describe_validation_error
from oracle_mailchimp_dagster.tenants.model import MailchimpAuthMode, OracleAuthMode, TenantConfig
from oracle_mailchimp_dagster.tenants.registry import TenantRegistry, open_registry
from oracle_mailchimp_dagster.tenants.yaml_import import load_tenant_file

F = TypeVar("F", bound=Callable[..., Any])

# CLI parameter -> (section, field) of TenantConfig.
SETTING_PARAMS: dict[str, tuple[str, str]] = {
    "oracle_base_url": ("oracle", "base_url"),
    "oracle_token_url": ("oracle", "token_url"),
    "oracle_scope": ("oracle", "scope"),
    "oracle_auth": ("oracle", "auth"),
    "oracle_client_id": ("oracle", "client_id"),
    "oracle_resource_path": ("oracle", "resource_path"),
    "oracle_framework_version": ("oracle", "framework_version"),
    "oracle_overlap_minutes": ("oracle", "overlap_minutes"),
    "oracle_page_size": ("oracle", "page_size"),
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
}
# Validation errors name the flag a user typed, not the model path.
FLAG_FOR_FIELD = {
    f"{section}.{field}": "--" + param.replace("_", "-") for param, (section, field) in SETTING_PARAMS.items()
}
FLAG_FOR_FIELD["display_name"] = "--display-name"

GROUP_HELP = f"{LOCATION_HELP}\n\n{KEYS_HELP}"


def _choices(enum: type[Any]) -> click.Choice[str]:
    return click.Choice([member.value for member in enum], case_sensitive=False)


def setting_options(command: F) -> F:
    """The tenant settings shared by `add` and `update` (all optional on update)."""
    options = [
        click.option("--display-name", help="Human name (default: the id)."),
        click.option(
            "--env-file",
            type=click.Path(dir_okay=False, exists=True, path_type=Path),
            help="KEY=VALUE file (as `sandbox serve --env-file` writes) for the settings and secrets below; "
            "flags override it.",
        ),
        click.option(
            "--oracle-base-url", metavar="URL", help="The Fusion pod (https; http only for loopback)."
        ),
        click.option("--oracle-token-url", metavar="URL", help="Identity domain token endpoint (oauth)."),
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
        click.option("--mailchimp-list-id", metavar="L", help="The audience id."),
        click.option(
            "--mailchimp-auth", type=_choices(MailchimpAuthMode), help="api_key (default) or oauth."
        ),
        click.option(
            "--mailchimp-api-base",
            metavar="URL",
            help="Override the API base (sandbox, proxy); '' removes it.",
        ),
        click.option("--schedule", metavar="CRON", help="5-field cron (default '*/15 * * * *')."),
        click.option("--timezone", metavar="TZ", help="IANA zone of the schedule (default UTC)."),
        click.option(
            "--status-if-new",
            type=_choices(StatusIfNew),
            help="Status of new members (default transactional).",
        ),
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
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _validate(data: dict[str, Any], tenant_id: str) -> TenantConfig:
    try:
        return TenantConfig.model_validate(data)
    except ValidationError as exc:
        raise TenantConfigError(
            describe_validation_error(exc, f"tenant '{tenant_id}'", FLAG_FOR_FIELD)
        ) from None


def _apply_settings(data: dict[str, Any], params: Mapping[str, Any]) -> dict[str, Any]:
    """Overlay the env file, then the flags, on a tenant's settings (an empty flag value clears it)."""
    merged = {key: dict(value) if isinstance(value, dict) else value for key, value in data.items()}
    env_file = params.get("env_file")
    if env_file is not None:
        for section, values in settings_from_env(read_env_file(env_file)).items():
            merged.setdefault(section, {}).update(values)
    for param, (section, field) in SETTING_PARAMS.items():
        value = params.get(param)
        if value is not None:
            merged.setdefault(section, {})[field] = None if value == "" else value
    if params.get("display_name"):
        merged["display_name"] = params["display_name"]
    return merged


def _read_secret(
    what: str, env_var: str | None, from_stdin: bool, file_value: str | None, *, prompt: bool
) -> SecretStr | None:
    """One secret from its variable, stdin, the env file or a hidden prompt; None when not given."""
    if env_var:
        value = os.environ.get(env_var, "")
        if not value:
            raise UserError(f"{what}: environment variable {env_var} is not set or empty")
        return SecretStr(value)
    if from_stdin:
        value = sys.stdin.read().rstrip("\r\n")
        if not value:
            raise UserError(f"{what}: nothing on standard input")
        return SecretStr(value)
    if file_value:
        return SecretStr(file_value)
    if prompt:
        if not sys.stdin.isatty():
            return None
        return SecretStr(click.prompt(what, hide_input=True))
    return None


def _secrets(params: Mapping[str, Any], config: TenantConfig, *, prompt: bool) -> dict[SecretName, SecretStr]:
    if params.get("oracle_secret_stdin") and params.get("mailchimp_secret_stdin"):
        raise UserError("only one secret can come from standard input; pass the other with --...-env VAR")
    file_values = read_env_file(params["env_file"]) if params.get("env_file") else {}
    oracle_what = "Oracle password" if config.oracle.auth is OracleAuthMode.BASIC else "Oracle client secret"
    mailchimp_what = (
        "Mailchimp API key" if config.mailchimp.auth is MailchimpAuthMode.API_KEY else "Mailchimp OAuth token"
    )
    wanted = [
        (config.oracle.secret_name, oracle_what, "oracle", file_values.get(ORACLE_SECRET_KEY)),
        (config.mailchimp.secret_name, mailchimp_what, "mailchimp", file_values.get(MAILCHIMP_SECRET_KEY)),
    ]
    secrets: dict[SecretName, SecretStr] = {}
    for name, what, role, file_value in wanted:
        value = _read_secret(
            what,
            params.get(f"{role}_secret_env"),
            bool(params.get(f"{role}_secret_stdin")),
            file_value,
            prompt=prompt,
        )
        if value is not None:
            secrets[name] = value
        elif prompt:
            flag = "--oracle-client-secret" if role == "oracle" else "--mailchimp-api-key"
            raise UserError(
                f"no {what} given: pass {flag}-env VAR, {flag}-stdin or --env-file (or run interactively)"
            )
    return secrets


@click.group(epilog=GROUP_HELP)
def tenants() -> None:
    """Tenants: one Oracle pod and one Mailchimp audience each, with credentials stored encrypted."""


@tenants.command()
@click.argument("tenant_id", metavar="ID")
@setting_options
@click.option("--disabled", is_flag=True, help="Register it without scheduling it.")
def add(tenant_id: str, disabled: bool, **params: Any) -> None:
    """Register a tenant (settings from flags and/or --env-file; secrets never on the command line)."""
    with open_registry() as registry:
        if registry.exists(tenant_id):
            raise TenantExistsError(tenant_id)
        data = _apply_settings({"id": tenant_id, "enabled": not disabled}, params)
        config = _validate(data, tenant_id)
        registry.add(config, _secrets(params, config, prompt=True))
    click.echo(
        f"added tenant {config.id}: Oracle {config.oracle.base_url}, Mailchimp audience "
        f"{config.mailchimp.list_id}, every '{config.schedule.cron}' ({config.schedule.timezone})"
    )
    click.echo(f"check it end to end: oracle-mailchimp tenants test {config.id}")


@tenants.command()
@click.argument("tenant_id", metavar="ID")
@setting_options
@click.option(
    "--enable/--disable", "enabled", default=None, help="Schedule the tenant, or stop scheduling it."
)
def update(tenant_id: str, enabled: bool | None, **params: Any) -> None:
    """Change some settings or secrets of a tenant; everything not given stays as it is."""
    with open_registry() as registry:
        current = registry.get(tenant_id)
        data = _apply_settings(current.model_dump(mode="json"), params)
        if enabled is not None:
            data["enabled"] = enabled
        config = _validate(data, tenant_id)
        secrets = _secrets(params, config, prompt=False)
        registry.update(config, secrets)
    changed = ", ".join(name.value for name in secrets)
    click.echo(f"updated tenant {config.id}" + (f" (new {changed})" if changed else ""))


@tenants.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
def list_tenants(as_json: bool) -> None:
    """Every tenant, one per line."""
    with open_registry() as registry:
        configs = registry.list_all()
    if as_json:
        click.echo(json.dumps([c.model_dump(mode="json") for c in configs], indent=2))
        return
    if not configs:
        click.echo("no tenants yet: oracle-mailchimp tenants add ID ... (see --help)")
        return
    header = ("ID", "NAME", "ENABLED", "SCHEDULE", "ORACLE POD", "AUDIENCE")
    table = [header] + [
        (
            c.id,
            c.display_name,
            "yes" if c.enabled else "no",
            f"{c.schedule.cron} {c.schedule.timezone}",
            c.oracle.base_url,
            c.mailchimp.list_id,
        )
        for c in configs
    ]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for row in table:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())


def _show_payload(registry: TenantRegistry, config: TenantConfig) -> dict[str, Any]:
    state = SyncStore(registry.db).marks.state(config.id)
    return {
        "tenant": config.model_dump(mode="json"),
        "secrets": [
            {"name": info.name.value, "key_id": info.key_id, "updated_at": info.updated_at.isoformat()}
            for info in registry.secret_info(config.id)
        ],
        "sync_state": None
        if state is None
        else {
            "mark_timestamp": state.mark.timestamp.isoformat() if state.mark else None,
            "mark_key": state.mark.key if state.mark else None,
            "last_run_id": state.last_run_id,
            "last_run_at": state.last_run_at.isoformat() if state.last_run_at else None,
        },
    }


@tenants.command()
@click.argument("tenant_id", metavar="ID")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
def show(tenant_id: str, as_json: bool) -> None:
    """A tenant's settings (as importable YAML), which secrets are stored, and its sync state."""
    with open_registry() as registry:
        payload = _show_payload(registry, registry.get(tenant_id))
    if as_json:
        click.echo(json.dumps(payload, indent=2))
        return
    click.echo(yaml.safe_dump(payload["tenant"], sort_keys=False).rstrip())
    click.echo("# secrets (encrypted in the database; values are never shown):")
    for secret in payload["secrets"]:
        click.echo(f"#   {secret['name']}: key {secret['key_id']}, updated {secret['updated_at']}")
    state = payload["sync_state"]
    if state is None or state["mark_timestamp"] is None:
        click.echo("# sync: no committed run yet")
    else:
        click.echo(
            f"# sync: mark {state['mark_timestamp']} (PartyId {state['mark_key']}), "
            f"last run {state['last_run_id']} at {state['last_run_at']}"
        )


@tenants.command()
@click.argument("tenant_id", metavar="ID")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def remove(tenant_id: str, yes: bool) -> None:
    """Delete a tenant, its secrets and its sync state (its ledger rows stay for audit)."""
    with open_registry() as registry:
        registry.get(tenant_id)
        if not yes:
            if not sys.stdin.isatty():
                raise UserError(
                    f"removing tenant '{tenant_id}' deletes its secrets and sync state: add --yes"
                )
            click.confirm(f"Remove tenant {tenant_id}, its secrets and its sync state?", abort=True)
        registry.remove(tenant_id)
    click.echo(f"removed tenant {tenant_id} (its ledger rows are kept)")


@tenants.command("import")
@click.argument("file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
def import_tenants(file: Path) -> None:
    """Create or update the tenants of a YAML file, all in one transaction.

    Secrets are referenced by environment variable name (oracle.client_secret_env or password_env,
    mailchimp.api_key_env or oauth_token_env); see `oracle_mailchimp_dagster/tenants/yaml_import.py`.
    """
    entries = load_tenant_file(file, os.environ)
    with open_registry() as registry:
        result = registry.import_tenants(entries)
    click.echo(
        f"imported {len(entries)} tenant(s) from {file}: "
        f"created {', '.join(result.created) or 'none'}; updated {', '.join(result.updated) or 'none'}"
    )


class ChecksFailedError(UserError):
    """`tenants test` found problems (the report above says which, and how to fix them)."""

    exit_code = 1


@tenants.command()
@click.argument("tenant_id", metavar="ID")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
def test(tenant_id: str, as_json: bool) -> None:
    """Check a tenant end to end: Oracle token and one-row query, Mailchimp ping, audience, merge fields.

    Prints each check and the fix for each failure; exits 1 if any failed.
    """
    with open_registry() as registry:
        config = registry.get(tenant_id)
        oracle, mailchimp, secrets = connect_probes(config, registry)
        results = run_checks(config, oracle, mailchimp, secrets)
    click.echo(report_json(config, results) if as_json else render_report(config, results))
    failed = sum(not result.ok for result in results)
    if failed:
        raise ChecksFailedError(f"{failed} of {len(results)} checks failed for tenant '{tenant_id}'")
