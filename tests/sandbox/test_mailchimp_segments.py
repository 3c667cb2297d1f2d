"""Mailchimp sandbox: static segments (tags) over real HTTP, every `/3.0` response contract-checked.

Tags ARE static segments: one id and one name whichever endpoint made them, and a member's `tags` are the
segments it belongs to. `POST /lists/{id}/segments/{segment_id}` is the bulk way to tag (≤ 500 each way).
"""

from typing import Any

from oracle_mailchimp_dagster.sandbox.mailchimp.config import latency_model
from tests.fixtures.mailchimp import (
    BaseUrlSession,
    MailchimpHttp,
    assert_problem,
    create_segment,
    field_errors,
    member_path,
    seed_members,
    stored_members,
    upsert,
)

NOT_IN_LIST = "Email addresses are not subscribed to the list"
TOO_MANY = (
    "Maximum allowed member items exceeded, please provide at most 500 items in members_to_add field or "
    "members_to_remove field"
)
BATCH_ROUTE = "POST /3.0/lists/{list_id}/segments/{segment_id}"


def segments_path(http: MailchimpHttp, *rest: object) -> str:
    return "/".join([f"/lists/{http.list_id}/segments", *(str(part) for part in rest)])


def change(
    http: MailchimpHttp, segment_id: int, add: list[str] | None = None, remove: list[str] | None = None
) -> dict[str, Any]:
    body = {"members_to_add": add or [], "members_to_remove": remove or []}
    response = http.post(segments_path(http, segment_id), json=body)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def tag_names(http: MailchimpHttp, email: str) -> list[str]:
    return [t["name"] for t in http.get(member_path(http.list_id, email)).json()["tags"]]


def emails(members: list[dict[str, Any]]) -> list[str]:
    return [m["email_address"] for m in members]


def test_create_read_rename_and_delete_a_static_segment(mailchimp_http: MailchimpHttp) -> None:
    for email in ("ann@seg-co.io", "bob@seg-co.io", "cy@seg-co.io"):
        upsert(mailchimp_http, email)
    created = create_segment(
        mailchimp_http, "erp-customer", ["ann@seg-co.io", "BOB@seg-co.io", "x@seg-co.io"]
    )
    assert isinstance(created["id"], int)
    assert (created["name"], created["type"], created["member_count"]) == ("erp-customer", "static", 2), (
        "addresses not on the list are ignored; case does not matter"
    )
    assert "options" not in created, "static segments have no conditions"
    assert created["list_id"] == mailchimp_http.list_id
    assert created["created_at"] == created["updated_at"]

    listed = mailchimp_http.get(segments_path(mailchimp_http)).json()
    assert (listed["total_items"], listed["list_id"]) == (1, mailchimp_http.list_id)
    assert listed["segments"] == [created]
    assert mailchimp_http.get(segments_path(mailchimp_http, created["id"])).json() == created

    renamed = mailchimp_http.patch(
        segments_path(mailchimp_http, created["id"]),
        json={"name": "ERP customer", "static_segment": ["cy@seg-co.io"]},
    ).json()
    assert (renamed["id"], renamed["name"], renamed["member_count"]) == (created["id"], "ERP customer", 1)
    assert tag_names(mailchimp_http, "ann@seg-co.io") == [], "static_segment replaces the members"
    assert tag_names(mailchimp_http, "cy@seg-co.io") == ["ERP customer"]
    emptied = mailchimp_http.patch(
        segments_path(mailchimp_http, created["id"]), json={"name": "ERP customer", "static_segment": []}
    )
    assert emptied.json()["member_count"] == 0

    mailchimp_http.patch(
        segments_path(mailchimp_http, created["id"]), json={"name": "x", "static_segment": ["cy@seg-co.io"]}
    )
    deleted = mailchimp_http.delete(segments_path(mailchimp_http, created["id"]))
    assert (deleted.status_code, deleted.content) == (204, b"")
    assert_problem(
        mailchimp_http.get(segments_path(mailchimp_http, created["id"])), 404, "Resource Not Found"
    )
    cy = mailchimp_http.get(member_path(mailchimp_http.list_id, "cy@seg-co.io")).json()
    assert (cy["tags"], cy["tags_count"]) == ([], 0), "deleting the segment removes the tag from everyone"
    assert mailchimp_http.get(segments_path(mailchimp_http)).json()["total_items"] == 0
    for missing in ("999", "not-a-number"):
        assert_problem(mailchimp_http.get(segments_path(mailchimp_http, missing)), 404, "Resource Not Found")
    assert_problem(mailchimp_http.get("/lists/ffffffffff/segments"), 404, "Resource Not Found")


