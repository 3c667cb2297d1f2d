"""Client-test helpers: Mailchimp clients whose every exchange is checked against the OpenAPI spec."""

import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pytest
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


@pytest.fixture
def mailchimp_client_factory() -> Iterator[MailchimpClientFactory]:
    """Build clients on a sandbox; each request and response is contract-checked, and clean at teardown.

    `hooks` are extra response hooks, run after the contract check.
    """
    made: list[tuple[MailchimpClient, ContractRecorder]] = []

    def make(
        sandbox: RunningMailchimpSandbox,
        *,
        response_every: int = 1,
        hooks: Sequence[ResponseHook] = (),
        **options: Any,
    ) -> tuple[MailchimpClient, ContractRecorder]:
        recorder = RequestContract(response_every)
        client = MailchimpClient(
            MailchimpConnection(api_key=sandbox.config.api_key, api_base=sandbox.api_base),
            MailchimpClientOptions(**{"retry": FAST_RETRY, "timeouts": FAST_TIMEOUTS, **options}),
            response_hooks=[recorder, *hooks],
        )
        made.append((client, recorder))
        return client, recorder

    yield make
    for client, recorder in made:
        client.close()
        recorder.assert_clean()
