"""The `/__sandbox/` control API over real HTTP: customers, mutations, clock, switches and stats."""

from typing import Any

import orjson
import requests

from oracle_mailchimp_dagster.sandbox.fusion import RunningFusionSandbox
from oracle_mailchimp_dagster.sandbox.fusion.timestamps import parse_timestamp
from tests.fixtures.fusion import FUSION_TEST_CUSTOMERS, FusionSandboxFactory, authorized_session

NOW = "2027-03-01T09:00:00.000+00:00"


def control(
    running: RunningFusionSandbox, method: str, path: str, body: Any = None, **params: Any
) -> requests.Response:
    return requests.request(method, running.control_url + path, json=body, params=params, timeout=10)


def frozen(fusion_sandbox_factory: FusionSandboxFactory, **config: Any) -> RunningFusionSandbox:
    return fusion_sandbox_factory(clock_start=NOW, clock_frozen=True, **config)


def api_item(running: RunningFusionSandbox, party_number: str) -> dict[str, Any]:
    response = authorized_session(running).get(
        f"{running.accounts_url}/{party_number}", params={"onlyData": "true"}, timeout=10
    )
    response.raise_for_status()
    return dict(response.json())


def test_clock_can_be_read_set_advanced_and_frozen(fusion_sandbox_factory: FusionSandboxFactory) -> None:
    running = frozen(fusion_sandbox_factory)
    assert control(running, "GET", "/clock").json() == {
        "now": NOW,
        "now_ms": parse_timestamp(NOW),
        "frozen": True,
    }
    advanced = control(running, "POST", "/clock", {"advance_seconds": 90.5}).json()
    assert advanced["now"] == "2027-03-01T09:01:30.500+00:00"
    moved = control(running, "POST", "/clock", {"set": "2028-01-01T00:00:00Z", "freeze": False}).json()
    assert moved["frozen"] is False and moved["now"] >= "2028-01-01T00:00:00.000+00:00"
    assert control(running, "POST", "/clock", {"advance": 1}).status_code == 400


def test_create_a_customer(fusion_sandbox_factory: FusionSandboxFactory) -> None:
    running = frozen(fusion_sandbox_factory)
    created = control(
        running,
        "POST",
        "/customers",
        {"OrganizationName": "Zeta Widgets Ltd", "EmailAddress": "ap@zeta.example"},
    )
    assert created.status_code == 201
    body = created.json()
    assert body["PartyNumber"] == f"CDRM_{100000 + 2 * FUSION_TEST_CUSTOMERS}"
    assert body["CreationDate"] == body["LastUpdateDate"] == NOW
    assert body["PartyStatus"] == "A" and body["PartyUniqueName"] == "Zeta Widgets Ltd"
    assert api_item(running, body["PartyNumber"])["EmailAddress"] == "ap@zeta.example"
    found = authorized_session(running, 2).get(
        running.accounts_url, params={"q": f"LastUpdateDate >= '{NOW}'"}, timeout=10
    )
    assert [item["PartyNumber"] for item in found.json()["items"]] == [body["PartyNumber"]]


def test_update_bumps_last_update_date_and_derived_fields(
    fusion_sandbox_factory: FusionSandboxFactory,
) -> None:
    running = frozen(fusion_sandbox_factory)
    updated = control(
        running, "PATCH", "/customers/CDRM_100010", {"City": "Springfield", "EmailAddress": "new@x.example"}
    ).json()
    assert updated["LastUpdateDate"] == NOW and updated["LastUpdatedBy"] == "SANDBOX.ADMIN"
    assert "SPRINGFIELD" in updated["FormattedAddress"]
    assert api_item(running, "CDRM_100010")["EmailAddress"] == "new@x.example"


def test_child_changes_bump_parent_switch(fusion_sandbox_factory: FusionSandboxFactory) -> None:
    running = frozen(fusion_sandbox_factory, child_changes_bump_parent=False)
    before = control(running, "GET", "/customers/CDRM_100010").json()
    email_only = control(
        running, "PATCH", "/customers/CDRM_100010", {"EmailAddress": "quiet@x.example"}
    ).json()
    assert email_only["EmailAddress"] == "quiet@x.example"
    assert email_only["LastUpdateDate"] == before["LastUpdateDate"], (
        "an email change alone leaves the party row alone"
    )
    renamed = control(running, "PATCH", "/customers/CDRM_100010", {"OrganizationName": "Renamed Inc."}).json()
    assert renamed["LastUpdateDate"] == NOW


