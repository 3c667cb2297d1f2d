"""Authenticated GETs of one tenant's resource: credentials, one token refresh on 401, typed errors."""

import logging
from collections.abc import Iterable
from typing import Any

import requests
from pydantic import SecretStr
from requests.auth import HTTPBasicAuth

from oracle_mailchimp_dagster.fusion.errors import (
    FusionAuthError,
    FusionRequestError,
    FusionUnavailableError,
    hint_for,
    parse_error_details,
    refusal_error,
)
from oracle_mailchimp_dagster.fusion.oauth import bearer, request_token, token_key
from oracle_mailchimp_dagster.fusion.settings import (
    FusionBasicAuth,
    FusionClientOptions,
    FusionConnection,
    FusionOAuth,
)
from oracle_mailchimp_dagster.fusion.tokens import IssuedToken, TokenCache
from oracle_mailchimp_dagster.fusion.transient import last_status, transient_reason
from oracle_mailchimp_dagster.http import (
    CallCounters,
    HttpTransport,
    Redactor,
    RetryableFailure,
    TransportRefusal,
)
from oracle_mailchimp_dagster.http.transport import ResponseHook

# The client's logger name, as before this module was split out of it, so log filters still match.
log = logging.getLogger("oracle_mailchimp_dagster.fusion.client")

# Structured ADF errors when the pod supports them, plain JSON for data.
ACCEPT = "application/json, application/vnd.oracle.adf.error+json"


class FusionWire:
    """The request plumbing under FusionClient, so its operations only say what to ask for."""

    def __init__(
        self,
        connection: FusionConnection,
        options: FusionClientOptions,
        *,
        session: requests.Session | None,
        response_hooks: Iterable[ResponseHook],
        token_cache: TokenCache,
    ) -> None:
        self.connection = connection
        self._options = options
        self._tokens = token_cache
        self._transport = HttpTransport(
            retry=options.retry,
            timeouts=options.timeouts,
            session=session,
            # One kept-alive connection per page in flight (a full pool would discard and reopen).
            pool_maxsize=max(4, options.extract_concurrency),
            max_response_bytes=options.max_response_bytes,
            response_hooks=response_hooks,
        )
        # The tenant's own secret, in every encoding, is cut from whatever the pod echoes back.
        auth = connection.auth
        self._redact = Redactor(
            [auth.client_secret if isinstance(auth, FusionOAuth) else auth.password],
        )
        self._headers = {
            "Accept": ACCEPT,
            "REST-Framework-Version": str(connection.framework_version),
        }

    def close(self) -> None:
        self._transport.close()

    def get(self, params: dict[str, Any], counters: tuple[CallCounters, ...]) -> requests.Response:
        """GET the resource with credentials; one token refresh and retry on 401, typed errors else."""
        auth = self.connection.auth
        tenant = self.connection.tenant
        redact = self._redact
        if isinstance(auth, FusionBasicAuth):
            response = self._send(
                params, {}, HTTPBasicAuth(auth.username, auth.password.get_secret_value()), counters
            )
            if response.status_code == 401:
                raise FusionAuthError(
                    tenant,
                    f"the pod rejected Basic credentials for user '{auth.username}' (HTTP 401): check the "
                    "password and that the user is a local (non-SSO) integration user.",
                    status=401,
                )
        else:
            token = self.token(auth, counters)
            response = self._send(params, bearer(token), None, counters)
            redact = redact.with_secrets(token)
            if response.status_code == 401:
                log.info("Oracle Fusion tenant '%s': token rejected, fetching a new one", tenant)
                self._tokens.invalidate(token_key(auth), token)
                token = self.token(auth, counters)
                response = self._send(params, bearer(token), None, counters)
                redact = redact.with_secrets(token)
                if response.status_code == 401:
                    raise FusionAuthError(
                        tenant,
                        "the pod rejected a freshly issued token twice (HTTP 401): check that the OAuth "
                        f"client '{auth.client_id}' is mapped to a Fusion user with access to "
                        f"{self.connection.resource_path}, and that the scope names this pod's instance.",
                        status=401,
                    )
        if response.status_code >= 400:
            details = parse_error_details(
                response.headers.get("Content-Type", ""), response.content, redact=redact
            )
            raise FusionRequestError(tenant, response.status_code, details, hint_for(response.status_code))
        return response

    def token(self, auth: FusionOAuth, counters: tuple[CallCounters, ...]) -> SecretStr:
        """A valid access token, from the shared cache or (counted) from the identity domain."""

        def fetch() -> IssuedToken:
            for counter in counters:
                counter.add("token_fetches")
            return request_token(self._transport, self.connection.tenant, auth, counters)

        token, _ = self._tokens.get(token_key(auth), fetch, self._options.token_refresh_margin_s)
        return token

    def _send(
        self,
        params: dict[str, Any],
        auth_headers: dict[str, str],
        auth: HTTPBasicAuth | None,
        counters: tuple[CallCounters, ...],
    ) -> requests.Response:
        try:
            return self._transport.send(
                "GET",
                self.connection.resource_url,
                transient=transient_reason,
                counters=counters,
                params=params,
                headers={**self._headers, **auth_headers},
                auth=auth,
            )
        except RetryableFailure as failure:
            raise FusionUnavailableError(
                self.connection.tenant,
                failure.reason,
                failure.attempts,
                failure.elapsed_s,
                status=last_status(failure),
            ) from None
        except TransportRefusal as refusal:
            raise refusal_error(self.connection.tenant, refusal, "base URL") from None
