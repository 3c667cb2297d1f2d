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

from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial

from oracle_mailchimp_dagster.mailchimp.parallel import in_parallel
from oracle_mailchimp_dagster.pipeline.crash import crash_point
from oracle_mailchimp_dagster.pipeline.execute import PlanExecutor
from oracle_mailchimp_dagster.pipeline.plan import MemberPlan
from oracle_mailchimp_dagster.pipeline.ports import AudienceClient
from oracle_mailchimp_dagster.pipeline.settle import build_commit
from oracle_mailchimp_dagster.store.records import CommitSummary, HighWaterMark, RetryEntry, SyncState
from oracle_mailchimp_dagster.store.sync_store import SyncStore
from oracle_mailchimp_dagster.sync.model import MemberState, PlannedAction
from oracle_mailchimp_dagster.sync.outcomes import FAILED, RecordOutcome, not_sent
from oracle_mailchimp_dagster.tenants.model import TenantConfig

CHUNKS_IN_FLIGHT = 3
FAILURE_SAMPLE = 20
# PostgreSQL plans lookups from table statistics; a bulk load refreshes them as member state doubles
# (20,000 rows, 40,000, ...), not after every chunk (see `store.runs.ANALYZE_AFTER_ROWS`).
ANALYZE_FIRST_AT = 20_000


@dataclass
class RunResults:
    """What the results step did, summed over its chunks (the asset's value: counts, no records; the
    records are in the ledger)."""

    run_id: str
    mark_before: HighWaterMark | None
    mark_after: HighWaterMark | None
    state_version: int
    chunks: int
    dry_run: bool = False
    chunks_committed: int = 0
    records: int = 0
    members_upserted: int = 0
    by_outcome: Counter[str] = field(default_factory=Counter)
    failures: list[RecordOutcome] = field(default_factory=list)

    @property
    def failed(self) -> int:
        return sum(self.by_outcome.get(o.value, 0) for o in FAILED)

    def add(self, outcomes: Sequence[RecordOutcome]) -> None:
        self.records += len(outcomes)
        self.by_outcome.update(o.outcome.value for o in outcomes)
        room = FAILURE_SAMPLE - len(self.failures)
        if room > 0:
            self.failures.extend([o for o in outcomes if o.outcome in FAILED][:room])


def _state_of(state: SyncState | None) -> tuple[HighWaterMark | None, int]:
    return (state.mark if state else None), (state.state_version if state else 0)


def dry_run(plan: MemberPlan, run_id: str, state: SyncState | None) -> RunResults:
    """Every action's outcome as not sent (dry run); nothing is written anywhere."""
    mark, version = _state_of(state)
    results = RunResults(run_id, mark, mark, version, len(plan.chunks), dry_run=True)
    for index in range(len(plan.chunks)):
        results.add([not_sent(a, dry_run=True) for a in plan.chunk(index)])
    return results


@dataclass(frozen=True)
class _Executed:
    """One chunk after Mailchimp, with what the store held for its customers before."""

    outcomes: list[RecordOutcome]
    states: dict[str, MemberState]
    retries: dict[str, RetryEntry]


class _Settler:
    """Commits chunks one at a time, each expecting the state version the previous one left."""

    def __init__(self, plan: MemberPlan, store: SyncStore, tenant: TenantConfig, results: RunResults) -> None:
        assert plan.state_version is not None
        self._plan = plan
        self._store = store
        self._tenant = tenant
        self._results = results
        self._expected = plan.state_version
        self._analyze_at = ANALYZE_FIRST_AT

    def commit(self, executed: _Executed) -> CommitSummary:
        plan, results = self._plan, self._results
        crash_point("before_commit")
        last = results.chunks_committed + 1 >= results.chunks
        commit, outcomes = build_commit(
            results.run_id,
            executed.outcomes,
            executed.states,
            executed.retries,
            now=datetime.now(UTC),
            max_attempts=self._tenant.policy.retry_max_attempts,
            new_mark=plan.mark_candidate if last and plan.advances_mark else None,
            planned_version=self._expected,
            planned_mark=plan.mark_before,
        )
        summary = self._store.commit_run(self._tenant.id, commit)
        self._expected = summary.state_version
        if results.chunks_committed == 0:
            results.mark_before = summary.mark_before
        results.chunks_committed += 1
        results.mark_after, results.state_version = summary.mark_after, summary.state_version
        results.members_upserted += summary.members_upserted
        results.add(outcomes)
        if results.members_upserted >= self._analyze_at:
            self._store.refresh_statistics()
            self._analyze_at = 2 * results.members_upserted
        crash_point("after_chunk_commit", results.chunks_committed)
        return summary


def _execute(
    plan: MemberPlan, executor: PlanExecutor, store: SyncStore, tenant_id: str, index: int
) -> _Executed:
    actions: list[PlannedAction] = plan.chunk(index)
    keys = [a.customer_key for a in actions]
    states = store.members.by_keys(tenant_id, keys)
    retries = store.retries.entries(tenant_id, keys)
    return _Executed(executor.run(actions), states, retries)


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
    settler = _Settler(plan, store, tenant, results)
    if not plan.chunks:
        settler.commit(_Executed([], {}, {}))
        return results
    executor = PlanExecutor(client, tenant.mailchimp.list_id, tenant.policy)
    work: Iterator[Callable[[], _Executed]] = (
        partial(_execute, plan, executor, store, tenant.id, index) for index in range(len(plan.chunks))
    )
    for executed in in_parallel(in_flight, work, "sync-chunk"):
        settler.commit(executed)
    return results
