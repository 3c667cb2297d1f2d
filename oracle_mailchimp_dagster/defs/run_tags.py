"""Run tags that dagster.yaml's concurrency limits key on (one run per tenant, per Mailchimp key)."""

from oracle_mailchimp_dagster.sync.identity import credential_fingerprint

TENANT_TAG = "oracle_mailchimp/tenant"
MAILCHIMP_KEY_TAG = "oracle_mailchimp/mailchimp_key"


def run_tags(tenant_id: str, mailchimp_secret: str) -> dict[str, str]:
    return {TENANT_TAG: tenant_id, MAILCHIMP_KEY_TAG: credential_fingerprint(mailchimp_secret)}
