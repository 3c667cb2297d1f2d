"""Turn a tenant's configuration and decrypted secrets into client connection settings.

Each secret goes only to the hosts it was entered for (sealed with it, `tenants.secret_binding`), and
a Mailchimp API key also to its own data center: settings changed without the secret (straight in
the database) are refused here, before any client is built, so nothing is sent.
"""

from collections.abc import Callable
from typing import TypeVar

from oracle_mailchimp_dagster.fusion import FusionConnection
from oracle_mailchimp_dagster.mailchimp import MailchimpConnection
from oracle_mailchimp_dagster.tenants.client_settings import (
    ClientSettingError,
    fusion_connection_for,
    mailchimp_connection_for,
)
from oracle_mailchimp_dagster.tenants.credential_hosts import check_bound_hosts
from oracle_mailchimp_dagster.tenants.errors import TenantConfigError
from oracle_mailchimp_dagster.tenants.model import TenantConfig
from oracle_mailchimp_dagster.tenants.registry import TenantRegistry
from oracle_mailchimp_dagster.tenants.state_changes import key_data_center

T = TypeVar("T")


def _built(config: TenantConfig, build: Callable[[], T]) -> T:
    """A client connection, or one line naming the setting a client refuses (e.g. a secret stored before
    secrets were checked)."""
    try:
        return build()
    except ClientSettingError as exc:
        raise TenantConfigError(f"invalid tenant '{config.id}' connection: {exc.path}: {exc}") from None


def fusion_connection(config: TenantConfig, registry: TenantRegistry) -> FusionConnection:
    """How to reach the tenant's pod; the secret is decrypted now, for this connection only."""
    name = config.oracle.secret_name
    secret = registry.bound_secret(config.id, name)
    check_bound_hosts(config, name, secret.hosts)
    return _built(config, lambda: fusion_connection_for(config.id, config.oracle, secret.value))


def mailchimp_connection(config: TenantConfig, registry: TenantRegistry) -> MailchimpConnection:
    """How to reach the tenant's Mailchimp account (API key or OAuth token)."""
    name = config.mailchimp.secret_name
    secret = registry.bound_secret(config.id, name)
    check_bound_hosts(config, name, secret.hosts, key_data_center=key_data_center(secret.value))
    return _built(config, lambda: mailchimp_connection_for(config.mailchimp, secret.value))
