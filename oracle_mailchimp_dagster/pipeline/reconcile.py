"""Reconcile one tenant's audience with the member state: read it, find the drift, repair what policy allows.

The audience is read page by page (1,000 members a page, several in flight) and compared as it comes,
so memory holds the expected members and a few pages, not the audience. A managed member not seen in
the listing is looked up by its hash before it is called missing (a listing that moves while read can
skip a row). Repairs go through the ledger with action `repair` and the drift class in the detail;
they never change a status, never resubscribe and never touch a member the connector does not manage.
"""

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import partial
from typing import Any

from oracle_mailchimp_dagster.errors import UserError
from oracle_mailchimp_dagster.mailchimp import MailchimpRecordError, MemberChanges, MemberUpsert, TagChange
from oracle_mailchimp_dagster.mailchimp.audience_reads import AudienceMember
from oracle_mailchimp_dagster.mailchimp.client import MailchimpClient
from oracle_mailchimp_dagster.mailchimp.errors import MailchimpProblem
from oracle_mailchimp_dagster.mailchimp.models import NewMemberStatus
from oracle_mailchimp_dagster.mailchimp.parallel import in_parallel
from oracle_mailchimp_dagster.pipeline.drift import (
    DriftClass,
    DriftReport,
    Expected,
    Finding,
    compare,
    expected_members,
    fields_differ,
    missing,
    stale_finding,
    unmanaged,
)
from oracle_mailchimp_dagster.pipeline.failures import failed
from oracle_mailchimp_dagster.store.ledger import append_ledger
from oracle_mailchimp_dagster.store.records import LedgerRecord
from oracle_mailchimp_dagster.store.sync_store import SyncStore
from oracle_mailchimp_dagster.sync.model import Action, PlannedAction
from oracle_mailchimp_dagster.sync.outcomes import Outcome
from oracle_mailchimp_dagster.tenants.model import TenantConfig

# The stored statuses under which a missing or archived member may be put back, as it was. Not
# subscribed: the person may have unsubscribed before deleting or archiving, and the connector hears of
# an unsubscribe only later (audience events), so putting them back could resubscribe them. Never
# unsubscribed or cleaned.
_PUT_BACK_AS: dict[str | None, NewMemberStatus] = {"pending": "pending", "transactional": "transactional"}
# A repair re-creates no member when at least this share of the managed ones is missing: the audience
# is more likely not the one the member state belongs to (a list id changed by hand) than drifted.
MASS_MISSING_SHARE = 0.5


class LeaseLostError(UserError):
    """The tenant's lease was lost before the repairs: another run may be writing the tenant."""


_RECREATION_OFF = (
    "not re-created (the tenant's policy does not, or most managed members are missing: is this the "
    "tenant's audience?)"
)
_WHY_NOT = "its unsubscribe may not have reached the connector yet: never resubscribed"
REPAIR = Action.REPAIR.value


@dataclass(frozen=True)
class ReconcileOptions:
    """What a reconciliation may do: repair at all, re-create missing members, restore archived ones."""

    repair: bool = False
    recreate_missing: bool = True
    restore_archived: bool = False
    max_drift_rate: float = 0.01
    since_last_changed: datetime | None = None  # a partial read: changed members only (no missing ones)


@dataclass
class ReconcileResult:
    """The drift found, the repairs made (outcome counts, ledger rows) and what the read cost."""

    report: DriftReport
    options: ReconcileOptions
    repairs: dict[str, int] = field(default_factory=dict)
    repair_rows: list[LedgerRecord] = field(default_factory=list)
    requests: int = 0
    mass_missing: bool = False  # so many managed members were missing that none was re-created

    @property
    def over_limit(self) -> bool:
        return self.report.rate > self.options.max_drift_rate


