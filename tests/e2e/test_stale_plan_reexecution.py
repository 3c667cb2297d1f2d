"""Re-executing a failed run from its results step executes its persisted plan only while the tenant
is still at the state the plan was made against: after another run committed, it writes nothing."""

import dagster as dg
import pytest

from oracle_mailchimp_dagster.defs.build import build_definitions
from tests.fixtures.sync import SyncHarness
from tests.support.expected import assert_audience_matches
from tests.support.scenario import sole_holders

NEW_NAME = "Renamed After The Crash Ltd"


def sync_job() -> dg.JobDefinition:
    """The job as `dagster dev` loads it (resources from the environment the harness set)."""
    return build_definitions().resolve_job_def("tenant_sync_job")


def test_a_stale_persisted_plan_is_refused_before_any_mailchimp_call(
    sync_harness: SyncHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    h = sync_harness
    (renamed,) = sole_holders(h.customers(), 1)
    email = renamed["EmailAddress"].strip().lower()
    monkeypatch.setenv("ORACLE_MAILCHIMP_CRASH_AT", "before_commit")
    crashed = h.run()  # planned against version 0, wrote to Mailchimp, never committed
    assert not crashed.success
    monkeypatch.delenv("ORACLE_MAILCHIMP_CRASH_AT")
    h.fusion_control("PATCH", f"/customers/{renamed['PartyNumber']}", json={"OrganizationName": NEW_NAME})
    newer = h.run()
    assert newer.success
    assert h.members()[email]["merge_fields"]["COMPANY"] == NEW_NAME
    h.mailchimp_control("POST", "/stats/reset")

    parent = h.instance.get_run_by_id(crashed.run_id)
    assert parent is not None
    options = dg.ReexecutionOptions.from_failure(crashed.run_id, h.instance)
    with dg.execute_job(
        dg.reconstructable(sync_job), instance=h.instance, reexecution_options=options, tags=parent.tags
    ) as result:
        assert not result.success
        [failure] = result.get_step_failure_events()
        run_id = result.run_id
    assert failure.step_key == "mailchimp_sync_results"
    user_failure = failure.step_failure_data.user_failure_data
    assert user_failure is not None and user_failure.description == (
        "tenant 'acme': the plan was made against state version 0, the tenant is now at 1 "
        f"(run {newer.run_id} committed since); re-run the sync"
    )
    assert h.mailchimp_requests() == 0  # refused before the client was even built
    assert h.store.ledger.for_run("acme", run_id) == []
    assert h.members()[email]["merge_fields"]["COMPANY"] == NEW_NAME
    assert_audience_matches(h)
    state = h.store.marks.state("acme")
    assert state is not None and (state.state_version, state.versioned_by) == (1, newer.run_id)
