"""Mailchimp sandbox: member endpoints, identity, archive/erase, email changes and tags, over real HTTP."""

import hashlib
from typing import Any

from oracle_mailchimp_dagster.sandbox.mailchimp import subscriber_hash
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

ADDRESS = {
    "addr1": "1 Main St",
    "addr2": "",
    "city": "Atlanta",
    "state": "GA",
    "zip": "30308",
    "country": "US",
}


def test_put_creates_with_status_if_new_and_returns_the_member(mailchimp_http: MailchimpHttp) -> None:
    email = "Grace.Hopper@Navy-Systems.io"
    response = upsert(
        mailchimp_http,
        email,
        merge_fields={"FNAME": "Grace", "LNAME": "Hopper", "PHONE": "+1 555 0100", "ADDRESS": ADDRESS},
    )
    assert response.status_code == 200
    member = response.json()
    assert member["id"] == subscriber_hash(email) == subscriber_hash(email.lower())
    assert member["email_address"] == email, "the address keeps the case it was sent with"
    assert member["status"] == "subscribed"
    assert member["merge_fields"] == {
        "FNAME": "Grace",
        "LNAME": "Hopper",
        "ADDRESS": ADDRESS,
        "PHONE": "+1 555 0100",
        "BIRTHDAY": "",
        "COMPANY": "",
    }
    assert member["full_name"] == "Grace Hopper"
    assert member["list_id"] == mailchimp_http.list_id
    assert member["timestamp_opt"] and member["last_changed"]
    assert len(member["unique_email_id"]) == 10


def test_the_subscriber_hash_the_email_and_the_contact_id_all_address_a_member(
    mailchimp_http: MailchimpHttp,
) -> None:
    created = upsert(mailchimp_http, "ada@analytical-engines.io").json()
    base = f"/lists/{mailchimp_http.list_id}/members"
    for ref in (
        created["id"],
        created["id"].upper(),
        "ada@analytical-engines.io",
        "ADA@Analytical-Engines.io",
    ):
        assert mailchimp_http.get(f"{base}/{ref}").json()["id"] == created["id"], ref
    assert mailchimp_http.get(f"{base}/{created['contact_id']}").json()["id"] == created["id"]
    missing = mailchimp_http.get(f"{base}/{subscriber_hash('nobody@analytical-engines.io')}")
    assert_problem(missing, 404, "Resource Not Found", "The requested resource could not be found.")


def test_put_on_an_existing_member_updates_fields_and_ignores_status_if_new(
    mailchimp_http: MailchimpHttp,
) -> None:
    email = "linus@kernel-works.io"
    first = upsert(mailchimp_http, email, merge_fields={"FNAME": "Linus"}).json()
    second = upsert(mailchimp_http, email, status_if_new="pending", merge_fields={"LNAME": "T"}).json()
    assert second["status"] == "subscribed"
    assert second["merge_fields"]["FNAME"] == "Linus", "fields the request leaves out are kept"
    assert second["merge_fields"]["LNAME"] == "T"
    assert second["contact_id"] == first["contact_id"]


def test_put_with_a_hash_of_the_unlowercased_address_is_member_exists(mailchimp_http: MailchimpHttp) -> None:
    email = "Jane.Smith@Acme-Corp.io"
    upsert(mailchimp_http, email)
    wrong_hash = hashlib.md5(email.encode()).hexdigest()
    response = mailchimp_http.put(
        f"/lists/{mailchimp_http.list_id}/members/{wrong_hash}",
        json={"email_address": email, "status_if_new": "subscribed"},
    )
    assert_problem(
        response,
        400,
        "Member Exists",
        f"{email} is already a list member. Use PUT to insert or update list members.",
    )


def test_post_creates_only(mailchimp_http: MailchimpHttp) -> None:
    base = f"/lists/{mailchimp_http.list_id}/members"
    body = {"email_address": "new@fresh-leads.io", "status": "pending", "tags": ["erp", "Import"]}
    created = mailchimp_http.post(base, json=body)
    assert created.status_code == 200
    assert created.json()["status"] == "pending"
    assert sorted(t["name"] for t in created.json()["tags"]) == ["Import", "erp"]
    assert_problem(
        mailchimp_http.post(base, json=body),
        400,
        "Member Exists",
        "new@fresh-leads.io is already a list member. Use PUT to insert or update list members.",
    )


