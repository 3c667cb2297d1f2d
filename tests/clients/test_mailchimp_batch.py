"""Batch subscribe: body rules and one outcome per sent member, matched by lower-cased email."""

import pytest

from oracle_mailchimp_dagster.mailchimp import ErrorKind, MemberUpsert
from oracle_mailchimp_dagster.mailchimp.batch import batch_body, batch_outcomes


def member(email: str) -> MemberUpsert:
    return MemberUpsert(email_address=email, status_if_new="subscribed")


def test_body_is_an_upsert_and_refuses_bad_batches() -> None:
    body = batch_body([member("a@acme.io")])
    assert body == {
        "members": [{"email_address": "a@acme.io", "status_if_new": "subscribed"}],
        "update_existing": True,
        "sync_tags": False,
    }
    with pytest.raises(ValueError, match="at least one"):
        batch_body([])
    with pytest.raises(ValueError, match="at most 500"):
        batch_body([member(f"m{i}@acme.io") for i in range(501)])
    with pytest.raises(ValueError, match="duplicate email"):
        batch_body([member("A@acme.io"), member("a@ACME.io")])


def test_outcomes_match_case_insensitively_in_input_order() -> None:
    sent = [member("New@Acme.io"), member("old@acme.io"), member("f@example.com"), member("lost@acme.io")]
    answer = {
        "new_members": [{"id": "h1", "email_address": "new@acme.io", "status": "subscribed"}],
        "updated_members": [{"id": "h2", "email_address": "OLD@acme.io", "status": "unsubscribed"}],
        "errors": [
            {
                "email_address": "f@example.com",
                "error": "f@example.com looks fake or invalid, please enter a real email address.",
                "error_code": "ERROR_GENERIC",
            }
        ],
        "total_created": 1,
        "total_updated": 1,
        "error_count": 1,
    }
    outcomes = batch_outcomes(sent, answer)
    assert [o.email_address for o in outcomes] == [m.email_address for m in sent]
    assert [o.result for o in outcomes] == ["created", "updated", "error", "error"]
    assert outcomes[0].member_id == "h1" and outcomes[1].status == "unsubscribed"
    assert outcomes[2].problem is not None and outcomes[2].problem.kind is ErrorKind.INVALID_DATA
    assert outcomes[3].problem is not None and outcomes[3].problem.kind is ErrorKind.RETRYABLE
    assert outcomes[3].problem.title == "No Result"
