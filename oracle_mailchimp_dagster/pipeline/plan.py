"""Step 2: turn the extract into one planned action per customer, chunk by chunk, checked before any
write.

Each chunk holds whole address groups (`pipeline.chunking`), so planning it alone decides what planning
the run at once would. The chunks go to one frames file; the plan itself (`MemberPlan`, pickled by
the IO manager) is small: where they are, the run's counts, and the state it was made against. The
removal guard sees the run's total before the plan is handed on, so before any write.
"""

import os
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields
from itertools import islice
from pathlib import Path

import pandas as pd

from oracle_mailchimp_dagster.errors import UserError
from oracle_mailchimp_dagster.mailchimp import MergeField
from oracle_mailchimp_dagster.mailchimp.models import list_fields_by_tag
from oracle_mailchimp_dagster.pipeline.chunking import customer_chunks
from oracle_mailchimp_dagster.pipeline.extract_spool import ExtractManifest
from oracle_mailchimp_dagster.pipeline.frames import FrameRef, FrameWriter, read_frame
from oracle_mailchimp_dagster.pipeline.quarantine import quarantine_actions
from oracle_mailchimp_dagster.pipeline.results import RunResults
from oracle_mailchimp_dagster.pipeline.states import load_states
from oracle_mailchimp_dagster.store.errors import StaleStateError
from oracle_mailchimp_dagster.store.records import HighWaterMark, SyncState
from oracle_mailchimp_dagster.store.runs import check_planned
from oracle_mailchimp_dagster.store.sync_store import SyncStore
from oracle_mailchimp_dagster.sync.mapping import mapping_problems
from oracle_mailchimp_dagster.sync.model import Action, ListField, PlannedAction
from oracle_mailchimp_dagster.sync.planning import check_removals, plan_actions, removal_count
from oracle_mailchimp_dagster.tenants.model import TenantConfig

ACTION_COLUMNS = tuple(f.name for f in fields(PlannedAction))
PREVIEW_ROWS = 20
# Customers per chunk unless the run says otherwise: what one commit settles, and about what a run
# killed mid-load sends again (docs/DECISIONS.md, "Streaming through chunks").
DEFAULT_CHUNK_SIZE = 2000
CHUNK_SIZE_ENV = "ORACLE_MAILCHIMP_CHUNK_SIZE"


def default_chunk_size() -> int:
    """ORACLE_MAILCHIMP_CHUNK_SIZE when set (a deployment's default; drills use small chunks), else
    DEFAULT_CHUNK_SIZE; a value that is not a positive integer is a configuration error."""
    raw = os.environ.get(CHUNK_SIZE_ENV, "").strip()
    if not raw:
        return DEFAULT_CHUNK_SIZE
    if not raw.isdigit() or int(raw) < 1:
        raise UserError(f"{CHUNK_SIZE_ENV} must be a positive whole number of customers, not '{raw[:20]}'")
    return int(raw)


QUARANTINED_REASON = "quarantined: a malformed row from Oracle"


class MappingError(UserError):
    """The tenant's mapping does not fit the audience's merge fields; the run stops before any write."""


def check_mapping(tenant: TenantConfig, fields_by_tag: Mapping[str, ListField]) -> None:
    problems = mapping_problems(tenant.mapping.resolve(), fields_by_tag)
    if problems:
        raise MappingError(
            f"tenant '{tenant.id}': the mapping does not fit audience {tenant.mailchimp.list_id}: "
            + "; ".join(problems)
            + f". Nothing was written. Run `oracle-mailchimp tenants test {tenant.id}` for the fix."
        )


@dataclass(frozen=True)
class MemberPlan:
    """The plan: one planned action per customer in `chunks` (frames of `path`), and what the results
    step needs.

    `state_version` and `mark_before` are the tenant's state the plan was made against: the results
    step executes it only while the tenant is still there (a persisted plan re-executed after another
    run committed is refused). A plan without `path` was pickled by an earlier version of the
    connector (the class defaults fill in on unpickling), refused too.
    """

    managed_members: int
    mark_candidate: HighWaterMark | None
    advances_mark: bool
    retry_keys: tuple[str, ...] = ()
    counts: dict[str, int] = field(default_factory=dict)
    invalid_by_reason: dict[str, int] = field(default_factory=dict)
    state_version: int | None = None
    mark_before: HighWaterMark | None = None
    path: Path | None = None
    chunks: tuple[FrameRef, ...] = ()
    records: int = 0
    preview: tuple[PlannedAction, ...] = ()
    preloaded: RunResults | None = None
    sent_while_reading: int = 0  # of `records`, the actions the extract step sent (not in `chunks`)

    def chunk(self, index: int) -> list[PlannedAction]:
        assert self.path is not None
        return read_frame(self.path, self.chunks[index])

    def planned(self) -> list[PlannedAction]:
        """Every action at once (tests and small plans)."""
        return [action for index in range(len(self.chunks)) for action in self.chunk(index)]

    def frame(self) -> pd.DataFrame:
        """Every action as a frame, one row each (tests and small plans)."""
        return action_frame(self.planned())

    def check_current(self, tenant_id: str, state: SyncState | None) -> None:
        """Raise StaleStateError unless the tenant is still at the version (and, for a run that moves
        the mark, the mark) this plan was made against: before any write to Mailchimp."""
        if self.state_version is None or self.path is None:
            raise StaleStateError.version(tenant_id, None, 0, None)
        check_planned(tenant_id, state, self.state_version, self.mark_before, moves_mark=self.advances_mark)