def test_inactivate_reactivate_and_merge(fusion_sandbox_factory: FusionSandboxFactory) -> None:
    running = frozen(fusion_sandbox_factory)
    inactive = control(running, "POST", "/customers/CDRM_100002/inactivate").json()
    assert (inactive["PartyStatus"], inactive["LastUpdateDate"]) == ("I", NOW)
    control(running, "POST", "/clock", {"advance_seconds": 1})
    assert control(running, "POST", "/customers/CDRM_100002/reactivate").json()["PartyStatus"] == "A"
    merged = control(running, "POST", "/customers/CDRM_100004/merge", {"into": "CDRM_100006"}).json()
    assert merged["merged"]["PartyStatus"] == "M"
    assert (
        merged["merged"]["LastUpdateDate"]
        == merged["survivor"]["LastUpdateDate"]
        == "2027-03-01T09:00:01.000+00:00"
    )
    assert api_item(running, "CDRM_100004")["PartyStatus"] == "M"
    assert (
        control(running, "POST", "/customers/CDRM_100004/merge", {"into": "CDRM_100004"}).status_code == 400
    )
    assert control(running, "POST", "/customers/CDRM_999998/inactivate").status_code == 404


def test_touch_gives_many_customers_one_timestamp(fusion_sandbox_factory: FusionSandboxFactory) -> None:
    running = frozen(fusion_sandbox_factory)
    customers = control(running, "GET", "/customers", limit=1000).json()["items"]
    oldest = sorted(customers, key=lambda c: (c["LastUpdateDate"], c["PartyId"]))[:5]
    expected = {"CDRM_100000", "CDRM_100002"} | {c["PartyNumber"] for c in oldest}
    touched = control(
        running, "POST", "/customers/touch", {"party_numbers": ["CDRM_100000", "CDRM_100002"], "oldest": 5}
    ).json()
    assert touched == {"touched": len(expected), "LastUpdateDate": NOW}
    session = authorized_session(running, 2)
    tied = session.get(
        running.accounts_url, params={"q": f"LastUpdateDate = '{NOW}'", "totalResults": "true"}, timeout=10
    )
    assert {item["PartyNumber"] for item in tied.json()["items"]} == expected


def test_late_commit_create_and_its_limits(fusion_sandbox_factory: FusionSandboxFactory) -> None:
    running = frozen(fusion_sandbox_factory)
    late = control(
        running,
        "POST",
        "/customers",
        {"OrganizationName": "Backdated Co", "LastUpdateDate": "2020-05-05T05:05:05.005Z"},
    )
    assert late.json()["LastUpdateDate"] == "2020-05-05T05:05:05.005+00:00"
    too_early = control(
        running, "PATCH", "/customers/CDRM_100300", {"LastUpdateDate": "2001-01-01T00:00:00Z"}
    )
    assert too_early.status_code == 400
    assert "CreationDate" in too_early.json()["error"]


def test_mutation_batches_are_atomic(fusion_sandbox_factory: FusionSandboxFactory) -> None:
    running = frozen(fusion_sandbox_factory)
    bad_batch = [
        {"op": "update", "party_number": "CDRM_100000", "changes": {"EmailAddress": "batch@x.example"}},
        {"op": "inactivate", "party_number": "CDRM_999990"},
    ]
    assert control(running, "POST", "/mutations", bad_batch).status_code == 404
    assert control(running, "GET", "/customers/CDRM_100000").json()["EmailAddress"] != "batch@x.example"
    good = control(
        running, "POST", "/mutations", [bad_batch[0], {"op": "create", "values": {"OrganizationName": "New"}}]
    )
    assert good.json()["applied"] == 2
    assert control(running, "GET", "/customers/CDRM_100000").json()["EmailAddress"] == "batch@x.example"
    assert control(running, "GET", "/stats").json()["mutations_applied"] == 2


