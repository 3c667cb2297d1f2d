"""Helpers for Mailchimp client tests: contract-checked clients on a sandbox, and its control API."""

import threading
from collections.abc import Callable, Sequence
from typing import Any

import requests

from oracle_mailchimp_dagster.http.transport import ResponseHook
from oracle_mailchimp_dagster.mailchimp import MailchimpClient, MailchimpClientOptions, MailchimpConnection
from oracle_mailchimp_dagster.sandbox.mailchimp import RunningMailchimpSandbox
from tests.support.clients import FAST_RETRY, FAST_TIMEOUTS
from tests.support.openapi_contract import (
    ContractRecorder,
    assert_request_matches_spec,
    assert_response_matches_spec,
    is_api_url,
)

# What the `mailchimp_client_factory` fixture gives a test: (sandbox, *, response_every, hooks,
# **options) -> a client and the recorder of its contract checks.
MailchimpClientFactory = Callable[..., tuple[MailchimpClient, ContractRecorder]]


class RequestContract(ContractRecorder):
    """Checks every request a client sends, and only every `response_every`-th response.

    Validating a 500-member batch answer costs ~150 ms; the 100,000-member load test checks all of
    its requests (the client's side of the contract) and a sample of the sandbox's answers.
    """

    def __init__(self, response_every: int) -> None:
        super().__init__(check_requests=True)
        self.response_every = response_every
        self._lock = threading.Lock()

    def __call__(self, response: requests.Response, *args: Any, **kwargs: Any) -> requests.Response:
        if not is_api_url(response.url):
            return response
        with self._lock:
            self.checked += 1
            sample = self.checked % self.response_every == 1
        try:
            assert_request_matches_spec(response.request)
            if sample:
                assert_response_matches_spec(response)
        except AssertionError as exc:
            self.failures.append(str(exc))
            raise
        return response


def contract_checked_client(
    sandbox: RunningMailchimpSandbox,
    *,
    response_every: int = 1,
    hooks: Sequence[ResponseHook] = (),
    **options: Any,
) -> tuple[MailchimpClient, RequestContract]:
    """A client on the sandbox with test retries; `hooks` run after the contract check."""
    recorder = RequestContract(response_every)
    client = MailchimpClient(
        MailchimpConnection(api_key=sandbox.config.api_key, api_base=sandbox.api_base),
        MailchimpClientOptions(**{"retry": FAST_RETRY, "timeouts": FAST_TIMEOUTS, **options}),
        response_hooks=[recorder, *hooks],
    )
    return client, recorder


def control(sandbox: RunningMailchimpSandbox, method: str, path: str, **kwargs: Any) -> Any:
    """A call to the sandbox's control API (seeding, inspection), which must succeed."""
    response = requests.request(method, sandbox.control_url + path, timeout=10, **kwargs)
    assert response.status_code < 300, response.text
    return response.json() if response.content else None


def stored(sandbox: RunningMailchimpSandbox) -> dict[str, dict[str, Any]]:
    """The members the sandbox holds, by lower-cased address."""
    body = control(sandbox, "GET", f"/lists/{sandbox.config.list_id}/members")
    return {m["email_address"].lower(): m for m in body["members"]}


def sandbox_stats(sandbox: RunningMailchimpSandbox) -> dict[str, Any]:
    """The sandbox's request counters (by route, peak in flight...)."""
    response = requests.get(sandbox.control_url + "/stats", timeout=10)
    response.raise_for_status()
    stats: dict[str, Any] = response.json()
    return stats


def add_faults(sandbox: RunningMailchimpSandbox, *rules: dict[str, Any]) -> None:
    """Make the sandbox misbehave (rate limits, errors, HTML pages, resets) as the rules say."""
    response = requests.post(sandbox.control_url + "/faults", json=list(rules), timeout=10)
    response.raise_for_status()
