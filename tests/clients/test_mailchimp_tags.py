"""Bulk tagging through static segments against the sandbox over HTTP, every request contract-checked."""

import threading
import uuid
from collections import Counter
from typing import Any

import pytest
import requests

from oracle_mailchimp_dagster.mailchimp import (
    ErrorKind,
    MailchimpClient,
    MailchimpConfigurationError,
    MailchimpInvalidDataError,
    TagChange,
)
from oracle_mailchimp_dagster.sandbox.mailchimp import RunningMailchimpSandbox
from tests.support.mailchimp_clients import MailchimpClientFactory, add_faults, control, sandbox_stats

SEGMENT_CALL = "POST /3.0/lists/{list_id}/segments/{segment_id}"
SEGMENT_CREATE = "POST /3.0/lists/{list_id}/segments"
SEGMENT_READ = "GET /3.0/lists/{list_id}/segments"


def own_key_sandbox(factory: Any, **config: Any) -> RunningMailchimpSandbox:
    """A sandbox with an API key no other test uses, so its process-wide limiter starts fresh."""
    sandbox: RunningMailchimpSandbox = factory(api_key=f"{uuid.uuid4().hex}-us21", **config)
    return sandbox


def seed(sandbox: RunningMailchimpSandbox, emails: list[str], **fields: Any) -> None:
    body = [{"email_address": email, **fields} for email in emails]
    control(sandbox, "POST", f"/lists/{sandbox.config.list_id}/members", json=body)


def emails(prefix: str, n: int) -> list[str]:
    return [f"{prefix}{i}@tags.io" for i in range(n)]


def tags_by_email(sandbox: RunningMailchimpSandbox) -> dict[str, set[str]]:
    body = control(sandbox, "GET", f"/lists/{sandbox.config.list_id}/members")
    return {m["email_address"].lower(): set(m["tags"]) for m in body["members"]}


def segments(sandbox: RunningMailchimpSandbox) -> dict[str, dict[str, Any]]:
    body = control(sandbox, "GET", f"/lists/{sandbox.config.list_id}/members")
    return {s["name"]: s for s in body["segments"]}


def calls(sandbox: RunningMailchimpSandbox, route: str) -> int:
    return sum(sandbox_stats(sandbox)["requests_by_route"].get(route, {}).values())


def test_1200_members_get_three_tags_then_lose_them_in_bulk_calls(
    mailchimp_sandbox: RunningMailchimpSandbox, mailchimp_client_factory: MailchimpClientFactory
) -> None:
    client, recorder = mailchimp_client_factory(mailchimp_sandbox, response_every=4)
    list_id = mailchimp_sandbox.config.list_id
    members = emails("m", 1200)
    seed(mailchimp_sandbox, members)

    added = client.apply_tag_changes(
        list_id, {e.upper(): TagChange(add=("erp", "Vip", "region-eu")) for e in members}
    )
    assert added == {}
    state = tags_by_email(mailchimp_sandbox)
    assert all(state[e] == {"erp", "Vip", "region-eu"} for e in members)
    assert {name: s["members"] for name, s in segments(mailchimp_sandbox).items()} == {
        "erp": 1200,
        "Vip": 1200,
        "region-eu": 1200,
    }
    stats = sandbox_stats(mailchimp_sandbox)
    assert calls(mailchimp_sandbox, SEGMENT_CALL) == 9, "3 tags x ceil(1200 / 500) calls"
    assert stats["latency_items_by_route"][SEGMENT_CALL] == 3600
    assert calls(mailchimp_sandbox, SEGMENT_CREATE) == 3 and calls(mailchimp_sandbox, SEGMENT_READ) == 1

    # Tags match case-insensitively; the first 100 keep region-eu; a fourth tag arrives in the same pass.
    changes = {e: TagChange(add=("ERP-customer",), remove=("ERP", "vip", "Region-EU")) for e in members[100:]}
    changes |= {e: TagChange(add=("erp-customer",), remove=("erp", "vip")) for e in members[:100]}
    assert client.apply_tag_changes(list_id, changes) == {}
    state = tags_by_email(mailchimp_sandbox)
    assert Counter(frozenset(tags) for tags in state.values()) == Counter(
        {frozenset({"ERP-customer"}): 1100, frozenset({"ERP-customer", "region-eu"}): 100}
    )
    assert calls(mailchimp_sandbox, SEGMENT_CALL) == 9 + 12, "three tags lost, one gained: 4 x 3 calls"
    assert calls(mailchimp_sandbox, SEGMENT_CREATE) == 4

    # Additions and removals of one tag share calls: 500 gain region-eu and 100 lose it in one call.
    changes = {e: TagChange(add=("region-eu",)) for e in members[100:600]}
    changes |= {e: TagChange(remove=("REGION-EU",)) for e in members[:100]}
    assert client.apply_tag_changes(list_id, changes) == {}
    assert calls(mailchimp_sandbox, SEGMENT_CALL) == 9 + 12 + 1
    state = tags_by_email(mailchimp_sandbox)
    assert Counter(frozenset(tags) for tags in state.values()) == Counter(
        {frozenset({"ERP-customer"}): 700, frozenset({"ERP-customer", "region-eu"}): 500}
    )
    assert client.stats.get("segment_calls") == 22
    assert recorder.checked == (1 + 3 + 9) + (1 + 1 + 12) + (1 + 1)


