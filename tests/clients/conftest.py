"""Client-test fixtures: Mailchimp clients whose every exchange is checked against the OpenAPI spec."""

from collections.abc import Iterator
from typing import Any

import pytest

from oracle_mailchimp_dagster.mailchimp import MailchimpClient
from oracle_mailchimp_dagster.sandbox.mailchimp import RunningMailchimpSandbox
from tests.support.mailchimp_clients import MailchimpClientFactory, RequestContract, contract_checked_client


@pytest.fixture
def mailchimp_client_factory() -> Iterator[MailchimpClientFactory]:
    """Build clients on a sandbox; each request and response is contract-checked, and clean at teardown.

    `hooks` are extra response hooks, run after the contract check.
    """
    made: list[tuple[MailchimpClient, RequestContract]] = []

    def make(sandbox: RunningMailchimpSandbox, **kwargs: Any) -> tuple[MailchimpClient, RequestContract]:
        client, recorder = contract_checked_client(sandbox, **kwargs)
        made.append((client, recorder))
        return client, recorder

    yield make
    for client, recorder in made:
        client.close()
        recorder.assert_clean()
