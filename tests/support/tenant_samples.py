"""Sample tenant settings and secrets shared by the tenant tests."""

from typing import Any

from pydantic import SecretStr

from oracle_mailchimp_dagster.store import SecretName
from oracle_mailchimp_dagster.tenants import TenantConfig

ORACLE_SECRET = "oracle-Cl1ent-S3cret-value"
MAILCHIMP_KEY = "0123456789abcdef0123456789abcdef-us6"
PLAINTEXTS = (ORACLE_SECRET, MAILCHIMP_KEY)


def settings(tenant_id: str = "acme", **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": tenant_id,
        "display_name": "Acme Corp",
        "oracle": {
            "base_url": "https://acme.fa.us2.oraclecloud.com",
            "token_url": "https://idcs-0123.identity.oraclecloud.com/oauth2/v1/token",
            "scope": "urn:opc:resource:fa:instanceid=1234567urn:opc:resource:consumer::all",
            "client_id": "acme-client",
        },
        "mailchimp": {"list_id": "a1b2c3d4e5"},
        # Stated, as `tenants add` and a new tenant in `tenants import` must: no marketing consent.
        "policy": {"status_if_new": "transactional"},
    }
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key] = {**data[key], **value}
        else:
            data[key] = value
    return data


def config(tenant_id: str = "acme", **overrides: Any) -> TenantConfig:
    return TenantConfig.model_validate(settings(tenant_id, **overrides))


def secrets(oracle: str = ORACLE_SECRET, mailchimp: str = MAILCHIMP_KEY) -> dict[SecretName, SecretStr]:
    return {
        SecretName.ORACLE_CLIENT_SECRET: SecretStr(oracle),
        SecretName.MAILCHIMP_API_KEY: SecretStr(mailchimp),
    }