def test_segment_names_are_required_unique_and_shared_with_tags(mailchimp_http: MailchimpHttp) -> None:
    base = segments_path(mailchimp_http)
    vip = create_segment(mailchimp_http, "VIP")
    assert_problem(
        mailchimp_http.post(base, json={"name": "vip", "static_segment": []}),
        400,
        "Invalid Resource",
        "Sorry, that tag already exists.",
    )
    upsert(mailchimp_http, "tagged@seg-co.io")
    mailchimp_http.post(
        member_path(mailchimp_http.list_id, "tagged@seg-co.io") + "/tags",
        json={"tags": [{"name": "Imported", "status": "active"}]},
    )
    taken = mailchimp_http.post(base, json={"name": " imported ", "static_segment": []})
    assert_problem(taken, 400, "Invalid Resource", "Sorry, that tag already exists.")
    other = create_segment(mailchimp_http, "Other")
    rename = mailchimp_http.patch(segments_path(mailchimp_http, other["id"]), json={"name": "VIP"})
    assert_problem(rename, 400, "Invalid Resource", "Sorry, that tag already exists.")
    same = mailchimp_http.patch(segments_path(mailchimp_http, vip["id"]), json={"name": "VIP"})
    assert same.status_code == 200, "keeping its own name is no conflict"

    nameless = mailchimp_http.post(base, json={"static_segment": []})
    assert_problem(nameless, 400, "Invalid Resource")
    assert field_errors(nameless) == [("", "Required fields were not provided: name")]
    blank = mailchimp_http.post(base, json={"name": "  ", "static_segment": []})
    assert field_errors(blank) == [("name", "Tag names must be between 1 and 100 characters")]
    wrong_type = mailchimp_http.post(base, json={"name": "x", "static_segment": "a@seg-co.io"})
    assert field_errors(wrong_type) == [("static_segment", "Schema describes array, string found instead")]
    assert_problem(
        mailchimp_http.post(base, json={"name": "bare"}),
        400,
        "Invalid Resource",
        'Must provide either an "options" field or a "static_segment" field',
    )
    saved = mailchimp_http.post(base, json={"name": "saved", "options": {"match": "any", "conditions": []}})
    assert_problem(saved, 400, "Invalid Resource")
    assert "static segments (tags) only" in saved.json()["detail"]
    assert_problem(mailchimp_http.post(base, data=b"{"), 400, "JSON Parse Error")
    names = [s["name"] for s in mailchimp_http.get(base).json()["segments"]]
    assert names == ["VIP", "Imported", "Other"], "refused requests create nothing"


