"""Mailchimp sandbox: the subscription state machine of reference §8, through real HTTP and as a property."""

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oracle_mailchimp_dagster.sandbox.mailchimp.compliance import ComplianceViolation, change_status
from tests.fixtures.mailchimp import (
    BaseUrlSession,
    MailchimpHttp,
    assert_problem,
    member_path,
    seed_members,
    stored_members,
    upsert,
)

EMAIL = "casey@compliance-co.io"
COMPLIANCE = "Member In Compliance State"
COMPLIANCE_DETAIL = (
    f"{EMAIL} is in a compliance state due to unsubscribe, bounce, or compliance review "
    "and cannot be subscribed."
)

# (seeded state, what the API asks for, expected status or the error title)
TRANSITIONS: list[tuple[dict[str, Any], dict[str, Any], str]] = [
    ({"status": "subscribed"}, {"status": "unsubscribed"}, "unsubscribed"),
    ({"status": "unsubscribed", "unsub_source": "api"}, {"status": "subscribed"}, "subscribed"),
    ({"status": "unsubscribed", "unsub_source": "admin"}, {"status": "subscribed"}, "subscribed"),
    ({"status": "unsubscribed", "unsub_source": "self"}, {"status": "subscribed"}, COMPLIANCE),
    ({"status": "unsubscribed", "unsub_source": "self"}, {"status": "pending"}, "pending"),
    ({"status": "unsubscribed", "unsub_source": "self"}, {"status_if_new": "subscribed"}, "unsubscribed"),
    ({"status": "cleaned"}, {"status": "subscribed"}, COMPLIANCE),
    ({"status": "cleaned"}, {"status": "pending"}, COMPLIANCE),
    ({"status": "cleaned"}, {"status": "unsubscribed"}, COMPLIANCE),
    ({"status": "cleaned"}, {"status": "cleaned"}, "cleaned"),
    ({"status": "pending"}, {"status": "subscribed"}, "subscribed"),
    ({"status": "transactional"}, {"status": "subscribed"}, "subscribed"),
    ({"status": "archived"}, {"status_if_new": "subscribed"}, "archived"),
    (
        {"status": "archived", "prev_status_before_archive": "subscribed"},
        {"status": "subscribed"},
        "subscribed",
    ),
    (
        {"status": "archived", "prev_status_before_archive": "unsubscribed", "unsub_source": "self"},
        {"status": "subscribed"},
        COMPLIANCE,
    ),
    (
        {"status": "archived", "prev_status_before_archive": "unsubscribed", "unsub_source": "self"},
        {"status": "unsubscribed"},
        "unsubscribed",
    ),
    # The gotcha of §8 rule 1: `status` + `status_if_new` silently re-subscribes an API unsubscribe.
    (
        {"status": "unsubscribed", "unsub_source": "api"},
        {"status": "subscribed", "status_if_new": "subscribed"},
        "subscribed",
    ),
]


@pytest.mark.parametrize(("seed", "request_body", "expected"), TRANSITIONS)
def test_status_transitions_through_put(
    mailchimp_http: MailchimpHttp,
    mailchimp_control: BaseUrlSession,
    seed: dict[str, Any],
    request_body: dict[str, Any],
    expected: str,
) -> None:
    seed_members(mailchimp_control, mailchimp_http.list_id, {"email_address": EMAIL, **seed})
    response = mailchimp_http.put(
        member_path(mailchimp_http.list_id, EMAIL), json={"email_address": EMAIL, **request_body}
    )
    if expected == COMPLIANCE:
        assert_problem(response, 400, COMPLIANCE, COMPLIANCE_DETAIL)
        stored = stored_members(mailchimp_control, mailchimp_http.list_id)[EMAIL]
        assert stored["status"] == seed["status"], "a refused write changes nothing"
    else:
        assert response.status_code == 200, response.text
        assert response.json()["status"] == expected


@pytest.mark.parametrize("status", ["subscribed", "unsubscribed", "pending", "transactional", "cleaned"])
def test_new_contacts_take_status_if_new(mailchimp_http: MailchimpHttp, status: str) -> None:
    response = upsert(mailchimp_http, EMAIL, status_if_new=status)
    assert response.status_code == 200
    assert response.json()["status"] == status


