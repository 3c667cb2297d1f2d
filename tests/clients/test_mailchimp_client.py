"""The Mailchimp client against the sandbox over HTTP; every exchange is checked against the spec."""

import base64
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from oracle_mailchimp_dagster.mailchimp import (
    AddressValue,
    ErrorKind,
    MailchimpClient,
    MailchimpComplianceError,
    MailchimpConfigurationError,
    MailchimpConflictError,
    MailchimpConnection,
    MailchimpInvalidDataError,
    MailchimpNotFoundError,
    MemberUpsert,
    MergeFieldSpec,
)
from oracle_mailchimp_dagster.sandbox.mailchimp import RunningMailchimpSandbox
from oracle_mailchimp_dagster.sync.identity import subscriber_hash
from tests.support.mailchimp_clients import MailchimpClientFactory, control, stored
from tests.support.openapi_contract import assert_request_matches_spec, assert_response_matches_spec


def seed(sandbox: RunningMailchimpSandbox, *members: dict[str, Any]) -> None:
    control(sandbox, "POST", f"/lists/{sandbox.config.list_id}/members", json=list(members))


def new(email: str, **fields: Any) -> MemberUpsert:
    return MemberUpsert(email_address=email, status_if_new="subscribed", **fields)


def test_ping_list_and_merge_fields(
    mailchimp_sandbox: RunningMailchimpSandbox, mailchimp_client_factory: MailchimpClientFactory
) -> None:
    client, recorder = mailchimp_client_factory(mailchimp_sandbox)
    list_id = mailchimp_sandbox.config.list_id
    client.ping()
    audience = client.get_list(list_id)
    assert audience.id == list_id and audience.name == mailchimp_sandbox.config.list_name
    tags = {f.tag for f in client.get_merge_fields(list_id)}
    assert {"FNAME", "LNAME", "ADDRESS", "PHONE"} <= tags
    created = client.create_merge_field(list_id, MergeFieldSpec(name="ERP key", type="text", tag="ERPKEY"))
    assert created.tag == "ERPKEY" and created.merge_id > 0
    assert "ERPKEY" in {f.tag for f in client.get_merge_fields(list_id)}
    with pytest.raises(MailchimpConflictError, match="already exists"):
        client.create_merge_field(list_id, MergeFieldSpec(name="ERP key", type="text", tag="ERPKEY"))
    assert recorder.checked == 6


def test_wrong_list_and_wrong_key_are_configuration_errors_without_the_key(
    mailchimp_sandbox: RunningMailchimpSandbox, mailchimp_client_factory: MailchimpClientFactory
) -> None:
    client, _ = mailchimp_client_factory(mailchimp_sandbox)
    with pytest.raises(MailchimpConfigurationError, match="check the list id"):
        client.get_list("0000000000")
    with pytest.raises(MailchimpConfigurationError, match="check the list id"):
        client.upsert_batch("0000000000", [new("ann@acme.io")])
    stranger = "0123456789abcdef0123456789abcdef-us21"
    other = MailchimpClient(MailchimpConnection(api_key=stranger, api_base=mailchimp_sandbox.api_base))
    with pytest.raises(MailchimpConfigurationError) as error:
        other.ping()
    assert "API Key Invalid" in str(error.value) and stranger not in str(error.value)
    assert error.value.kind is ErrorKind.CONFIGURATION