def test_patch_updates_an_existing_member_and_404s_otherwise(mailchimp_http: MailchimpHttp) -> None:
    path = member_path(mailchimp_http.list_id, "pat@patchworks.io")
    assert_problem(mailchimp_http.patch(path, json={"vip": True}), 404, "Resource Not Found")
    upsert(mailchimp_http, "pat@patchworks.io")
    patched = mailchimp_http.patch(
        path, json={"vip": True, "language": "fr", "merge_fields": {"FNAME": "Pat"}}
    )
    assert patched.status_code == 200
    assert (patched.json()["vip"], patched.json()["language"]) == (True, "fr")
    assert patched.json()["merge_fields"]["FNAME"] == "Pat"


def test_last_changed_moves_on_every_change_and_only_then(
    mailchimp_http: MailchimpHttp, mailchimp_control: BaseUrlSession
) -> None:
    email = "clock@timekeepers.io"
    created = upsert(mailchimp_http, email, merge_fields={"FNAME": "A"}).json()
    mailchimp_control.post("/clock", json={"advance_seconds": 60})
    unchanged = upsert(mailchimp_http, email, merge_fields={"FNAME": "A"}).json()
    assert unchanged["last_changed"] == created["last_changed"], "an identical write changes nothing"
    changed = upsert(mailchimp_http, email, merge_fields={"FNAME": "B"}).json()
    assert changed["last_changed"] > created["last_changed"]
    mailchimp_control.post("/clock", json={"advance_seconds": 60})
    path = member_path(mailchimp_http.list_id, email)
    mailchimp_http.post(path + "/tags", json={"tags": [{"name": "vip", "status": "active"}]})
    tagged = mailchimp_http.get(path).json()
    assert tagged["last_changed"] > changed["last_changed"], "tags are a change too"


def test_delete_archives_and_status_unarchives(mailchimp_http: MailchimpHttp) -> None:
    email = "arch@ive-systems.io"
    path = member_path(mailchimp_http.list_id, email)
    upsert(mailchimp_http, email, merge_fields={"FNAME": "Ann"})
    deleted = mailchimp_http.delete(path)
    assert deleted.status_code == 204
    assert deleted.content == b""
    assert mailchimp_http.get(path).json()["status"] == "archived"
    assert mailchimp_http.delete(path).status_code == 204, "archiving again is harmless"

    kept = upsert(mailchimp_http, email, merge_fields={"FNAME": "Anne"}).json()
    assert kept["status"] == "archived", "status_if_new alone leaves an archived contact archived"
    assert kept["merge_fields"]["FNAME"] == "Anne", "...but its fields are updated"

    post = mailchimp_http.post(
        f"/lists/{mailchimp_http.list_id}/members", json={"email_address": email, "status": "subscribed"}
    )
    assert_problem(post, 400, "Member Exists")

    restored = upsert(mailchimp_http, email, status="subscribed").json()
    assert restored["status"] == "subscribed"


def test_cleaned_members_cannot_be_archived(
    mailchimp_http: MailchimpHttp, mailchimp_control: BaseUrlSession
) -> None:
    seed_members(
        mailchimp_control,
        mailchimp_http.list_id,
        {"email_address": "gone@bounce-land.io", "status": "cleaned"},
    )
    response = mailchimp_http.delete(member_path(mailchimp_http.list_id, "gone@bounce-land.io"))
    assert_problem(
        response, 405, "Method Not Allowed", "This list member cannot be removed.  Please contact support."
    )


def test_delete_permanent_erases_and_blocks_reimport(
    mailchimp_http: MailchimpHttp, mailchimp_control: BaseUrlSession
) -> None:
    email = "erase.me@privacy-first.io"
    path = member_path(mailchimp_http.list_id, email)
    upsert(mailchimp_http, email)
    erased = mailchimp_http.post(path + "/actions/delete-permanent")
    assert erased.status_code == 204
    assert_problem(mailchimp_http.get(path), 404, "Resource Not Found")
    forgotten = (
        f"{email} was permanently deleted and cannot be re-imported. "
        "The contact must re-subscribe to get back on the list."
    )
    assert_problem(upsert(mailchimp_http, email), 400, "Forgotten Email Not Subscribed", forgotten)
    post = mailchimp_http.post(
        f"/lists/{mailchimp_http.list_id}/members", json={"email_address": email, "status": "pending"}
    )
    assert_problem(post, 400, "Forgotten Email Not Subscribed", forgotten)
    dump = mailchimp_control.get(f"/lists/{mailchimp_http.list_id}/members").json()
    assert dump["tombstones"] == [subscriber_hash(email)]
    assert email not in str(dump), "erasure removes the address itself"

    signup = mailchimp_control.post(f"/lists/{mailchimp_http.list_id}/signups", json={"email_address": email})
    assert signup.status_code == 200, "the contact re-subscribing on their own lifts the block"
    assert upsert(mailchimp_http, email).status_code == 200


