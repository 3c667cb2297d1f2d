"""The doubles keep the rules the pipeline relies on, so the asset tests prove something about the real
clients too: keyset windows in Fusion, statuses, not-found and refused changes in Mailchimp."""

from datetime import UTC, datetime, timedelta

import pytest

from oracle_mailchimp_dagster.fusion import CustomerCursor
from oracle_mailchimp_dagster.mailchimp import (
    ErrorKind,
    MailchimpNotFoundError,
    MailchimpRecordError,
    MemberChanges,
    MemberUpsert,
    TagChange,
    email_change_refused_status,
)
from tests.support.doubles import InMemoryAudience, InMemoryFusion, fusion_customer

LIST = "a1b2c3d4e5"
T0 = datetime(2026, 3, 1, tzinfo=UTC)


def upsert(email: str, status_if_new: str = "transactional") -> MemberUpsert:
    return MemberUpsert.model_validate({"email_address": email, "status_if_new": status_if_new})


def test_fusion_windows_follow_the_keyset_order_and_resume_after_the_cursor() -> None:
    fusion = InMemoryFusion(
        fusion_customer(i, f"c{i}@example.com", T0 + timedelta(minutes=i // 2)) for i in range(6)
    )

    window = fusion.extract_customers(
        since=T0 + timedelta(minutes=1), until=T0 + timedelta(minutes=2), after=None
    )
    assert [row.party_id for row in window] == [2, 3]
    assert window.cursor == CustomerCursor(T0 + timedelta(minutes=1), 3)
    with pytest.raises(RuntimeError):
        list(window)

    resumed = fusion.extract_customers(
        since=None, until=None, after=CustomerCursor(T0 + timedelta(minutes=1), 2)
    )
    assert [row.party_id for row in resumed] == [3, 4, 5]

    fusion.overlap = timedelta(minutes=1)
    mark = CustomerCursor(T0 + timedelta(minutes=2), 5)
    looked_back = fusion.extract_customers(since=None, until=None, after=mark)
    assert [row.party_id for row in looked_back] == [2, 3, 4, 5]
    assert looked_back.since == T0 + timedelta(minutes=1)
    assert looked_back.cursor == mark


def test_an_upsert_creates_or_updates_and_never_changes_an_existing_status() -> None:
    audience = InMemoryAudience(LIST)
    audience.seed("old@example.com", status="unsubscribed")

    [outcomes] = audience.upsert_many(LIST, [upsert("new@example.com"), upsert("OLD@example.com")])

    assert [(o.result, o.status) for o in outcomes] == [
        ("created", "transactional"),
        ("updated", "unsubscribed"),
    ]
    audience.delete_member_permanently(LIST, "new@example.com")
    with pytest.raises(MailchimpRecordError) as erased:
        audience.put_member(LIST, upsert("new@example.com"))
    assert erased.value.kind is ErrorKind.COMPLIANCE


def test_changes_to_a_member_that_is_not_there_raise_not_found() -> None:
    audience = InMemoryAudience(LIST)
    for change in (
        lambda: audience.archive_member(LIST, "ghost@example.com"),
        lambda: audience.delete_member_permanently(LIST, "ghost@example.com"),
        lambda: audience.update_member(LIST, "ghost@example.com", MemberChanges(status="unsubscribed")),
    ):
        with pytest.raises(MailchimpNotFoundError) as raised:
            change()
        assert raised.value.kind is ErrorKind.NOT_FOUND
    problems = audience.apply_tag_changes(LIST, {"ghost@example.com": TagChange(add=("vip",))})
    assert problems["ghost@example.com"].kind is ErrorKind.NOT_FOUND


def test_addresses_change_for_subscribed_members_only_and_never_onto_another_member() -> None:
    audience = InMemoryAudience(LIST)
    audience.seed("t@example.com", status="transactional")
    audience.seed("s@example.com")
    audience.seed("taken@example.com")

    with pytest.raises(MailchimpRecordError) as refused:
        audience.update_member(LIST, "t@example.com", MemberChanges(email_address="t2@example.com"))
    assert email_change_refused_status(refused.value.problem) == "transactional"
    with pytest.raises(MailchimpRecordError) as conflict:
        audience.update_member(LIST, "s@example.com", MemberChanges(email_address="taken@example.com"))
    assert conflict.value.kind is ErrorKind.CONFLICT

    moved = audience.update_member(LIST, "s@example.com", MemberChanges(email_address="s2@example.com"))
    assert moved.email_address == "s2@example.com"
    assert audience.emails() == {"t@example.com", "taken@example.com", "s2@example.com"}


def test_tags_are_added_and_removed_by_name_whatever_the_case() -> None:
    audience = InMemoryAudience(LIST)
    member = audience.seed("a@example.com")

    audience.apply_tag_changes(LIST, {"a@example.com": TagChange(add=("VIP", "segment:RETAIL"))})
    audience.apply_tag_changes(LIST, {"a@example.com": TagChange(add=("vip",), remove=("Segment:Retail",))})

    assert member.tags == ["VIP"]
    assert [call.method for call in audience.writes] == ["apply_tag_changes", "apply_tag_changes"]
