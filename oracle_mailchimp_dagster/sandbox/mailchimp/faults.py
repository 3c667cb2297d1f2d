"""How injected faults look on the Mailchimp side: problem JSON for 4xx/5xx and 429, CDN HTML for `html`."""

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from oracle_mailchimp_dagster.sandbox.common.faults import FaultRule
from oracle_mailchimp_dagster.sandbox.mailchimp import problems
from oracle_mailchimp_dagster.sandbox.mailchimp.problems import new_request_id, problem_response

_CDN_PAGES = {
    502: ("Bad Gateway", "The proxy server received an invalid response from an upstream server."),
    503: ("Service Unavailable", "The server is temporarily unable to service your request."),
    504: (
        "Gateway Timeout",
        "The gateway did not receive a timely response from the upstream server or application.",
    ),
}


def cdn_error_page(status: int) -> str:
    """An edge-server error page like the ones Mailchimp's CDN returns when the origin times out (§6.1)."""
    title, text = _CDN_PAGES.get(status, ("Error", "An error occurred while processing your request."))
    reference = new_request_id().split("-")[0]
    return (
        f"<HTML><HEAD>\n<TITLE>{title}</TITLE>\n</HEAD><BODY>\n<H1>{title}</H1>\n{text}<P>\n"
        f"Reference&#32;&#35;97&#46;{reference}\n</BODY>\n</HTML>\n"
    )


def render_fault(rule: FaultRule, request: Request) -> Response:
    """The response of a fault rule that fired (the shared middleware handles `drop` and `delay`)."""
    request_id = new_request_id()
    if rule.kind == "html":
        return HTMLResponse(cdn_error_page(rule.status), status_code=rule.status)
    if rule.kind == "rate_limit":
        return problem_response(problems.too_many_requests(rule.retry_after), request_id)
    return problem_response(problems.generic(rule.status), request_id)