def test_a_contact_unsubscribing_themselves_cannot_be_resubscribed_by_the_api(
    mailchimp_http: MailchimpHttp, mailchimp_control: BaseUrlSession
) -> None:
    path = member_path(mailchimp_http.list_id, EMAIL)
    upsert(mailchimp_http, EMAIL)
    acted = mailchimp_control.post(f"/lists/{mailchimp_http.list_id}/members/{EMAIL}/unsubscribe")
    assert acted.status_code == 200
    assert acted.json()["unsub_source"] == "self"
    assert mailchimp_http.get(path).json()["status"] == "unsubscribed"

    assert_problem(
        mailchimp_http.patch(path, json={"status": "subscribed"}), 400, COMPLIANCE, COMPLIANCE_DETAIL
    )
    pending = mailchimp_http.patch(path, json={"status": "pending"})
    assert pending.json()["status"] == "pending", "re-confirmation is the documented way back"
    assert_problem(mailchimp_http.patch(path, json={"status": "subscribed"}), 400, COMPLIANCE)

    confirmed = mailchimp_control.post(f"/lists/{mailchimp_http.list_id}/members/{EMAIL}/confirm")
    assert confirmed.json()["status"] == "subscribed"
    assert confirmed.json()["unsub_source"] is None


def test_admin_and_api_unsubscribes_can_be_reversed(
    mailchimp_http: MailchimpHttp, mailchimp_control: BaseUrlSession
) -> None:
    path = member_path(mailchimp_http.list_id, EMAIL)
    upsert(mailchimp_http, EMAIL)
    mailchimp_control.post(f"/lists/{mailchimp_http.list_id}/members/{EMAIL}/admin-unsubscribe")
    assert stored_members(mailchimp_control, mailchimp_http.list_id)[EMAIL]["unsub_source"] == "admin"
    assert mailchimp_http.patch(path, json={"status": "subscribed"}).json()["status"] == "subscribed"
    mailchimp_http.patch(path, json={"status": "unsubscribed"})
    assert stored_members(mailchimp_control, mailchimp_http.list_id)[EMAIL]["unsub_source"] == "api"
    assert mailchimp_http.patch(path, json={"status": "subscribed"}).json()["status"] == "subscribed"


def test_a_bounce_cleans_the_contact_for_good(
    mailchimp_http: MailchimpHttp, mailchimp_control: BaseUrlSession
) -> None:
    path = member_path(mailchimp_http.list_id, EMAIL)
    upsert(mailchimp_http, EMAIL)
    mailchimp_control.post(f"/lists/{mailchimp_http.list_id}/members/{EMAIL}/bounce")
    assert mailchimp_http.get(path).json()["status"] == "cleaned"
    assert_problem(upsert(mailchimp_http, EMAIL, status="subscribed"), 400, COMPLIANCE, COMPLIANCE_DETAIL)


def test_batch_reports_compliance_per_member(
    mailchimp_http: MailchimpHttp, mailchimp_control: BaseUrlSession
) -> None:
    seed_members(
        mailchimp_control,
        mailchimp_http.list_id,
        {"email_address": EMAIL, "status": "unsubscribed", "unsub_source": "self"},
    )
    response = mailchimp_http.post(
        f"/lists/{mailchimp_http.list_id}",
        json={"update_existing": True, "members": [{"email_address": EMAIL, "status": "subscribed"}]},
    )
    assert response.status_code == 200
    assert response.json()["errors"] == [
        {
            "email_address": EMAIL,
            "error": COMPLIANCE_DETAIL,
            "error_code": "ERROR_GENERIC",
            "field": "",
            "field_message": "",
        }
    ]


def test_contact_actions_are_validated(
    mailchimp_http: MailchimpHttp, mailchimp_control: BaseUrlSession
) -> None:
    upsert(mailchimp_http, EMAIL)
    base = f"/lists/{mailchimp_http.list_id}/members/{EMAIL}"
    assert mailchimp_control.post(f"{base}/dance").status_code == 404
    assert mailchimp_control.post(f"{base}/confirm").status_code == 409, "only pending contacts confirm"
    unknown = mailchimp_control.post(
        f"/lists/{mailchimp_http.list_id}/members/nobody@compliance-co.io/bounce"
    )
    assert unknown.status_code == 404


API_STATUSES = st.sampled_from(["subscribed", "unsubscribed", "cleaned", "pending", "transactional"])


@given(st.lists(API_STATUSES, max_size=12))
def test_no_api_sequence_resubscribes_a_self_unsubscribed_contact(requests_: list[str]) -> None:
    status: str = "unsubscribed"
    source: str | None = "self"
    for requested in requests_:
        try:
            change = change_status(status, source, requested)
        except ComplianceViolation:
            continue
        status, source = change.status, change.unsub_source
        if status == "cleaned":
            break  # a cleaned contact is covered by the next property
        assert status != "subscribed"


@given(st.lists(API_STATUSES, max_size=12))
def test_no_api_sequence_moves_a_cleaned_contact(requests_: list[str]) -> None:
    status: str = "cleaned"
    source: str | None = None
    for requested in requests_:
        try:
            change = change_status(status, source, requested)
        except ComplianceViolation:
            continue
        status, source = change.status, change.unsub_source
    assert status == "cleaned"