def test_unknown_member_action_is_invalid_action(mailchimp_http: MailchimpHttp) -> None:
    upsert(mailchimp_http, "act@ion-men.io")
    response = mailchimp_http.post(member_path(mailchimp_http.list_id, "act@ion-men.io") + "/actions/explode")
    assert_problem(response, 400, "Invalid Action")


def test_email_change_by_patch_rekeys_the_member(mailchimp_http: MailchimpHttp) -> None:
    old, new = "old.name@move-corp.io", "new.name@move-corp.io"
    created = upsert(mailchimp_http, old).json()
    moved = mailchimp_http.patch(member_path(mailchimp_http.list_id, old), json={"email_address": new})
    assert moved.status_code == 200
    assert moved.json()["id"] == subscriber_hash(new)
    assert moved.json()["contact_id"] == created["contact_id"]
    assert_problem(mailchimp_http.get(member_path(mailchimp_http.list_id, old)), 404, "Resource Not Found")
    assert mailchimp_http.get(member_path(mailchimp_http.list_id, new)).json()["email_address"] == new


def test_email_change_by_put_to_the_old_hash(mailchimp_http: MailchimpHttp) -> None:
    old, new = "put.old@move-corp.io", "put.new@move-corp.io"
    upsert(mailchimp_http, old, merge_fields={"FNAME": "Kim"})
    moved = mailchimp_http.put(
        member_path(mailchimp_http.list_id, old), json={"email_address": new, "status_if_new": "subscribed"}
    )
    assert (moved.json()["id"], moved.json()["merge_fields"]["FNAME"]) == (subscriber_hash(new), "Kim")
    assert mailchimp_http.get(f"/lists/{mailchimp_http.list_id}/members").json()["total_items"] == 1
    recased = mailchimp_http.patch(
        member_path(mailchimp_http.list_id, new), json={"email_address": "Put.New@Move-Corp.io"}
    )
    assert (recased.json()["id"], recased.json()["email_address"]) == (
        subscriber_hash(new),
        "Put.New@Move-Corp.io",
    )


def test_email_change_to_an_address_already_in_the_list_fails(mailchimp_http: MailchimpHttp) -> None:
    upsert(mailchimp_http, "first@move-corp.io")
    upsert(mailchimp_http, "second@move-corp.io")
    response = mailchimp_http.patch(
        member_path(mailchimp_http.list_id, "first@move-corp.io"),
        json={"email_address": "second@move-corp.io"},
    )
    assert_problem(
        response,
        400,
        "Invalid Resource",
        '"second@move-corp.io" is already in this list with a status of "subscribed".',
    )


def test_email_change_on_a_cleaned_member_fails(
    mailchimp_http: MailchimpHttp, mailchimp_control: BaseUrlSession
) -> None:
    seed_members(
        mailchimp_control,
        mailchimp_http.list_id,
        {"email_address": "bounced@move-corp.io", "status": "cleaned"},
    )
    response = mailchimp_http.patch(
        member_path(mailchimp_http.list_id, "bounced@move-corp.io"),
        json={"email_address": "fresh@move-corp.io"},
    )
    assert_problem(
        response,
        400,
        "Invalid Resource",
        'This member\'s status is "cleaned." You can only update email addresses for members with a '
        'status of "subscribed."',
    )