def action_frame(actions: Sequence[PlannedAction]) -> pd.DataFrame:
    """Column by column: no intermediate dict per action."""
    data = {name: pd.Series([getattr(a, name) for a in actions], dtype=object) for name in ACTION_COLUMNS}
    return pd.DataFrame(data, columns=list(ACTION_COLUMNS))


def _slices(actions: Iterable[PlannedAction], size: int) -> Iterator[list[PlannedAction]]:
    source = iter(actions)
    while part := list(islice(source, size)):
        yield part


class _Tally:
    """The run's counts, summed chunk by chunk."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.invalid: Counter[str] = Counter()
        self.removals = 0
        self.records = 0
        self.preview: list[PlannedAction] = []

    def add(self, actions: Sequence[PlannedAction], *, invalid: bool = True) -> None:
        self.records += len(actions)
        self.counts.update(a.action.value for a in actions)
        if invalid:
            self.invalid.update(a.reason for a in actions if a.action is Action.REJECT_INVALID)
        self.removals += removal_count(actions)
        if len(self.preview) < PREVIEW_ROWS:
            self.preview.extend(actions[: PREVIEW_ROWS - len(self.preview)])


def build_plan(
    extract: ExtractManifest,
    tenant: TenantConfig,
    merge_fields: Iterable[MergeField],
    store: SyncStore,
    directory: Path,
    *,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> MemberPlan:
    """Plan every record into `directory`; raises MappingError, RemovalGuardTripped or StaleStateError
    (the mark moved since the extract) before anything is written.

    The state version is read before the member states, so a commit landing in between makes the
    plan look older than it is (refused later), never newer.
    """
    fields_by_tag = list_fields_by_tag(merge_fields)
    check_mapping(tenant, fields_by_tag)
    state = store.marks.state(tenant.id)
    version = state.state_version if state else 0
    check_planned(tenant.id, state, version, extract.mark_before, moves_mark=extract.advances_mark)
    mapping = tenant.mapping.resolve()
    tally = _Tally()
    refs: list[FrameRef] = []
    path = directory / "plan.frames"
    with FrameWriter(path) as out:
        for customers in customer_chunks(extract, chunk_size, directory / "bridged"):
            states = load_states(store, tenant.id, customers)
            actions = plan_actions(customers, states, mapping, fields_by_tag, tenant.policy)
            tally.add(actions)
            refs.append(out.write(actions))
        # Malformed rows: nothing sent, a `rejected` ledger row each (by attribute: the extract's check).
        for part in _slices(quarantine_actions(extract.quarantined), chunk_size):
            tally.add(part, invalid=False)
            refs.append(out.write(part))
    if extract.quarantined:
        tally.invalid[QUARANTINED_REASON] = len(extract.quarantined)
    # What the extract step sent while reading was planned there: the run's counts include it.
    sent = extract.preloaded.records if extract.preloaded else 0
    tally.records += sent
    tally.counts.update(extract.sent_actions)
    tally.invalid.update(extract.sent_invalid)
    # Members the extract step created while reading do not dilute the removal guard's share.
    preloaded = extract.preloaded.members_upserted if extract.preloaded else 0
    managed = store.members.count(tenant.id) - preloaded
    check_removals(tally.removals, tenant.policy, managed)
    counts = dict(tally.counts)
    counts["removals"] = tally.removals
    return MemberPlan(
        managed_members=managed,
        mark_candidate=extract.mark_candidate,
        advances_mark=extract.advances_mark,
        retry_keys=extract.retry_keys,
        counts=counts,
        invalid_by_reason=dict(tally.invalid),
        state_version=version,
        mark_before=extract.mark_before,
        path=path,
        chunks=tuple(refs),
        records=tally.records,
        preview=tuple(tally.preview),
        preloaded=extract.preloaded,
        sent_while_reading=sent,
    )
