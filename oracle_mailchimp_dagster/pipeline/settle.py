"""Step 4: settle outcomes in one transaction: ledger rows, member state, retry queue, and the mark with
the run's last chunk (`pipeline.apply` commits a run chunk by chunk). Before that, a chunk whose
upserts are done records the members they wrote (`build_fields_commit`), so a run killed while the
chunk's tags are out makes the next one send those tags, not the members again."""

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from oracle_mailchimp_dagster.store.records import (
    HighWaterMark,
    LedgerRecord,
    RetryEntry,
    RunCommit,
)
from oracle_mailchimp_dagster.sync.model import MemberState
from oracle_mailchimp_dagster.sync.outcomes import REFUSED, SETTLED, Outcome, RecordOutcome
from oracle_mailchimp_dagster.sync.state import (
    state_after_refusal,
    state_after_success,
    state_with_tags_pending,
)

RETRY_BASE = timedelta(minutes=5)
RETRY_CAP = timedelta(hours=6)


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff between runs: 5 min, 10, 20, ... capped at 6 h."""
    return min(RETRY_BASE * 2 ** max(attempts - 1, 0), RETRY_CAP)


def build_commit(
    run_id: str,
    outcomes: Sequence[RecordOutcome],
    states: Mapping[str, MemberState],
    retries: Mapping[str, RetryEntry],
    *,
    now: datetime,
    max_attempts: int,
    new_mark: HighWaterMark | None,
    planned_version: int | None = None,
    planned_mark: HighWaterMark | None = None,
) -> tuple[RunCommit, list[RecordOutcome]]:
    """The run's commit, and the outcomes as recorded (retryable failures past the limit become
    dead letters). Pure: `states` and `retries` are what the store held before the run.

    `planned_version` and `planned_mark` (the plan's) make the store refuse the commit if another run
    committed since the plan (compare-and-set).
    """
    ledger: list[LedgerRecord] = []
    members: list[MemberState] = []
    retry_upserts: list[RetryEntry] = []
    retry_clears: list[str] = []
    recorded: list[RecordOutcome] = []
    for outcome in outcomes:
        key = outcome.action.customer_key
        previous = retries.get(key)
        attempt = previous.attempts + 1 if previous else 1
        if outcome.retryable:
            dead = attempt >= max_attempts
            retry_upserts.append(
                RetryEntry(
                    customer_key=key,
                    attempts=attempt,
                    next_attempt_at=now + retry_delay(attempt),
                    last_error=outcome.detail or outcome.title,
                    dead_letter=dead,
                    first_failed_at=previous.first_failed_at if previous else now,
                )
            )
            if dead:
                outcome = replace(outcome, outcome=Outcome.DEAD_LETTER)
        elif previous is not None:
            retry_clears.append(key)
        state: MemberState | None = None
        if outcome.outcome in SETTLED:
            state = state_after_success(outcome.action, states.get(key), outcome.member_status)
        elif outcome.outcome in REFUSED:
            state = state_after_refusal(outcome.action, states.get(key))
        before = states.get(key)
        if (
            state is not None
            and state.email is not None
            and (state != before or _gains_fields(before, state))
        ):
            members.append(replace(state, last_synced_at=now, last_run_id=run_id))
        action = outcome.action
        ledger.append(
            LedgerRecord(
                customer_key=key,
                email=action.email,
                action=action.action.value,
                outcome=outcome.outcome.value,
                http_status=outcome.http_status,
                title=outcome.title,
                detail=outcome.detail,
                attempt=attempt,
            )
        )
        recorded.append(outcome)
    commit = RunCommit(
        run_id=run_id,
        finished_at=now,
        ledger=ledger,
        member_upserts=members,
        retry_upserts=retry_upserts,
        retry_clears=retry_clears,
        new_mark=new_mark,
        planned_version=planned_version,
        planned_mark=planned_mark,
    )
    return commit, recorded


def build_fields_commit(
    run_id: str,
    upserted: Sequence[RecordOutcome],
    states: Mapping[str, MemberState],
    *,
    now: datetime,
    planned_version: int,
    planned_mark: HighWaterMark | None,
) -> RunCommit:
    """The member state of a chunk's succeeded upserts whose tag changes are still to be sent: fields
    written, tags as the member still carries them (`sync.state.state_with_tags_pending`). No ledger
    row, no retry, never the mark: the chunk's own commit follows with those. Pure."""
    members: list[MemberState] = []
    for outcome in upserted:
        if not outcome.succeeded:
            continue
        key = outcome.action.customer_key
        state = state_with_tags_pending(outcome.action, states.get(key), outcome.member_status)
        if state is not None:
            members.append(replace(state, last_synced_at=now, last_run_id=run_id))
    return RunCommit(
        run_id=run_id,
        finished_at=now,
        ledger=[],
        member_upserts=members,
        retry_upserts=[],
        retry_clears=[],
        new_mark=None,
        planned_version=planned_version,
        planned_mark=planned_mark,
    )


def _gains_fields(before: MemberState | None, after: MemberState) -> bool:
    """State stored before the merge fields were kept (migration 0004) gets them: `merge_fields` is not
    part of a state's equality, so an otherwise unchanged state is written for them."""
    return before is not None and before.merge_fields is None and after.merge_fields is not None
