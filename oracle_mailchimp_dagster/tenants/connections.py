"""Turn a tenant's configuration and decrypted secrets into client connection settings."""

from oracle_mailchimp_dagster.fusion import FusionBasicAuth, FusionConnection, FusionOAuth
from oracle_mailchimp_dagster.mailchimp import MailchimpConnection
from oracle_mailchimp_dagster.tenants.model import MailchimpAuthMode, OracleAuthMode, TenantConfig
from oracle_mailchimp_dagster.tenants.registry import TenantRegistry


def fusion_connection(config: TenantConfig, registry: TenantRegistry) -> FusionConnection:
    """How to reach the tenant's pod; the secret is decrypted now, for this connection only."""
    oracle = config.oracle
    secret = registry.oracle_secret(config)
    auth: FusionOAuth | FusionBasicAuth
    if oracle.auth is OracleAuthMode.OAUTH:
        assert oracle.token_url is not None and oracle.scope is not None
        auth = FusionOAuth(
            token_url=oracle.token_url, client_id=oracle.client_id, client_secret=secret, scope=oracle.scope
        )
    else:
        auth = FusionBasicAuth(username=oracle.client_id, password=secret)
    return FusionConnection(
        tenant=config.id,
        base_url=oracle.base_url,
        auth=auth,
        resource_path=oracle.resource_path,
        framework_version=int(oracle.framework_version),
    )


def mailchimp_connection(config: TenantConfig, registry: TenantRegistry) -> MailchimpConnection:
    """How to reach the tenant's Mailchimp account (API key or OAuth token)."""
    secret = registry.mailchimp_secret(config)
    if config.mailchimp.auth is MailchimpAuthMode.API_KEY:
        return MailchimpConnection(api_key=secret, api_base=config.mailchimp.api_base)
    return MailchimpConnection(oauth_token=secret, api_base=config.mailchimp.api_base)
