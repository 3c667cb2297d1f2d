"""Materialization metadata: plain numbers (plotted by the UI across runs) and small tables."""

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import dagster as dg

from oracle_mailchimp_dagster.store.records import HighWaterMark
from oracle_mailchimp_dagster.sync.outcomes import FAILED, RecordOutcome

SAMPLE_ROWS = 20


def mark_text(mark: HighWaterMark | None) -> str:
    return f"{mark.timestamp.isoformat()} / PartyId {mark.key}" if mark else "none"


def counts(prefix: str, values: Mapping[str, int], names: Iterable[str]) -> dict[str, int]:
    """One plain int entry per name (zeros included, so every run plots the same series)."""
    return {f"{prefix}{name}": int(values.get(name, 0)) for name in names}


def md_table(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> dg.MetadataValue:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows:
        cells = [str(v if v is not None else "").replace("|", "\\|").replace("\n", " ")[:200] for v in row]
        lines.append("| " + " | ".join(cells) + " |")
    if len(lines) == 2:
        lines.append("| " + " | ".join("" for _ in header) + " |")
    return dg.MetadataValue.md("\n".join(lines))


def failure_sample(outcomes: Sequence[RecordOutcome], limit: int = SAMPLE_ROWS) -> dg.MetadataValue:
    failures = [o for o in outcomes if o.outcome in FAILED][:limit]
    return md_table(
        ["customer", "email", "action", "outcome", "status", "title", "detail"],
        (
            (
                o.action.customer_key,
                o.action.email,
                o.action.action.value,
                o.outcome.value,
                o.http_status,
                o.title,
                o.detail,
            )
            for o in failures
        ),
    )