def test_bulk_add_and_remove_with_unknown_and_archived_addresses(
    mailchimp_http: MailchimpHttp, mailchimp_control: BaseUrlSession
) -> None:
    for email in ("new@seg-co.io", "kept@seg-co.io", "leaving@seg-co.io", "untagged@seg-co.io"):
        upsert(mailchimp_http, email)
    seed_members(
        mailchimp_control,
        mailchimp_http.list_id,
        {"email_address": "shelved@seg-co.io", "status": "archived", "tags": ["erp"]},
        {"email_address": "optout@seg-co.io", "status": "unsubscribed", "unsub_source": "self"},
    )
    segment = mailchimp_http.get(segments_path(mailchimp_http)).json()["segments"][0]
    assert segment["name"] == "erp", "seeding a tag created the segment"
    change(mailchimp_http, segment["id"], add=["kept@seg-co.io", "leaving@seg-co.io"])

    result = change(
        mailchimp_http,
        segment["id"],
        add=[
            "new@seg-co.io",
            "kept@seg-co.io",
            "stranger@seg-co.io",
            "shelved@seg-co.io",
            "NEW@seg-co.io",
            "optout@seg-co.io",
        ],
        remove=["leaving@seg-co.io", "untagged@seg-co.io", "gone@seg-co.io", "shelved@seg-co.io"],
    )
    assert emails(result["members_added"]) == ["new@seg-co.io", "optout@seg-co.io"], (
        "already-in and repeated addresses are not counted; an unsubscribed contact can be tagged"
    )
    assert emails(result["members_removed"]) == ["leaving@seg-co.io"]
    assert (result["total_added"], result["total_removed"]) == (2, 1)
    assert result["errors"] == [
        {"email_addresses": ["stranger@seg-co.io", "shelved@seg-co.io"], "error": NOT_IN_LIST},
        {"email_addresses": ["gone@seg-co.io", "shelved@seg-co.io"], "error": NOT_IN_LIST},
    ], "archived contacts count as not on the list"
    assert result["error_count"] == 4
    assert [t["name"] for t in result["members_added"][0]["tags"]] == ["erp"]
    assert result["members_removed"][0]["tags"] == []

    members = mailchimp_http.get(segments_path(mailchimp_http, segment["id"], "members")).json()
    assert emails(members["members"]) == ["new@seg-co.io", "kept@seg-co.io"], "subscribed only, in list order"
    assert members["total_items"] == 2
    everyone = mailchimp_http.get(
        segments_path(mailchimp_http, segment["id"], "members"), params={"include_unsubscribed": "true"}
    ).json()
    assert emails(everyone["members"]) == ["new@seg-co.io", "kept@seg-co.io", "optout@seg-co.io"]
    counted = mailchimp_http.get(
        segments_path(mailchimp_http, segment["id"]), params={"include_unsubscribed": "true"}
    )
    assert counted.json()["member_count"] == 3
    assert mailchimp_http.get(segments_path(mailchimp_http, segment["id"])).json()["member_count"] == 2

    stored = stored_members(mailchimp_control, mailchimp_http.list_id)
    assert stored["shelved@seg-co.io"]["tags"] == ["erp"], "an archived contact keeps its tags untouched"
    assert stored["untagged@seg-co.io"]["tags"] == []


def test_more_than_500_addresses_either_way_is_invalid_resource(mailchimp_http: MailchimpHttp) -> None:
    segment = create_segment(mailchimp_http, "big")
    addresses = [f"m{i}@seg-co.io" for i in range(501)]
    for body in ({"members_to_add": addresses}, {"members_to_remove": addresses}):
        response = mailchimp_http.post(segments_path(mailchimp_http, segment["id"]), json=body)
        assert_problem(response, 400, "Invalid Resource", TOO_MANY)
    at_limit = change(mailchimp_http, segment["id"], add=addresses[:500], remove=addresses[:500])
    assert (at_limit["total_added"], at_limit["error_count"]) == (0, 1000), "500 each way is allowed"
    wrong = mailchimp_http.post(
        segments_path(mailchimp_http, segment["id"]), json={"members_to_add": "a@seg-co.io"}
    )
    assert field_errors(wrong) == [("members_to_add", "Schema describes array, string found instead")]
    assert_problem(
        mailchimp_http.post(segments_path(mailchimp_http, 999), json={"members_to_add": []}),
        404,
        "Resource Not Found",
    )


def test_member_tags_and_static_segments_are_the_same_thing(mailchimp_http: MailchimpHttp) -> None:
    email = "both@seg-co.io"
    upsert(mailchimp_http, email)
    tags_path = member_path(mailchimp_http.list_id, email) + "/tags"
    mailchimp_http.post(tags_path, json={"tags": [{"name": "from-tags", "status": "active"}]})
    segments = mailchimp_http.get(segments_path(mailchimp_http)).json()["segments"]
    assert [(s["name"], s["type"], s["member_count"]) for s in segments] == [("from-tags", "static", 1)]
    from_tags = segments[0]

    from_segment = create_segment(mailchimp_http, "from-segment")
    change(mailchimp_http, from_segment["id"], add=[email])
    member = mailchimp_http.get(member_path(mailchimp_http.list_id, email)).json()
    assert member["tags"] == [
        {"id": from_tags["id"], "name": "from-tags"},
        {"id": from_segment["id"], "name": "from-segment"},
    ], "a tag's id is its segment's id"
    assert member["tags_count"] == 2
    listed = mailchimp_http.get(tags_path).json()
    assert [(t["id"], t["name"]) for t in listed["tags"]] == [(t["id"], t["name"]) for t in member["tags"]]
    assert all(t["date_added"] for t in listed["tags"])

    mailchimp_http.post(tags_path, json={"tags": [{"name": "FROM-SEGMENT", "status": "inactive"}]})
    in_segment = mailchimp_http.get(segments_path(mailchimp_http, from_segment["id"], "members")).json()
    assert in_segment["total_items"] == 0, "untagging a member takes it out of the segment"

    mailchimp_http.patch(segments_path(mailchimp_http, from_tags["id"]), json={"name": "renamed"})
    assert tag_names(mailchimp_http, email) == ["renamed"], "a rename shows on every member"

    batch = mailchimp_http.post(
        f"/lists/{mailchimp_http.list_id}",
        json={
            "members": [
                {"email_address": "batch@seg-co.io", "status_if_new": "subscribed", "tags": ["via-batch"]}
            ]
        },
    ).json()
    via_batch = batch["new_members"][0]["tags"][0]
    segment = mailchimp_http.get(segments_path(mailchimp_http, via_batch["id"])).json()
    assert (segment["name"], segment["member_count"]) == ("via-batch", 1)


