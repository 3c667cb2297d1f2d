"""Which answers each client treats as transient (retry) and which as final."""

import pytest
import requests

from oracle_mailchimp_dagster.fusion.transient import transient_reason as fusion_transient
from oracle_mailchimp_dagster.mailchimp.wire import transient_reason as mailchimp_transient


def response(status: int, body: bytes = b"", content_type: str = "application/json") -> requests.Response:
    made = requests.Response()
    made.status_code = status
    made._content = body
    made.headers["Content-Type"] = content_type
    return made


@pytest.mark.parametrize("verdict", [fusion_transient, mailchimp_transient])
def test_shared_transient_answers(verdict: object) -> None:
    assert callable(verdict)
    assert verdict(response(429)) == "HTTP 429"
    assert verdict(response(500, b'{"title":"Internal Server Error"}')) == "HTTP 500"
    assert (
        verdict(response(502, b"<html><body>Bad Gateway</body></html>", "text/html"))
        == "HTTP 502 (HTML page)"
    )
    assert (
        verdict(response(200, b"<!DOCTYPE html><html>Maintenance</html>", "text/html"))
        == "HTML page with HTTP 200"
    )
    assert verdict(response(408)) == "HTTP 408"
    for final in (200, 201, 204, 400, 401, 403, 404, 405):
        assert verdict(response(final, b"{}")) is None


def test_mailchimp_compliance_related_503_is_final() -> None:
    body = b'{"title":"Compliance Related","status":503,"detail":"This method has been disabled."}'
    assert mailchimp_transient(response(503, body, "application/problem+json")) is None
