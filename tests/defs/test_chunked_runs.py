"""Runs in many small chunks on the doubles: the same ledger, member state and audience as one chunk,
through an initial load and a run of email changes (shared addresses handed over, chains of
changes); a run killed between chunk commits keeps what it committed, so the rerun writes only the
rest; and a commit finding the tenant's state changed since the run's previous one stops the run."""

from datetime import timedelta
from typing import Any

import dagster as dg
import pytest

from oracle_mailchimp_dagster.defs.assets import fusion_customers, mailchimp_members, mailchimp_sync_results
from oracle_mailchimp_dagster.pipeline import results
from oracle_mailchimp_dagster.pipeline.plan import CHUNK_SIZE_ENV
from tests.support.doubles import metadata
from tests.support.doubles.worlds import WORLD_START, World, changes

TENANT = "acme"
ASSETS = (fusion_customers, mailchimp_members, mailchimp_sync_results)
CUSTOMERS = 2000
SMALL = 40


# These runs are about the results step's chunks: nothing is sent while reading (tests/defs/test_preload.py).
NOT_WHILE_READING = {"fusion_customers": {"config": {"send_while_reading": False}}}


def chunked(size: int, in_flight: int = 2) -> dict[str, Any]:
    return {
        "ops": {
            **NOT_WHILE_READING,
            "mailchimp_members": {"config": {"chunk_size": size}},
            "mailchimp_sync_results": {"config": {"chunks_in_flight": in_flight}},
        }
    }


def test_many_small_chunks_end_as_one_chunk_does(chunked_world: World, one_chunk_world: World) -> None:
    small, whole = chunked_world, one_chunk_world

    first = small.run(chunked(SMALL))
    reference = whole.run(chunked(100_000))

    assert metadata(first, "mailchimp_members")["chunks"] >= CUSTOMERS // SMALL
    assert metadata(reference, "mailchimp_members")["chunks"] == 1
    assert small.snapshot(first) == whole.snapshot(reference)
    assert small.store.marks.get(TENANT) == whole.store.marks.get(TENANT) is not None

    later = WORLD_START + timedelta(days=1)
    for world in (small, whole):
        world.fusion.put(*changes(list(world.fusion.customers), later))
    second = small.run(chunked(SMALL))
    reference = whole.run(chunked(100_000))

    extract = metadata(second, "fusion_customers")
    assert extract["address_bridges"] > 0 and extract["holders_reread"] > 0
    assert metadata(second, "mailchimp_members")["chunks"] > 1
    actions = metadata(second, "mailchimp_members")
    assert actions["action_email_change"] + actions["action_unsubscribe"] > 0
    assert small.snapshot(second) == whole.snapshot(reference)
    assert small.store.marks.get(TENANT) == whole.store.marks.get(TENANT)


def test_a_run_killed_between_chunk_commits_is_resumed_by_a_rerun_that_writes_only_the_rest(
    chunked_world: World, one_chunk_world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = chunked_world
    crashed = world.crashed_run("after_chunk_commit@10", chunked(SMALL, in_flight=1), monkeypatch)
    committed = world.store.ledger.for_run(TENANT, crashed.run_id)
    assert SMALL * 5 <= len(committed) < CUSTOMERS / 2
    assert world.store.marks.get(TENANT) is None, "the mark moves with the last chunk only"
    sent_before = world.audience.addressed("upsert_many")
    committed_sent = {e.email for e in committed if e.outcome in ("created", "updated")}
    assert committed_sent and committed_sent <= sent_before
    calls = len(world.audience.calls)

    rerun = world.run(chunked(SMALL))
    reference = one_chunk_world.run(chunked(100_000))

    resent = world.audience.addressed("upsert_many", calls)
    assert not resent & committed_sent, "what a chunk committed is not sent again"
    assert resent == one_chunk_world.audience.addressed("upsert_many") - committed_sent
    ledger = {e.customer_key: e.outcome for e in world.store.ledger.for_run(TENANT, rerun.run_id)}
    assert {ledger[e.customer_key] for e in committed if e.outcome == "created"} == {"unchanged"}
    after = world.snapshot(rerun)
    whole = one_chunk_world.snapshot(reference)
    assert (after.states, after.members, after.archived) == (whole.states, whole.members, whole.archived)
    assert world.store.marks.get(TENANT) == one_chunk_world.store.marks.get(TENANT) is not None


def test_a_chunk_commit_is_refused_once_the_state_changed_since_the_run_s_previous_commit(
    chunked_world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = chunked_world
    crash_point = results.crash_point

    def reset_after_the_second_commit(name: str, occurrence: int | None = None) -> None:
        crash_point(name, occurrence)
        if name == "after_chunk_commit" and occurrence == 2:
            world.store.marks.reset(TENANT, None)  # another writer: a reset between two commits

    monkeypatch.setattr(results, "crash_point", reset_after_the_second_commit)
    with pytest.raises(dg.Failure) as failure:
        world.run(chunked(SMALL, in_flight=1))

    [refused] = world.runs.instance.get_runs(limit=1)
    assert failure.value.description == (
        "tenant 'acme': the plan was made against state version 2, the tenant is now at 3 "
        "(its state was reset since); re-run the sync"
    )
    assert len({e.customer_key for e in world.store.ledger.for_run(TENANT, refused.run_id)}) <= 2 * SMALL
    assert world.store.marks.version(TENANT) == 3


def test_the_chunk_size_defaults_to_the_deployment_s_setting(
    chunked_world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CHUNK_SIZE_ENV, "500")
    result = chunked_world.run({"ops": NOT_WHILE_READING})
    assert 4 <= metadata(result, "mailchimp_members")["chunks"] <= 6
    monkeypatch.setenv(CHUNK_SIZE_ENV, "many")
    with pytest.raises(dg.Failure, match="ORACLE_MAILCHIMP_CHUNK_SIZE must be a positive whole number"):
        chunked_world.run({"ops": NOT_WHILE_READING})
