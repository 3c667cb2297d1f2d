"""`oracle-mailchimp tenants`: register, inspect, change, remove, import and test tenants.

Secrets come from an environment variable (`--...-env VAR`), standard input (`--...-stdin`), the
sandbox env file (`--env-file`) or a hidden prompt, never from the command line itself.
"""

import json
import os
import sys
from pathlib import Path
from typing import Any

import click
import yaml

from oracle_mailchimp_dagster.cli.tenant_secrets import read_secrets
from oracle_mailchimp_dagster.cli.tenant_settings import (
    CLI_NAMING,
    apply_settings,
    read_alert_webhook,
    require_status,
    setting_options,
    status_option,
    validate_config,
)
from oracle_mailchimp_dagster.diagnostics.checks import render_report, report_json, run_checks
from oracle_mailchimp_dagster.diagnostics.probes import connect_probes
from oracle_mailchimp_dagster.errors import UserError
from oracle_mailchimp_dagster.secrets.keystore import KEYS_HELP
from oracle_mailchimp_dagster.store import (
    LOCATION_HELP,
    SecretName,
    SyncStore,
    TenantExistsError,
    TenantNotFoundError,
)
from oracle_mailchimp_dagster.store.reset import StateReset
from oracle_mailchimp_dagster.tenants import consent
from oracle_mailchimp_dagster.tenants.consent import StatusNotStated
from oracle_mailchimp_dagster.tenants.credential_hosts import HostChangeRefused
from oracle_mailchimp_dagster.tenants.hosts import host_label
from oracle_mailchimp_dagster.tenants.model import TenantConfig
from oracle_mailchimp_dagster.tenants.model import tenant_id as check_tenant_id
from oracle_mailchimp_dagster.tenants.registry import TenantRegistry, open_registry
from oracle_mailchimp_dagster.tenants.state_changes import StateChangeRefused
from oracle_mailchimp_dagster.tenants.yaml_import import load_import_file

GROUP_HELP = f"{LOCATION_HELP}\n\n{KEYS_HELP}"
RESET_STATE_HELP = (
    "Allow changing the Mailchimp list id or account, the Oracle pod URL or resource path: the sync "
    "state (member state, retry queue, mark) is reset with the change, so the next sync loads the audience "
    "fully. Without it such a change is refused while state is stored."
)
FULL_LOAD = "the next sync loads the audience fully"
ALERT_WEBHOOK = SecretName.ALERT_WEBHOOK_URL


def webhook_host(registry: TenantRegistry, tenant_id: str) -> str | None:
    """The host alerts are posted to (never the URL: its path is a token); None without a webhook."""
    try:
        url = registry.alert_webhook(tenant_id)
    except UserError:
        return "unreadable (the master key cannot open it; set it again)"
    return host_label(url.get_secret_value()) if url is not None else None


