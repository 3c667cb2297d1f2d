"""Oracle's error detail is read from ADF error JSON, plain text, other JSON and HTML alike."""

import orjson

from oracle_mailchimp_dagster.fusion.errors import (
    FusionRequestError,
    OracleErrorDetail,
    hint_for,
    parse_error_details,
)

ADF = {
    "title": "Bad Request",
    "status": "400",
    "o:errorDetails": [
        {
            "detail": "URL request parameter q with value Foo='x' is not valid.",
            "o:errorCode": "27501",
            "o:errorPath": "",
        }
    ],
}


def test_adf_error_json() -> None:
    details = parse_error_details("application/vnd.oracle.adf.error+json", orjson.dumps(ADF))
    assert details == (
        OracleErrorDetail("URL request parameter q with value Foo='x' is not valid.", "27501"),
    )


def test_plain_text_error() -> None:
    body = b"URL request parameter q with value LastUpdateDate > '2024' is not valid.\n"
    details = parse_error_details("text/plain", body)
    assert details == (
        OracleErrorDetail("URL request parameter q with value LastUpdateDate > '2024' is not valid."),
    )


def test_other_json_html_and_empty_bodies() -> None:
    assert parse_error_details("application/json", b'{"title":"Unauthorized","status":"401"}') == (
        OracleErrorDetail("Unauthorized"),
    )
    assert parse_error_details("text/html", b"<html><body>Bad gateway</body></html>") == (
        OracleErrorDetail("an HTML error page"),
    )
    assert parse_error_details("text/plain", b"") == ()
    long = parse_error_details("text/plain", b"x" * 5000)
    assert len(long[0].detail) == 500


def test_request_error_message_carries_detail_status_and_hint() -> None:
    details = parse_error_details("application/vnd.oracle.adf.error+json", orjson.dumps(ADF))
    error = FusionRequestError("acme", 400, details, hint_for(400))
    text = str(error)
    assert text.startswith("Oracle Fusion tenant 'acme': HTTP 400: URL request parameter q")
    assert "check the resource path" in text
    assert error.status == 400 and error.details[0].error_code == "27501"
