"""OAuth client-credentials tokens from the identity domain, and why a refusal happened."""

import re

import orjson
import requests
from pydantic import SecretStr
from requests.auth import HTTPBasicAuth

from oracle_mailchimp_dagster.fusion.errors import (
    FusionAuthError,
    FusionUnavailableError,
    refusal_error,
)
from oracle_mailchimp_dagster.fusion.settings import FusionOAuth
from oracle_mailchimp_dagster.fusion.tokens import IssuedToken, TokenKey
from oracle_mailchimp_dagster.fusion.transient import last_status, transient_reason
from oracle_mailchimp_dagster.http import CallCounters, HttpTransport, RetryableFailure, TransportRefusal
from oracle_mailchimp_dagster.sync.identity import credential_fingerprint

_OAUTH_ERROR_CODE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


def token_key(auth: FusionOAuth) -> TokenKey:
    """Clients with the same identity domain, client, scope and secret share one cached token.

    The secret counts (by its fingerprint only): a tenant holding another's client id with a wrong
    secret must be refused by the identity domain, not handed the other's token.
    """
    fingerprint = credential_fingerprint(auth.client_secret.get_secret_value())
    return TokenKey(auth.token_url, auth.client_id, auth.scope, fingerprint)


def bearer(token: SecretStr) -> dict[str, str]:
    """The Authorization header that presents a token to the pod."""
    return {"Authorization": f"Bearer {token.get_secret_value()}"}


def request_token(
    transport: HttpTransport, tenant: str, auth: FusionOAuth, counters: tuple[CallCounters, ...]
) -> IssuedToken:
    """Ask the identity domain for a token (retried when transient), or raise a typed error why not.

    A redirect is refused (following a 307 would re-send this request wherever it points).
    """
    try:
        response = transport.send(
            "POST",
            auth.token_url,
            transient=transient_reason,
            counters=counters,
            data={"grant_type": "client_credentials", "scope": auth.scope},
            auth=HTTPBasicAuth(auth.client_id, auth.client_secret.get_secret_value()),
            headers={"Accept": "application/json"},
        )
    except RetryableFailure as failure:
        raise FusionUnavailableError(
            tenant,
            f"token endpoint: {failure.reason}",
            failure.attempts,
            failure.elapsed_s,
            status=last_status(failure),
        ) from None
    except TransportRefusal as refusal:
        raise refusal_error(tenant, refusal, "token URL", "token endpoint") from None
    if response.status_code != 200:
        code = _oauth_error_code(response)
        raise FusionAuthError(
            tenant,
            _token_failure(response.status_code, code, auth),
            status=response.status_code,
            oauth_error=code,
        )
    try:
        body = orjson.loads(response.content)
        return IssuedToken(SecretStr(str(body["access_token"])), float(body.get("expires_in", 3600)))
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        raise FusionAuthError(
            tenant, "the token endpoint answered 200 without an access_token", status=200
        ) from None


def _oauth_error_code(response: requests.Response) -> str | None:
    """The OAuth `error` code of a token refusal (RFC 6749 5.2), if the body has a well-formed one."""
    try:
        body = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return None
    code = body.get("error") if isinstance(body, dict) else None
    return code if isinstance(code, str) and _OAUTH_ERROR_CODE.match(code) else None


def _token_failure(status: int, code: str | None, auth: FusionOAuth) -> str:
    """Why the identity domain refused a token, and what to check, without echoing a secret."""
    answer = f"HTTP {status} {code}" if code else f"HTTP {status}"
    if code == "invalid_client" or status == 401:
        return (
            f"the identity domain rejected OAuth client '{auth.client_id}' ({answer}): "
            "check the client id and client secret."
        )
    if code == "invalid_scope":
        return (
            f"the identity domain rejected scope '{auth.scope}' ({answer}): expected "
            "urn:opc:resource:fa:instanceid=<id>urn:opc:resource:consumer::all for this pod."
        )
    return f"the token request failed ({answer}): check the token URL."