def test_unknown_and_archived_addresses_are_reported_per_address(
    mailchimp_sandbox: RunningMailchimpSandbox, mailchimp_client_factory: MailchimpClientFactory
) -> None:
    client, _ = mailchimp_client_factory(mailchimp_sandbox)
    list_id = mailchimp_sandbox.config.list_id
    known = emails("k", 20)
    seed(mailchimp_sandbox, known)
    seed(mailchimp_sandbox, ["Archived@Tags.io"], status="archived")
    seed(mailchimp_sandbox, ["gone@tags.io"], status="unsubscribed", unsub_source="self", tags=["erp"])
    changes = {e: TagChange(add=("erp",)) for e in known}
    changes["Stranger@Tags.io"] = TagChange(add=("erp",))
    changes["ARCHIVED@tags.io"] = TagChange(add=("erp",))
    changes["gone@tags.io"] = TagChange(remove=("erp",))
    changes["nobody@tags.io"] = TagChange(remove=("erp",))
    changes["k0@tags.io"] = TagChange(add=("erp",), remove=("never-made",))

    problems = client.apply_tag_changes(list_id, changes)

    assert set(problems) == {"Stranger@Tags.io", "ARCHIVED@tags.io", "nobody@tags.io"}, "the caller's keys"
    assert {p.kind for p in problems.values()} == {ErrorKind.NOT_FOUND}
    assert "not subscribed to the list" in problems["nobody@tags.io"].detail
    state = tags_by_email(mailchimp_sandbox)
    assert all(state[e] == {"erp"} for e in known)
    assert state["gone@tags.io"] == set(), "an unsubscribed contact can still lose a tag"
    assert state["archived@tags.io"] == set() and "stranger@tags.io" not in state
    assert "never-made" not in segments(mailchimp_sandbox), "removing a tag nobody has creates nothing"


def test_tag_segments_reads_every_page(
    mailchimp_sandbox: RunningMailchimpSandbox, mailchimp_client_factory: MailchimpClientFactory
) -> None:
    client, _ = mailchimp_client_factory(mailchimp_sandbox)
    names = [f"tag-{i:04d}" for i in range(1001)]
    seed(mailchimp_sandbox, ["holder@tags.io"], tags=names)
    found = client.tag_segments(mailchimp_sandbox.config.list_id)
    assert sorted(found) == names and len(set(found.values())) == 1001
    assert calls(mailchimp_sandbox, SEGMENT_READ) == 2