def test_batch_returns_the_right_outcome_for_each_member(
    mailchimp_sandbox: RunningMailchimpSandbox, mailchimp_client_factory: MailchimpClientFactory
) -> None:
    client, _ = mailchimp_client_factory(mailchimp_sandbox)
    list_id = mailchimp_sandbox.config.list_id
    seed(
        mailchimp_sandbox,
        {"email_address": "Existing@Acme.io", "status": "subscribed", "merge_fields": {"FNAME": "Old"}},
        {"email_address": "gone@acme.io", "status": "unsubscribed", "unsub_source": "self"},
        {"email_address": "bounced@acme.io", "status": "cleaned"},
    )
    address = AddressValue(addr1="1 Main St", city="Atlanta", state="GA", zip="30308", country="US")
    members = [
        new("fresh@acme.io", merge_fields={"FNAME": "Fresh", "ADDRESS": address}),
        new("EXISTING@acme.io", merge_fields={"FNAME": "New"}),
        new("gone@acme.io", merge_fields={"FNAME": "Still gone"}),
        new("fooboo@example.com"),
        new("not-an-email"),
        new("dob@acme.io", merge_fields={"BIRTHDAY": "13/45"}),
        MemberUpsert(
            email_address="bounced@acme.io",
            status_if_new="subscribed",
            status="subscribed",
            confirm_resubscribe=True,
        ),
    ]
    outcomes = {o.email_address: o for o in client.upsert_batch(list_id, members)}
    assert list(outcomes) == [m.email_address for m in members]
    assert outcomes["fresh@acme.io"].result == "created"
    assert outcomes["fresh@acme.io"].member_id == subscriber_hash("fresh@acme.io")
    assert outcomes["EXISTING@acme.io"].result == "updated"
    assert outcomes["gone@acme.io"].result == "updated" and outcomes["gone@acme.io"].status == "unsubscribed"
    kinds = {email: o.problem.kind for email, o in outcomes.items() if o.problem is not None}
    assert kinds == {
        "fooboo@example.com": ErrorKind.INVALID_DATA,
        "not-an-email": ErrorKind.INVALID_DATA,
        "dob@acme.io": ErrorKind.INVALID_DATA,
        "bounced@acme.io": ErrorKind.COMPLIANCE,
    }
    dob = outcomes["dob@acme.io"].problem
    assert dob is not None and [e.field for e in dob.field_errors] == ["BIRTHDAY"]
    state = stored(mailchimp_sandbox)
    assert state["existing@acme.io"]["merge_fields"]["FNAME"] == "New"
    assert state["gone@acme.io"]["status"] == "unsubscribed", "a self-unsubscribed contact stays unsubscribed"
    assert state["bounced@acme.io"]["status"] == "cleaned"
    assert "fooboo@example.com" not in state


def test_single_member_operations(
    mailchimp_sandbox: RunningMailchimpSandbox, mailchimp_client_factory: MailchimpClientFactory
) -> None:
    client, _ = mailchimp_client_factory(mailchimp_sandbox)
    list_id = mailchimp_sandbox.config.list_id
    seed(
        mailchimp_sandbox,
        {"email_address": "api-unsub@acme.io", "status": "unsubscribed", "unsub_source": "api"},
    )

    created = client.put_member(list_id, new("Jane.Doe@Acme.io", merge_fields={"FNAME": "Jane"}))
    assert created.id == subscriber_hash("jane.doe@acme.io") and created.status == "subscribed"
    kept = client.put_member(list_id, new("api-unsub@acme.io"))
    assert kept.status == "unsubscribed", "status_if_new never changes an existing member's status"

    moved = client.change_email(list_id, "jane.doe@acme.io", "jane@acme.io")
    assert moved.id == subscriber_hash("jane@acme.io") and moved.email_address == "jane@acme.io"
    with pytest.raises(MailchimpConflictError):
        client.change_email(list_id, "jane@acme.io", "api-unsub@acme.io")

    client.update_tags(list_id, "jane@acme.io", add=["erp-customer", "segment-a"])
    client.update_tags(list_id, "jane@acme.io", remove=["segment-a"])
    assert stored(mailchimp_sandbox)["jane@acme.io"]["tags"] == ["erp-customer"]

    client.archive_member(list_id, "jane@acme.io")
    assert stored(mailchimp_sandbox)["jane@acme.io"]["status"] == "archived"
    with pytest.raises(MailchimpNotFoundError):
        client.archive_member(list_id, "nobody@acme.io")

    client.delete_member_permanently(list_id, "api-unsub@acme.io")
    with pytest.raises(MailchimpComplianceError) as forgotten:
        client.put_member(list_id, new("api-unsub@acme.io"))
    assert forgotten.value.problem.title == "Forgotten Email Not Subscribed"
    with pytest.raises(MailchimpInvalidDataError):
        client.put_member(list_id, new("john.doe@example.com"))