def reconcile(
    client: MailchimpClient,
    *,
    tenant: TenantConfig,
    store: SyncStore,
    run_id: str,
    options: ReconcileOptions,
    now: datetime,
    still_held: Callable[[], bool] = lambda: True,
) -> ReconcileResult:
    """Compare the tenant's audience with its member state; repair when `options.repair`, after
    `still_held` says the tenant's lease is still this run's."""
    list_id = tenant.mailchimp.list_id
    expected, managed_tags = expected_members(store.members.iter_tenant(tenant.id))
    report = DriftReport(managed=sum(1 for e in expected.values() if not e.archived_by_policy))
    report.unverified_fields = sum(1 for e in expected.values() if e.shape is None)
    findings: list[Finding] = []
    seen: set[str] = set()

    def record(found: list[Finding]) -> None:
        report.add(found)
        findings.extend(f for f in found if f.drift is not DriftClass.UNMANAGED)

    def judge(members: Iterable[AudienceMember]) -> None:
        suspects: list[tuple[Expected, AudienceMember]] = []
        for member in members:
            if member.id in seen:
                continue
            wanted = expected.get(member.id)
            seen.add(wanted.subscriber_hash if wanted is not None else member.id)  # our string, not a copy
            report.observed += 1
            if wanted is None:
                record([unmanaged(member)])
                continue
            record(compare(wanted, member, managed_tags))
            if fields_differ(wanted, member):
                suspects.append((wanted, member))
        record(_stale(store, tenant.id, suspects))

    since = options.since_last_changed
    for status in (None, "archived"):
        for page in client.iter_audience_pages(list_id, status=status, since_last_changed=since):
            judge(page)
    unseen = [e for digest, e in expected.items() if digest not in seen] if since is None else []
    looked_up: list[AudienceMember] = []
    for wanted, member in _look_up(client, list_id, unseen):
        if member is None:
            record(missing(wanted))
        else:
            looked_up.append(member)
    judge(looked_up)
    result = ReconcileResult(report, options)
    if options.repair:
        if not still_held():
            raise LeaseLostError(
                f"tenant '{tenant.id}': the lease was lost before the repairs (another run may be writing "
                "the tenant); nothing was repaired, the drift report stands"
            )
        missing_share = report.counts.get(DriftClass.MISSING_MEMBER.value, 0) / max(report.managed, 1)
        if missing_share >= MASS_MISSING_SHARE and report.managed >= 10:
            options = replace(options, recreate_missing=False)
            result.mass_missing = True
        rows = list(_repair(client, store, tenant, expected, findings, options))
        if rows:
            with store.db.write() as conn:
                counts = append_ledger(conn, tenant.id, run_id, now, rows)
            result.repairs = dict(counts)
        result.repair_rows = rows
    result.requests = int(client.stats.snapshot().get("http_calls", 0))
    return result


def _stale(
    store: SyncStore, tenant_id: str, suspects: list[tuple[Expected, AudienceMember]]
) -> list[Finding]:
    """The members among `suspects` whose merge fields really differ, checked against their stored
    state (one query per page of suspects, so memory holds a page, not the audience)."""
    if not suspects:
        return []
    states = store.members.by_keys(tenant_id, [wanted.customer_key for wanted, _ in suspects])
    found = []
    for wanted, member in suspects:
        sent = states[wanted.customer_key].merge_fields if wanted.customer_key in states else None
        finding = stale_finding(wanted, sent or {}, member.merge_fields)
        if finding is not None:
            found.append(finding)
    return found


def _look_up(
    client: MailchimpClient, list_id: str, unseen: list[Expected]
) -> Iterator[tuple[Expected, AudienceMember | None]]:
    def one(wanted: Expected) -> tuple[Expected, AudienceMember | None]:
        return wanted, client.get_audience_member(list_id, wanted.subscriber_hash)

    tasks = (partial(one, wanted) for wanted in unseen)
    yield from in_parallel(client.options.concurrency, tasks, "mailchimp-lookup")


def _record(finding: Finding, outcome: Outcome, detail: str = "") -> LedgerRecord:
    text = f"{finding.drift.value}: {detail or finding.detail}"
    return LedgerRecord(finding.customer_key or "", finding.email, REPAIR, outcome.value, detail=text)


def _refused(finding: Finding, problem: MailchimpProblem) -> LedgerRecord:
    outcome = failed(PlannedAction(finding.customer_key or "", Action.REPAIR, ""), problem)
    detail = f"{finding.drift.value}: {outcome.detail or problem.title}"
    return LedgerRecord(
        finding.customer_key or "",
        finding.email,
        REPAIR,
        outcome.outcome.value,
        http_status=outcome.http_status,
        title=outcome.title,
        detail=detail,
    )


def _attempt(finding: Finding, write: Callable[[], object], outcome: Outcome) -> LedgerRecord:
    try:
        write()
    except MailchimpRecordError as exc:
        return _refused(finding, exc.problem)
    return _record(finding, outcome)


