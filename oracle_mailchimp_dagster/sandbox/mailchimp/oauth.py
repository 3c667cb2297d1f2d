"""A stand-in for `GET https://login.mailchimp.com/oauth2/metadata`: it tells an OAuth client its data centre.

`api_endpoint` has no `/3.0` and points at this server, as the real one points at `https://<dc>.api...`.
"""

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from oracle_mailchimp_dagster.sandbox.common.responses import FastJSONResponse
from oracle_mailchimp_dagster.sandbox.mailchimp.store import MailchimpState

METADATA_PATH = "/oauth2/metadata"


class OAuthMetadata:
    def __init__(self, state: MailchimpState) -> None:
        self.state = state

    def routes(self) -> list[Route]:
        return [Route(METADATA_PATH, self.metadata, methods=["GET"])]

    async def metadata(self, request: Request) -> Response:
        scheme, _, token = request.headers.get("authorization", "").strip().partition(" ")
        if scheme.lower() not in ("oauth", "bearer") or token.strip() not in self.state.oauth_tokens:
            return FastJSONResponse(
                {"error": "invalid_token", "error_description": "The access token provided is invalid."},
                status_code=401,
            )
        config = self.state.config
        root = str(request.base_url).rstrip("/")
        login_name = config.login_email.split("@", 1)[0]
        return FastJSONResponse(
            {
                "dc": config.dc,
                "role": "owner",
                "accountname": config.account_name,
                "user_id": 118154891,
                "login": {
                    "email": config.login_email,
                    "avatar": None,
                    "login_id": 118154891,
                    "login_name": login_name,
                    "login_email": config.login_email,
                },
                "login_url": root,
                "api_endpoint": root,
            }
        )
