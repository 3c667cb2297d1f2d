"""Run tags that dagster.yaml's concurrency limits key on (one run per tenant, per Mailchimp key)."""

import hashlib

TENANT_TAG = "oracle_mailchimp/tenant"
MAILCHIMP_KEY_TAG = "oracle_mailchimp/mailchimp_key"


def key_tag_value(secret: str) -> str:
    """A short, irreversible fingerprint of a Mailchimp credential: never the credential itself."""
    return hashlib.sha256(b"oracle-mailchimp-pool:" + secret.encode()).hexdigest()[:16]


def run_tags(tenant_id: str, mailchimp_secret: str) -> dict[str, str]:
    return {TENANT_TAG: tenant_id, MAILCHIMP_KEY_TAG: key_tag_value(mailchimp_secret)}