def test_tags_are_added_removed_listed_and_matched_case_insensitively(mailchimp_http: MailchimpHttp) -> None:
    path = member_path(mailchimp_http.list_id, "tagged@labels.io")
    body = {"tags": [{"name": "erp-customer", "status": "active"}], "is_syncing": True}
    assert_problem(mailchimp_http.post(path + "/tags", json=body), 404, "Resource Not Found")
    upsert(mailchimp_http, "tagged@labels.io")
    added = mailchimp_http.post(path + "/tags", json=body)
    assert added.status_code == 204
    assert added.content == b""
    mailchimp_http.post(
        path + "/tags",
        json={
            "tags": [{"name": "ERP-Customer", "status": "active"}, {"name": "churned", "status": "active"}]
        },
    )
    listed = mailchimp_http.get(path + "/tags").json()
    assert [t["name"] for t in listed["tags"]] == ["erp-customer", "churned"]
    assert listed["total_items"] == 2
    assert all(t["date_added"] for t in listed["tags"])
    mailchimp_http.post(path + "/tags", json={"tags": [{"name": "Churned", "status": "inactive"}]})
    member = mailchimp_http.get(path).json()
    assert [t["name"] for t in member["tags"]] == ["erp-customer"]
    assert member["tags_count"] == 1
    paged = mailchimp_http.get(path + "/tags", params={"count": 1, "offset": 1}).json()
    assert paged["tags"] == [] and paged["total_items"] == 1


def test_tag_bodies_are_validated(mailchimp_http: MailchimpHttp) -> None:
    upsert(mailchimp_http, "tagged@labels.io")
    path = member_path(mailchimp_http.list_id, "tagged@labels.io") + "/tags"
    bad_status = mailchimp_http.post(path, json={"tags": [{"name": "x", "status": "on"}]})
    assert_problem(bad_status, 400, "Invalid Resource")
    assert field_errors(bad_status) == [
        ("tags.item:0.status", "Data presented is not one of the accepted values: inactive, active.")
    ]
    assert_problem(mailchimp_http.post(path, json={"is_syncing": True}), 400, "Invalid Resource")
    too_long = mailchimp_http.post(path, json={"tags": [{"name": "x" * 101, "status": "active"}]})
    assert_problem(too_long, 400, "Invalid Resource")


def _emails(page: dict[str, Any]) -> list[str]:
    return [m["email_address"] for m in page["members"]]


def test_member_list_pages_filters_and_sorts(
    mailchimp_http: MailchimpHttp, mailchimp_control: BaseUrlSession
) -> None:
    base = f"/lists/{mailchimp_http.list_id}/members"
    emails = [f"user{i:02d}@paging-co.io" for i in range(12)]
    for email in emails:
        upsert(mailchimp_http, email)
        mailchimp_control.post("/clock", json={"advance_seconds": 10})
    mailchimp_http.patch(member_path(mailchimp_http.list_id, emails[3]), json={"status": "unsubscribed"})
    mailchimp_http.delete(member_path(mailchimp_http.list_id, emails[4]))

    default = mailchimp_http.get(base).json()
    assert len(default["members"]) == 10, "count defaults to 10"
    assert default["total_items"] == 11, "archived contacts are left out unless asked for"
    assert emails[4] not in _emails(default)

    second = mailchimp_http.get(base, params={"offset": 10, "count": 10}).json()
    assert len(second["members"]) == 1
    clamped = mailchimp_http.get(base, params={"count": 5000}).json()
    assert len(clamped["members"]) == 11, "count above 1000 is clamped, not refused"

    assert _emails(mailchimp_http.get(base, params={"status": "archived"}).json()) == [emails[4]]
    assert _emails(mailchimp_http.get(base, params={"status": "unsubscribed"}).json()) == [emails[3]]

    newest_first: dict[str, str | int] = {"sort_field": "last_changed", "sort_dir": "DESC", "count": 3}
    by_change = mailchimp_http.get(base, params=newest_first).json()
    assert _emails(by_change)[0] == emails[3], "the unsubscribe is the latest change"

    newest = mailchimp_http.get(member_path(mailchimp_http.list_id, emails[11])).json()["last_changed"]
    since = mailchimp_http.get(
        base, params={"since_last_changed": newest, "sort_field": "last_changed", "sort_dir": "ASC"}
    ).json()
    assert _emails(since) == [emails[11], emails[3]], "inclusive bound, oldest change first"
    before = mailchimp_http.get(base, params={"before_last_changed": newest, "count": 100}).json()
    assert emails[11] not in _emails(before) and len(before["members"]) == 9


