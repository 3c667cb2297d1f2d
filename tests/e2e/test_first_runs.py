"""Three `oracle-mailchimp sync` started at once on a new DAGSTER_HOME: the instance's storage is
created once (under the home's lock) and every run ends well; before, one died inside alembic while
Dagster's SQLite storage was being created."""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.cli_sync import CliWorld, open_cli_world
from tests.support.expected import expected_members


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliWorld]:
    monkeypatch.setenv("ORACLE_MAILCHIMP_KEY_FILE", str(tmp_path / "master.key"))
    monkeypatch.delenv("ORACLE_MAILCHIMP_MASTER_KEY", raising=False)
    with open_cli_world(tmp_path, dict(os.environ)) as world:
        yield world


def test_three_first_syncs_at_once_on_a_new_home_all_succeed(world: CliWorld) -> None:
    assert not (world.home / "history").exists()  # nothing of the instance exists yet
    runs = [world.start_sync(name) for name in ("A", "B", "C")]
    finished = [run.wait(timeout_s=240) for run in runs]
    assert [f.code for f in finished] == [0, 0, 0], [f.err[-800:] for f in finished]
    assert not any("Traceback" in f.err or "alembic" in f.err.lower() for f in finished)
    live = {e for e, m in world.members().items() if m["status"] != "archived"}
    assert live == set(expected_members(world.customers()))
