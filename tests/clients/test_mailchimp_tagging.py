"""The pure side of bulk tagging: grouping changes by tag, cutting them into calls, reading errors back."""

import pytest

from oracle_mailchimp_dagster.mailchimp import ErrorKind, TagChange
from oracle_mailchimp_dagster.mailchimp.tagging import (
    SegmentCall,
    plan_tag_changes,
    segment_call_problems,
    segment_calls,
)


def test_a_tag_change_refuses_empty_names_and_a_tag_both_added_and_removed() -> None:
    with pytest.raises(ValueError, match="non-empty"):
        TagChange(add=(" ",))
    with pytest.raises(ValueError, match="both added and removed: vip"):
        TagChange(add=("VIP",), remove=("vip ",))


def test_changes_are_grouped_by_tag_case_insensitively_with_the_first_spelling() -> None:
    plan = plan_tag_changes(
        {
            "Ann@Acme.io": TagChange(add=("ERP", "erp"), remove=("old",)),
            "bob@acme.io": TagChange(add=("Erp ",)),
            "cy@acme.io": TagChange(remove=("OLD",)),
            "dee@acme.io": TagChange(),
        }
    )
    assert plan.names == {"erp": "ERP", "old": "old"}
    assert plan.additions == {"erp": ["ann@acme.io", "bob@acme.io"]}
    assert plan.removals == {"old": ["ann@acme.io", "cy@acme.io"]}
    assert plan.owners["ann@acme.io"] == "Ann@Acme.io"


def test_one_address_named_twice_is_refused() -> None:
    with pytest.raises(ValueError, match="one address twice"):
        plan_tag_changes({"ann@acme.io": TagChange(add=("a",)), "ANN@acme.io": TagChange(add=("b",))})


def test_calls_hold_at_most_500_each_way_and_share_additions_with_removals() -> None:
    changes = {f"a{i}@x.io": TagChange(add=("t",)) for i in range(1201)}
    changes |= {f"r{i}@x.io": TagChange(remove=("t",), add=("u",)) for i in range(600)}
    changes["z@x.io"] = TagChange(remove=("missing",))
    calls = segment_calls(plan_tag_changes(changes), {"t": 7, "u": 8})
    assert [(c.segment_id, len(c.add), len(c.remove)) for c in calls] == [
        (7, 500, 500),
        (7, 500, 100),
        (7, 201, 0),
        (8, 500, 0),
        (8, 100, 0),
    ], "a tag without a segment is skipped"
    assert calls[0].body() == {
        "members_to_add": list(calls[0].add),
        "members_to_remove": list(calls[0].remove),
    }
    with pytest.raises(ValueError):
        segment_calls(plan_tag_changes(changes), {"t": 7}, size=501)


def test_answer_errors_name_each_address_sent_with_its_kind() -> None:
    call = SegmentCall("t", 7, ("ann@x.io", "bob@x.io"), ("cy@x.io",))
    answer = {
        "errors": [
            {"email_addresses": ["Ann@X.io", "not-sent@x.io"], "error": "Email addresses are not subscribed"},
            {"email_addresses": ["cy@x.io"], "error": "This contact is in a compliance state"},
            "junk",
        ]
    }
    problems = segment_call_problems(call, answer)
    assert {address: p.kind for address, p in problems.items()} == {
        "ann@x.io": ErrorKind.NOT_FOUND,
        "cy@x.io": ErrorKind.COMPLIANCE,
    }
    assert segment_call_problems(call, {"errors": None}) == {}
