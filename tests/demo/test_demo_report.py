"""The demo's pure parts: table layout, mark formatting, the self-check and the customer picks."""

from pathlib import Path
from typing import Any

import pytest

from oracle_mailchimp_dagster.local.demo_report import (
    RunReport,
    change_problems,
    render_runs,
    short_mark,
    table,
)
from oracle_mailchimp_dagster.local.demo_scenario import (
    Change,
    DemoFailed,
    MemberExpectation,
    moved_address,
    pick_customers,
)
from oracle_mailchimp_dagster.local.demo_workspace import LocalWorkspace


def test_table_aligns_text_left_and_numbers_right() -> None:
    lines = table(["status", "members"], [["transactional", "7"], ["archived", "12"]], numeric=[1])
    assert lines == [
        "  status         members",
        "  transactional        7",
        "  archived            12",
    ]


def test_short_mark_keeps_the_time_and_leaves_other_text_alone() -> None:
    assert short_mark("2026-06-29T15:51:48.150000+00:00 / PartyId 300000010009560") == "2026-06-29 15:51:48"
    assert short_mark("none") == "none"


def test_runs_show_only_actions_and_outcomes_that_occurred_with_a_legend() -> None:
    metadata: dict[str, dict[str, Any]] = {
        "fusion_customers": {"rows": 5},
        "mailchimp_members": {"action_upsert": 4, "action_skip": 0, "action_reject_invalid": 1},
        "mailchimp_sync_results": {
            "outcome_created": 4,
            "outcome_rejected": 1,
            "outcome_deleted": 0,
            "dry_run": False,
            "mark_before": "none",
            "mark_after": "2026-06-29T15:51:48+00:00 / PartyId 1",
        },
    }
    text = "\n".join(render_runs([RunReport.from_metadata("run 1", "r1", 1.5, metadata)]))
    assert "planned: upsert" in text and "outcome: created" in text and "outcome: rejected" in text
    assert "planned: skip " not in text and "deleted" not in text and "dry_run" not in text
    assert "reject_invalid:" in text  # explained under the table
    assert "1.5 s" in text


CHANGE = Change(
    "company renamed", "CDRM_1", "updated", (MemberExpectation("a@b.example", "transactional", "New  Name"),)
)


def member(status: str, company: str) -> dict[str, Any]:
    return {"email_address": "a@b.example", "status": status, "merge_fields": {"COMPANY": company}}


def test_change_problems_is_empty_when_all_went_as_expected() -> None:
    assert change_problems(CHANGE, "updated", {"a@b.example": member("transactional", "New Name")}) == []


def test_change_problems_name_each_difference() -> None:
    problems = change_problems(CHANGE, "unchanged", {"a@b.example": member("subscribed", "Old Name")})
    assert problems == [
        "company renamed: outcome unchanged, expected updated",
        "company renamed: a@b.example is subscribed, expected transactional",
        "company renamed: a@b.example has COMPANY 'Old Name', expected 'New  Name'",
    ]
    assert change_problems(CHANGE, None, {}) == [
        "company renamed: outcome none, expected updated",
        "company renamed: a@b.example is absent, expected transactional",
    ]


def customer(party_id: int, email: str, status: str = "A") -> dict[str, Any]:
    return {
        "PartyId": party_id,
        "PartyNumber": f"CDRM_{party_id}",
        "EmailAddress": email,
        "PartyStatus": status,
        "OrganizationName": f"Org {party_id}",
    }


def test_picks_are_active_sole_holders_the_first_run_synced() -> None:
    customers = [
        customer(4, "shared@x.example"),
        customer(3, "Shared@X.example"),
        customer(2, "gone@x.example", status="I"),
        customer(1, "solo@x.example"),
        customer(5, "refused@x.example"),
    ]
    members = [
        {"email_address": e, "status": "transactional"}
        for e in ("shared@x.example", "gone@x.example", "solo@x.example")
    ] + [{"email_address": "refused@x.example", "status": "cleaned"}]
    assert [c["PartyNumber"] for c in pick_customers(customers, members, 1, "transactional")] == ["CDRM_1"]
    with pytest.raises(
        DemoFailed, match="only 1 customers the demo can change \\(2 needed\\): run it with more"
    ):
        pick_customers(customers, members, 2, "transactional")


def test_moved_address_keeps_the_mailbox_on_a_new_domain() -> None:
    assert moved_address("info@redwood.example") == "info@new-redwood.example"


def test_workspace_env_points_at_its_own_files_and_drops_a_callers_master_key(tmp_path: Path) -> None:
    workspace = LocalWorkspace(tmp_path)
    env = workspace.child_env({"PATH": "/bin", "ORACLE_MAILCHIMP_MASTER_KEY": "k", "DAGSTER_HOME": "/else"})
    assert env == {
        "PATH": "/bin",
        "DAGSTER_HOME": str(tmp_path),
        "ORACLE_MAILCHIMP_DATABASE_URL": f"sqlite:///{tmp_path / 'oracle_mailchimp.db'}",
        "ORACLE_MAILCHIMP_KEY_FILE": str(tmp_path / "oracle_mailchimp.key"),
    }


def test_a_mark_given_as_a_timestamp_reads_as_utc_time() -> None:
    """Marks are timestamp metadata (epoch seconds, as the UI shows them); the demo prints UTC time."""
    metadata: dict[str, dict[str, Any]] = {
        "mailchimp_sync_results": {"mark_before": "none", "mark_after": 1782748308.15}
    }
    report = RunReport.from_metadata("run 1", "r1", 1.0, metadata)
    assert (report.mark_before, report.mark_after) == ("none", "2026-06-29T15:51:48.150000+00:00")
    assert "high-water mark after       2026-06-29 15:51:48" in "\n".join(render_runs([report]))
