"""Mailchimp sandbox: batch subscribe `POST /lists/{id}` (reference §4.1): 200 with per-member errors."""

from typing import Any

from tests.fixtures.mailchimp import (
    BaseUrlSession,
    MailchimpHttp,
    assert_problem,
    field_errors,
    member_path,
    seed_members,
    stored_members,
    upsert,
)

SCHEMA_DETAIL = (
    "The resource submitted could not be validated. For field-specific details, see the 'errors' array."
)


def batch(http: MailchimpHttp, members: list[dict[str, Any]], **options: Any) -> dict[str, Any]:
    params = {k: v for k, v in options.items() if k.startswith("skip_")}
    body = {"members": members, **{k: v for k, v in options.items() if not k.startswith("skip_")}}
    response = http.post(f"/lists/{http.list_id}", json=body, params=params)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def test_mixed_batch_creates_updates_and_lists_errors(
    mailchimp_http: MailchimpHttp, mailchimp_control: BaseUrlSession
) -> None:
    upsert(mailchimp_http, "existing@batch-co.io", merge_fields={"FNAME": "Old"})
    upsert(mailchimp_http, "erased@batch-co.io")
    mailchimp_http.post(
        member_path(mailchimp_http.list_id, "erased@batch-co.io") + "/actions/delete-permanent"
    )
    result = batch(
        mailchimp_http,
        [
            {
                "email_address": "new@batch-co.io",
                "status_if_new": "subscribed",
                "merge_fields": {"FNAME": "Ann"},
            },
            {
                "email_address": "existing@batch-co.io",
                "status_if_new": "pending",
                "merge_fields": {"FNAME": "New"},
            },
            {"email_address": "fooboo@example.com", "status_if_new": "subscribed"},
            {"email_address": "not-an-address", "status_if_new": "subscribed"},
            {
                "email_address": "addr@batch-co.io",
                "status_if_new": "subscribed",
                "merge_fields": {"ADDRESS": {"addr1": "x"}},
            },
            {"email_address": "erased@batch-co.io", "status_if_new": "subscribed"},
            {"email_address": "nostatus@batch-co.io"},
        ],
        update_existing=True,
    )
    assert [m["email_address"] for m in result["new_members"]] == ["new@batch-co.io"]
    assert [m["email_address"] for m in result["updated_members"]] == ["existing@batch-co.io"]
    assert result["updated_members"][0]["status"] == "subscribed", (
        "status_if_new never touches existing members"
    )
    assert result["updated_members"][0]["merge_fields"]["FNAME"] == "New"
    assert (result["total_created"], result["total_updated"], result["error_count"]) == (1, 1, 5)
    assert result["errors"] == [
        {
            "email_address": "fooboo@example.com",
            "error": "fooboo@example.com looks fake or invalid, please enter a real email address.",
            "error_code": "ERROR_GENERIC",
            "field": "",
            "field_message": "",
        },
        {
            "email_address": "not-an-address",
            "error": "Please provide a valid email address.",
            "error_code": "ERROR_GENERIC",
            "field": "",
            "field_message": "",
        },
        {
            "email_address": "addr@batch-co.io",
            "error": SCHEMA_DETAIL,
            "error_code": "ERROR_GENERIC",
            "field": "ADDRESS",
            "field_message": "Please enter a complete address",
        },
        {
            "email_address": "erased@batch-co.io",
            "error": "erased@batch-co.io was permanently deleted and cannot be re-imported. "
            "The contact must re-subscribe to get back on the list.",
            "error_code": "ERROR_GENERIC",
            "field": "",
            "field_message": "",
        },
        {
            "email_address": "nostatus@batch-co.io",
            "error": SCHEMA_DETAIL,
            "error_code": "ERROR_GENERIC",
            "field": "",
            "field_message": "Required fields were not provided: status_if_new",
        },
    ]
    stored = stored_members(mailchimp_control, mailchimp_http.list_id)
    assert set(stored) == {"existing@batch-co.io", "new@batch-co.io"}, "failed members leave no trace"


def test_without_update_existing_existing_contacts_are_errors(mailchimp_http: MailchimpHttp) -> None:
    upsert(mailchimp_http, "existing@batch-co.io")
    result = batch(mailchimp_http, [{"email_address": "existing@batch-co.io", "status": "unsubscribed"}])
    assert result["errors"] == [
        {
            "email_address": "existing@batch-co.io",
            "error": "existing@batch-co.io is already a list member, do you want to update? please provide "
            "update_existing:true in the request body",
            "error_code": "ERROR_CONTACT_EXISTS",
            "field": "",
            "field_message": "",
        }
    ]
    assert mailchimp_http.get(member_path(mailchimp_http.list_id, "existing@batch-co.io")).json()[
        "status"
    ] == ("subscribed")