def _repair(
    client: MailchimpClient,
    store: SyncStore,
    tenant: TenantConfig,
    expected: dict[str, Expected],
    findings: list[Finding],
    options: ReconcileOptions,
) -> Iterator[LedgerRecord]:
    """Re-send stale fields and managed tags, re-create missing members where allowed; one row each."""
    list_id = tenant.mailchimp.list_id
    writes: list[Callable[[], LedgerRecord]] = []
    tags: dict[str, tuple[Finding, TagChange]] = {}
    recreate = {DriftClass.MISSING_MEMBER, DriftClass.ARCHIVED_BY_PERSON}
    keys = [f.customer_key or "" for f in findings if f.drift in recreate]
    sent = {key: state.merge_fields for key, state in store.members.by_keys(tenant.id, keys).items()}
    for finding in findings:
        wanted = expected[finding.subscriber_hash]
        if finding.drift is DriftClass.STALE_MERGE_FIELDS and finding.values:
            patch = MemberChanges(merge_fields=dict(finding.values))
            call = partial(client.update_member, list_id, wanted.email, patch)
            writes.append(partial(_attempt, finding, call, Outcome.UPDATED))
        elif finding.drift in (DriftClass.MISSING_TAGS, DriftClass.EXTRA_TAGS):
            _, before = tags.get(wanted.email, (finding, TagChange()))
            merged = TagChange(
                add=(*before.add, *finding.tags_add), remove=(*before.remove, *finding.tags_remove)
            )
            tags[wanted.email] = (finding, merged)
        elif finding.drift is DriftClass.MISSING_MEMBER and not options.recreate_missing:
            yield _record(finding, Outcome.SKIPPED, _RECREATION_OFF)
        elif finding.drift is DriftClass.MISSING_MEMBER or (
            finding.drift is DriftClass.ARCHIVED_BY_PERSON and options.restore_archived
        ):
            put_back = _recreate if finding.drift is DriftClass.MISSING_MEMBER else _restore
            values = sent.get(wanted.customer_key)
            writes.append(partial(put_back, client, list_id, wanted, values, finding))
        elif finding.drift is DriftClass.ARCHIVED_BY_PERSON:  # the default policy
            yield _record(finding, Outcome.SKIPPED, "left archived (the tenant's policy does not restore)")
    yield from in_parallel(client.options.concurrency, writes, "mailchimp-repair")
    if tags:
        problems = client.apply_tag_changes(list_id, {email: change for email, (_, change) in tags.items()})
        for email, (finding, change) in tags.items():
            problem = problems.get(email)
            what = ", ".join([*(f"+{t}" for t in change.add), *(f"-{t}" for t in change.remove)])
            yield _refused(finding, problem) if problem else _record(finding, Outcome.TAGGED, what)


def _put_back(
    client: MailchimpClient,
    list_id: str,
    finding: Finding,
    member: MemberUpsert,
    tags: frozenset[str],
    done: tuple[Outcome, str],
) -> LedgerRecord:
    """PUT the member, then add its managed tags; one ledger row for both."""
    try:
        client.put_member(list_id, member)
        if tags:
            problems = client.apply_tag_changes(
                list_id, {member.email_address: TagChange(add=tuple(sorted(tags)))}
            )
            if member.email_address in problems:
                return _refused(finding, problems[member.email_address])
    except MailchimpRecordError as exc:
        return _refused(finding, exc.problem)
    return _record(finding, *done)


def _recreate(
    client: MailchimpClient,
    list_id: str,
    wanted: Expected,
    values: Mapping[str, Any] | None,
    finding: Finding,
) -> LedgerRecord:
    """Put the member back as it was last sent, with the status it had (see `_PUT_BACK_AS`)."""
    status = _PUT_BACK_AS.get(wanted.status)
    if status is None:
        return _record(finding, Outcome.SKIPPED, f"not re-created: it was {wanted.status} ({_WHY_NOT})")
    if values is None:
        return _record(finding, Outcome.SKIPPED, "not re-created: its values are known after its next sync")
    member = MemberUpsert(email_address=wanted.email, status_if_new=status, merge_fields=dict(values))
    return _put_back(client, list_id, finding, member, wanted.tags, (Outcome.CREATED, "re-created"))


def _restore(
    client: MailchimpClient,
    list_id: str,
    wanted: Expected,
    values: Mapping[str, Any] | None,
    finding: Finding,
) -> LedgerRecord:
    """Un-archive a member a person archived (only with `reconcile.restore_archived`): PUT with the
    status the connector last knew, the one it had before the archive (see `_PUT_BACK_AS`)."""
    status = _PUT_BACK_AS.get(wanted.status)
    if status is None:
        return _record(finding, Outcome.SKIPPED, f"left archived: it was {wanted.status} ({_WHY_NOT})")
    member = MemberUpsert(
        email_address=wanted.email, status_if_new=status, status=status, merge_fields=dict(values or {})
    )
    done = (Outcome.UPDATED, f"restored from archived as {status}")
    return _put_back(client, list_id, finding, member, frozenset(), done)
