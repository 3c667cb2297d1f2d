"""Customers new to the audience are sent while the extract reads (`pipeline.preload`), on the doubles:
the audience, the mark and one ledger row per record end as a run that sends everything from the
results step leaves them, through an initial load and a run of changes; a run killed in the middle of
it is finished by a rerun; a dry run, a run of the extract alone and a mapping that does not fit send
nothing while reading; a chunk that fails stops the read and fails the step with nothing moved."""

from datetime import timedelta
from typing import Any

import dagster as dg
import pytest

from oracle_mailchimp_dagster.defs.assets import fusion_customers
from oracle_mailchimp_dagster.mailchimp.errors import configuration_error
from tests.support.doubles import InMemoryAudience, metadata
from tests.support.doubles.worlds import WORLD_START, World, changes

TENANT = "acme"
CUSTOMERS = 2000
SMALL = 40


def while_reading(size: int = SMALL, *, send: bool = True, dry_run: bool = False) -> dict[str, Any]:
    return {
        "ops": {
            "fusion_customers": {"config": {"send_while_reading": send}},
            "mailchimp_members": {"config": {"chunk_size": size}},
            "mailchimp_sync_results": {"config": {"chunks_in_flight": 2, "dry_run": dry_run}},
        }
    }


def failed_steps(world: World, run_id: str) -> list[str | None]:
    events = world.runs.instance.all_logs(run_id, of_type=dg.DagsterEventType.STEP_FAILURE)
    return [e.step_key for e in events]


# The reference: one chunk, everything sent from the results step.
WHOLE = while_reading(100_000, send=False)


def test_sending_while_reading_ends_as_sending_from_the_results_step(
    chunked_world: World, one_chunk_world: World
) -> None:
    early, whole = chunked_world, one_chunk_world

    first = early.run(while_reading())
    reference = whole.run(WHOLE)

    extract = metadata(first, "fusion_customers")
    sent = extract["sent_while_reading"]
    assert CUSTOMERS / 2 < sent < CUSTOMERS, "new customers were sent while reading, not all of them"
    plan, whole_plan = metadata(first, "mailchimp_members"), metadata(reference, "mailchimp_members")
    assert plan["records"] == CUSTOMERS, "the plan counts what was sent while reading"
    assert plan["action_reject_invalid"] == whole_plan["action_reject_invalid"] > 0
    assert plan["invalid_by_reason"] == whole_plan["invalid_by_reason"]
    assert metadata(first, "mailchimp_sync_results")["records"] == CUSTOMERS
    assert metadata(reference, "fusion_customers")["sent_while_reading"] == 0
    ours, theirs = early.snapshot(first), whole.snapshot(reference)
    assert set(ours.ledger) == set(theirs.ledger), "one ledger row per record, under the run's id"
    assert (ours.members, ours.archived) == (theirs.members, theirs.archived)
    assert early.store.marks.get(TENANT) == whole.store.marks.get(TENANT) is not None

    later = WORLD_START + timedelta(days=1)
    for world in (early, whole):
        world.fusion.put(*changes(list(world.fusion.customers), later))
    second = early.run(while_reading())
    reference = whole.run(WHOLE)

    ours, theirs = early.snapshot(second), whole.snapshot(reference)
    assert set(ours.ledger) == set(theirs.ledger)
    assert (ours.members, ours.archived) == (theirs.members, theirs.archived)
    assert early.store.marks.get(TENANT) == whole.store.marks.get(TENANT)


def test_a_run_killed_while_sending_during_the_read_is_finished_by_a_rerun(
    chunked_world: World, one_chunk_world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = chunked_world
    crashed = world.crashed_run("after_chunk_commit@5", while_reading(), monkeypatch)
    assert failed_steps(world, crashed.run_id) == ["fusion_customers"], "the crash came while reading"
    committed = world.store.ledger.for_run(TENANT, crashed.run_id)
    assert SMALL * 4 <= len(committed) < CUSTOMERS / 2  # five chunks of about SMALL each
    assert world.store.marks.get(TENANT) is None, "sending while reading never moves the mark"

    rerun = world.run(while_reading())
    reference = one_chunk_world.run(WHOLE)

    created = {e.customer_key for e in committed if e.outcome == "created"}
    ledger = {e.customer_key: e.outcome for e in world.store.ledger.for_run(TENANT, rerun.run_id)}
    assert created and "created" not in {ledger[key] for key in created}, "nobody is created twice"
    ours, theirs = world.snapshot(rerun), one_chunk_world.snapshot(reference)
    assert set(ours.ledger) == set(theirs.ledger)
    assert (ours.members, ours.archived) == (theirs.members, theirs.archived)
    assert world.store.marks.get(TENANT) == one_chunk_world.store.marks.get(TENANT) is not None


def test_a_dry_run_and_a_run_of_the_extract_alone_send_nothing_while_reading(
    chunked_world: World,
) -> None:
    world = chunked_world

    dry = world.run(while_reading(dry_run=True))
    world.runs(fusion_customers, run_config={"ops": {"fusion_customers": {"config": {}}}})

    assert metadata(dry, "fusion_customers")["sent_while_reading"] == 0
    assert not world.audience.writes
    assert world.store.ledger.for_run(TENANT, dry.run_id) == []
    assert world.store.members.count(TENANT) == 0


def test_a_mapping_that_does_not_fit_sends_nothing_and_the_plan_step_says_why(
    chunked_world: World,
) -> None:
    world = chunked_world
    world.audience.merge_fields = [f for f in world.audience.merge_fields if f.tag != "FNAME"]

    with pytest.raises(dg.Failure, match="the mapping does not fit audience"):
        world.run(while_reading())

    assert not world.audience.writes
    assert world.store.members.count(TENANT) == 0


def test_a_chunk_failing_while_reading_fails_the_extract_step_and_moves_nothing(
    chunked_world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = chunked_world
    audience: InMemoryAudience = world.audience
    upsert_many = audience.upsert_many
    calls = 0

    def revoked_after_three(list_id: str, members: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls > 3:
            raise configuration_error("API Key Invalid: the key was revoked", 401)
        return upsert_many(list_id, members)

    monkeypatch.setattr(audience, "upsert_many", revoked_after_three)
    with pytest.raises(dg.Failure, match="API Key Invalid"):
        world.run(while_reading())

    [failed] = world.runs.instance.get_runs(limit=1)
    assert failed_steps(world, failed.run_id) == ["fusion_customers"]
    assert world.store.marks.get(TENANT) is None
    committed = world.store.ledger.for_run(TENANT, failed.run_id)
    assert 0 < len(committed) <= 3 * 2 * SMALL, "the chunks out when it failed, no more"
