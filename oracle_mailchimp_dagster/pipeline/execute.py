"""Carry out a plan against Mailchimp: batched upserts, single-member changes, then tags.

Every planned action gets exactly one RecordOutcome. Configuration errors (auth, wrong list) raise
and stop the run before anything is settled, so the mark stays where it was.
"""

from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

from oracle_mailchimp_dagster.mailchimp import (
    ErrorKind,
    MailchimpNotFoundError,
    MailchimpRecordError,
    MemberChanges,
    MemberUpsert,
    TagChange,
    email_change_refused_status,
)
from oracle_mailchimp_dagster.mailchimp.errors import error_for
from oracle_mailchimp_dagster.pipeline.failures import failed
from oracle_mailchimp_dagster.pipeline.ports import AudienceClient
from oracle_mailchimp_dagster.sync.model import Action, PlannedAction
from oracle_mailchimp_dagster.sync.outcomes import Outcome, RecordOutcome, done, not_sent
from oracle_mailchimp_dagster.sync.planning import ACTION_FOR_INACTIVE
from oracle_mailchimp_dagster.sync.rules import InactiveAction, SyncPolicy

_SINGLE = frozenset({Action.EMAIL_CHANGE, Action.UNSUBSCRIBE, Action.ARCHIVE, Action.DELETE})
# The status a re-created member inherits from the old one (a cleaned address is not the new one).
_INHERITED_STATUS = {"transactional": "transactional", "unsubscribed": "unsubscribed", "pending": "pending"}


@dataclass(frozen=True)
class _Gone:
    """A removal whose member no longer exists: nothing left to remove."""

    detail: str


