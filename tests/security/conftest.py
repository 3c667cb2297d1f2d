"""Hostile servers started per test and always stopped (their trickles and floods end with them)."""

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.support.hostile_servers import HostileServer

HostileFactory = Callable[..., HostileServer]


@pytest.fixture
def hostile() -> Iterator[HostileFactory]:
    started: list[HostileServer] = []

    def start(**behaviours: Any) -> HostileServer:
        server = HostileServer(**behaviours)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
