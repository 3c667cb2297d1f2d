"""Steps 3 and 4 chunk by chunk: execute a chunk against Mailchimp, then settle it in its own commit.

Each chunk's ledger rows, member state and retry-queue changes are one transaction (`commit_run`), so
a run killed mid-load keeps what it settled: the next run plans those customers as unchanged and
sends only the rest. The mark moves only in the commit of the run's last chunk, once every outcome
is settled.

Every commit compares and sets the tenant's state version: the first expects the version the plan
was made against, each later one the version the previous commit of this run left (a commit that
changed nothing leaves it as it was), so another writer in between (a reset, a re-executed old plan)
stops the run at its next commit. Chunks hold disjoint customers and addresses, so several execute
at once (three by default: one's writes overlap the others' tags and commits); commits are made one
at a time, in the order chunks finish.
"""

from collections.abc import Callable, Iterator
from functools import partial

from oracle_mailchimp_dagster.mailchimp.parallel import in_parallel
from oracle_mailchimp_dagster.pipeline.execute import PlanExecutor
from oracle_mailchimp_dagster.pipeline.plan import MemberPlan
from oracle_mailchimp_dagster.pipeline.ports import AudienceClient
from oracle_mailchimp_dagster.pipeline.results import ChunkSettler, Executed, RunResults
from oracle_mailchimp_dagster.store.records import HighWaterMark, SyncState
from oracle_mailchimp_dagster.store.sync_store import SyncStore
from oracle_mailchimp_dagster.sync.model import PlannedAction
from oracle_mailchimp_dagster.sync.outcomes import not_sent
from oracle_mailchimp_dagster.tenants.model import TenantConfig

CHUNKS_IN_FLIGHT = 3


def _state_of(state: SyncState | None) -> tuple[HighWaterMark | None, int]:
    return (state.mark if state else None), (state.state_version if state else 0)


def dry_run(plan: MemberPlan, run_id: str, state: SyncState | None) -> RunResults:
    """Every action's outcome as not sent (dry run); nothing is written anywhere."""
    mark, version = _state_of(state)
    results = RunResults(run_id, mark, mark, version, len(plan.chunks), dry_run=True)
    for index in range(len(plan.chunks)):
        results.add([not_sent(a, dry_run=True) for a in plan.chunk(index)])
    return results


def plan_settler(
    plan: MemberPlan, store: SyncStore, tenant: TenantConfig, results: RunResults
) -> ChunkSettler:
    """The settler of a plan's chunks: from the version it was made against; the mark with the last."""
    assert plan.state_version is not None
    return ChunkSettler(
        store,
        tenant,
        results,
        expected_version=plan.state_version,
        planned_mark=plan.mark_before,
        final_mark=plan.mark_candidate if plan.advances_mark else None,
    )


def _execute(
    plan: MemberPlan, executor: PlanExecutor, store: SyncStore, tenant_id: str, index: int
) -> Executed:
    actions: list[PlannedAction] = plan.chunk(index)
    keys = [a.customer_key for a in actions]
    states = store.members.by_keys(tenant_id, keys)
    retries = store.retries.entries(tenant_id, keys)
    return Executed(executor.run(actions), states, retries)


def apply_plan(
    plan: MemberPlan,
    client: AudienceClient,
    *,
    store: SyncStore,
    tenant: TenantConfig,
    run_id: str,
    state: SyncState | None,
    in_flight: int = CHUNKS_IN_FLIGHT,
) -> RunResults:
    """Execute and settle every chunk of a plan already checked current (`MemberPlan.check_current`).

    A plan of no chunk still commits once: the run's mark and its last run."""
    mark, version = _state_of(state)
    results = RunResults(run_id, mark, mark, version, len(plan.chunks))
    settler = plan_settler(plan, store, tenant, results)
    if not plan.chunks:
        settler.commit(Executed([], {}, {}))
        return results
    executor = PlanExecutor(client, tenant.mailchimp.list_id, tenant.policy)
    work: Iterator[Callable[[], Executed]] = (
        partial(_execute, plan, executor, store, tenant.id, index) for index in range(len(plan.chunks))
    )
    for executed in in_parallel(in_flight, work, "sync-chunk"):
        settler.commit(executed)
    return results


def count_preloaded(results: RunResults, plan: MemberPlan) -> None:
    """Add to the results what this run's extract step sent while reading (`pipeline.preload`); a
    plan made by an earlier run (a re-execution) carries that run's, which this run did not send."""
    if plan.preloaded is not None and plan.preloaded.run_id == results.run_id:
        results.absorb(plan.preloaded)
