"""`oracle-mailchimp reconcile` against the sandbox after a real sync: each kind of hand-made drift is
reported in its class, `--repair` mends what policy allows, and a second reconcile finds it mended."""

import json
from collections.abc import Callable
from typing import Any

import pytest
import requests

from oracle_mailchimp_dagster.sync.identity import subscriber_hash
from oracle_mailchimp_dagster.sync.model import MemberState
from tests.fixtures.store import CliResult
from tests.fixtures.sync import SyncHarness

RunCli = Callable[..., CliResult]
HAND_MADE = "hand.made@northwind-traders.com"


class Audience:
    """The tenant's audience through the Mailchimp API, as a person with the API key would edit it."""

    def __init__(self, h: SyncHarness) -> None:
        self.base = f"{h.mailchimp.api_base}/lists/{h.mailchimp.config.list_id}/members"
        self.auth = ("person", h.mailchimp.config.api_key)

    def call(self, method: str, path: str = "", **kwargs: Any) -> dict[str, Any]:
        response = requests.request(method, self.base + path, auth=self.auth, timeout=30, **kwargs)
        assert response.status_code < 300, response.text
        return response.json() if response.content else {}

    def member(self, email: str | None) -> dict[str, Any]:
        return self.call("GET", f"/{subscriber_hash(email or '')}")


def managed(h: SyncHarness) -> list[MemberState]:
    """Members one customer wrote (its own payload), active, with fields and tags kept."""
    states = [
        s
        for s in h.store.members.iter_tenant("acme")
        if s.payload_hash and s.active and s.merge_fields and s.managed_tags and s.known_status
    ]
    return sorted(states, key=lambda s: s.customer_key)


def reconcile(run_cli: RunCli, *args: str) -> dict[str, Any]:
    result = run_cli("reconcile", "acme", "--json", *args)
    report: dict[str, Any] = json.loads(result.out)
    assert result.code == (1 if report["over_limit"] else 0), result.output
    return report


def sampled(report: dict[str, Any], drift: str) -> set[str]:
    return {entry["email"] for entry in report["samples"].get(drift, [])}


@pytest.fixture
def drifted(sync_harness: SyncHarness) -> tuple[SyncHarness, dict[str, MemberState]]:
    """After a sync: a merge field edited, a managed tag removed, a member archived and one created."""
    h = sync_harness
    assert h.run().success
    edited, untagged, archived = managed(h)[:3]
    audience = Audience(h)
    field = sorted(edited.merge_fields or {})[0]
    audience.call("PATCH", f"/{edited.subscriber_hash}", json={"merge_fields": {field: "Edited by hand"}})
    tag = sorted(untagged.managed_tags)[0]
    audience.call(
        "POST", f"/{untagged.subscriber_hash}/tags", json={"tags": [{"name": tag, "status": "inactive"}]}
    )
    audience.call("DELETE", f"/{archived.subscriber_hash}")
    audience.call("POST", json={"email_address": HAND_MADE, "status": "subscribed"})
    return h, {"edited": edited, "untagged": untagged, "archived": archived}


def test_each_drift_is_reported_in_its_class_and_repair_mends_what_policy_allows(
    drifted: tuple[SyncHarness, dict[str, MemberState]], run_cli: RunCli
) -> None:
    h, members = drifted
    edited, untagged, archived = members["edited"], members["untagged"], members["archived"]
    audience = Audience(h)
    before = h.mailchimp_requests()

    report = reconcile(run_cli)
    assert report["counts"]["stale_merge_fields"] == 1
    assert report["counts"]["missing_tags"] == 1
    assert report["counts"]["archived_by_person"] == 1
    assert report["counts"]["unmanaged"] == 1
    assert report["counts"]["missing_member"] == 0
    assert sampled(report, "stale_merge_fields") == {edited.email}
    assert sampled(report, "missing_tags") == {untagged.email}
    assert sampled(report, "archived_by_person") == {archived.email}
    assert sampled(report, "unmanaged") == {HAND_MADE}
    assert report["repairs"] == {}
    # A report only reads: the edits are still there.
    field = sorted(edited.merge_fields or {})[0]
    assert audience.member(edited.email)["merge_fields"][field] == "Edited by hand"
    assert report["requests"] <= h.mailchimp_requests() - before

    repaired = reconcile(run_cli, "--repair")
    assert repaired["repairs"] == {"updated": 1, "tagged": 1, "skipped": 1}
    assert audience.member(edited.email)["merge_fields"][field] == (edited.merge_fields or {})[field]
    tags = {t["name"] for t in audience.member(untagged.email)["tags"]}
    assert untagged.managed_tags <= tags
    assert audience.member(archived.email)["status"] == "archived"
    hand_made = audience.member(HAND_MADE)
    assert hand_made["status"] == "subscribed" and hand_made["tags"] == []

    rows = [e for e in h.store.ledger.for_run("acme", repaired["run_id"])]
    assert {(e.email, e.action, e.outcome) for e in rows} == {
        (edited.email, "repair", "updated"),
        (untagged.email, "repair", "tagged"),
        (archived.email, "repair", "skipped"),
    }
    assert all(e.detail and e.detail.split(":")[0] in report["counts"] for e in rows)

    again = reconcile(run_cli)
    assert again["counts"]["stale_merge_fields"] == 0
    assert again["counts"]["missing_tags"] == 0
    assert again["counts"]["archived_by_person"] == 1  # left archived, as the default policy says
    assert again["counts"]["unmanaged"] == 1  # counted, never touched


