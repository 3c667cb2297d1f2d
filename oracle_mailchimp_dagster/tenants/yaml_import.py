"""Declarative tenants from YAML; secrets are named by environment variable, never written in the file.

tenants:
  - id: acme
    display_name: Acme Corp
    oracle:
      base_url: https://acme.fa.us2.oraclecloud.com
      token_url: https://idcs-0123.identity.oraclecloud.com/oauth2/v1/token
      scope: urn:opc:resource:fa:instanceid=1234567urn:opc:resource:consumer::all
      client_id: 0123abcd
      client_secret_env: ACME_ORACLE_CLIENT_SECRET     # or password_env with auth: basic
    mailchimp:
      list_id: a1b2c3d4e5
      api_key_env: ACME_MAILCHIMP_API_KEY              # or oauth_token_env with auth: oauth
    schedule: {cron: "*/15 * * * *", timezone: UTC}
    policy: {status_if_new: pending, inactive_action: archive}
    mapping: {merge_fields: {COMPANY: OrganizationName, PHONE: FormattedPhoneNumber}}
    alerts: {webhook_url_env: ACME_ALERT_WEBHOOK_URL}     # optional; null removes the stored one

`policy.status_if_new` is required for a tenant the registry does not have yet (`tenants.consent` says
what each status means); a tenant it has keeps its stored status unless the file states one.

A list of tenants (`tenants list --json`) and the document `tenants show ID --json` prints (its
`tenant`; `secrets` and `sync_state` are information) are read too, so what is shown can be imported
back. Each secret is checked as it is read, and a refusal names its YAML key, never its value.
Without `alerts`, a tenant keeps the alert webhook it has (like every secret not given).
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import SecretStr, ValidationError

from oracle_mailchimp_dagster.store import SecretName
from oracle_mailchimp_dagster.tenants.errors import TenantConfigError, describe_validation_error
from oracle_mailchimp_dagster.tenants.model import TenantConfig
from oracle_mailchimp_dagster.tenants.secret_rules import secret_problem
from oracle_mailchimp_dagster.tenants.shown import shown

# (section, key naming an environment variable) -> the secret it holds.
SECRET_REFERENCES: dict[tuple[str, str], SecretName] = {
    ("oracle", "client_secret_env"): SecretName.ORACLE_CLIENT_SECRET,
    ("oracle", "password_env"): SecretName.ORACLE_PASSWORD,
    ("mailchimp", "api_key_env"): SecretName.MAILCHIMP_API_KEY,
    ("mailchimp", "oauth_token_env"): SecretName.MAILCHIMP_OAUTH_TOKEN,
}

TenantEntry = tuple[TenantConfig, dict[SecretName, SecretStr]]
# The optional section naming the alert webhook URL's variable (the URL carries a token).
ALERTS_SECTION = "alerts"
WEBHOOK_KEY = "webhook_url_env"


@dataclass(frozen=True)
class ImportEntry:
    """A tenant to create or update, the secrets the file gives, the optional ones it removes, and
    whether it states `policy.status_if_new` (a new tenant must; an existing one keeps its own)."""

    config: TenantConfig
    secrets: dict[SecretName, SecretStr]
    remove: frozenset[SecretName] = field(default_factory=frozenset)
    states_status: bool = True


# The keys of the document `tenants show ID --json` prints.
SHOW_DOCUMENT_KEYS = frozenset({"tenant", "secrets", "sync_state"})


def _entries(document: Any, origin: str) -> list[Any]:
    if isinstance(document, dict) and set(document) == {"tenants"}:
        document = document["tenants"]
    elif isinstance(document, dict) and "tenant" in document and set(document) <= SHOW_DOCUMENT_KEYS:
        document = [document["tenant"]]
    if not isinstance(document, list):
        raise TenantConfigError(f"{origin}: expected a list of tenants under 'tenants:'")
    return document


def _read_secret(
    name: SecretName, where: str, variable: Any, env: Mapping[str, str], subject: str
) -> SecretStr:
    """The value of the variable `where` (a YAML key) names, checked; a refusal names the key."""
    if not isinstance(variable, str) or not variable:
        raise TenantConfigError(f"{subject}: {where} must name an environment variable")
    value = env.get(variable, "")
    if not value:
        raise TenantConfigError(f"{subject}: {where} names {shown(variable)}, which is not set or empty")
    problem = secret_problem(name, SecretStr(value))
    if problem is not None:
        raise TenantConfigError(f"{subject}: {where} ({shown(variable)}): {problem}")
    return SecretStr(value)


def _split_secrets(
    entry: dict[str, Any], env: Mapping[str, str], subject: str
) -> tuple[dict[str, Any], dict[SecretName, SecretStr]]:
    """Pull the `*_env` references out of the entry and read the variables they name."""
    config = dict(entry)
    secrets: dict[SecretName, SecretStr] = {}
    for (section, key), name in SECRET_REFERENCES.items():
        block = config.get(section)
        if not isinstance(block, dict) or key not in block:
            continue
        block = dict(block)
        variable = block.pop(key)
        config[section] = block
        secrets[name] = _read_secret(name, f"{section}.{key}", variable, env, subject)
    return config, secrets


def _split_alerts(
    config: dict[str, Any], env: Mapping[str, str], subject: str
) -> tuple[dict[SecretName, SecretStr], frozenset[SecretName]]:
    """Take the `alerts` section out of `config`: the webhook URL to store, or its removal (null)."""
    if ALERTS_SECTION not in config:
        return {}, frozenset()
    block = config.pop(ALERTS_SECTION)
    where = f"{ALERTS_SECTION}.{WEBHOOK_KEY}"
    if not isinstance(block, dict) or set(block) != {WEBHOOK_KEY}:
        raise TenantConfigError(
            f"{subject}: {ALERTS_SECTION} must be {{{WEBHOOK_KEY}: VARIABLE}} (or {WEBHOOK_KEY}: null "
            "to remove the alert webhook)"
        )
    name = SecretName.ALERT_WEBHOOK_URL
    if block[WEBHOOK_KEY] is None:
        return {}, frozenset({name})
    return {name: _read_secret(name, where, block[WEBHOOK_KEY], env, subject)}, frozenset()


def parse_tenants(text: str, origin: str, env: Mapping[str, str]) -> list[TenantEntry]:
    """Validate every tenant of the document before anything is written (without alert removals)."""
    return [(entry.config, entry.secrets) for entry in parse_import(text, origin, env)]


def parse_import(text: str, origin: str, env: Mapping[str, str]) -> list[ImportEntry]:
    """Validate every tenant of the document before anything is written."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "not valid YAML"
        raise TenantConfigError(f"{origin}{where}: {problem}") from None
    parsed: list[ImportEntry] = []
    seen: set[str] = set()
    for index, entry in enumerate(_entries(document, origin), start=1):
        if not isinstance(entry, dict):
            raise TenantConfigError(f"{origin}: tenant #{index} is not a mapping of settings")
        label = f"tenant '{shown(str(entry.get('id', f'#{index}')))}'"
        config, secrets = _split_secrets(entry, env, f"{origin}: {label}")
        alert_secrets, remove = _split_alerts(config, env, f"{origin}: {label}")
        try:
            tenant = TenantConfig.model_validate(config)
        except ValidationError as exc:
            raise TenantConfigError(f"{origin}: {describe_validation_error(exc, label)}") from None
        if tenant.id in seen:
            raise TenantConfigError(f"{origin}: tenant '{tenant.id}' appears twice")
        seen.add(tenant.id)
        policy = config.get("policy")
        states_status = isinstance(policy, dict) and policy.get("status_if_new") is not None
        parsed.append(ImportEntry(tenant, {**secrets, **alert_secrets}, remove, states_status))
    return parsed


def load_tenant_file(path: Path, env: Mapping[str, str]) -> list[TenantEntry]:
    return [(entry.config, entry.secrets) for entry in load_import_file(path, env)]


def load_import_file(path: Path, env: Mapping[str, str]) -> list[ImportEntry]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise TenantConfigError(f"cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise TenantConfigError(f"{path} is not UTF-8 text") from None
    return parse_import(text, str(path), env)