class PlanExecutor:
    """Executes one tenant's plan with one client (whose per-key limit bounds all concurrency)."""

    def __init__(self, client: AudienceClient, list_id: str, policy: SyncPolicy) -> None:
        self.client = client
        self.list_id = list_id
        self.policy = policy
        self.workers = client.options.concurrency

    def run(
        self,
        actions: Sequence[PlannedAction],
        written: Callable[[list[RecordOutcome]], object] | None = None,
    ) -> list[RecordOutcome]:
        """One outcome per action, in order. `written` gets each upsert batch's outcomes as the batch
        comes back, before the chunk's tags are sent (the settler records those members then)."""
        outcomes: dict[int, RecordOutcome] = {}
        upserts: list[int] = []
        singles: list[int] = []
        for index, action in enumerate(actions):
            if action.action is Action.UPSERT:
                upserts.append(index)
            elif action.action in _SINGLE:
                singles.append(index)
            elif action.action is Action.RETAG:
                outcomes[index] = done(action)
            else:
                outcomes[index] = not_sent(action)
        outcomes.update(self._upsert(actions, upserts, written))
        outcomes.update(self._parallel(self._single, [(i, actions[i]) for i in singles]))
        releases = [(i, outcomes[i]) for i in upserts if outcomes[i].succeeded and actions[i].release_email]
        outcomes.update(self._parallel(self._release, releases))
        outcomes.update(self._tags(outcomes))
        return [outcomes[i] for i in range(len(actions))]

    # ---- upserts ------------------------------------------------------------------------------

    def _payload(self, action: PlannedAction, status_if_new: str | None = None) -> MemberUpsert:
        assert action.email is not None and action.status_if_new is not None
        return MemberUpsert(
            email_address=action.email,
            status_if_new=status_if_new or action.status_if_new,
            merge_fields=action.merge_fields,
        )

    def _upsert(
        self,
        actions: Sequence[PlannedAction],
        indexes: list[int],
        written: Callable[[list[RecordOutcome]], object] | None = None,
    ) -> dict[int, RecordOutcome]:
        by_email = {(actions[i].email or "").lower(): i for i in indexes}
        payloads = (self._payload(actions[i]) for i in indexes)
        results: dict[int, RecordOutcome] = {}
        for batch in self.client.upsert_many(self.list_id, payloads):
            back: list[RecordOutcome] = []
            for member in batch:
                index = by_email[member.email_address.lower()]
                action = actions[index]
                if member.ok:
                    results[index] = done(action, member.result == "created", member.status)
                else:
                    assert member.problem is not None
                    results[index] = failed(action, member.problem)
                back.append(results[index])
            if written is not None:
                written(back)
        return results

    # ---- single-member changes ----------------------------------------------------------------

    def _parallel(
        self, work: Callable[[int, object], RecordOutcome], items: Iterable[tuple[int, object]]
    ) -> dict[int, RecordOutcome]:
        items = list(items)
        if not items:
            return {}
        with ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="mailchimp-member") as pool:
            futures = {index: pool.submit(work, index, item) for index, item in items}
            return {index: future.result() for index, future in futures.items()}

    def _single(self, index: int, item: object) -> RecordOutcome:
        assert isinstance(item, PlannedAction)
        try:
            if item.action is Action.EMAIL_CHANGE:
                return self._change_email(item)
            gone = self._remove(item.action, item.email or "")
        except MailchimpRecordError as exc:
            return failed(item, exc.problem)
        if gone is not None:
            return RecordOutcome(item, Outcome.SKIPPED, detail=gone.detail)
        return done(item)

    def _remove(self, action: Action, email: str) -> _Gone | None:
        """Unsubscribe, archive or delete one address; a member already gone is not a failure."""
        try:
            if action is Action.UNSUBSCRIBE:
                self.client.update_member(self.list_id, email, MemberChanges(status="unsubscribed"))
            elif action is Action.ARCHIVE:
                self.client.archive_member(self.list_id, email)
            elif action is Action.DELETE:
                self.client.delete_member_permanently(self.list_id, email)
        except MailchimpNotFoundError:
            return _Gone(f"{email} is no longer in the audience")
        return None

    def _change_email(self, action: PlannedAction) -> RecordOutcome:
        """Move the member to its new address: a PATCH of the old member when Mailchimp allows it.

        Otherwise the new address is upserted (with every managed tag, since that member may be new):
        - the new address is already a member: the old address is released by the inactive policy;
        - the old member is gone (e.g. a rerun after a crash): nothing else to do;
        - Mailchimp changes addresses of subscribed members only: the new member inherits the old
          one's status (an unsubscribed contact stays unsubscribed), and the old one is archived
          (a cleaned one cannot be, and stays as it is).
        """
        assert action.previous_email is not None and action.email is not None
        changes = MemberChanges(email_address=action.email, merge_fields=action.merge_fields)
        try:
            member = self.client.update_member(self.list_id, action.previous_email, changes)
            return done(action, member_status=member.status)
        except MailchimpRecordError as exc:
            refused_status = email_change_refused_status(exc.problem)
            if exc.kind not in (ErrorKind.CONFLICT, ErrorKind.NOT_FOUND) and refused_status is None:
                raise
            problem = exc.problem
        moved = replace(action, tags_add=action.tags, tags_remove=frozenset())
        status = _INHERITED_STATUS.get(refused_status or "", action.status_if_new)
        member = self.client.put_member(self.list_id, self._payload(moved, status))
        if problem.kind is ErrorKind.CONFLICT:
            released = self._release_address(action.previous_email)
            detail = f"{action.email} was already a member: updated it; {action.previous_email}: {released}"
            return RecordOutcome(moved, Outcome.UPDATED, member_status=member.status, detail=detail)
        if problem.kind is ErrorKind.NOT_FOUND:
            detail = f"{action.previous_email} is no longer in the audience: upserted {action.email}"
            return RecordOutcome(moved, Outcome.UPDATED, member_status=member.status, detail=detail)
        detail = f"Mailchimp keeps the address of a {refused_status} member: re-created it as {action.email}"
        if refused_status == "cleaned":
            detail += f"; {action.previous_email} stays cleaned"
        else:
            gone = self._remove(Action.ARCHIVE, action.previous_email)
            detail += f"; {action.previous_email} " + (gone.detail if gone else "archived")
        return RecordOutcome(moved, Outcome.EMAIL_CHANGED, member_status=member.status, detail=detail)

    # ---- releasing an address no customer holds any more -----------------------------------------

    def _release_address(self, email: str) -> str:
        policy_action = self.policy.inactive_action
        if policy_action is InactiveAction.NONE:
            return "left as is (inactive action 'none')"
        if policy_action is InactiveAction.TAG:
            problems = self.client.apply_tag_changes(
                self.list_id, {email: TagChange(add=(self.policy.inactive_tag,))}
            )
            if problems:
                raise error_for(problems[email])
            return f"tagged {self.policy.inactive_tag}"
        gone = self._remove(ACTION_FOR_INACTIVE[policy_action], email)
        return gone.detail if gone else f"{policy_action.value} done"

    def _release(self, index: int, item: object) -> RecordOutcome:
        assert isinstance(item, RecordOutcome) and item.action.release_email
        try:
            result = self._release_address(item.action.release_email)
        except MailchimpRecordError as exc:
            return failed(item.action, exc.problem, f"releasing {item.action.release_email}")
        detail = f"old address {item.action.release_email}: {result}"
        return replace(item, detail=detail)

    # ---- tags ---------------------------------------------------------------------------------

    def _tags(self, outcomes: Mapping[int, RecordOutcome]) -> dict[int, RecordOutcome]:
        changes: dict[str, TagChange] = {}
        owners: dict[str, int] = {}
        for index, outcome in outcomes.items():
            action = outcome.action
            if outcome.succeeded and action.email and (action.tags_add or action.tags_remove):
                changes[action.email] = TagChange(
                    tuple(sorted(action.tags_add)), tuple(sorted(action.tags_remove))
                )
                owners[action.email] = index
        problems = self.client.apply_tag_changes(self.list_id, changes)
        return {
            owners[email]: failed(outcomes[owners[email]].action, problem, "tags")
            for email, problem in problems.items()
        }
