"""Which customers a run takes, from its run config: the replay routes, validated."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from oracle_mailchimp_dagster.errors import UserError
from oracle_mailchimp_dagster.pipeline.extract import ExtractMode
from oracle_mailchimp_dagster.store.sync_store import SyncStore
from oracle_mailchimp_dagster.sync.outcomes import FAILED


class SelectionError(UserError):
    """The run config asks for an impossible selection."""


@dataclass(frozen=True)
class Selection:
    mode: ExtractMode
    since: datetime | None = None
    until: datetime | None = None
    keys: tuple[str, ...] = ()


def parse_timestamp(name: str, value: str) -> datetime:
    """ISO 8601; a timestamp without offset is UTC."""
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise SelectionError(
            f"{name} '{value}' is not an ISO 8601 timestamp (e.g. 2026-01-31T12:00:00Z)"
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def resolve_selection(
    *,
    full: bool = False,
    since: str | None = None,
    until: str | None = None,
    replay_run_id: str | None = None,
    failed_only: bool = False,
    customer_keys: Sequence[str] = (),
    store: SyncStore | None = None,
    tenant_id: str = "",
) -> Selection:
    """One route at most: full, window, replay of a run, explicit keys; incremental otherwise."""
    routes = [
        name
        for name, chosen in (
            ("full", full),
            ("since/until", since is not None or until is not None),
            ("replay_run_id", replay_run_id is not None),
            ("customer_keys", bool(customer_keys)),
        )
        if chosen
    ]
    if len(routes) > 1:
        raise SelectionError(
            f"choose one of full, since/until, replay_run_id, customer_keys (got {', '.join(routes)})"
        )
    if failed_only and replay_run_id is None:
        raise SelectionError("failed_only needs replay_run_id")
    if full:
        return Selection(ExtractMode.FULL)
    if since is not None or until is not None:
        if since is None:
            raise SelectionError("until needs since")
        start = parse_timestamp("since", since)
        end = parse_timestamp("until", until) if until is not None else None
        if end is not None and end <= start:
            raise SelectionError(f"until ({until}) must be after since ({since})")
        return Selection(ExtractMode.WINDOW, since=start, until=end)
    if replay_run_id is not None:
        assert store is not None
        entries = store.ledger.for_run(tenant_id, replay_run_id)
        if not entries:
            raise SelectionError(f"run '{replay_run_id}' has no ledger rows for tenant '{tenant_id}'")
        failed = {o.value for o in FAILED}
        keys = [e.customer_key for e in entries if not failed_only or e.outcome in failed]
        return Selection(ExtractMode.KEYS, keys=tuple(dict.fromkeys(keys)))
    if customer_keys:
        return Selection(
            ExtractMode.KEYS, keys=tuple(dict.fromkeys(k.strip() for k in customer_keys if k.strip()))
        )
    return Selection(ExtractMode.INCREMENTAL)
