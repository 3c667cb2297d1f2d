"""`/__sandbox/malform` over real HTTP: rendered rows carry raw JSON of any kind for an attribute, while
queries and the control API keep the stored value, until the customer is next written or it is cleared."""

from typing import Any

import requests

from oracle_mailchimp_dagster.sandbox.fusion import RunningFusionSandbox
from tests.fixtures.fusion import FusionSandboxFactory, authorized_session

NOW = "2027-03-01T09:00:00.000+00:00"


def control(running: RunningFusionSandbox, method: str, path: str, body: Any = None) -> requests.Response:
    return requests.request(method, running.control_url + path, json=body, timeout=10)


def malform(running: RunningFusionSandbox, numbers: list[str], attribute: str, value: Any) -> None:
    body = {"party_numbers": numbers, "attribute": attribute, "value": value}
    response = control(running, "POST", "/malform", body)
    assert response.status_code == 200, response.text


def rendered(running: RunningFusionSandbox, numbers: list[str], **params: str) -> dict[str, dict[str, Any]]:
    """The pod's rows of these customers, by PartyNumber, as a client reads them (framework 2)."""
    q = "PartyNumber IN (" + ",".join(f"'{n}'" for n in numbers) + ")"
    response = authorized_session(running, 2).get(
        running.accounts_url, params={"q": q, "onlyData": "true", **params}, timeout=10
    )
    response.raise_for_status()
    return {item["PartyNumber"]: item for item in response.json()["items"]}


def stored(running: RunningFusionSandbox, number: str) -> dict[str, Any]:
    return dict(control(running, "GET", f"/customers/{number}").json())


def test_rows_carry_the_raw_value_of_any_json_kind(fusion_sandbox_factory: FusionSandboxFactory) -> None:
    running = fusion_sandbox_factory(clock_start=NOW, clock_frozen=True)
    values: dict[str, tuple[str, Any]] = {
        "CDRM_100000": ("PostalCode", 94065),
        "CDRM_100002": ("EmailAddress", ["ap@acme.example", "ar@acme.example"]),
        "CDRM_100004": ("OrganizationName", {"name": "Acme"}),
        "CDRM_100006": ("City", True),
        "CDRM_100008": ("OrganizationName", None),
    }
    for number, (attribute, value) in values.items():
        malform(running, [number], attribute, value)
    rows = rendered(running, list(values))
    for number, (attribute, value) in values.items():
        assert rows[number][attribute] == value and type(rows[number][attribute]) is type(value), number
        assert isinstance(stored(running, number)[attribute], str), "the stored value is untouched"
    item = authorized_session(running).get(f"{running.accounts_url}/CDRM_100000", timeout=10).json()
    assert item["PostalCode"] == 94065 and item["City"] == stored(running, "CDRM_100000")["City"]
    listed = control(running, "GET", "/malform").json()["malformed"]
    assert listed == {number: {attribute: value} for number, (attribute, value) in values.items()}
    assert control(running, "GET", "/stats").json()["malformed_customers"] == 5


def test_keyset_attributes_can_be_malformed_while_queries_see_the_stored_keys(
    fusion_sandbox: RunningFusionSandbox,
) -> None:
    real = stored(fusion_sandbox, "CDRM_100010")
    malform(fusion_sandbox, ["CDRM_100010"], "PartyId", "abc")
    malform(fusion_sandbox, ["CDRM_100010", "CDRM_100012"], "LastUpdateDate", None)
    session = authorized_session(fusion_sandbox, 2)
    by_id = session.get(
        fusion_sandbox.accounts_url,
        params={"q": f"PartyId = {real['PartyId']}", "onlyData": "true"},
        timeout=10,
    ).json()["items"]
    assert [(row["PartyNumber"], row["PartyId"], row["LastUpdateDate"]) for row in by_id] == [
        ("CDRM_100010", "abc", None)
    ]
    assert rendered(fusion_sandbox, ["CDRM_100012"])["CDRM_100012"]["LastUpdateDate"] is None
    ordered = session.get(
        fusion_sandbox.accounts_url,
        params={
            "orderBy": "LastUpdateDate:asc,PartyId:asc",
            "limit": "500",
            "fields": "PartyNumber",
            "onlyData": "true",
        },
        timeout=10,
    ).json()["items"]
    everyone = control(fusion_sandbox, "GET", "/customers?limit=1000").json()["items"]
    expected = sorted(everyone, key=lambda c: (c["LastUpdateDate"], c["PartyId"]))
    assert [row["PartyNumber"] for row in ordered] == [c["PartyNumber"] for c in expected]
    assert all(set(row) == {"PartyNumber"} for row in ordered), "a projection leaves malformed attributes out"


def test_a_write_or_a_delete_clears_malformed_values(fusion_sandbox: RunningFusionSandbox) -> None:
    numbers = ["CDRM_100020", "CDRM_100022", "CDRM_100024"]
    postal_codes = {number: stored(fusion_sandbox, number)["PostalCode"] for number in numbers}
    malform(fusion_sandbox, numbers, "PostalCode", 94065)
    assert control(fusion_sandbox, "PATCH", "/customers/CDRM_100020", {"City": "Moved"}).status_code == 200
    assert control(fusion_sandbox, "POST", "/customers/CDRM_100022/inactivate").status_code == 200
    rows = rendered(fusion_sandbox, numbers)
    assert [rows[n]["PostalCode"] for n in numbers] == [
        postal_codes["CDRM_100020"],
        postal_codes["CDRM_100022"],
        94065,
    ]
    assert list(control(fusion_sandbox, "GET", "/malform").json()["malformed"]) == ["CDRM_100024"]
    assert control(fusion_sandbox, "DELETE", "/malform").status_code == 204
    assert (
        rendered(fusion_sandbox, ["CDRM_100024"])["CDRM_100024"]["PostalCode"] == postal_codes["CDRM_100024"]
    )
    assert control(fusion_sandbox, "GET", "/malform").json() == {"malformed": {}}


def test_malform_requests_are_validated(fusion_sandbox: RunningFusionSandbox) -> None:
    cases = [
        ({"party_numbers": ["CDRM_100000"], "attribute": "Nope", "value": 1}, 400, "unknown attribute"),
        ({"party_numbers": ["CDRM_999998"], "attribute": "City", "value": 1}, 404, "no customer"),
        ({"party_numbers": ["CDRM_100000"], "attribute": "City"}, 400, "value"),
        ({"party_numbers": [], "attribute": "City", "value": 1}, 400, "party_numbers"),
        ({"party_numbers": ["CDRM_100000"], "attribute": "City", "value": 1, "until": "x"}, 400, "until"),
    ]
    for body, status, words in cases:
        response = control(fusion_sandbox, "POST", "/malform", body)
        assert (response.status_code, words in response.json()["error"]) == (status, True), body
    assert control(fusion_sandbox, "GET", "/malform").json() == {"malformed": {}}, "nothing half-applied"
