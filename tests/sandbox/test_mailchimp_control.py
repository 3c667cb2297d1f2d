"""Mailchimp sandbox: injected faults, stats, seeding, dumps, the clock, switches and reset."""

import pytest
import requests

from oracle_mailchimp_dagster.sandbox.mailchimp import RunningMailchimpSandbox
from tests.fixtures.mailchimp import (
    BaseUrlSession,
    MailchimpHttp,
    assert_problem,
    member_path,
    seed_members,
    stored_members,
    upsert,
)


def test_error_faults_are_problem_json_and_fire_as_configured(
    mailchimp_http: MailchimpHttp, mailchimp_control: BaseUrlSession
) -> None:
    rule = {"kind": "error", "status": 500, "path": "^/3\\.0/ping$", "skip": 1, "times": 2}
    assert mailchimp_control.post("/faults", json=rule).status_code == 200
    statuses = [mailchimp_http.get("/ping").status_code for _ in range(4)]
    assert statuses == [200, 500, 500, 200]
    mailchimp_control.post("/faults", json={"kind": "error", "status": 500, "path": "/ping"})
    assert_problem(mailchimp_http.get("/ping"), 500, "Internal Server Error")
    fired = mailchimp_control.get("/faults").json()["rules"]
    assert [r["fired"] for r in fired] == [2, 1]


@pytest.mark.parametrize("status", [502, 504])
def test_html_faults_look_like_a_cdn_error_page(
    mailchimp_http: MailchimpHttp, mailchimp_control: BaseUrlSession, status: int
) -> None:
    mailchimp_control.post("/faults", json={"kind": "html", "status": status, "method": "PUT"})
    response = upsert(mailchimp_http, "cdn@edge-errors.io")
    assert response.status_code == status
    assert response.headers["Content-Type"].startswith("text/html")
    assert response.text.lstrip().startswith("<HTML>")
    with pytest.raises(requests.JSONDecodeError):
        response.json()
    assert upsert(mailchimp_http, "cdn@edge-errors.io").status_code == 200, "the rule fires once by default"


def test_rate_limit_bursts_and_retry_after(
    mailchimp_http: MailchimpHttp, mailchimp_control: BaseUrlSession
) -> None:
    mailchimp_control.post(
        "/faults", json={"kind": "rate_limit", "status": 429, "times": 3, "retry_after": 1}
    )
    responses = [mailchimp_http.get("/ping") for _ in range(4)]
    assert [r.status_code for r in responses] == [429, 429, 429, 200]
    assert_problem(responses[0], 429, "Too Many Requests")
    assert responses[0].headers["Retry-After"] == "1"


def test_drop_and_delay_faults(mailchimp_http: MailchimpHttp, mailchimp_control: BaseUrlSession) -> None:
    mailchimp_control.post("/faults", json={"kind": "drop", "path": "/lists$"})
    with pytest.raises((requests.exceptions.ChunkedEncodingError, requests.exceptions.ConnectionError)):
        mailchimp_http.get("/lists")
    mailchimp_control.post("/faults", json={"kind": "delay", "delay_ms": 50, "path": "/lists$"})
    assert mailchimp_http.get("/lists").status_code == 200
    stats = mailchimp_control.get("/stats").json()
    assert stats["dropped_connections"] == 1


def test_stats_count_requests_by_route_and_status(
    mailchimp_http: MailchimpHttp, mailchimp_control: BaseUrlSession
) -> None:
    upsert(mailchimp_http, "s1@stats-co.io")
    upsert(mailchimp_http, "fake@example.com")
    mailchimp_http.get(member_path(mailchimp_http.list_id, "s1@stats-co.io"))
    mailchimp_http.delete(member_path(mailchimp_http.list_id, "s1@stats-co.io"))
    stats = mailchimp_control.get("/stats").json()
    routes = stats["requests_by_route"]
    member_route = "/3.0/lists/{list_id}/members/{ref}"
    assert routes[f"PUT {member_route}"] == {"200": 1, "400": 1}
    assert routes[f"GET {member_route}"] == {"200": 1}
    assert routes[f"DELETE {member_route}"] == {"204": 1}
    assert stats["members_by_list"] == {mailchimp_http.list_id: {"archived": 1}}
    assert stats["requests_by_status"] == {"200": 2, "204": 1, "400": 1}


