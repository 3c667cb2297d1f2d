"""A crash between the Mailchimp writes and the ledger commit loses nothing; every replay route works."""

from collections import Counter

import dagster as dg
import pytest

from oracle_mailchimp_dagster.defs.build import build_definitions
from oracle_mailchimp_dagster.defs.step import TENANT_STEPS
from tests.fixtures.sync import SyncHarness, failure_text
from tests.support.expected import assert_audience_matches
from tests.support.scenario import sole_holders


def test_crash_before_commit_then_rerun_ends_in_the_expected_state(
    sync_harness: SyncHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    h = sync_harness
    monkeypatch.setenv("ORACLE_MAILCHIMP_CRASH_AT", "before_commit")
    crashed = h.run()
    assert not crashed.success
    assert len(h.members()) > 200  # the writes reached Mailchimp ...
    assert h.store.ledger.for_run("acme", crashed.run_id) == []  # ... but nothing was settled
    assert h.store.marks.get("acme") is None
    monkeypatch.delenv("ORACLE_MAILCHIMP_CRASH_AT")

    rerun = h.run()
    assert rerun.success
    assert_audience_matches(h)
    outcomes = Counter(e.outcome for e in h.store.ledger.for_run("acme", rerun.run_id))
    assert outcomes["updated"] > 200 and outcomes["created"] == 0  # resent idempotently
    assert h.store.marks.get("acme") is not None


def test_replay_routes(sync_harness: SyncHarness) -> None:
    h = sync_harness
    first = h.run()
    assert first.success
    ledger = h.store.ledger.for_run("acme", first.run_id)
    failed = {e.customer_key for e in ledger if e.outcome.startswith("failed")}
    assert failed
    mark = h.store.marks.get("acme")

    def keys(result_run_id: str) -> set[str]:
        return {e.customer_key for e in h.store.ledger.for_run("acme", result_run_id)}

    replay_all = h.run(replay_run_id=first.run_id)
    assert replay_all.success and keys(replay_all.run_id) == {e.customer_key for e in ledger}

    replay_failed = h.run(replay_run_id=first.run_id, failed_only=True)
    assert replay_failed.success and keys(replay_failed.run_id) == failed

    (one,) = sole_holders(h.customers(), 1)
    by_key = h.run(customer_keys=[one["PartyNumber"]])
    assert by_key.success and keys(by_key.run_id) == {one["PartyNumber"]}

    stamps = sorted(c["LastUpdateDate"] for c in h.customers())
    since, until = stamps[100], stamps[150]
    window = h.run(since=since, until=until)
    assert window.success
    in_window = {c["PartyNumber"] for c in h.customers() if since <= c["LastUpdateDate"] < until}
    assert keys(window.run_id) == in_window

    full = h.run(full=True)
    assert full.success and keys(full.run_id) == {c["PartyNumber"] for c in h.customers()}
    # Replays never move the mark backwards.
    assert h.store.marks.get("acme") == mark
    assert_audience_matches(h)


def test_conflicting_replay_options_fail_with_a_clear_message(sync_harness: SyncHarness) -> None:
    result = sync_harness.run(full=True, customer_keys=["CDRM_1"])
    assert not result.success
    failure = failure_text(result)
    assert (
        "choose one of full, since/until, replay_run_id, customer_keys (got full, customer_keys)" in failure
    )


def sync_job() -> dg.JobDefinition:
    """The job as `dagster dev` loads it (resources from the environment the harness set)."""
    return build_definitions().resolve_job_def("tenant_sync_job")


def test_reexecution_from_the_failed_step_reuses_the_persisted_frames(
    sync_harness: SyncHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    h = sync_harness
    monkeypatch.setenv("ORACLE_MAILCHIMP_CRASH_AT", "before_commit")
    crashed = h.run()
    assert not crashed.success
    monkeypatch.delenv("ORACLE_MAILCHIMP_CRASH_AT")
    h.fusion_control("POST", "/stats/reset")
    options = dg.ReexecutionOptions.from_failure(crashed.run_id, h.instance)
    parent = h.instance.get_run_by_id(crashed.run_id)
    assert parent is not None
    with dg.execute_job(
        dg.reconstructable(sync_job), instance=h.instance, reexecution_options=options, tags=parent.tags
    ) as result:
        assert result.success
        steps = [e.step_key for e in result.get_step_success_events()]
        assert [step for step in steps if step in TENANT_STEPS] == ["mailchimp_sync_results"]  # checks aside
    assert h.fusion_control("GET", "/stats")["requests_total"] == 0  # the extract was not redone
    assert_audience_matches(h)
    assert h.store.marks.get("acme") is not None