def test_mutations_validate_attributes(fusion_sandbox: RunningFusionSandbox) -> None:
    cases = [
        ({"Nope": 1}, "unknown attribute"),
        ({"PartyNumber": "CDRM_1"}, "not updatable"),
        ({"PartyStatus": "X"}, "PartyStatus must be"),
        ({"OwnerPartyId": "seven"}, "takes an integer"),
        ({"Country": "USA-LONG"}, "longer than 2"),
    ]
    for body, reason in cases:
        response = control(fusion_sandbox, "PATCH", "/customers/CDRM_100000", body)
        assert response.status_code == 400 and reason in response.json()["error"], body
    assert (
        control(fusion_sandbox, "PATCH", "/customers/CDRM_100000", ["not", "an", "object"]).status_code == 400
    )
    raw = requests.post(fusion_sandbox.control_url + "/mutations", data=b"{nope", timeout=10)
    assert raw.status_code == 400 and raw.json()["error"] == "the request body is not JSON"


def test_list_all_customers_paginated_and_streamed(fusion_sandbox: RunningFusionSandbox) -> None:
    page = control(fusion_sandbox, "GET", "/customers", limit=150).json()
    assert (page["count"], page["hasMore"], page["total"]) == (150, True, FUSION_TEST_CUSTOMERS)
    rest = control(fusion_sandbox, "GET", "/customers", offset=150, limit=150).json()
    assert rest["count"] == 50 and rest["hasMore"] is False
    stream = requests.get(fusion_sandbox.control_url + "/customers", params={"format": "ndjson"}, timeout=10)
    assert stream.headers["Content-Type"].startswith("application/x-ndjson")
    lines = [orjson.loads(line) for line in stream.content.splitlines()]
    assert [c["PartyNumber"] for c in lines] == [c["PartyNumber"] for c in page["items"] + rest["items"]]
    assert control(fusion_sandbox, "GET", "/customers", limit="lots").status_code == 400


def test_config_switches_at_run_time(fusion_sandbox: RunningFusionSandbox) -> None:
    switched = control(
        fusion_sandbox, "PATCH", "/config", {"limit_cap_quirk_499": True, "default_framework_version": 2}
    )
    assert switched.json()["limit_cap_quirk_499"] is True
    session = authorized_session(fusion_sandbox)
    assert (
        session.get(fusion_sandbox.accounts_url, params={"q": "PartyStatus = 'A'"}, timeout=10).status_code
        == 200
    )
    assert control(fusion_sandbox, "PATCH", "/config", {"customers": 5}).status_code == 400
    assert control(fusion_sandbox, "PATCH", "/config", {"limit_cap": 0}).status_code == 400
    assert control(fusion_sandbox, "PATCH", "/config", {"no_such_switch": 1}).status_code == 400


def test_change_rules_can_be_listed_and_cleared(fusion_sandbox: RunningFusionSandbox) -> None:
    rule = {"before_request": 3, "mutations": [{"op": "inactivate", "party_number": "CDRM_100000"}]}
    assert control(fusion_sandbox, "POST", "/change-rules", rule).json()["rules"][0]["seen"] == 0
    assert (
        control(fusion_sandbox, "POST", "/change-rules", {"before_request": 0, "mutations": []}).status_code
        == 400
    )
    session = authorized_session(fusion_sandbox)
    for _ in range(3):
        session.get(fusion_sandbox.accounts_url, params={"limit": 1}, timeout=10)
    assert control(fusion_sandbox, "GET", "/customers/CDRM_100000").json()["PartyStatus"] == "I"
    assert control(fusion_sandbox, "DELETE", "/change-rules").status_code == 204
    assert control(fusion_sandbox, "GET", "/change-rules").json() == {"rules": []}


def test_stats_count_requests_by_route_and_status(fusion_sandbox: RunningFusionSandbox) -> None:
    session = authorized_session(fusion_sandbox)
    session.get(fusion_sandbox.accounts_url, timeout=10)
    session.get(fusion_sandbox.accounts_url, params={"limit": "x"}, timeout=10)
    requests.get(fusion_sandbox.accounts_url, timeout=10)
    stats = control(fusion_sandbox, "GET", "/stats").json()
    assert stats["requests_by_route"]["GET /crmRestApi/resources/{version}/accounts"] == {
        "200": 1,
        "400": 1,
        "401": 1,
    }
    assert stats["requests_by_route"]["POST /oauth2/v1/token"] == {"200": 1}
    assert stats["token_grants"] == 1 and stats["pod_unauthorized"] == 1
    assert stats["customers"] == FUSION_TEST_CUSTOMERS
    assert stats["peak_concurrent_requests"] >= 1
    assert control(fusion_sandbox, "POST", "/stats/reset").status_code == 204
    assert control(fusion_sandbox, "GET", "/stats").json()["requests_total"] == 0
