"""The identity-domain stand-in: `POST /oauth2/v1/token` with the client-credentials grant (§3.2, §6.2)."""

import base64
import binascii
import secrets
from typing import TYPE_CHECKING
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import Response

from oracle_mailchimp_dagster.sandbox.common.responses import FastJSONResponse

if TYPE_CHECKING:
    from oracle_mailchimp_dagster.sandbox.fusion.app import FusionSandbox

CONSUMER_SCOPE = "urn:opc:resource:consumer::all"
OPTIONAL_SCOPES = frozenset({"offline_access"})


def oauth_error(status: int, error: str, description: str, headers: dict[str, str] | None = None) -> Response:
    body = {"error": error, "error_description": description}
    return FastJSONResponse(
        body, status_code=status, headers={"Cache-Control": "no-store", **(headers or {})}
    )


def basic_credentials(header: str) -> tuple[str, str] | None:
    """(user, password) from `Basic b64(user:password)`, or None if the header is not that."""
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, colon, password = decoded.partition(":")
    return (user, password) if colon else None


def same_secret(given: str, expected: str) -> bool:
    return secrets.compare_digest(given.encode(), expected.encode())


class IdentityApi:
    def __init__(self, sandbox: "FusionSandbox") -> None:
        self._sandbox = sandbox

    async def token(self, request: Request) -> Response:
        await self._sandbox.control.latency.wait_token()
        response = self._grant(request, await request.body())
        counter = "token_grants" if response.status_code == 200 else "token_denials"
        self._sandbox.control.stats.count(counter)
        return response

    def _grant(self, request: Request, body: bytes) -> Response:
        config = self._sandbox.config
        if "application/x-www-form-urlencoded" not in request.headers.get("content-type", "").lower():
            return oauth_error(
                400, "invalid_request", "The request must be application/x-www-form-urlencoded."
            )
        form = {key: values[-1] for key, values in parse_qs(body.decode("utf-8", "replace")).items()}
        header = request.headers.get("authorization")
        if header is not None:
            credentials = basic_credentials(header)
            challenge = {"WWW-Authenticate": 'Basic realm="identity"'}
        else:
            pair = form.get("client_id"), form.get("client_secret")
            credentials = (pair[0], pair[1]) if pair[0] is not None and pair[1] is not None else None
            challenge = {}
        if (
            credentials is None
            or credentials[0] != config.client_id
            or not same_secret(credentials[1], config.client_secret.get_secret_value())
        ):
            return oauth_error(401, "invalid_client", "Client authentication failed.", challenge)
        grant = form.get("grant_type")
        if grant is None:
            return oauth_error(400, "invalid_request", "The grant_type parameter is missing.")
        if grant != "client_credentials":
            return oauth_error(400, "unsupported_grant_type", f"Grant type {grant} is not supported.")
        requested = form.get("scope", "").split()
        accepted = {config.scope, f"{request.base_url}".rstrip("/") + CONSUMER_SCOPE}
        audience = [scope for scope in requested if scope in accepted]
        if len(audience) != 1 or any(s not in accepted and s not in OPTIONAL_SCOPES for s in requested):
            return oauth_error(400, "invalid_scope", "Invalid scope.")
        ttl = config.token_ttl_seconds
        token = self._sandbox.tokens.issue(credentials[0], audience[0], ttl)
        return FastJSONResponse(
            {"access_token": token, "token_type": "Bearer", "expires_in": ttl},
            headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
        )
