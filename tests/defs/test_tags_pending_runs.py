"""A chunk sent while reading records the members its upserts wrote before its tags go out, so a run
stopped while a chunk's tags are out is finished by a rerun that sends those tags and not the members
again; the audience ends as one uninterrupted run leaves it. The results step records nothing early
(its re-execution from a failure needs the state its plan was made against)."""

from typing import Any

import pytest

from oracle_mailchimp_dagster.sync.state import tags_unsure
from tests.support.doubles.worlds import CUSTOMER_KEYS, World

TENANT = "acme"
SMALL = 40


def config(*, while_reading: bool) -> dict[str, Any]:
    return {
        "ops": {
            "fusion_customers": {"config": {"send_while_reading": while_reading}},
            "mailchimp_members": {"config": {"chunk_size": SMALL}},
            "mailchimp_sync_results": {"config": {"chunks_in_flight": 2}},
        }
    }


WHOLE = {
    "ops": {
        "fusion_customers": {"config": {"send_while_reading": False}},
        "mailchimp_members": {"config": {"chunk_size": 100_000}},
    }
}


def test_a_run_stopped_while_a_chunk_s_tags_are_out_is_finished_by_sending_only_those_tags(
    chunked_world: World, one_chunk_world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = chunked_world
    crashed = world.crashed_run("after_fields_commit@4", config(while_reading=True), monkeypatch)
    settled = {e.customer_key for e in world.store.ledger.for_run(TENANT, crashed.run_id)}
    written = {
        key: state
        for key, state in world.store.members.by_keys(TENANT, CUSTOMER_KEYS).items()
        if state.last_run_id == crashed.run_id and key not in settled
    }
    assert written, "the chunk's members were recorded before its tags, without a ledger row"
    assert all(tags_unsure(s) for s in written.values()), "their tags are not settled"
    emails = {s.email for s in written.values()}
    assert emails <= world.audience.addressed("upsert_many")
    calls = len(world.audience.calls)

    rerun = world.run(config(while_reading=True))
    reference = one_chunk_world.run(WHOLE)

    ledger = {e.customer_key: (e.action, e.outcome) for e in world.store.ledger.for_run(TENANT, rerun.run_id)}
    retagged = {key for key in written if ledger[key] == ("retag", "tagged")}
    # The others shared their address with a customer read later, whose newer data takes it.
    assert len(retagged) > len(written) / 2
    assert {ledger[key][0] for key in set(written) - retagged} <= {"skip"}
    emails = {written[key].email for key in retagged}
    assert not world.audience.addressed("upsert_many", calls) & emails, (
        "the members written are not written again"
    )
    assert emails <= world.audience.addressed("apply_tag_changes", calls), "their tags are sent"
    after, whole = world.snapshot(rerun), one_chunk_world.snapshot(reference)
    assert (after.members, after.archived) == (whole.members, whole.archived)
    # (A customer sent while reading whose address a later one takes keeps what it wrote: compared
    # are the states of those whose tags were sent again.)
    assert {key: after.states[key] for key in retagged} == {key: whole.states[key] for key in retagged}
    assert world.store.marks.get(TENANT) == one_chunk_world.store.marks.get(TENANT) is not None


def test_the_results_step_records_nothing_before_a_chunk_s_commit(
    chunked_world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = chunked_world
    crashed = world.crashed_run("before_commit", config(while_reading=False), monkeypatch)

    assert world.audience.addressed("upsert_many"), "the first chunk's members were written"
    assert world.store.marks.version(TENANT) == 0, "and nothing was committed, so a re-execution may run"
    assert world.store.members.count(TENANT) == 0
    assert world.store.ledger.for_run(TENANT, crashed.run_id) == []
