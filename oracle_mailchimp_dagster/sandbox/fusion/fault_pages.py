"""Bodies of injected faults, shaped like what a client of a real pod or IDCS meets."""

from http import HTTPStatus

from starlette.requests import Request
from starlette.responses import Response

from oracle_mailchimp_dagster.sandbox.common.faults import FaultRule
from oracle_mailchimp_dagster.sandbox.common.responses import FastJSONResponse
from oracle_mailchimp_dagster.sandbox.fusion.adf import ERROR_TYPE

TOKEN_PATH = "/oauth2/v1/token"


def _html_page(status: int) -> str:
    phrase = HTTPStatus(status).phrase
    return (
        '<!DOCTYPE HTML PUBLIC "-//IETF//DTD HTML 2.0//EN">\n'
        f"<html><head><title>{status} {phrase}</title></head><body>\n"
        f"<h1>{phrase}</h1>\n<p>The server is temporarily unable to service your request. "
        "Please try again later.</p>\n<hr><address>Oracle-HTTP-Server Server</address>\n</body></html>\n"
    )


def render_fault(rule: FaultRule, request: Request) -> Response:
    """An injected error: an OAuth error from the token endpoint, an ADF error from the pod, or an HTML
    page from the load balancer in front of either (`html`); 429s carry Retry-After when set."""
    status = 429 if rule.kind == "rate_limit" else rule.status
    headers = {"Retry-After": str(rule.retry_after)} if rule.retry_after is not None else {}
    if rule.kind == "html":
        return Response(_html_page(status), status_code=status, media_type="text/html", headers=headers)
    phrase = HTTPStatus(status).phrase
    if request.url.path == TOKEN_PATH:
        error = "temporarily_unavailable" if status in (429, 503) else "server_error"
        oauth = {"error": error, "error_description": f"{phrase} (injected by the sandbox)."}
        return FastJSONResponse(oauth, status_code=status, headers=headers)
    body = {
        "title": phrase,
        "status": str(status),
        "o:errorDetails": [
            {"detail": f"{phrase} (injected by the sandbox).", "o:errorCode": "500", "o:errorPath": ""}
        ],
    }
    return FastJSONResponse(body, status_code=status, media_type=ERROR_TYPE, headers=headers)