def test_ensure_tag_segments_creates_only_the_missing_ones_case_insensitively(
    mailchimp_sandbox: RunningMailchimpSandbox, mailchimp_client_factory: MailchimpClientFactory
) -> None:
    client, _ = mailchimp_client_factory(mailchimp_sandbox)
    list_id = mailchimp_sandbox.config.list_id
    seed(mailchimp_sandbox, ["holder@tags.io"], tags=["VIP"])
    existing = client.tag_segments(list_id)["VIP"]
    ids = client.ensure_tag_segments(list_id, ["vip", "New One", "new one ", "NEW ONE"])
    assert ids["vip"] == existing
    assert ids["New One"] == ids["new one "] == ids["NEW ONE"] != existing
    assert client.stats.get("tag_segments_created") == 1
    assert sorted(segments(mailchimp_sandbox)) == ["New One", "VIP"]
    assert client.ensure_tag_segments(list_id, ["new one"]) == {"new one": ids["New One"]}
    assert client.stats.get("tag_segments_created") == 1
    with pytest.raises(ValueError, match="must not be empty"):
        client.ensure_tag_segments(list_id, [" "])


class CreatesTagBehindTheClientsBack:
    """Response hook: right after the client's first segment read, another caller creates `name`."""

    def __init__(self, sandbox: RunningMailchimpSandbox, name: str) -> None:
        self.sandbox = sandbox
        self.name = name
        self.created_id: int | None = None

    def __call__(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        request = response.request
        if (
            self.created_id is None
            and request.method == "GET"
            and request.path_url.split("?")[0].endswith("/segments")
        ):
            other = requests.post(
                f"{self.sandbox.api_base}/lists/{self.sandbox.config.list_id}/segments",
                json={"name": self.name, "static_segment": []},
                auth=("other-caller", self.sandbox.config.api_key),
                timeout=10,
            )
            assert other.status_code == 200, other.text
            self.created_id = int(other.json()["id"])


def test_a_tag_created_meanwhile_by_another_caller_is_read_back_not_failed(
    mailchimp_sandbox: RunningMailchimpSandbox, mailchimp_client_factory: MailchimpClientFactory
) -> None:
    race = CreatesTagBehindTheClientsBack(mailchimp_sandbox, "Raced")
    client, _ = mailchimp_client_factory(mailchimp_sandbox, hooks=[race])
    list_id = mailchimp_sandbox.config.list_id
    seed(mailchimp_sandbox, ["ann@tags.io"])
    assert client.apply_tag_changes(list_id, {"ann@tags.io": TagChange(add=("raced",))}) == {}
    assert race.created_id is not None
    assert client.tag_segments(list_id) == {"Raced": race.created_id}
    assert tags_by_email(mailchimp_sandbox)["ann@tags.io"] == {"Raced"}
    assert client.stats.get("tag_segments_created") == 0
    assert client.stats.get("tag_segments_found_after_create_failed") == 1
    assert sandbox_stats(mailchimp_sandbox)["requests_by_route"][SEGMENT_CREATE] == {"200": 1, "400": 1}


def test_two_concurrent_callers_create_each_tag_once(
    mailchimp_sandbox: RunningMailchimpSandbox, mailchimp_client_factory: MailchimpClientFactory
) -> None:
    list_id = mailchimp_sandbox.config.list_id
    groups = [emails("left", 300), emails("right", 300)]
    seed(mailchimp_sandbox, groups[0] + groups[1])
    # Every answer takes 100 ms, so both callers read "no such tag" before either creates one.
    requests.put(mailchimp_sandbox.control_url + "/latency", json={"request_ms": 100}, timeout=10)
    clients: list[MailchimpClient] = [mailchimp_client_factory(mailchimp_sandbox)[0] for _ in groups]
    start = threading.Barrier(len(clients))
    results: list[dict[str, Any] | BaseException] = [{}, {}]

    def tag(index: int) -> None:
        start.wait()
        try:
            change = TagChange(add=("alpha", "Beta", "gamma"))
            results[index] = clients[index].apply_tag_changes(list_id, {e: change for e in groups[index]})
        except BaseException as exc:  # reported by the assertion below
            results[index] = exc

    threads = [threading.Thread(target=tag, args=(i,)) for i in range(len(clients))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert results == [{}, {}]
    assert {name: s["members"] for name, s in segments(mailchimp_sandbox).items()} == {
        "alpha": 600,
        "Beta": 600,
        "gamma": 600,
    }
    assert sum(c.stats.get("tag_segments_created") for c in clients) == 3
    created = sandbox_stats(mailchimp_sandbox)["requests_by_route"][SEGMENT_CREATE]
    assert created["200"] == 3, created


def test_peak_in_flight_for_the_key_stays_within_the_configured_limit(
    mailchimp_sandbox_factory: Any, mailchimp_client_factory: MailchimpClientFactory
) -> None:
    sandbox = own_key_sandbox(mailchimp_sandbox_factory)
    members = emails("p", 1500)
    seed(sandbox, members)
    requests.put(sandbox.control_url + "/latency", json={"request_ms": 30}, timeout=10).raise_for_status()
    client, _ = mailchimp_client_factory(sandbox, concurrency=3, response_every=10)
    names = ("t1", "t2", "t3", "t4")
    assert client.apply_tag_changes(sandbox.config.list_id, {e: TagChange(add=names) for e in members}) == {}
    assert all(tags == set(names) for tags in tags_by_email(sandbox).values())
    assert calls(sandbox, SEGMENT_CALL) == 12
    peaks = sandbox_stats(sandbox)["peak_in_flight_by_key"]
    assert len(peaks) == 1 and 2 <= next(iter(peaks.values())) <= 3, peaks
    assert client.limiter.limit == 3 and client.limiter.peak <= 3


def test_a_call_failing_after_retries_gives_its_problem_to_each_of_its_addresses(
    mailchimp_sandbox_factory: Any, mailchimp_client_factory: MailchimpClientFactory
) -> None:
    sandbox = own_key_sandbox(mailchimp_sandbox_factory)
    list_id = sandbox.config.list_id
    members = emails("f", 600)
    seed(sandbox, members)
    client, _ = mailchimp_client_factory(sandbox, concurrency=1)
    segment_id = client.ensure_tag_segments(list_id, ["flaky"])["flaky"]
    path = f"^/3.0/lists/{list_id}/segments/{segment_id}$"
    add_faults(sandbox, {"kind": "error", "status": 503, "times": 2, "path": path})
    assert client.apply_tag_changes(list_id, {e: TagChange(add=("flaky",)) for e in members[:10]}) == {}
    assert client.stats.get("retries") == 2

    add_faults(sandbox, {"kind": "error", "status": 500, "times": 5, "path": path})
    problems = client.apply_tag_changes(list_id, {e: TagChange(add=("flaky",)) for e in members})
    assert len(problems) == 500, "the first call (500 addresses) outlasted the policy; the second worked"
    assert {p.kind for p in problems.values()} == {ErrorKind.RETRYABLE}
    assert {p.status for p in problems.values()} == {500}
    tagged = {e for e, tags in tags_by_email(sandbox).items() if tags == {"flaky"}}
    assert tagged == (set(members) - set(problems)) | set(members[:10])


def test_configuration_errors_raise(
    mailchimp_sandbox: RunningMailchimpSandbox, mailchimp_client_factory: MailchimpClientFactory
) -> None:
    client, _ = mailchimp_client_factory(mailchimp_sandbox)
    with pytest.raises(MailchimpConfigurationError, match="check the list id") as error:
        client.apply_tag_changes("0000000000", {"ann@tags.io": TagChange(add=("erp",))})
    assert error.value.problem.status == 404
    assert client.apply_tag_changes(mailchimp_sandbox.config.list_id, {}) == {}


def test_a_tag_that_cannot_be_created_fails_only_its_additions(
    mailchimp_sandbox: RunningMailchimpSandbox, mailchimp_client_factory: MailchimpClientFactory
) -> None:
    client, _ = mailchimp_client_factory(mailchimp_sandbox)
    list_id = mailchimp_sandbox.config.list_id
    seed(mailchimp_sandbox, ["ann@tags.io", "bob@tags.io"])
    too_long = "x" * 101
    changes = {"ann@tags.io": TagChange(add=(too_long,)), "bob@tags.io": TagChange(add=("fine",))}
    problems = client.apply_tag_changes(list_id, changes)
    assert list(problems) == ["ann@tags.io"] and problems["ann@tags.io"].kind is ErrorKind.INVALID_DATA
    assert tags_by_email(mailchimp_sandbox) == {"ann@tags.io": set(), "bob@tags.io": {"fine"}}
    with pytest.raises(MailchimpInvalidDataError, match=f"creating tag '{too_long}'"):
        client.ensure_tag_segments(list_id, [too_long])


def test_an_unreadable_segment_list_fails_every_address_without_raising(
    mailchimp_sandbox: RunningMailchimpSandbox, mailchimp_client_factory: MailchimpClientFactory
) -> None:
    client, _ = mailchimp_client_factory(mailchimp_sandbox)
    list_id = mailchimp_sandbox.config.list_id
    add_faults(mailchimp_sandbox, {"kind": "error", "status": 503, "times": 5, "method": "GET"})
    changes = {"ann@tags.io": TagChange(add=("a",)), "bob@tags.io": TagChange(remove=("b",))}
    changes["cy@tags.io"] = TagChange()
    problems = client.apply_tag_changes(list_id, changes)
    assert sorted(problems) == ["ann@tags.io", "bob@tags.io"], "cy had nothing to change"
    assert {(p.kind, p.status) for p in problems.values()} == {(ErrorKind.RETRYABLE, 503)}


class DeletesTagBehindTheClientsBack:
    """Response hook: right after the client's first segment read, someone deletes the tag `name`."""

    def __init__(self, sandbox: RunningMailchimpSandbox, name: str) -> None:
        self.sandbox = sandbox
        self.name = name
        self.done = False

    def __call__(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        if self.done or response.request.method != "GET" or "/segments?" not in str(response.request.url):
            return
        self.done = True
        segment_id = next(s["id"] for s in response.json()["segments"] if s["name"] == self.name)
        other = requests.delete(
            f"{self.sandbox.api_base}/lists/{self.sandbox.config.list_id}/segments/{segment_id}",
            auth=("someone-in-the-web-app", self.sandbox.config.api_key),
            timeout=10,
        )
        assert other.status_code == 204, other.text


def test_a_tag_deleted_while_tagging_leaves_its_additions_for_the_next_run(
    mailchimp_sandbox: RunningMailchimpSandbox, mailchimp_client_factory: MailchimpClientFactory
) -> None:
    client, _ = mailchimp_client_factory(
        mailchimp_sandbox, hooks=[DeletesTagBehindTheClientsBack(mailchimp_sandbox, "old")]
    )
    list_id = mailchimp_sandbox.config.list_id
    seed(mailchimp_sandbox, ["ann@tags.io", "bob@tags.io"], tags=["old"])
    changes = {
        "ann@tags.io": TagChange(add=("new",), remove=("old",)),
        "bob@tags.io": TagChange(add=("OLD",)),
    }
    problems = client.apply_tag_changes(list_id, changes)
    assert list(problems) == ["bob@tags.io"]
    assert (problems["bob@tags.io"].kind, problems["bob@tags.io"].status) == (ErrorKind.RETRYABLE, 404)
    assert tags_by_email(mailchimp_sandbox) == {"ann@tags.io": {"new"}, "bob@tags.io": set()}
    assert client.apply_tag_changes(list_id, {"bob@tags.io": TagChange(add=("old",))}) == {}, "the next run"
    assert tags_by_email(mailchimp_sandbox)["bob@tags.io"] == {"old"}