def test_seed_a_list_with_extra_fields_and_dump_it(
    mailchimp_http: MailchimpHttp, mailchimp_control: BaseUrlSession
) -> None:
    created = mailchimp_control.post(
        "/lists",
        json={
            "id": "0a0b0c0d0e",
            "name": "Seeded",
            "merge_fields": [{"tag": "COMPANY", "name": "Company", "type": "text", "required": True}],
        },
    )
    assert created.status_code == 201
    assert [f["tag"] for f in created.json()["merge_fields"]] == [
        "FNAME",
        "LNAME",
        "ADDRESS",
        "PHONE",
        "BIRTHDAY",
        "COMPANY",
    ]
    assert mailchimp_control.post("/lists", json={"id": "0a0b0c0d0e"}).status_code == 409
    assert mailchimp_control.post("/lists", json={"id": "not-hex"}).status_code == 400

    response = mailchimp_http.put(
        "/lists/0a0b0c0d0e/members/x@seeded-co.io",
        json={
            "email_address": "x@seeded-co.io",
            "status_if_new": "subscribed",
            "merge_fields": {"COMPANY": "Acme"},
        },
    )
    assert response.json()["merge_fields"]["COMPANY"] == "Acme"
    seed_members(
        mailchimp_control,
        "0a0b0c0d0e",
        {
            "email_address": "y@seeded-co.io",
            "status": "unsubscribed",
            "unsub_source": "self",
            "tags": ["erp"],
        },
    )
    dump = stored_members(mailchimp_control, "0a0b0c0d0e")
    assert set(dump) == {"x@seeded-co.io", "y@seeded-co.io"}
    assert (dump["y@seeded-co.io"]["unsub_source"], dump["y@seeded-co.io"]["tags"]) == ("self", ["erp"])


def test_contact_profile_changes_bypass_api_validation(
    mailchimp_http: MailchimpHttp, mailchimp_control: BaseUrlSession
) -> None:
    upsert(mailchimp_http, "self.service@profile-co.io")
    changed = mailchimp_control.post(
        f"/lists/{mailchimp_http.list_id}/members/self.service@profile-co.io/profile",
        json={
            "merge_fields": {"FNAME": "Sam", "ADDRESS": {"addr1": "2 Side St"}},
            "email_address": "sam@profile-co.io",
        },
    )
    assert changed.status_code == 200
    member = mailchimp_http.get(member_path(mailchimp_http.list_id, "sam@profile-co.io")).json()
    assert member["merge_fields"]["FNAME"] == "Sam"
    assert member["merge_fields"]["ADDRESS"] == {"addr1": "2 Side St"}, (
        "stored incomplete, as a form may leave it"
    )


def test_the_clock_moves_timestamps(mailchimp_http: MailchimpHttp, mailchimp_control: BaseUrlSession) -> None:
    set_to = mailchimp_control.post("/clock", json={"now": "2031-05-06T07:08:09+00:00"}).json()
    assert set_to["now"].startswith("2031-05-06T07:08")
    member = upsert(mailchimp_http, "time@clock-co.io").json()
    assert member["last_changed"].startswith("2031-05-06T07:08")
    assert mailchimp_control.post("/clock", json={"now": "not a time"}).status_code == 400
    real = mailchimp_control.post("/clock", json={"real": True}).json()
    assert not real["now"].startswith("2031")


def test_switches_are_validated(mailchimp_control: BaseUrlSession) -> None:
    assert mailchimp_control.patch("/switches", json={"no_such_switch": 1}).status_code == 400
    assert mailchimp_control.patch("/switches", json={"text_too_long": "explode"}).status_code == 400
    assert mailchimp_control.patch("/switches", data=b"{").status_code == 400
    assert mailchimp_control.get("/switches").json()["max_connections"] == 10


def test_reset_restores_the_configured_state(
    mailchimp_sandbox: RunningMailchimpSandbox,
    mailchimp_http: MailchimpHttp,
    mailchimp_control: BaseUrlSession,
) -> None:
    first = upsert(mailchimp_http, "before@reset-co.io").json()
    mailchimp_control.patch("/switches", json={"max_connections": 1})
    mailchimp_control.post("/faults", json={"kind": "error", "path": "/never-hit"})
    mailchimp_control.post("/lists", json={"name": "Extra"})
    assert mailchimp_control.post("/reset").status_code == 204

    assert stored_members(mailchimp_control, mailchimp_http.list_id) == {}
    assert mailchimp_control.get("/switches").json()["max_connections"] == 10
    assert mailchimp_control.get("/faults").json()["rules"] == []
    assert mailchimp_control.get("/stats").json()["requests_total"] == 0
    assert len(mailchimp_http.get("/lists").json()["lists"]) == 1
    again = upsert(mailchimp_http, "before@reset-co.io").json()
    assert again["unique_email_id"] == first["unique_email_id"], (
        "ids come from the seed, so a reset replays them"
    )
    mailchimp_sandbox.reset()
    assert stored_members(mailchimp_control, mailchimp_http.list_id) == {}


def test_control_errors_are_plain_json(mailchimp_control: BaseUrlSession) -> None:
    missing = mailchimp_control.get("/lists/ffffffffff/members")
    assert missing.status_code == 404
    assert "error" in missing.json()
    bad_seed = mailchimp_control.post("/lists/a1b2c3d4e5/members", json=[{"status": "subscribed"}])
    assert bad_seed.status_code == 400