def test_segment_changes_move_last_changed_only_when_membership_changes(
    mailchimp_http: MailchimpHttp, mailchimp_control: BaseUrlSession
) -> None:
    email = "clock@seg-co.io"
    created = upsert(mailchimp_http, email).json()
    segment = create_segment(mailchimp_http, "timed")
    mailchimp_control.post("/clock", json={"advance_seconds": 60})
    added = change(mailchimp_http, segment["id"], add=[email])["members_added"][0]
    assert added["last_changed"] > created["last_changed"]
    since = mailchimp_http.get(
        f"/lists/{mailchimp_http.list_id}/members", params={"since_last_changed": added["last_changed"]}
    ).json()
    assert emails(since["members"]) == [email], "an incremental pull sees the tagging"
    after_add = mailchimp_http.get(segments_path(mailchimp_http, segment["id"])).json()
    assert after_add["updated_at"] > segment["updated_at"]

    mailchimp_control.post("/clock", json={"advance_seconds": 60})
    again = change(mailchimp_http, segment["id"], add=[email])
    assert again["total_added"] == 0
    unchanged = mailchimp_http.get(member_path(mailchimp_http.list_id, email)).json()
    assert unchanged["last_changed"] == added["last_changed"], "a no-op changes nothing"

    removed = change(mailchimp_http, segment["id"], remove=[email])["members_removed"][0]
    assert removed["last_changed"] > added["last_changed"]


def test_segment_collections_page_and_filter(
    mailchimp_http: MailchimpHttp, mailchimp_control: BaseUrlSession
) -> None:
    first = create_segment(mailchimp_http, "one")
    mailchimp_control.post("/clock", json={"advance_seconds": 60})
    create_segment(mailchimp_http, "two")
    third = create_segment(mailchimp_http, "three")
    base = segments_path(mailchimp_http)

    page = mailchimp_http.get(base, params={"count": 2}).json()
    assert ([s["name"] for s in page["segments"]], page["total_items"]) == (["one", "two"], 3)
    rest = mailchimp_http.get(base, params={"count": 2, "offset": 2}).json()
    assert [s["name"] for s in rest["segments"]] == ["three"]
    assert len(mailchimp_http.get(base, params={"count": 5000}).json()["segments"]) == 3, "count is clamped"
    assert mailchimp_http.get(base, params={"type": "static"}).json()["total_items"] == 3
    assert mailchimp_http.get(base, params={"type": "saved"}).json()["total_items"] == 0
    assert_problem(mailchimp_http.get(base, params={"type": "smart"}), 400, "Invalid Resource")
    later = mailchimp_http.get(base, params={"since_created_at": third["created_at"]}).json()
    assert [s["name"] for s in later["segments"]] == ["two", "three"]
    earlier = mailchimp_http.get(base, params={"before_created_at": third["created_at"]}).json()
    assert [s["id"] for s in earlier["segments"]] == [first["id"]]
    assert_problem(mailchimp_http.get(base, params={"since_created_at": "soon"}), 400, "Invalid Resource")
    slim = mailchimp_http.get(base, params={"fields": "segments.name,total_items"}).json()
    assert slim == {"segments": [{"name": "one"}, {"name": "two"}, {"name": "three"}], "total_items": 3}

    addresses = [f"p{i}@seg-co.io" for i in range(5)]
    for email in addresses:
        upsert(mailchimp_http, email)
    change(mailchimp_http, first["id"], add=addresses)
    members_path = segments_path(mailchimp_http, first["id"], "members")
    default = mailchimp_http.get(members_path).json()
    assert (len(default["members"]), default["total_items"]) == (5, 5)
    window = mailchimp_http.get(members_path, params={"count": 2, "offset": 3}).json()
    assert emails(window["members"]) == addresses[3:]


