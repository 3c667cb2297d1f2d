"""The contract helper itself: it must fail on real violations and pass the documented gaps, narrowly."""

from typing import Any

import orjson
import pytest
import requests
from openapi_spec_validator import validate
from openapi_spec_validator.readers import read_from_filename

from tests.support.openapi_contract import (
    SPEC_PATH,
    ContractRecorder,
    assert_request_matches_spec,
    assert_response_matches_spec,
)

BASE = "http://127.0.0.1:9/3.0"
MEMBER_PATH = "/lists/a1b2c3d4e5/members/0cba00ca3da1b283a57287bcceb17e35"
MEMBER: dict[str, Any] = {
    "id": "0cba00ca3da1b283a57287bcceb17e35",
    "email_address": "Jane.Doe@Acme.io",
    "status": "subscribed",
    "merge_fields": {
        "FNAME": "Jane",
        "ADDRESS": {"addr1": "1 Main St", "city": "A", "state": "GA", "zip": "1"},
    },
    "timestamp_signup": "",
    "timestamp_opt": "2026-01-05T10:00:00+00:00",
    "last_changed": "2026-01-05T10:00:00+00:00",
    "tags": [{"id": 1, "name": "erp"}],
}
PROBLEM = {"type": "t", "title": "Resource Not Found", "status": 404, "detail": "d", "instance": "i"}


def fake_response(
    method: str, path: str, status: int, body: Any = None, content_type: str = "application/json"
) -> requests.Response:
    url = path if path.startswith("http") else BASE + path
    request = requests.Request(method, url, auth=("x", "k")).prepare()
    response = requests.Response()
    response.status_code = status
    response.request = request
    response.url = str(request.url)
    if isinstance(body, str):
        response._content = body.encode()
    else:
        response._content = b"" if body is None else orjson.dumps(body)
    if body is not None:
        response.headers["Content-Type"] = content_type
    return response


def test_the_vendored_document_is_valid_openapi() -> None:
    spec, _ = read_from_filename(str(SPEC_PATH))
    validate(spec)


@pytest.mark.parametrize(
    ("method", "path", "status", "body", "content_type"),
    [
        pytest.param("GET", MEMBER_PATH, 200, MEMBER, "application/json", id="member"),
        pytest.param(
            "GET", MEMBER_PATH, 200, {**MEMBER, "status": "archived"}, "application/json", id="archived"
        ),
        pytest.param(
            "GET",
            "/lists/x/members",
            200,
            {"members": [MEMBER], "total_items": 1},
            "application/json",
            id="page",
        ),
        pytest.param("DELETE", MEMBER_PATH, 204, None, "", id="no-content"),
        pytest.param("GET", MEMBER_PATH, 404, PROBLEM, "application/problem+json", id="problem"),
        pytest.param("GET", "/no/such/route", 404, PROBLEM, "application/problem+json", id="unknown-route"),
        pytest.param("PUT", "/lists", 405, PROBLEM, "application/problem+json", id="unknown-method"),
        pytest.param("POST", "/lists/x", 502, "<HTML>Bad Gateway</HTML>", "text/html", id="cdn-html"),
    ],
)
def test_valid_responses_pass(method: str, path: str, status: int, body: Any, content_type: str) -> None:
    assert_response_matches_spec(fake_response(method, path, status, body, content_type))


@pytest.mark.parametrize(
    ("method", "path", "status", "body", "content_type"),
    [
        pytest.param(
            "GET", MEMBER_PATH, 200, {**MEMBER, "status": "gone"}, "application/json", id="status-enum"
        ),
        pytest.param("GET", MEMBER_PATH, 200, {**MEMBER, "vip": "yes"}, "application/json", id="wrong-type"),
        pytest.param(
            "GET",
            MEMBER_PATH,
            200,
            {**MEMBER, "last_changed": ""},
            "application/json",
            id="empty-last-changed",
        ),
        pytest.param(
            "GET",
            MEMBER_PATH,
            200,
            {**MEMBER, "timestamp_opt": "yesterday"},
            "application/json",
            id="bad-timestamp",
        ),
        pytest.param(
            "GET",
            "/lists/x/members",
            200,
            {"members": [{**MEMBER, "status": "gone"}], "total_items": 1},
            "application/json",
            id="member-inside-page",
        ),
        pytest.param(
            "GET",
            MEMBER_PATH,
            404,
            {**PROBLEM, "instance": None},
            "application/problem+json",
            id="problem-shape",
        ),
        pytest.param("GET", "/no/such/route", 200, {}, "application/json", id="success-off-spec"),
        pytest.param("GET", "/no/such/route", 404, PROBLEM, "application/json", id="error-not-problem"),
        pytest.param("GET", "/ping", 500, "<HTML>oops</HTML>", "text/html", id="html-500"),
    ],
)
def test_violations_fail(method: str, path: str, status: int, body: Any, content_type: str) -> None:
    with pytest.raises(AssertionError):
        assert_response_matches_spec(fake_response(method, path, status, body, content_type))


def test_requests_are_checked_against_the_operation() -> None:
    url = BASE + MEMBER_PATH
    good = {
        "email_address": "a@acme.io",
        "status_if_new": "subscribed",
        "merge_fields": {"FNAME": "A", "N": 1},
    }
    assert_request_matches_spec(requests.Request("PUT", url, json=good, auth=("x", "k")).prepare())
    with pytest.raises(AssertionError, match="status_if_new"):
        body = {"email_address": "a@acme.io"}
        assert_request_matches_spec(requests.Request("PUT", url, json=body, auth=("x", "k")).prepare())
    with pytest.raises(AssertionError, match="count"):
        page = requests.Request("GET", BASE + "/lists/x/members", params={"count": 1001}, auth=("x", "k"))
        assert_request_matches_spec(page.prepare())
    with pytest.raises(AssertionError):
        assert_request_matches_spec(requests.Request("GET", BASE + "/ping").prepare())  # no Basic auth


def test_the_recorder_keeps_and_raises_failures() -> None:
    recorder = ContractRecorder()
    recorder(fake_response("GET", MEMBER_PATH, 200, MEMBER))
    recorder(fake_response("GET", "http://elsewhere/", 200, {}))  # not an API path: ignored
    with pytest.raises(AssertionError):
        recorder(fake_response("GET", MEMBER_PATH, 200, {**MEMBER, "status": "gone"}))
    assert recorder.checked == 2
    assert len(recorder.failures) == 1
    with pytest.raises(AssertionError, match="contract violations"):
        recorder.assert_clean()
