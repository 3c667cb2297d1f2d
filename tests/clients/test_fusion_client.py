"""The Fusion client against the sandbox over HTTP: tokens, keyset paging, probe, typed errors."""

import logging
import re
import threading
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
import requests

from oracle_mailchimp_dagster.fusion import (
    FusionAuthError,
    FusionRequestError,
    TokenCache,
)
from oracle_mailchimp_dagster.sandbox.fusion import RunningFusionSandbox
from tests.fixtures.fusion import FusionSandboxFactory
from tests.support.fusion_clients import (
    all_customers,
    basic_connection,
    control,
    fusion_client,
    oauth_connection,
    ordered_keys,
    sandbox_now,
    stats,
)


class AuthorizationSeen:
    """Response hook keeping every Authorization value sent, to prove none of them leaks elsewhere."""

    def __init__(self) -> None:
        self.values: set[str] = set()

    def __call__(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        value = response.request.headers.get("Authorization")
        if value:
            self.values.add(value.split(" ", 1)[1])


@pytest.mark.parametrize("framework_version", [1, 2, 4])
def test_extraction_returns_every_customer_once_in_keyset_order(
    fusion_sandbox_factory: FusionSandboxFactory, framework_version: int
) -> None:
    sandbox = fusion_sandbox_factory(customers=3000)
    touched = control(sandbox, "POST", "/customers/touch", json={"oldest": 2000})
    assert touched["touched"] == 2000
    expected = all_customers(sandbox)
    # One keyset stream (concurrency 1); sliced extraction interleaves slices (test_fusion_concurrency).
    client = fusion_client(oauth_connection(sandbox, framework_version), extract_concurrency=1)
    extraction = client.extract_customers(until=sandbox_now(sandbox) + timedelta(seconds=1))
    rows = list(extraction)
    assert [(r.last_update_date, r.party_id) for r in rows] == ordered_keys(expected)
    assert Counter(r.last_update_date for r in rows).most_common(1)[0][1] == 2000
    assert extraction.stats.get("records") == 3000
    assert extraction.stats.get("pages") <= 8, "keyset paging needs about one page per 500 rows"
    assert extraction.cursor is not None and extraction.cursor.party_id == rows[-1].party_id
    assert rows[0].email_address == expected[rows[0].party_id]["EmailAddress"]


@pytest.mark.parametrize("framework_version", [1, 2])
def test_records_updated_between_pages_are_neither_lost_nor_repeated(
    fusion_sandbox_factory: FusionSandboxFactory, framework_version: int
) -> None:
    sandbox = fusion_sandbox_factory(customers=3000)
    control(sandbox, "POST", "/customers/touch", json={"oldest": 2000})
    order = [pid for _, pid in ordered_keys(all_customers(sandbox))]
    numbers = {pid: c["PartyNumber"] for pid, c in all_customers(sandbox).items()}
    already_read, not_yet_read = [order[10], order[20]], [order[2500], order[2900]]
    changes = [
        {"op": "update", "party_number": numbers[pid], "changes": {"City": "Moved"}}
        for pid in already_read + not_yet_read
    ]
    control(sandbox, "POST", "/change-rules", json={"before_request": 3, "mutations": changes})
    until = sandbox_now(sandbox) + timedelta(milliseconds=1)
    client = fusion_client(oauth_connection(sandbox, framework_version))

    first = client.extract_customers(until=until)
    first_rows = list(first)
    assert stats(sandbox)["change_rules_fired"] == 1
    ids = [r.party_id for r in first_rows]
    assert len(ids) == len(set(ids)) == 2998, "each customer at most once per window"
    assert set(order) - set(ids) == set(not_yet_read), "moved past the window's end: the next one has them"

    second = client.extract_customers(after=first.cursor, overlap=timedelta(0))
    second_rows = list(second)
    assert {r.party_id for r in second_rows} == set(already_read + not_yet_read)
    assert all(r.city == "Moved" for r in second_rows)
    assert set(ids) | {r.party_id for r in second_rows} == set(order)


def test_overlap_rereads_the_look_back_window_for_late_commits(fusion_sandbox: RunningFusionSandbox) -> None:
    client = fusion_client(oauth_connection(fusion_sandbox))
    first = client.extract_customers()
    rows = list(first)
    assert first.cursor is not None
    mark = first.cursor
    late = control(
        fusion_sandbox,
        "POST",
        "/customers",
        json={
            "OrganizationName": "Late Commit Ltd",
            "LastUpdateDate": (mark.last_update_date - timedelta(minutes=2)).isoformat(),
        },
    )
    strict = client.extract_customers(after=mark, overlap=timedelta(0))
    assert list(strict) == [] and strict.cursor == mark
    looked_back = client.extract_customers(after=mark, overlap=timedelta(minutes=5))
    assert late["PartyId"] in {r.party_id for r in looked_back}
    assert looked_back.cursor == mark, "re-reading the look-back window never moves the mark back"
    assert len(rows) == 200


def test_probe_is_one_cheap_request(fusion_sandbox: RunningFusionSandbox) -> None:
    sent: list[requests.PreparedRequest] = []
    client = fusion_client(
        oauth_connection(fusion_sandbox), hooks=(lambda r, *a, **k: sent.append(r.request),)
    )
    now = sandbox_now(fusion_sandbox)
    assert client.has_changes_after(now) is False
    control(fusion_sandbox, "POST", "/customers", json={"OrganizationName": "Brand New Co"})
    assert client.has_changes_after(now) is True
    pod_calls = [r for r in sent if "/accounts" in str(r.url)]
    assert len(pod_calls) == 2
    assert "limit=1" in str(pod_calls[0].url) and "fields=PartyId&" in str(pod_calls[0].url) + "&"


def test_calls_within_a_token_life_cost_one_token_request(fusion_sandbox: RunningFusionSandbox) -> None:
    client = fusion_client(oauth_connection(fusion_sandbox))
    now = sandbox_now(fusion_sandbox)
    for _ in range(5):
        client.has_changes_after(now)
    assert len(list(client.extract_customers())) == 200
    assert (
        len(list(fusion_client(oauth_connection(fusion_sandbox), cache=client._tokens).extract_customers()))
        == 200
    )
    assert stats(fusion_sandbox)["token_grants"] == 1
    assert client.stats.get("token_fetches") == 1


def test_token_expired_mid_extraction_costs_one_refresh_and_no_record(
    fusion_sandbox_factory: FusionSandboxFactory,
) -> None:
    sandbox = fusion_sandbox_factory(customers=2000)
    # One page in flight, so one 401 exactly (with slices, see test_fusion_concurrency).
    client = fusion_client(oauth_connection(sandbox), page_size=200, extract_concurrency=1)
    extraction = client.extract_customers()
    rows = iter(extraction)
    seen = [next(rows) for _ in range(400)]
    assert control(sandbox, "POST", "/tokens/expire", json={})["expired"] == 1
    seen += list(rows)
    assert sorted(r.party_id for r in seen) == sorted(all_customers(sandbox))
    after = stats(sandbox)
    assert after["token_grants"] == 2 and after["pod_unauthorized"] == 1
    assert extraction.stats.get("token_fetches") == 2


def test_fifty_threads_starting_at_once_cause_one_token_request(fusion_sandbox: RunningFusionSandbox) -> None:
    cache = TokenCache()
    clients = [fusion_client(oauth_connection(fusion_sandbox), cache=cache) for _ in range(50)]
    now = sandbox_now(fusion_sandbox)
    barrier = threading.Barrier(50)
    answers: list[bool] = []

    def probe(index: int) -> None:
        barrier.wait()
        answers.append(clients[index].has_changes_after(now))

    threads = [threading.Thread(target=probe, args=(i,)) for i in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == [False] * 50
    assert stats(fusion_sandbox)["token_grants"] == 1


def test_two_401s_in_a_row_give_a_clear_auth_error_without_secrets(
    fusion_sandbox: RunningFusionSandbox, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    seen = AuthorizationSeen()
    control(
        fusion_sandbox,
        "POST",
        "/faults",
        json={"kind": "error", "status": 401, "path": "/accounts$", "times": 2},
    )
    client = fusion_client(oauth_connection(fusion_sandbox), hooks=(seen,))
    with pytest.raises(FusionAuthError) as error:
        client.has_changes_after(sandbox_now(fusion_sandbox))
    message = str(error.value)
    assert message.startswith("Oracle Fusion tenant 'acme': the pod rejected a freshly issued token twice")
    assert "fusion-sandbox-client" in message and "scope" in message
    assert stats(fusion_sandbox)["token_grants"] == 2
    secret = fusion_sandbox.config.client_secret.get_secret_value()
    assert len(seen.values) >= 2
    for value in {secret, *seen.values}:
        assert value not in message and value not in repr(error.value)
        assert value not in caplog.text
    assert secret not in repr(client) and secret not in repr(client.connection)


def test_token_endpoint_refusals_name_what_to_check(fusion_sandbox: RunningFusionSandbox) -> None:
    wrong_secret = "definitely-not-the-secret"
    with pytest.raises(FusionAuthError, match="check the client id and client secret") as error:
        fusion_client(oauth_connection(fusion_sandbox, client_secret=wrong_secret)).has_changes_after(
            sandbox_now(fusion_sandbox)
        )
    assert wrong_secret not in str(error.value)
    with pytest.raises(FusionAuthError, match="rejected scope"):
        fusion_client(
            oauth_connection(fusion_sandbox, scope="urn:opc:resource:consumer::all")
        ).has_changes_after(sandbox_now(fusion_sandbox))


def test_basic_auth_works_and_a_wrong_password_is_clear(fusion_sandbox: RunningFusionSandbox) -> None:
    assert len(list(fusion_client(basic_connection(fusion_sandbox)).extract_customers())) == 200
    with pytest.raises(
        FusionAuthError, match=re.escape("rejected Basic credentials for user 'INTEGRATION.USER'")
    ) as error:
        fusion_client(basic_connection(fusion_sandbox, password="wrong-pass")).has_changes_after(
            sandbox_now(fusion_sandbox)
        )
    assert "wrong-pass" not in str(error.value)
    assert stats(fusion_sandbox)["token_grants"] == 0


def test_other_client_errors_carry_oracles_detail(fusion_sandbox: RunningFusionSandbox) -> None:
    connection = oauth_connection(fusion_sandbox).model_copy(
        update={"resource_path": "/fscmRestApi/resources/11.13.18.05/receivablesCustomers"}
    )
    with pytest.raises(FusionRequestError) as error:
        list(fusion_client(connection).extract_customers())
    assert error.value.status == 404
    assert "The requested resource is not found." in str(error.value)
    assert "Check the pod URL and the resource path" in str(error.value)


@pytest.mark.parametrize("framework_version", [1, 2])
def test_fetch_customers_by_party_id(fusion_sandbox: RunningFusionSandbox, framework_version: int) -> None:
    wanted = sorted(all_customers(fusion_sandbox))[5:160:3]
    client = fusion_client(oauth_connection(fusion_sandbox, framework_version))
    found = list(client.fetch_customers([*wanted, 1, 2]))
    assert [c.party_id for c in found] == wanted
    assert client.stats.get("pages") == 1
    numbers = {c.party_number: c.party_id for c in found[:30] if c.party_number}
    by_number = list(client.fetch_customers_by_numbers([*numbers, "CDRM_NOPE"]))
    assert sorted(c.party_id for c in by_number) == sorted(numbers.values())
