"""Connect `tenants test` to the real Oracle and Mailchimp clients.

The probes are thin adapters: each call goes to a client and each client error becomes a
`checks.ProbeError` with the HTTP status (and OAuth error code) the checks pick their fix from.
Retries are kept short, so a wrong URL is reported in seconds rather than after a sync's patience.
Settings no client can be built from are a configuration error (one line, non-zero exit).
"""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import requests
from pydantic import ValidationError

from oracle_mailchimp_dagster.diagnostics.checks import MailchimpProbe, OracleProbe, ProbeError
from oracle_mailchimp_dagster.fusion import (
    FusionAuthError,
    FusionClient,
    FusionClientOptions,
    FusionError,
    FusionOAuth,
    FusionRequestError,
    FusionUnavailableError,
    TokenCache,
)
from oracle_mailchimp_dagster.http import RetryPolicy, Timeouts
from oracle_mailchimp_dagster.mailchimp import (
    MailchimpClient,
    MailchimpClientOptions,
    MailchimpError,
    list_fields_by_tag,
)
from oracle_mailchimp_dagster.sync.model import ListField
from oracle_mailchimp_dagster.tenants.connections import fusion_connection, mailchimp_connection
from oracle_mailchimp_dagster.tenants.errors import TenantConfigError, describe_validation_error
from oracle_mailchimp_dagster.tenants.model import TenantConfig
from oracle_mailchimp_dagster.tenants.registry import TenantRegistry

# One retry, a second apart: enough for a blip, short enough for someone waiting at a terminal.
PROBE_RETRY = RetryPolicy(max_attempts=2, initial_backoff_s=1.0, max_backoff_s=2.0, max_total_s=30.0)
PROBE_TIMEOUTS = Timeouts(connect_s=10.0, read_s=60.0, deadline_s=60.0)


@contextmanager
def _oracle_errors() -> Iterator[None]:
    try:
        yield
    except FusionAuthError as exc:
        raise ProbeError(str(exc), status=exc.status, code=exc.oauth_error) from None
    except FusionRequestError as exc:
        code = next((d.error_code for d in exc.details if d.error_code), None)
        raise ProbeError(str(exc), status=exc.status, code=code) from None
    except FusionUnavailableError as exc:
        raise ProbeError(str(exc), status=exc.status) from None
    except FusionError as exc:
        raise ProbeError(str(exc)) from None
    except requests.RequestException as exc:
        raise ProbeError(f"Oracle Fusion: {type(exc).__name__}") from None


@contextmanager
def _mailchimp_errors() -> Iterator[None]:
    try:
        yield
    except MailchimpError as exc:
        raise ProbeError(str(exc), status=exc.problem.status, code=exc.problem.error_code) from None
    except requests.RequestException as exc:
        raise ProbeError(f"Mailchimp: {type(exc).__name__}") from None


class FusionProbe:
    """The Oracle checks over a FusionClient."""

    def __init__(self, client: FusionClient) -> None:
        self.client = client

    def fetch_token(self) -> None:
        with _oracle_errors():
            self.client.check_token()

    def fetch_one(self) -> int:
        with _oracle_errors():
            return self.client.fetch_sample(limit=1)


class MailchimpAccountProbe:
    """The Mailchimp checks over a MailchimpClient."""

    def __init__(self, client: MailchimpClient) -> None:
        self.client = client

    def ping(self) -> None:
        with _mailchimp_errors():
            self.client.ping()

    def list_name(self, list_id: str) -> str:
        with _mailchimp_errors():
            return self.client.get_list(list_id).name

    def merge_fields(self, list_id: str) -> Sequence[ListField]:
        with _mailchimp_errors():
            return list(list_fields_by_tag(self.client.get_merge_fields(list_id)).values())


def connect_probes(
    config: TenantConfig, registry: TenantRegistry
) -> tuple[OracleProbe, MailchimpProbe, list[str]]:
    """The Oracle and Mailchimp probes for one tenant, and the secrets the report must redact."""
    try:
        fusion = fusion_connection(config, registry)
        mailchimp = mailchimp_connection(config, registry)
    except ValidationError as exc:
        # Settings the registry accepts but a client cannot use (e.g. framework version 12).
        raise TenantConfigError(describe_validation_error(exc, f"tenant '{config.id}' connection")) from None
    oracle = FusionProbe(
        FusionClient(
            fusion,
            FusionClientOptions(retry=PROBE_RETRY, timeouts=PROBE_TIMEOUTS),
            # Its own cache: a token cached in this process must not vouch for the secret stored now.
            token_cache=TokenCache(),
        )
    )
    account = MailchimpAccountProbe(
        MailchimpClient(mailchimp, MailchimpClientOptions(retry=PROBE_RETRY, timeouts=PROBE_TIMEOUTS))
    )
    auth = fusion.auth
    oracle_secret = auth.client_secret if isinstance(auth, FusionOAuth) else auth.password
    return oracle, account, [oracle_secret.get_secret_value(), mailchimp.secret.get_secret_value()]
