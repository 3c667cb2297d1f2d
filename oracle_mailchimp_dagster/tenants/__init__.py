"""Tenants: the validated configuration model, the registry (store + encrypted secrets), YAML import,
and the end-to-end checks behind `oracle-mailchimp tenants test`.
"""

from oracle_mailchimp_dagster.tenants.errors import TenantConfigError
from oracle_mailchimp_dagster.tenants.model import (
    MailchimpAuthMode,
    MailchimpSettings,
    OracleAuthMode,
    OracleSettings,
    Schedule,
    TenantConfig,
    TenantMapping,
    TenantPolicy,
)
from oracle_mailchimp_dagster.tenants.registry import ImportResult, SecretInfo, TenantRegistry
from oracle_mailchimp_dagster.tenants.secret_vault import MissingSecretError

__all__ = [
    "ImportResult",
    "MailchimpAuthMode",
    "MailchimpSettings",
    "MissingSecretError",
    "OracleAuthMode",
    "OracleSettings",
    "Schedule",
    "SecretInfo",
    "TenantConfig",
    "TenantConfigError",
    "TenantMapping",
    "TenantPolicy",
    "TenantRegistry",
]
