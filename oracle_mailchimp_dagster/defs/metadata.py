"""Materialization metadata that reads well in the UI, and one plain view of it for the CLI.

The UI plots every int and float entry across runs, so only the few figures worth a plot are plain
numbers (rows, records, created, failed, duration); the rest are typed: timestamps as timestamps,
counts per action or outcome as one table of the non-zero rows, secondary figures as one `details`
table, samples as tables. `report_values` turns all of it back into plain values (counts with their
zeros under `action_*` / `outcome_*`, timestamps and marks as text) for what prints a run's summary.
"""

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import dagster as dg

from oracle_mailchimp_dagster.store.location import locate_database
from oracle_mailchimp_dagster.store.records import HighWaterMark
from oracle_mailchimp_dagster.sync.model import Action
from oracle_mailchimp_dagster.sync.outcomes import FAILED, Outcome, RecordOutcome

SAMPLE_ROWS = 20
CELL_CHARS = 200
ACTIONS = [a.value for a in Action]
OUTCOMES = [o.value for o in Outcome]
DETAILS = "details"
NONE_MARK = "none"
# Count tables: metadata key -> (the plain view's key prefix, every name, zeros included there).
COUNT_TABLES = {"actions": ("action_", ACTIONS), "outcomes": ("outcome_", OUTCOMES)}
PARTY_ID_SUFFIX = "_party_id"

Column = tuple[str, str]  # (name, type as the UI shows it)


def when(moment: datetime | None, absent: str) -> dg.MetadataValue:
    """A timestamp entry, or `absent` as text where there is none (e.g. a window from the beginning)."""
    return dg.MetadataValue.timestamp(moment) if moment is not None else dg.MetadataValue.text(absent)


def mark_entries(name: str, mark: HighWaterMark | None) -> dict[str, dg.MetadataValue]:
    """A high-water mark as a timestamp and its keyset tie-breaker (`NAME_party_id`)."""
    if mark is None:
        return {name: dg.MetadataValue.text(NONE_MARK)}
    return {
        name: dg.MetadataValue.timestamp(mark.timestamp),
        name + PARTY_ID_SUFFIX: dg.MetadataValue.text(str(mark.key)),
    }


def mark_text(mark: HighWaterMark | None) -> str:
    """A mark in one line, for logs and the plain view."""
    return f"{mark.timestamp.isoformat()} / PartyId {mark.key}" if mark else NONE_MARK


def _cell(value: Any) -> str | int | float | bool | None:
    if value is None or isinstance(value, bool | int | float):
        return value
    return " ".join(str(value).split())[:CELL_CHARS]


def table(columns: Sequence[Column], rows: Iterable[Sequence[Any]]) -> dg.TableMetadataValue:
    """A table entry (the UI shows it as a table with this schema); text cells cut to one line."""
    names = [name for name, _ in columns]
    records = [dg.TableRecord(dict(zip(names, map(_cell, row), strict=True))) for row in rows]
    schema = dg.TableSchema(columns=[dg.TableColumn(name, kind) for name, kind in columns])
    return dg.MetadataValue.table(records=records, schema=schema)


def counts_table(column: str, values: Mapping[str, int], names: Iterable[str]) -> dg.TableMetadataValue:
    """One row per name with a non-zero count, in `names` order (one entry instead of a series each)."""
    rows = [(name, int(values.get(name, 0))) for name in names if values.get(name, 0)]
    return table([(column, "string"), ("count", "int")], rows)


def details_table(figures: Mapping[str, int | float]) -> dg.TableMetadataValue:
    """Secondary figures (not worth a plot each) as one table of figure and value."""
    return table([("figure", "string"), ("value", "float")], figures.items())


def failure_sample(outcomes: Sequence[RecordOutcome], limit: int = SAMPLE_ROWS) -> dg.TableMetadataValue:
    failures = [o for o in outcomes if o.outcome in FAILED][:limit]
    columns = [
        ("customer", "string"),
        ("email", "string"),
        ("action", "string"),
        ("outcome", "string"),
        ("status", "int"),
        ("title", "string"),
        ("detail", "string"),
    ]
    rows = [_failure_row(o) for o in failures]
    return table(columns, rows)


def _failure_row(o: RecordOutcome) -> tuple[Any, ...]:
    action = o.action
    return (
        action.customer_key,
        action.email,
        action.action.value,
        o.outcome.value,
        o.http_status,
        o.title,
        o.detail,
    )


def audit_command(tenant_id: str, run_id: str, database_url: str | None = None) -> str:
    """The `audit` command of a run, as it works pasted into any shell: prefixed with the DAGSTER_HOME
    or the database URL this process uses (never a password: such a URL is named, not printed)."""
    location = locate_database(setting=database_url)
    return location.command(f"oracle-mailchimp audit {tenant_id} --run {run_id}")


def _plain(value: dg.MetadataValue) -> Any:
    if isinstance(value, dg.TimestampMetadataValue):
        return datetime.fromtimestamp(value.value, UTC).isoformat()
    return value.value


def _records(value: dg.TableMetadataValue) -> list[dict[str, Any]]:
    return [dict(record.data) for record in value.records]


def report_values(metadata: Mapping[str, dg.MetadataValue]) -> dict[str, Any]:
    """The plain view of an asset's metadata (JSON values): count tables as `action_*`/`outcome_*`
    with zeros, the `details` figures as keys of their own, other two-column count tables as dicts,
    samples as lists of rows, timestamps as ISO 8601 and marks as `TIMESTAMP / PartyId KEY`."""
    plain: dict[str, Any] = {}
    for key, value in metadata.items():
        if key.endswith(PARTY_ID_SUFFIX) and key.removesuffix(PARTY_ID_SUFFIX) in metadata:
            continue  # folded into its mark below
        if not isinstance(value, dg.TableMetadataValue):
            plain[key] = _plain(value)
            party = metadata.get(key + PARTY_ID_SUFFIX)
            if party is not None:
                plain[key] = f"{plain[key]} / PartyId {party.value}"
            continue
        rows = _records(value)
        if key in COUNT_TABLES:
            prefix, names = COUNT_TABLES[key]
            found = {str(row[value.schema.columns[0].name]): int(row["count"]) for row in rows}
            plain.update({prefix + name: found.get(name, 0) for name in names})
        elif key == DETAILS:
            plain.update({str(row["figure"]): row["value"] for row in rows})
        elif [c.name for c in value.schema.columns][1:] == ["count"]:
            first = value.schema.columns[0].name
            plain[key] = {str(row[first]): row["count"] for row in rows}
        else:
            plain[key] = rows
    return plain
