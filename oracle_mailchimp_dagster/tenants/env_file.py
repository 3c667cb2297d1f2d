"""Read the sandbox's env file (KEY=VALUE lines) as an alternative to `tenants add` flags."""

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from oracle_mailchimp_dagster.store.records import SecretName
from oracle_mailchimp_dagster.tenants.errors import TenantConfigError
from oracle_mailchimp_dagster.tenants.model import TenantConfig

# Env-file key -> (section, field) of the tenant configuration.
SETTING_KEYS: dict[str, tuple[str, str]] = {
    "ORACLE_BASE_URL": ("oracle", "base_url"),
    "ORACLE_TOKEN_URL": ("oracle", "token_url"),
    "ORACLE_SCOPE": ("oracle", "scope"),
    "ORACLE_CLIENT_ID": ("oracle", "client_id"),
    "ORACLE_RESOURCE_PATH": ("oracle", "resource_path"),
    "ORACLE_FRAMEWORK_VERSION": ("oracle", "framework_version"),
    "MAILCHIMP_LIST_ID": ("mailchimp", "list_id"),
    "MAILCHIMP_API_BASE": ("mailchimp", "api_base"),
}
# Env-file keys holding the Oracle secret (client secret or password) and the Mailchimp key or token.
ORACLE_SECRET_KEY = "ORACLE_CLIENT_SECRET"
MAILCHIMP_SECRET_KEY = "MAILCHIMP_API_KEY"
# The optional alert webhook URL (a credential: its path carries a token).
ALERT_WEBHOOK_KEY = "ALERT_WEBHOOK_URL"


def parse_env_text(text: str, origin: str) -> dict[str, str]:
    """`KEY=VALUE` lines; blank lines, `#` comments, an `export ` prefix and matching quotes are allowed."""
    values: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        line = line.removeprefix("export ").strip()
        key, sep, value = line.partition("=")
        key = key.strip()
        if not sep or not key.replace("_", "").isalnum():
            raise TenantConfigError(f"{origin} line {number} is not KEY=VALUE")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key] = value
    return values


def read_env_file(path: Path) -> dict[str, str]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise TenantConfigError(f"cannot read env file {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise TenantConfigError(f"env file {path} is not UTF-8 text") from None
    return parse_env_text(text, f"env file {path}")


def settings_from_env(values: dict[str, str]) -> dict[str, dict[str, str]]:
    """The non-secret settings the env file provides, nested like the tenant configuration."""
    nested: dict[str, dict[str, str]] = {}
    for key, (section, field) in SETTING_KEYS.items():
        if values.get(key):
            nested.setdefault(section, {})[field] = values[key]
    return nested


def tenant_from_env(tenant_id: str, values: Mapping[str, str], **settings: Any) -> TenantConfig:
    """A tenant (OAuth, API key) on the services an env file names, with further settings merged in."""
    return TenantConfig.model_validate({"id": tenant_id, **settings_from_env(dict(values)), **settings})


def secrets_from_env(values: Mapping[str, str]) -> dict[SecretName, SecretStr]:
    """The env file's Oracle client secret and Mailchimp API key, for `TenantRegistry.add`."""
    return {
        SecretName.ORACLE_CLIENT_SECRET: SecretStr(values[ORACLE_SECRET_KEY]),
        SecretName.MAILCHIMP_API_KEY: SecretStr(values[MAILCHIMP_SECRET_KEY]),
    }
