"""Connect `tenants test` to the real Oracle and Mailchimp clients.

TODO(wiring, lead): build the probes from the clients in `fusion/` and `mailchimp/`:
  - Oracle: a FusionClient for FusionConnection(tenant=config.id, base_url=config.oracle.base_url,
    auth=FusionOAuth(token_url, client_id, client_secret=registry.oracle_secret(config), scope) or
    FusionBasicAuth(username=client_id, password=...), resource_path, framework_version=int(...));
    `fetch_token` obtains a token, `fetch_one` queries one row (limit=1).
  - Mailchimp: a MailchimpClient for MailchimpConnection(api_key=... or oauth_token=...,
    api_base=config.mailchimp.api_base); `ping`, `list_name` (get_list(...).name) and
    `merge_fields` (get_merge_fields -> sync.model.ListField).
  - Translate client errors into checks.ProbeError(message, status=..., code=...) so each failure
    gets its specific fix (401 -> wrong secret, 404 -> wrong list id, no status -> unreachable).
  - Return the decrypted secret values as the third element, so the report redacts them.
"""

from oracle_mailchimp_dagster.errors import UserError
from oracle_mailchimp_dagster.tenants.checks import MailchimpProbe, OracleProbe
from oracle_mailchimp_dagster.tenants.model import TenantConfig
from oracle_mailchimp_dagster.tenants.registry import TenantRegistry


class ProbesNotWiredError(UserError):
    """`tenants test` cannot reach the services until the clients are wired in (see the TODO above)."""


def connect_probes(
    config: TenantConfig, registry: TenantRegistry
) -> tuple[OracleProbe, MailchimpProbe, list[str]]:
    """The Oracle and Mailchimp probes for one tenant, and the secrets the report must redact."""
    raise ProbesNotWiredError(
        f"`tenants test {config.id}` is not wired to the Oracle and Mailchimp clients yet "
        "(oracle_mailchimp_dagster/tenants/probes.py)"
    )
