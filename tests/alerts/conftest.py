"""Fixtures of the alert tests: a webhook receiver on 127.0.0.1 (see `webhook_receiver`)."""

from collections.abc import Iterator

import pytest

from tests.alerts.webhook_receiver import WebhookReceiver, running_receiver


@pytest.fixture
def webhook() -> Iterator[WebhookReceiver]:
    with running_receiver() as receiver:
        yield receiver
