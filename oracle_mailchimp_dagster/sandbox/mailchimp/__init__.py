"""A faithful local simulator of the Mailchimp Marketing API v3 (reference mailchimp-marketing-api.md §9).

`start_mailchimp_sandbox(config)` serves it on loopback; `MailchimpSandbox(config).app` is the bare ASGI app.
"""

from oracle_mailchimp_dagster.sandbox.mailchimp.app import MailchimpSandbox
from oracle_mailchimp_dagster.sandbox.mailchimp.config import (
    SANDBOX_API_KEY,
    SANDBOX_OAUTH_TOKEN,
    MailchimpSandboxConfig,
    MailchimpSwitches,
    MergeFieldSpec,
)
from oracle_mailchimp_dagster.sandbox.mailchimp.emails import subscriber_hash
from oracle_mailchimp_dagster.sandbox.mailchimp.server import RunningMailchimpSandbox, start_mailchimp_sandbox

__all__ = [
    "SANDBOX_API_KEY",
    "SANDBOX_OAUTH_TOKEN",
    "MailchimpSandbox",
    "MailchimpSandboxConfig",
    "MailchimpSwitches",
    "MergeFieldSpec",
    "RunningMailchimpSandbox",
    "start_mailchimp_sandbox",
    "subscriber_hash",
]