def test_one_member_at_a_time(mailchimp_http: MailchimpHttp) -> None:
    upsert(mailchimp_http, "single@seg-co.io")
    segment = create_segment(mailchimp_http, "single")
    members_path = segments_path(mailchimp_http, segment["id"], "members")
    added = mailchimp_http.post(members_path, json={"email_address": "single@seg-co.io"})
    assert added.status_code == 200
    assert [t["name"] for t in added.json()["tags"]] == ["single"]
    assert_problem(
        mailchimp_http.post(members_path, json={"email_address": "nobody@seg-co.io"}),
        404,
        "Resource Not Found",
    )
    one = f"{members_path}/single@seg-co.io"
    assert mailchimp_http.delete(one).status_code == 204
    assert tag_names(mailchimp_http, "single@seg-co.io") == []
    assert_problem(mailchimp_http.delete(one), 404, "Resource Not Found")


def test_subscribed_only_switch_refuses_other_contacts(
    mailchimp_http: MailchimpHttp, mailchimp_control: BaseUrlSession
) -> None:
    seed_members(
        mailchimp_control, mailchimp_http.list_id, {"email_address": "pending@seg-co.io", "status": "pending"}
    )
    upsert(mailchimp_http, "active@seg-co.io")
    segment = create_segment(mailchimp_http, "strict")
    switched = mailchimp_control.patch("/switches", json={"segment_members_must_be_subscribed": True})
    assert switched.status_code == 200
    result = change(mailchimp_http, segment["id"], add=["pending@seg-co.io", "active@seg-co.io"])
    assert emails(result["members_added"]) == ["active@seg-co.io"]
    assert result["errors"] == [{"email_addresses": ["pending@seg-co.io"], "error": NOT_IN_LIST}]


def test_control_dumps_show_tags_and_segments(
    mailchimp_http: MailchimpHttp, mailchimp_control: BaseUrlSession
) -> None:
    upsert(mailchimp_http, "dumped@seg-co.io")
    segment = create_segment(mailchimp_http, "dumped", ["dumped@seg-co.io"])
    mailchimp_http.patch(
        member_path(mailchimp_http.list_id, "dumped@seg-co.io"), json={"status": "unsubscribed"}
    )
    assert stored_members(mailchimp_control, mailchimp_http.list_id)["dumped@seg-co.io"]["tags"] == ["dumped"]
    dump = mailchimp_control.get(f"/lists/{mailchimp_http.list_id}/members").json()
    summary = next(
        a for a in mailchimp_control.get("/lists").json()["lists"] if a["id"] == mailchimp_http.list_id
    )
    for segments in (dump["segments"], summary["segments"]):
        assert segments == [
            {
                "id": segment["id"],
                "name": "dumped",
                "type": "static",
                "members": 1,
                "created_at": segment["created_at"],
                "updated_at": segment["updated_at"],
            }
        ], "the dump counts holders whatever their status"


def test_segment_batches_are_priced_per_address_and_counted_by_route(
    mailchimp_http: MailchimpHttp, mailchimp_control: BaseUrlSession
) -> None:
    upsert(mailchimp_http, "priced@seg-co.io")
    segment = create_segment(mailchimp_http, "priced")
    assert mailchimp_control.put("/latency", json={"request_ms": 0, "per_item_ms": 0.01}).status_code == 200
    mailchimp_control.post("/stats/reset")
    change(
        mailchimp_http,
        segment["id"],
        add=["priced@seg-co.io", "a@seg-co.io", "b@seg-co.io"],
        remove=["c@seg-co.io", "d@seg-co.io"],
    )
    stats = mailchimp_control.get("/stats").json()
    assert stats["requests_by_route"] == {BATCH_ROUTE: {"200": 1}}
    assert stats["latency_items_by_route"] == {BATCH_ROUTE: 5}, "every address to add or remove is an item"
    assert stats["simulated_delay_ms"] == 0.05
    realistic = latency_model("realistic")
    assert realistic.request_delay_s(5) == 0.150 + 5 * 0.002, "150 ms a request plus 2 ms an address"
    assert realistic.request_delay_s(1000) == 2.150, "a full batch, 500 each way"
