"""What the demo prints: both runs side by side, the changes with their outcomes, and the audience.

Pure functions from plain data to text, so the layout is testable without running anything.
"""

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from oracle_mailchimp_dagster.local.demo_scenario import Change

COMPANY_WIDTH = 34
# What the less obvious actions and outcomes mean, shown under the runs table when they occur.
LEGEND = {
    "skip": "nothing to send: an inactive customer without a member, or an address a newer customer holds",
    "skip_unchanged": "same data as last synced: no Mailchimp request",
    "reject_invalid": "no email address, or a malformed one (the ledger has the reason)",
    "failed_invalid": "Mailchimp refused the data (e.g. a fake-looking address); not resent until it changes",
}
STATUS_ORDER = ("subscribed", "transactional", "pending", "unsubscribed", "cleaned", "archived")


@dataclass(frozen=True)
class RunReport:
    """One sync run as the demo shows it, read from the run's materialization metadata."""

    title: str
    run_id: str
    seconds: float
    read: int
    actions: dict[str, int]
    outcomes: dict[str, int]
    mark_before: str
    mark_after: str

    @classmethod
    def from_metadata(
        cls, title: str, run_id: str, seconds: float, metadata: Mapping[str, Mapping[str, Any]]
    ) -> "RunReport":
        extract = metadata.get("fusion_customers", {})
        plan = metadata.get("mailchimp_members", {})
        results = metadata.get("mailchimp_sync_results", {})
        return cls(
            title=title,
            run_id=run_id,
            seconds=seconds,
            read=int(extract.get("rows", 0)),
            actions=_prefixed(plan, "action_"),
            outcomes=_prefixed(results, "outcome_"),
            mark_before=_mark(results.get("mark_before", extract.get("mark_before", "none"))),
            mark_after=_mark(results.get("mark_after", "none")),
        )


def _mark(value: Any) -> str:
    """A mark as metadata holds it: a timestamp (epoch seconds, as the UI shows it) or text ("none")."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC).isoformat()
    return str(value)


def _prefixed(metadata: Mapping[str, Any], prefix: str) -> dict[str, int]:
    return {
        key.removeprefix(prefix): int(value)
        for key, value in metadata.items()
        if key.startswith(prefix) and isinstance(value, int | float) and not isinstance(value, bool)
    }


def table(
    headers: Sequence[str], rows: Sequence[Sequence[str]], numeric: Sequence[int] = (), indent: int = 2
) -> list[str]:
    """Aligned columns: text left, the `numeric` columns right; two spaces between columns."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=True)]
    lines = []
    for row in [headers, *rows]:
        cells = [
            str(cell).rjust(width) if index in numeric else str(cell).ljust(width)
            for index, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append(" " * indent + "  ".join(cells).rstrip())
    return lines


def heading(text: str) -> list[str]:
    return ["", text, "-" * len(text)]


def short_mark(text: str) -> str:
    """`2026-06-29T15:51:48.150000+00:00 / PartyId 300000010009560` -> `2026-06-29 15:51:48`."""
    stamp = text.split(" / ", 1)[0].strip()
    try:
        return datetime.fromisoformat(stamp).strftime("%Y-%m-%d %H:%M:%S")
    except ValueError:
        return stamp


def render_runs(runs: Sequence[RunReport]) -> list[str]:
    """Both runs in columns: duration, records read, every action and outcome that occurred, the mark."""
    rows: list[list[str]] = [
        ["duration", *(f"{run.seconds:.1f} s" for run in runs)],
        ["customers read from Oracle", *(str(run.read) for run in runs)],
    ]
    seen: list[str] = []
    for label, field in (("planned", "actions"), ("outcome", "outcomes")):
        names = [n for n in getattr(runs[0], field) if any(getattr(r, field).get(n, 0) for r in runs)]
        rows += [[f"{label}: {name}", *(str(getattr(r, field).get(name, 0)) for r in runs)] for name in names]
        seen += names
    rows += [
        ["high-water mark before", *(short_mark(run.mark_before) for run in runs)],
        ["high-water mark after", *(short_mark(run.mark_after) for run in runs)],
    ]
    lines = heading("Sync runs (each a Dagster run of tenant_sync_job for partition demo)")
    lines += table(["", *(run.title for run in runs)], rows, numeric=range(1, len(runs) + 1))
    legend = [[f"{name}:", LEGEND[name]] for name in dict.fromkeys(seen) if name in LEGEND]
    if legend:
        lines += ["", *table(["", ""], legend)[1:]]
    lines.append(
        "  The mark is the LastUpdateDate of the last record safely recorded; the next run reads from it."
    )
    return lines


def member_index(members: Sequence[Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    return {str(m["email_address"]).lower(): m for m in members}


def company(member: Mapping[str, Any] | None) -> str:
    value = " ".join(str((member or {}).get("merge_fields", {}).get("COMPANY", "")).split())
    return value if len(value) <= COMPANY_WIDTH else value[: COMPANY_WIDTH - 3] + "..."


def change_problems(
    change: Change, outcome: str | None, members: Mapping[str, Mapping[str, Any]]
) -> list[str]:
    """What differs from what the change should have led to; empty when it went as expected."""
    problems = []
    if outcome != change.expected_outcome:
        problems.append(f"{change.kind}: outcome {outcome or 'none'}, expected {change.expected_outcome}")
    for want in change.members:
        member = members.get(want.email)
        status = member["status"] if member else "absent"
        if status != want.status:
            problems.append(f"{change.kind}: {want.email} is {status}, expected {want.status}")
        if want.company is not None and member is not None:
            got = " ".join(str(member.get("merge_fields", {}).get("COMPANY", "")).split())
            if got != " ".join(want.company.split()):
                problems.append(f"{change.kind}: {want.email} has COMPANY {got!r}, expected {want.company!r}")
    return problems


def render_changes(
    changes: Sequence[Change], outcomes: Mapping[str, str], members: Mapping[str, Mapping[str, Any]]
) -> list[str]:
    """One row per change: the customer, what run 2 recorded in the ledger, and whether that was right."""
    rows = []
    for change in changes:
        outcome = outcomes.get(change.party_number)
        verdict = "ok" if not change_problems(change, outcome, members) else "UNEXPECTED"
        rows.append([change.kind, change.party_number, outcome or "none", verdict])
    lines = heading("Changes made in the sandbox before run 2, and what run 2 did")
    return lines + table(["change", "customer", "ledger outcome", "check"], rows)


def render_audience(
    list_id: str, members: Sequence[Mapping[str, Any]], changes: Sequence[Change]
) -> list[str]:
    """Members by status, then the members the changes touched, as Mailchimp now has them."""
    by_status = Counter(str(m["status"]) for m in members)
    order = [s for s in STATUS_ORDER if s in by_status] + sorted(set(by_status) - set(STATUS_ORDER))
    rows = [[status, str(by_status[status])] for status in order] + [["total", str(len(members))]]
    lines = heading(f"Mailchimp audience {list_id} after run 2")
    lines += table(["status", "members"], rows, numeric=[1])
    index = member_index(members)
    examples = []
    for change in changes:
        for want in change.members:
            member = index.get(want.email)
            tags = ", ".join(sorted(member.get("tags", []))) if member else ""
            examples.append(
                [want.email, member["status"] if member else "absent", company(member), tags, change.kind]
            )
    lines += ["", "  Members the changes touched"]
    lines += table(["email", "status", "COMPANY", "tags", "because"], examples, indent=4)
    return lines
