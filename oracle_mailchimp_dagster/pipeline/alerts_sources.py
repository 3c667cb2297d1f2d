"""Where the alert producers' facts come from outside Dagster: the tenant's secrets (to redact them),
its webhook, and the dead letters a run made (the ledger records them with the run)."""

import contextlib

from pydantic import SecretStr

from oracle_mailchimp_dagster.errors import UserError
from oracle_mailchimp_dagster.http.redaction import Redactor
from oracle_mailchimp_dagster.store.sync_store import SyncStore
from oracle_mailchimp_dagster.sync.outcomes import Outcome
from oracle_mailchimp_dagster.tenants.model import TenantConfig
from oracle_mailchimp_dagster.tenants.registry import TenantRegistry


def tenant_redactor(registry: TenantRegistry, tenant: TenantConfig) -> Redactor:
    """A redactor of the tenant's Oracle secret, Mailchimp credential and webhook URL.

    A secret that cannot be decrypted (a missing master key) is left out: nothing could have sent it
    either, and the credential-shaped rules still apply.
    """
    secrets: list[SecretStr | None] = []
    readers = (
        lambda: registry.oracle_secret(tenant),
        lambda: registry.mailchimp_secret(tenant),
        lambda: registry.alert_webhook(tenant.id),
    )
    for read in readers:
        with contextlib.suppress(UserError):
            secrets.append(read())
    return Redactor(secrets)


def dead_letters_made(store: SyncStore, tenant_id: str, run_id: str) -> int:
    """How many records the run turned into dead letters (its ledger rows with that outcome)."""
    return store.ledger.outcome_counts(tenant_id, run_id).get(Outcome.DEAD_LETTER.value, 0)