def test_unsubscribed_since_filters_on_the_unsubscribe_time(
    mailchimp_http: MailchimpHttp, mailchimp_control: BaseUrlSession
) -> None:
    base = f"/lists/{mailchimp_http.list_id}/members"
    for email in ("early@unsub-co.io", "late@unsub-co.io"):
        upsert(mailchimp_http, email)
    mailchimp_http.patch(
        member_path(mailchimp_http.list_id, "early@unsub-co.io"), json={"status": "unsubscribed"}
    )
    moment = mailchimp_control.post("/clock", json={"advance_seconds": 3600}).json()["now"]
    mailchimp_control.post(f"/lists/{mailchimp_http.list_id}/members/late@unsub-co.io/unsubscribe")
    late = mailchimp_http.get(base, params={"status": "unsubscribed", "unsubscribed_since": moment}).json()
    assert _emails(late) == ["late@unsub-co.io"]
    both = mailchimp_http.get(base, params={"status": "unsubscribed"}).json()
    assert sorted(_emails(both)) == ["early@unsub-co.io", "late@unsub-co.io"]


def test_member_list_can_include_archived_by_switch(
    mailchimp_http: MailchimpHttp, mailchimp_control: BaseUrlSession
) -> None:
    upsert(mailchimp_http, "a@switchy.io")
    mailchimp_http.delete(member_path(mailchimp_http.list_id, "a@switchy.io"))
    base = f"/lists/{mailchimp_http.list_id}/members"
    assert mailchimp_http.get(base).json()["total_items"] == 0
    mailchimp_control.patch("/switches", json={"include_archived_by_default": True})
    assert mailchimp_http.get(base).json()["total_items"] == 1


def test_fields_and_exclude_fields_use_envelope_prefixed_paths(mailchimp_http: MailchimpHttp) -> None:
    upsert(mailchimp_http, "f@fields.io", merge_fields={"FNAME": "F"})
    base = f"/lists/{mailchimp_http.list_id}/members"
    picked = mailchimp_http.get(
        base, params={"fields": "members.email_address,members.merge_fields.FNAME,total_items"}
    ).json()
    assert picked == {
        "members": [{"email_address": "f@fields.io", "merge_fields": {"FNAME": "F"}}],
        "total_items": 1,
    }
    unprefixed = mailchimp_http.get(base, params={"fields": "email_address,total_items"}).json()
    assert unprefixed == {"total_items": 1}, "a collection field needs its envelope prefix"
    quoted = mailchimp_http.get(base, params={"fields": '"members.id,members.status"'}).json()
    assert quoted == {"members": [{"status": "subscribed"}]}, "quoting drops the first field (codegen#170)"
    slim = mailchimp_http.get(
        base, params={"exclude_fields": "members._links,_links,members.merge_fields"}
    ).json()
    assert (
        "_links" not in slim and "merge_fields" not in slim["members"][0] and "status" in slim["members"][0]
    )


def test_invalid_list_query_values_are_invalid_resource(mailchimp_http: MailchimpHttp) -> None:
    base = f"/lists/{mailchimp_http.list_id}/members"
    assert_problem(mailchimp_http.get(base, params={"status": "gone"}), 400, "Invalid Resource")
    assert_problem(mailchimp_http.get(base, params={"count": "many"}), 400, "Invalid Resource")
    assert_problem(
        mailchimp_http.get(base, params={"since_last_changed": "yesterday"}), 400, "Invalid Resource"
    )


def test_stored_state_dump_shows_what_the_api_hides(
    mailchimp_http: MailchimpHttp, mailchimp_control: BaseUrlSession
) -> None:
    upsert(mailchimp_http, "dump@state.io", merge_fields={"FNAME": "D"})
    mailchimp_http.patch(
        member_path(mailchimp_http.list_id, "dump@state.io"), json={"status": "unsubscribed"}
    )
    mailchimp_http.post(
        member_path(mailchimp_http.list_id, "dump@state.io") + "/tags",
        json={"tags": [{"name": "erp", "status": "active"}]},
    )
    stored = stored_members(mailchimp_control, mailchimp_http.list_id)["dump@state.io"]
    assert stored["status"] == "unsubscribed"
    assert stored["unsub_source"] == "api"
    assert stored["tags"] == ["erp"]
    assert stored["merge_fields"] == {"FNAME": "D"}
