"""Send a run's new customers while the extract is still reading: the load overlaps the extract.

A customer the store has never synced, whose address no stored member state holds and no customer
read before it in the run touched (or who has no valid address: a rejection or a skip that touches
no member), needs nothing from the rest of the run to be planned: sending it
now is what an earlier run would have done (a replay of its key). Whoever later brings the same
address, in this run or the next, is planned against its stored state, as after any earlier run. So
such customers are taken out of the stream in chunks of about the plan's size, and each chunk is
planned, executed and committed on its own (ledger rows, member state, retry queue, under the
run's id; never the mark; the members each upsert batch wrote first, before its tags go out), while the
extract goes on. The plan step sees the rest of the run only.

A chunk is sent once it is full, and what is left at the end of the read with them; a run that never
filled one (a small run) sends nothing from here and behaves exactly as without this. At most
`in_flight` chunks are out at once: the next full chunk waits for one of them, which holds the
extract back to the load's pace and bounds memory. A failing chunk stops the read at the next batch
and fails the step; chunks already sent are settled first. Disabled for dry runs and runs that do
not load (`defs.preload`).
"""

import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from oracle_mailchimp_dagster.pipeline.execute import PlanExecutor
from oracle_mailchimp_dagster.pipeline.grouping import Spooled
from oracle_mailchimp_dagster.pipeline.ports import AudienceClient
from oracle_mailchimp_dagster.pipeline.results import ChunkSettler, Executed, RunResults
from oracle_mailchimp_dagster.pipeline.states import load_states
from oracle_mailchimp_dagster.store.records import HighWaterMark
from oracle_mailchimp_dagster.store.sync_store import SyncStore
from oracle_mailchimp_dagster.sync.model import Action, ListField, MemberState
from oracle_mailchimp_dagster.sync.outcomes import RecordOutcome
from oracle_mailchimp_dagster.sync.planning import plan_actions, removal_count
from oracle_mailchimp_dagster.tenants.model import TenantConfig


@dataclass(frozen=True)
class PreloadOptions:
    """How the extract step sends while reading: customers per chunk, chunks out at once."""

    chunk_size: int
    in_flight: int


def _address_id(address: str) -> int:
    """64 bits of a subscriber hash: a set of a million costs ~60 MB, not ~110; two addresses sharing
    them only keep a customer out of the pre-load (planned with the rest instead)."""
    return int(address[:16], 16)