def test_a_fresh_sync_has_no_drift_and_a_member_deleted_for_good_is_missing(
    sync_harness: SyncHarness, run_cli: RunCli
) -> None:
    h = sync_harness
    assert h.run().success
    clean = reconcile(run_cli)
    assert set(clean["counts"].values()) == {0}
    assert clean["managed_members"] == clean["audience_members"] > 200
    assert clean["over_limit"] is False
    assert clean["requests"] == 2  # one page of members (up to 1,000 a page), one of archived members
    gone = managed(h)[0]
    audience = Audience(h)
    audience.call("POST", f"/{gone.subscriber_hash}/actions/delete-permanent")

    report = reconcile(run_cli)
    assert report["counts"]["missing_member"] == 1
    assert sampled(report, "missing_member") == {gone.email}

    repaired = reconcile(run_cli, "--repair")
    assert repaired["counts"]["missing_member"] == 1
    # Mailchimp refuses to re-import an address deleted for good: the repair is a failed ledger row.
    rows = list(h.store.ledger.for_run("acme", repaired["run_id"]))
    assert [(e.email, e.action) for e in rows] == [(gone.email, "repair")]
    assert rows[0].outcome.startswith("failed")


def test_changed_since_reads_only_members_changed_since_and_a_bad_timestamp_is_one_line(
    drifted: tuple[SyncHarness, dict[str, MemberState]], run_cli: RunCli
) -> None:
    _, members = drifted
    future = reconcile(run_cli, "--changed-since", "2999-01-01T00:00:00Z")
    assert future["audience_members"] == 0 and future["counts"]["missing_member"] == 0
    assert future["changed_since"] == "2999-01-01T00:00:00+00:00"
    recent = reconcile(run_cli, "--changed-since", "2000-01-01T00:00:00Z")
    assert sampled(recent, "stale_merge_fields") == {members["edited"].email}
    bad = run_cli("reconcile", "acme", "--changed-since", "yesterday")
    assert bad.code != 0 and bad.err.count("\n") == 1 and "ISO 8601" in bad.err


def test_with_restore_archived_the_tenant_gets_a_member_a_person_archived_back_as_it_was(
    drifted: tuple[SyncHarness, dict[str, MemberState]], run_cli: RunCli
) -> None:
    h, members = drifted
    archived = members["archived"]
    tenant = h.registry.get("acme")
    restoring = tenant.reconcile.model_copy(update={"restore_archived": True})
    h.registry.update(tenant.model_copy(update={"reconcile": restoring}))

    repaired = reconcile(run_cli, "--repair")
    rows = {e.email: e for e in h.store.ledger.for_run("acme", repaired["run_id"])}
    assert rows[archived.email].outcome == "updated"
    assert "restored from archived" in (rows[archived.email].detail or "")
    assert Audience(h).member(archived.email)["status"] == archived.known_status
    assert reconcile(run_cli)["counts"]["archived_by_person"] == 0


def test_the_text_report_names_each_class_says_what_is_reported_only_and_how_to_repair(
    drifted: tuple[SyncHarness, dict[str, MemberState]], run_cli: RunCli
) -> None:
    _, members = drifted
    result = run_cli("reconcile", "acme")
    lines = result.out.splitlines()
    assert lines[0].startswith("tenant 'acme': ") and "managed members" in lines[0]
    by_class = {line.split()[0]: line for line in lines[1:] if line.startswith("  ")}
    assert str(members["edited"].email) in by_class["stale_merge_fields"]
    assert "(reported only)" in by_class["unmanaged"] and HAND_MADE in by_class["unmanaged"]
    assert "(reported only)" not in by_class["missing_tags"]
    assert any(line.startswith("drift rate ") for line in lines)
    assert lines[-1] == "repair with: oracle-mailchimp reconcile acme --repair"
    repaired = run_cli("reconcile", "acme", "--repair").out.splitlines()[-1]
    assert repaired.startswith("repairs: ") and " oracle-mailchimp audit acme --run reconcile-" in repaired