def test_batch_unsubscribes_and_keeps_archived_contacts_archived(
    mailchimp_http: MailchimpHttp, mailchimp_control: BaseUrlSession
) -> None:
    upsert(mailchimp_http, "leaving@batch-co.io")
    seed_members(
        mailchimp_control,
        mailchimp_http.list_id,
        {"email_address": "shelved@batch-co.io", "status": "archived"},
    )
    result = batch(
        mailchimp_http,
        [
            {"email_address": "leaving@batch-co.io", "status": "unsubscribed"},
            {
                "email_address": "shelved@batch-co.io",
                "status_if_new": "subscribed",
                "merge_fields": {"FNAME": "S"},
            },
        ],
        update_existing=True,
    )
    statuses = {m["email_address"]: m["status"] for m in result["updated_members"]}
    assert statuses == {"leaving@batch-co.io": "unsubscribed", "shelved@batch-co.io": "archived"}


def test_duplicates_are_errors_unless_skip_duplicate_check(mailchimp_http: MailchimpHttp) -> None:
    members = [
        {"email_address": "twice@batch-co.io", "status_if_new": "subscribed"},
        {"email_address": "TWICE@batch-co.io", "status_if_new": "pending"},
    ]
    flagged = batch(mailchimp_http, members, update_existing=True)
    assert flagged["total_created"] == 1
    assert [e["email_address"] for e in flagged["errors"]] == ["TWICE@batch-co.io"]

    skipped = batch(
        mailchimp_http,
        [
            {"email_address": "once@batch-co.io", "status_if_new": "pending"},
            {"email_address": "once@batch-co.io", "status_if_new": "subscribed"},
        ],
        skip_duplicate_check="true",
    )
    assert skipped["error_count"] == 0
    assert [m["status"] for m in skipped["new_members"]] == ["pending"], "the first appearance wins"


def test_sync_tags_replaces_and_plain_tags_add(mailchimp_http: MailchimpHttp) -> None:
    mailchimp_http.post(
        f"/lists/{mailchimp_http.list_id}/members",
        json={"email_address": "tags@batch-co.io", "status": "subscribed", "tags": ["old", "keep"]},
    )
    added = batch(
        mailchimp_http, [{"email_address": "tags@batch-co.io", "tags": ["new"]}], update_existing=True
    )
    assert sorted(t["name"] for t in added["updated_members"][0]["tags"]) == ["keep", "new", "old"]
    synced = batch(
        mailchimp_http,
        [{"email_address": "tags@batch-co.io", "tags": ["keep", "fresh"]}],
        update_existing=True,
        sync_tags=True,
    )
    assert sorted(t["name"] for t in synced["updated_members"][0]["tags"]) == ["fresh", "keep"]


def test_skip_merge_validation_applies_to_batches(mailchimp_http: MailchimpHttp) -> None:
    mailchimp_http.post(
        f"/lists/{mailchimp_http.list_id}/merge-fields",
        json={"tag": "ACCT", "name": "Account", "type": "text", "required": True},
    )
    members = [{"email_address": "req@batch-co.io", "status_if_new": "subscribed"}]
    refused = batch(mailchimp_http, members)
    assert (refused["error_count"], refused["errors"][0]["field"]) == (1, "ACCT")
    accepted = batch(mailchimp_http, members, skip_merge_validation="true")
    assert accepted["total_created"] == 1


def test_more_than_500_members_is_invalid_resource(mailchimp_http: MailchimpHttp) -> None:
    members = [{"email_address": f"m{i}@batch-co.io", "status_if_new": "subscribed"} for i in range(501)]
    response = mailchimp_http.post(f"/lists/{mailchimp_http.list_id}", json={"members": members})
    assert_problem(response, 400, "Invalid Resource")
    exactly = mailchimp_http.post(f"/lists/{mailchimp_http.list_id}", json={"members": members[:500]})
    assert exactly.json()["total_created"] == 500


def test_shape_errors_fail_the_whole_batch(mailchimp_http: MailchimpHttp) -> None:
    response = mailchimp_http.post(
        f"/lists/{mailchimp_http.list_id}",
        json={
            "members": [
                {"email_address": "ok@batch-co.io", "status": "subscribed"},
                {"email_address": "bad@batch-co.io", "status": "", "merge_fields": {"FNAME": None}},
            ]
        },
    )
    assert_problem(response, 400, "Invalid Resource", SCHEMA_DETAIL)
    assert sorted(field_errors(response)) == [
        ("members.item:1.merge_fields.FNAME", "Data did not match any of the schemas described in anyOf."),
        (
            "members.item:1.status",
            "Data presented is not one of the accepted values: subscribed, unsubscribed, cleaned, pending, "
            "transactional.",
        ),
    ]
    assert_problem(mailchimp_http.post(f"/lists/{mailchimp_http.list_id}", json={}), 400, "Invalid Resource")
    assert_problem(mailchimp_http.post("/lists/0000000000", json={"members": []}), 404, "Resource Not Found")
