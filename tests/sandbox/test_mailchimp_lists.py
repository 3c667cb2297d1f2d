"""Mailchimp sandbox: ping, the account root, audiences (lists) and routing errors."""

from typing import Any

from oracle_mailchimp_dagster.sandbox.mailchimp import MailchimpSandboxConfig
from tests.fixtures.mailchimp import MailchimpHttp, assert_problem, field_errors, member_path, upsert

NEW_LIST: dict[str, Any] = {
    "name": "EMEA customers",
    "contact": {
        "company": "Acme",
        "address1": "1 Main St",
        "city": "Berlin",
        "state": "",
        "zip": "10115",
        "country": "DE",
    },
    "permission_reminder": "You bought from us.",
    "campaign_defaults": {
        "from_name": "Acme",
        "from_email": "news@acme-corp.io",
        "subject": "",
        "language": "de",
    },
    "email_type_option": False,
}


def test_ping_and_root(mailchimp_http: MailchimpHttp) -> None:
    assert mailchimp_http.get("/ping").json() == {"health_status": "Everything's Chimpy!"}
    upsert(mailchimp_http, "one@root-co.io")
    for path in (mailchimp_http.base_url, "/"):
        root = mailchimp_http.get(path).json()
        assert root["account_name"] == "Oracle Mailchimp Sandbox"
        assert root["role"] == "owner"
        assert root["total_subscribers"] == 1
    assert mailchimp_http.get("/lists/").status_code == 200, "a trailing slash is tolerated"


def test_default_list_is_seeded(mailchimp_http: MailchimpHttp) -> None:
    listed = mailchimp_http.get("/lists").json()
    assert listed["total_items"] == 1
    audience = listed["lists"][0]
    assert audience["id"] == mailchimp_http.list_id == "a1b2c3d4e5"
    assert audience["stats"]["merge_field_count"] == 6, "Mailchimp's five defaults plus COMPANY"
    one = mailchimp_http.get(f"/lists/{mailchimp_http.list_id}").json()
    assert one["name"] == audience["name"]
    without = MailchimpSandboxConfig(include_company=False).default_merge_fields()
    assert [f.tag for f in without] == ["FNAME", "LNAME", "ADDRESS", "PHONE", "BIRTHDAY"]


def test_list_stats_count_members_by_status(mailchimp_http: MailchimpHttp) -> None:
    upsert(mailchimp_http, "a@stats-co.io")
    upsert(mailchimp_http, "b@stats-co.io", status_if_new="unsubscribed")
    upsert(mailchimp_http, "c@stats-co.io")
    mailchimp_http.delete(member_path(mailchimp_http.list_id, "c@stats-co.io"))
    stats = mailchimp_http.get(f"/lists/{mailchimp_http.list_id}").json()["stats"]
    assert (stats["member_count"], stats["unsubscribe_count"], stats["total_contacts"]) == (1, 1, 2)


def test_create_update_and_delete_a_list(mailchimp_http: MailchimpHttp) -> None:
    created = mailchimp_http.post("/lists", json=NEW_LIST)
    assert created.status_code == 200
    list_id = created.json()["id"]
    assert len(list_id) == 10
    fields = mailchimp_http.get(f"/lists/{list_id}/merge-fields").json()["merge_fields"]
    assert [f["tag"] for f in fields] == ["FNAME", "LNAME", "ADDRESS", "PHONE", "BIRTHDAY"]
    assert mailchimp_http.get("/lists", params={"email": "x@lists-co.io"}).json()["total_items"] == 0

    patched = mailchimp_http.patch(f"/lists/{list_id}", json={**NEW_LIST, "name": "EMEA"})
    assert patched.json()["name"] == "EMEA"
    assert mailchimp_http.get("/lists").json()["total_items"] == 2

    mailchimp_http.put(
        f"/lists/{list_id}/members/x@lists-co.io",
        json={"email_address": "x@lists-co.io", "status_if_new": "subscribed"},
    )
    in_list = mailchimp_http.get("/lists", params={"email": "x@lists-co.io"}).json()
    assert [a["id"] for a in in_list["lists"]] == [list_id]

    assert mailchimp_http.delete(f"/lists/{list_id}").status_code == 204
    assert_problem(mailchimp_http.get(f"/lists/{list_id}"), 404, "Resource Not Found")


def test_list_creation_requires_the_documented_fields(mailchimp_http: MailchimpHttp) -> None:
    response = mailchimp_http.post("/lists", json={"name": "Bare"})
    assert_problem(response, 400, "Invalid Resource")
    missing = "contact, permission_reminder, campaign_defaults, email_type_option"
    assert field_errors(response) == [("", f"Required fields were not provided: {missing}")]


def test_unknown_paths_and_methods_are_mailchimp_errors(mailchimp_http: MailchimpHttp) -> None:
    assert_problem(mailchimp_http.get("/automations-of-the-future"), 404, "Resource Not Found")
    assert_problem(mailchimp_http.get("/lists/ffffffffff/members"), 404, "Resource Not Found")
    not_allowed = mailchimp_http.put("/lists", json={})
    assert_problem(not_allowed, 405, "Method Not Allowed")
    assert set(not_allowed.headers["Allow"].split(", ")) == {"GET", "POST", "HEAD"}
