"""The sandbox clock starts frozen exactly where it was told, even when the wall clock ticks meanwhile."""

import itertools

import pytest

from oracle_mailchimp_dagster.sandbox.fusion import clock as clock_module
from oracle_mailchimp_dagster.sandbox.fusion.clock import SandboxClock

START = 1_803_286_800_000


def test_a_frozen_start_is_the_given_instant_when_the_wall_ticks(monkeypatch: pytest.MonkeyPatch) -> None:
    ticks = itertools.count(1_700_000_000_000)
    monkeypatch.setattr(clock_module, "_wall_ms", lambda: next(ticks))
    clock = SandboxClock(START, frozen=True)
    assert clock.now_ms() == START
    clock.unfreeze()
    assert clock.now_ms() >= START and not clock.frozen


def test_a_running_clock_keeps_its_offset(monkeypatch: pytest.MonkeyPatch) -> None:
    ticks = itertools.count(1_700_000_000_000, 10)
    monkeypatch.setattr(clock_module, "_wall_ms", lambda: next(ticks))
    clock = SandboxClock(START)
    assert clock.now_ms() == START + 10
    clock.advance(1_000)
    assert clock.now_ms() == START + 1_020