def _existing_id(ctx: click.Context, param: click.Parameter, value: str) -> str:
    """An ID that cannot name a tenant is refused before the registry is asked (and shown on one line)."""
    try:
        return check_tenant_id(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


TENANT_ID = click.argument("tenant_id", metavar="ID", callback=_existing_id)


def _plural(count: int, word: str, many: str | None = None) -> str:
    return f"{count} {word if count == 1 else many or word + 's'}"


def reset_summary(reset: StateReset) -> str:
    """`3 members, 1 queued retry, mark cleared`: what a reset removed."""
    mark = "mark cleared" if reset.mark_cleared else "no mark"
    retries = _plural(reset.retries_deleted, "queued retry", "queued retries")
    return f"{_plural(reset.members_deleted, 'member')}, {retries}, {mark}"


@click.group(epilog=GROUP_HELP)
def tenants() -> None:
    """Tenants: one Oracle pod and one Mailchimp audience each, with credentials stored encrypted."""


@tenants.command()
@click.argument("tenant_id", metavar="ID")
@status_option(adding=True)
@setting_options
@click.option("--disabled", is_flag=True, help="Register it without scheduling it.")
def add(tenant_id: str, disabled: bool, **params: Any) -> None:
    """Register a tenant (settings from flags and/or --env-file; credentials never on the command line).

    --status-if-new is required: say whether the customers are marketing contacts.
    """
    require_status(params, tenant_id)
    with open_registry() as registry:
        if registry.exists(tenant_id):
            raise TenantExistsError(tenant_id)
        data = apply_settings({"id": tenant_id, "enabled": not disabled}, params)
        config = validate_config(data, tenant_id)
        webhook = read_alert_webhook(params)
        secrets = read_secrets(params, config, prompt=True)
        registry.add(config, {**secrets, ALERT_WEBHOOK: webhook} if webhook else secrets)
        host = webhook_host(registry, config.id) if webhook else None
    click.echo(
        f"added tenant {config.id}: Oracle {config.oracle.base_url}, Mailchimp audience "
        f"{config.mailchimp.list_id}, every '{config.schedule.cron}' ({config.schedule.timezone})"
        + (f", alerts to {host}" if host else "")
    )
    click.echo(f"{consent.status_line(config.policy.status_if_new)}; {consent.EXISTING_KEEP}")
    click.echo(f"check it end to end: oracle-mailchimp tenants test {config.id}")


@tenants.command()
@TENANT_ID
@status_option(adding=False)
@setting_options
@click.option(
    "--enable/--disable",
    "--enabled/--disabled",
    "enabled",
    default=None,
    help="Schedule the tenant, or stop scheduling it (--disabled as at `tenants add`).",
)
@click.option("--reset-state", is_flag=True, help=RESET_STATE_HELP)
@click.option("--no-alert-webhook", is_flag=True, help="Remove the tenant's alert webhook (no more alerts).")
def update(
    tenant_id: str, enabled: bool | None, reset_state: bool, no_alert_webhook: bool, **params: Any
) -> None:
    """Change some settings or secrets of a tenant; everything not given stays as it is."""
    with open_registry() as registry:
        current = registry.get(tenant_id)
        data = apply_settings(current.model_dump(mode="json"), params)
        if enabled is not None:
            data["enabled"] = enabled
        config = validate_config(data, tenant_id)
        webhook = read_alert_webhook(params)
        if webhook is not None and no_alert_webhook:
            raise UserError("--no-alert-webhook removes the alert webhook: do not also give one")
        secrets = read_secrets(params, config, prompt=False)
        if webhook is not None:
            secrets[ALERT_WEBHOOK] = webhook
        removed = no_alert_webhook and registry.alert_webhook_set(tenant_id)
        try:
            remove = (ALERT_WEBHOOK,) if no_alert_webhook else ()
            result = registry.update(config, secrets, reset_state=reset_state, remove_secrets=remove)
        except HostChangeRefused as exc:
            refusal = exc.explain(CLI_NAMING, name_tenants=False)
            raise UserError(f"tenants update {tenant_id}: {refusal}") from None
        except StateChangeRefused as exc:
            raise UserError(f"tenants update {tenant_id}: {exc.explain(name_tenants=False)}") from None
    changed = ", ".join(name.value for name in secrets)
    line = f"updated tenant {config.id}" + (f" (new {changed})" if changed else "")
    if no_alert_webhook:
        line += "; alert webhook removed" if removed else "; it had no alert webhook"
    if result.reset is not None:
        line += f"; state reset: {reset_summary(result.reset)}; {FULL_LOAD}"
    elif reset_state:
        line += (
            "; state kept: no setting it depends on changed "
            f"(to reset it anyway: oracle-mailchimp tenants reset {config.id} --yes)"
        )
    click.echo(line)


@tenants.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
def list_tenants(as_json: bool) -> None:
    """Every tenant, one per line."""
    with open_registry() as registry:
        configs = registry.list_all()
        alerting = {c.id for c in configs if registry.alert_webhook_set(c.id)}
    if as_json:
        click.echo(json.dumps([c.model_dump(mode="json") for c in configs], indent=2))
        return
    if not configs:
        click.echo("no tenants yet: oracle-mailchimp tenants add ID --status-if-new STATUS ... (see --help)")
        return
    header = ("ID", "NAME", "ENABLED", "SCHEDULE", "ORACLE POD", "AUDIENCE", "ALERTS")
    table = [header] + [
        (
            c.id,
            c.display_name,
            "yes" if c.enabled else "no",
            f"{c.schedule.cron} {c.schedule.timezone}",
            c.oracle.base_url,
            c.mailchimp.list_id,
            "webhook" if c.id in alerting else "-",
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
            | ({"host": webhook_host(registry, config.id)} if info.name is ALERT_WEBHOOK else {})
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
@TENANT_ID
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
        host = f", posts to {secret['host']}" if "host" in secret else ""
        click.echo(f"#   {secret['name']}: key {secret['key_id']}, updated {secret['updated_at']}{host}")
    state = payload["sync_state"]
    if state is None or (state["mark_timestamp"] is None and state["last_run_id"] is None):
        click.echo("# sync: no committed run yet")
    elif state["mark_timestamp"] is None:  # reset, or no run has read a customer yet
        click.echo(
            f"# sync: no mark, the next run reads every customer; "
            f"last run {state['last_run_id']} at {state['last_run_at']}"
        )
    else:
        click.echo(
            f"# sync: mark {state['mark_timestamp']} (PartyId {state['mark_key']}), "
            f"last run {state['last_run_id']} at {state['last_run_at']}"
        )


@tenants.command()
@TENANT_ID
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def remove(tenant_id: str, yes: bool) -> None:
    """Delete a tenant, its secrets and its sync state (its ledger rows stay for audit)."""
    with open_registry() as registry:
        # Not `get`: a tenant whose stored settings no longer validate must still be removable.
        if not registry.exists(tenant_id):
            raise TenantNotFoundError(tenant_id)
        if not yes:
            if not sys.stdin.isatty():
                raise UserError(
                    f"removing tenant '{tenant_id}' deletes its secrets and sync state: add --yes"
                )
            click.confirm(f"Remove tenant {tenant_id}, its secrets and its sync state?", abort=True)
        registry.remove(tenant_id)
    click.echo(f"removed tenant {tenant_id} (its ledger rows are kept)")


@tenants.command()
@TENANT_ID
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def reset(tenant_id: str, yes: bool) -> None:
    """Forget a tenant's member state, retry queue and mark; the next sync loads the audience fully.

    The ledger keeps its history and gains a row recording the reset.
    """
    with open_registry() as registry:
        registry.get(tenant_id)
        if not yes:
            if not sys.stdin.isatty():
                raise UserError(
                    f"resetting tenant '{tenant_id}' deletes its member state, retry queue and mark "
                    f"({FULL_LOAD}): add --yes"
                )
            click.confirm(
                f"Reset tenant {tenant_id}: delete its member state, retry queue and mark?", abort=True
            )
        done = registry.reset_state(tenant_id)
    click.echo(
        f"reset tenant {tenant_id}: {reset_summary(done)}; {FULL_LOAD} "
        f"(recorded in the ledger: oracle-mailchimp audit {tenant_id} --run {done.run_id})"
    )


IMPORT_STATUS_HELP = (
    f"A new tenant must state {consent.STATUS_KEY}: {consent.choices()}; {consent.EXISTING_KEEP}. "
    "A tenant already registered keeps its stored status unless the file states one."
)


@tenants.command("import", epilog=IMPORT_STATUS_HELP)
@click.argument("file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--reset-state", is_flag=True, help=RESET_STATE_HELP)
def import_tenants(file: Path, reset_state: bool) -> None:
    """Create or update the tenants of a YAML file, all in one transaction.

    Secrets are referenced by environment variable name (oracle.client_secret_env or password_env,
    mailchimp.api_key_env or oauth_token_env, alerts.webhook_url_env: null removes the alert webhook);
    see `oracle_mailchimp_dagster/tenants/yaml_import.py`.
    """
    parsed = load_import_file(file, os.environ)
    entries = [(entry.config, entry.secrets) for entry in parsed]
    removals = {entry.config.id: entry.remove for entry in parsed if entry.remove}
    unstated = [entry.config.id for entry in parsed if not entry.states_status]
    with open_registry() as registry:
        try:
            result = registry.import_tenants(
                entries, reset_state=reset_state, removals=removals, unstated_status=unstated
            )
        except (HostChangeRefused, StateChangeRefused, StatusNotStated) as exc:
            raise UserError(f"tenants import {file}: {exc}") from None
    line = (
        f"imported {len(entries)} tenant(s) from {file}: "
        f"created {', '.join(result.created) or 'none'}; updated {', '.join(result.updated) or 'none'}"
    )
    if result.resets:
        resets = ", ".join(f"{done.tenant_id} ({reset_summary(done)})" for done in result.resets)
        line += f"; state reset: {resets}; {FULL_LOAD}"
    click.echo(line)


class ChecksFailedError(UserError):
    """`tenants test` found problems (the report above says which, and how to fix them)."""

    exit_code = 1


@tenants.command()
@TENANT_ID
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
