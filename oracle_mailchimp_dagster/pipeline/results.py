"""What the results step (and the extract step's pre-load) did, and how chunks are settled: one
commit each, in the order they finish, each expecting the state version the previous one left; and,
before it, the members a chunk's upserts wrote while its tags are out."""

import threading
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from oracle_mailchimp_dagster.pipeline.crash import crash_point
from oracle_mailchimp_dagster.pipeline.settle import build_commit, build_fields_commit
from oracle_mailchimp_dagster.store.records import CommitSummary, HighWaterMark, RetryEntry
from oracle_mailchimp_dagster.store.sync_store import SyncStore
from oracle_mailchimp_dagster.sync.model import MemberState
from oracle_mailchimp_dagster.sync.outcomes import FAILED, RecordOutcome
from oracle_mailchimp_dagster.tenants.model import TenantConfig

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

    def absorb(self, earlier: "RunResults") -> None:
        """Count what this run's extract step already sent and committed (`pipeline.preload`)."""
        self.records += earlier.records
        self.members_upserted += earlier.members_upserted
        self.by_outcome.update(earlier.by_outcome)
        room = FAILURE_SAMPLE - len(self.failures)
        if room > 0:
            self.failures.extend(earlier.failures[:room])


@dataclass(frozen=True)
class Executed:
    """One chunk after Mailchimp, with what the store held for its customers before."""

    outcomes: list[RecordOutcome]
    states: dict[str, MemberState]
    retries: dict[str, RetryEntry]


class ChunkSettler:
    """Commits chunks one at a time, each expecting the state version the previous one left; the one
    that completes `results.chunks` moves the mark to `final_mark` (None: the mark stays).

    `commit_written` records, from a chunk's own thread, the members each of its upsert batches wrote,
    before its tags are sent; commits of both kinds take turns."""

    def __init__(
        self,
        store: SyncStore,
        tenant: TenantConfig,
        results: RunResults,
        *,
        expected_version: int,
        planned_mark: HighWaterMark | None,
        final_mark: HighWaterMark | None,
    ) -> None:
        self._store = store
        self._tenant = tenant
        self._results = results
        self._expected = expected_version
        self._planned_mark = planned_mark
        self._final_mark = final_mark
        self._analyze_at = ANALYZE_FIRST_AT
        self._turn = threading.Lock()
        self._fields_commits = 0
        self._early: set[str] = set()  # keys recorded early whose chunk has not committed yet

    def commit_written(
        self, upserted: Sequence[RecordOutcome], states: Mapping[str, MemberState]
    ) -> dict[str, MemberState]:
        """Record the members a chunk's upserts wrote, tags pending (`settle.build_fields_commit`);
        returns the states stored, for the chunk's own commit to compare with."""
        with self._turn:
            commit = build_fields_commit(
                self._results.run_id,
                upserted,
                states,
                now=datetime.now(UTC),
                planned_version=self._expected,
                planned_mark=self._planned_mark,
            )
            if not commit.member_upserts:
                return {}
            summary = self._store.commit_run(self._tenant.id, commit)
            self._expected = summary.state_version
            # Counted as written by the run (the removal guard leaves them out), once.
            self._results.members_upserted += summary.members_upserted
            self._early.update(state.customer_key for state in commit.member_upserts)
            self._fields_commits += 1
            crash_point("after_fields_commit", self._fields_commits)
            return {state.customer_key: state for state in commit.member_upserts}

    def commit(self, executed: Executed) -> CommitSummary:
        with self._turn:
            return self._commit(executed)

    def _commit(self, executed: Executed) -> CommitSummary:
        results = self._results
        crash_point("before_commit")
        last = results.chunks_committed + 1 >= results.chunks
        commit, outcomes = build_commit(
            results.run_id,
            executed.outcomes,
            executed.states,
            executed.retries,
            now=datetime.now(UTC),
            max_attempts=self._tenant.policy.retry_max_attempts,
            new_mark=self._final_mark if last else None,
            planned_version=self._expected,
            planned_mark=self._planned_mark,
        )
        summary = self._store.commit_run(self._tenant.id, commit)
        self._expected = summary.state_version
        written = {state.customer_key for state in commit.member_upserts}
        counted = len(written & self._early)  # already counted when recorded early
        self._early -= {outcome.action.customer_key for outcome in executed.outcomes}
        if results.chunks_committed == 0:
            results.mark_before = summary.mark_before
        results.chunks_committed += 1
        results.mark_after, results.state_version = summary.mark_after, summary.state_version
        results.members_upserted += summary.members_upserted - counted
        results.add(outcomes)
        if results.members_upserted >= self._analyze_at:
            self._store.refresh_statistics()
            self._analyze_at = 2 * results.members_upserted
        crash_point("after_chunk_commit", results.chunks_committed)
        return summary