class Preloader:
    """Takes new customers out of the extract's stream and sends them in chunks (see the module)."""

    def __init__(
        self,
        client: AudienceClient,
        *,
        store: SyncStore,
        tenant: TenantConfig,
        fields_by_tag: Callable[[], Mapping[str, ListField] | None],
        run_id: str,
        options: PreloadOptions,
    ) -> None:
        state = store.marks.state(tenant.id)
        mark: HighWaterMark | None = state.mark if state else None
        version = state.state_version if state else 0
        self._store = store
        self._tenant = tenant
        self._load_fields = fields_by_tag
        self._fields_by_tag: Mapping[str, ListField] | None = None
        self._off = False
        self._mapping = tenant.mapping.resolve()
        self._executor = PlanExecutor(client, tenant.mailchimp.list_id, tenant.policy)
        self._chunk_size = options.chunk_size
        self.results = RunResults(run_id, mark, mark, version, chunks=0)
        self._settler = ChunkSettler(
            store, tenant, self.results, expected_version=version, planned_mark=mark, final_mark=None
        )
        self._touched: set[int] = set()
        self._buffer: list[Spooled] = []
        self._slots = threading.BoundedSemaphore(options.in_flight)
        self._lock = threading.Lock()  # commits one at a time, in the order chunks finish
        self._pool = ThreadPoolExecutor(max_workers=options.in_flight, thread_name_prefix="preload-chunk")
        # Records the members each upsert batch wrote, one commit at a time (`ChunkSettler.commit_written`).
        self._recorder = ThreadPoolExecutor(max_workers=1, thread_name_prefix="preload-record")
        self._futures: list[Future[None]] = []
        self._error: BaseException | None = None
        self.read_waited_s = 0.0  # how long the read waited for the load: which of the two is slower
        self.actions: Counter[str] = Counter()  # the actions committed, and the invalid ones' reasons
        self.invalid: Counter[str] = Counter()

    def take(self, rows: Sequence[Spooled], states: Mapping[str, MemberState]) -> list[Spooled]:
        """Keep the batch's new customers (sending a chunk when one is full); returns the rest, in
        order, for the spool. Raises the error of a chunk that failed."""
        self._raise_failure()
        if self._off:
            return list(rows)
        # New to the store, and an address nobody touched yet (or none: rejected or skipped alone).
        candidates = [
            row
            for row in rows
            if row[2].key not in states and (row[0] is None or _address_id(row[0]) not in self._touched)
        ]
        held = self._held({row[0] for row in candidates if row[0] is not None})
        taken = [row for row in candidates if row[0] is None or row[0] not in held]
        for new, stored, _ in rows:
            for address in (new, stored):
                if address is not None:
                    self._touched.add(_address_id(address))
        if not taken:
            return list(rows)
        kept = {id(row) for row in taken}
        rest = [row for row in rows if id(row) not in kept]
        self._buffer.extend(taken)
        if len(self._buffer) >= self._chunk_size:
            if not self._started():
                self._off = True
                rest, self._buffer = rest + self._buffer, []
                return rest
            for chunk in self._full_chunks():
                self._send(chunk)
        return rest

    def finish(self) -> list[Spooled]:
        """Send what is buffered once something was sent (a small run sends nothing from here), wait
        for every chunk (raising the first failure); returns the customers kept but not sent, for the
        spool."""
        self._raise_failure()
        if self._buffer and self._futures and not self._off:
            self._send(self._buffer)
            self._buffer = []
        self.close()
        self._raise_failure()
        left, self._buffer = self._buffer, []
        return left

    def close(self) -> None:
        """Let every chunk already sent settle (also when the read failed); sends nothing more."""
        self._pool.shutdown(wait=True)
        self._recorder.shutdown(wait=True)

    # ---- internals ----------------------------------------------------------------------------

    def _full_chunks(self) -> list[list[Spooled]]:
        """The buffer's full chunks, each holding whole addresses (the customers of one batch sharing
        one are planned together); the rest stays buffered."""
        by_address: dict[str, list[Spooled]] = {}
        for row in self._buffer:
            by_address.setdefault(row[0] or "customer:" + row[2].key, []).append(row)
        chunks: list[list[Spooled]] = []
        current: list[Spooled] = []
        for group in by_address.values():
            if current and len(current) + len(group) > self._chunk_size:
                chunks.append(current)
                current = []
            current.extend(group)
        if len(current) >= self._chunk_size:
            chunks.append(current)
            current = []
        self._buffer = current
        return chunks

    def _started(self) -> bool:
        """The audience's merge fields, read when the first chunk is full (a run that sends nothing
        from here asks Mailchimp nothing); False when the mapping does not fit them."""
        if self._fields_by_tag is None:
            self._fields_by_tag = self._load_fields()
        return self._fields_by_tag is not None

    def _held(self, addresses: set[str]) -> set[str]:
        if not addresses:
            return set()
        holders = self._store.members.by_subscriber_hashes(self._tenant.id, addresses)
        return {m.subscriber_hash for m in holders if m.subscriber_hash}

    def _raise_failure(self) -> None:
        if self._error is not None:
            raise self._error

    def _send(self, rows: list[Spooled]) -> None:
        started = time.monotonic()
        self._slots.acquire()  # the extract waits here while `in_flight` chunks are out
        self.read_waited_s += time.monotonic() - started
        try:
            self._raise_failure()
            self._futures.append(self._pool.submit(self._run_chunk, rows))
        except BaseException:
            self._slots.release()
            raise

    def _run_chunk(self, rows: list[Spooled]) -> None:
        try:
            if self._error is None:
                self._execute_and_settle(rows)
        except BaseException as exc:  # reported to the extract's thread at its next batch
            with self._lock:
                if self._error is None:
                    self._error = exc
        finally:
            self._slots.release()

    def _execute_and_settle(self, rows: list[Spooled]) -> None:
        tenant, store = self._tenant, self._store
        customers = [customer for _, _, customer in rows]
        states = load_states(store, tenant.id, customers)
        assert self._fields_by_tag is not None
        actions = plan_actions(customers, states, self._mapping, self._fields_by_tag, tenant.policy)
        assert removal_count(actions) == 0, "a customer new to the store removes nothing"
        retries = store.retries.entries(tenant.id, [c.key for c in customers])
        written: dict[str, MemberState] = {}
        recording: list[Future[None]] = []

        def record(upserted: list[RecordOutcome]) -> None:
            with self._lock:
                if self._error is not None:
                    return
                try:
                    written.update(self._settler.commit_written(upserted, states))
                except BaseException as exc:  # every chunk stops at its next batch or commit
                    self._error = exc
                    raise

        def record_written(upserted: list[RecordOutcome]) -> None:
            # Off the chunk's thread: its other batches and its tags go on while this commits. A
            # record that failed (another run committed, a crash drill) stops the chunk here.
            self._raise_failure()
            recording.append(self._recorder.submit(record, upserted))

        outcomes = self._executor.run(actions, record_written)
        for done in recording:
            done.result()  # recorded before the chunk commits (a failure fails the chunk)
        with self._lock:
            if self._error is not None:
                return  # another chunk failed: its error fails the step; this one settles next run
            self.results.chunks += 1
            self._settler.commit(Executed(outcomes, {**states, **written}, retries))
            self.actions.update(a.action.value for a in actions)
            self.invalid.update(a.reason for a in actions if a.action is Action.REJECT_INVALID)