def test_members_changed_since_pages_and_dedupes(
    mailchimp_sandbox: RunningMailchimpSandbox, mailchimp_client_factory: MailchimpClientFactory
) -> None:
    client, _ = mailchimp_client_factory(mailchimp_sandbox)
    list_id = mailchimp_sandbox.config.list_id
    now = control(mailchimp_sandbox, "GET", "/clock")["now"]
    outcomes = [
        o for batch in client.upsert_many(list_id, (new(f"m{i}@acme.io") for i in range(250))) for o in batch
    ]
    assert all(o.result == "created" for o in outcomes)
    control(mailchimp_sandbox, "POST", f"/lists/{list_id}/members/m7@acme.io/unsubscribe")
    since = datetime.fromisoformat(now)
    seen = list(client.iter_members_changed_since(list_id, since, page_size=40))
    assert len(seen) == len({m.id for m in seen}) == 250
    assert {m.email_address for m in seen} == {f"m{i}@acme.io" for i in range(250)}
    unsubscribed = list(client.iter_members_changed_since(list_id, since, status="unsubscribed"))
    assert [m.email_address for m in unsubscribed] == ["m7@acme.io"]


def test_oauth_token_finds_its_data_center_through_metadata(
    mailchimp_sandbox: RunningMailchimpSandbox,
) -> None:
    exchanges: list[requests.Response] = []
    client = MailchimpClient(
        MailchimpConnection(
            oauth_token=mailchimp_sandbox.config.oauth_tokens[0],
            metadata_url=mailchimp_sandbox.oauth_metadata_url,
        ),
        response_hooks=[lambda response, *args, **kwargs: exchanges.append(response)],
    )
    assert client.api_base == mailchimp_sandbox.api_base
    client.ping()
    assert client.get_list(mailchimp_sandbox.config.list_id).id == mailchimp_sandbox.config.list_id
    api_calls = [r for r in exchanges if "/3.0" in r.url]
    assert len(api_calls) == 2
    for response in api_calls:
        assert_response_matches_spec(response)
        # The 3.0.55 document declares only basicAuth; Mailchimp also takes OAuth tokens as Bearer.
        # Check everything else about the request (path, query, body) under the declared scheme.
        request = response.request.copy()
        assert request.headers["Authorization"].startswith("Bearer ")
        request.prepare_auth(("oauth", "token"))
        assert_request_matches_spec(request)
    bad = MailchimpClient(
        MailchimpConnection(oauth_token="not-a-token", metadata_url=mailchimp_sandbox.oauth_metadata_url)
    )
    with pytest.raises(MailchimpConfigurationError, match="reconnect the account"):
        bad.ping()


def test_api_key_never_reaches_logs_errors_or_reprs(
    mailchimp_sandbox: RunningMailchimpSandbox,
    mailchimp_client_factory: MailchimpClientFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    client, _ = mailchimp_client_factory(mailchimp_sandbox)
    control(mailchimp_sandbox, "POST", "/faults", json={"kind": "error", "status": 500, "path": "/ping$"})
    client.ping()
    assert "retrying GET /3.0/ping after HTTP 500" in caplog.text
    with pytest.raises(MailchimpNotFoundError) as error:
        client.archive_member(mailchimp_sandbox.config.list_id, "nobody@acme.io")
    key = mailchimp_sandbox.config.api_key
    basic = base64.b64encode(f"oracle-mailchimp:{key}".encode()).decode()
    for secret in (key, key.split("-")[0], basic):
        assert secret not in caplog.text
        assert secret not in str(error.value) and secret not in repr(error.value)
        assert secret not in repr(client) and secret not in repr(client.connection)


def test_members_changing_during_the_scan_shift_nothing_out_of_sight(
    mailchimp_sandbox: RunningMailchimpSandbox, mailchimp_client_factory: MailchimpClientFactory
) -> None:
    client, _ = mailchimp_client_factory(mailchimp_sandbox)
    list_id = mailchimp_sandbox.config.list_id
    start = datetime(2026, 1, 1, tzinfo=UTC)
    seed(
        mailchimp_sandbox,
        *(
            {"email_address": f"s{i}@acme.io", "last_changed": (start + timedelta(minutes=i)).isoformat()}
            for i in range(100)
        ),
    )
    scan = client.iter_members_changed_since(list_id, start, page_size=20)
    seen = [next(scan) for _ in range(20)]
    for email in ("s3@acme.io", "s11@acme.io"):  # already read: they move to the end of the order
        control(mailchimp_sandbox, "POST", f"/lists/{list_id}/members/{email}/unsubscribe")
    seen += list(scan)
    assert {m.email_address for m in seen} == {f"s{i}@acme.io" for i in range(100)}
    assert len({(m.id, m.last_changed) for m in seen}) == len(seen) == 102
    assert sorted(m.email_address for m in seen if m.status == "unsubscribed") == [
        "s11@acme.io",
        "s3@acme.io",
    ]
