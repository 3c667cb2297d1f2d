"""Rows Oracle sent malformed (quarantined by the Fusion client), as the run records them.

Each becomes one reject-invalid action, so nothing is sent for it, its ledger row says `rejected` with
the reason, and the run goes on; the customer is read again when Oracle next changes it (or by replay).
"""

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Protocol, runtime_checkable

from oracle_mailchimp_dagster.fusion import QuarantinedRow
from oracle_mailchimp_dagster.sync.identity import customer_key
from oracle_mailchimp_dagster.sync.model import Action, PlannedAction

REASON_PREFIX = "quarantined: "


@runtime_checkable
class Quarantining(Protocol):
    """A customer stream or lookup that keeps malformed rows aside (the real Fusion client's do)."""

    @property
    def quarantined(self) -> Sequence[QuarantinedRow]: ...


def quarantined_of(source: object) -> tuple[QuarantinedRow, ...]:
    """What a stream or lookup quarantined once iterated; nothing for one that cannot (a test double)."""
    return tuple(source.quarantined) if isinstance(source, Quarantining) else ()


def quarantine_key(row: QuarantinedRow) -> str:
    """The customer key of a quarantined row, as for a valid one (party number, else party id)."""
    return customer_key(row.party_number, row.party_id)


def quarantine_actions(rows: Iterable[QuarantinedRow]) -> list[PlannedAction]:
    """One REJECT_INVALID action per row, reason `quarantined: <why>`: the executor sends nothing and
    the ledger records it as `rejected`."""
    return [
        PlannedAction(
            customer_key=quarantine_key(row),
            action=Action.REJECT_INVALID,
            reason=REASON_PREFIX + row.reason,
            party_id=row.party_id,
            last_update=row.last_update_date,
        )
        for row in rows
    ]


def quarantined_by_attribute(rows: Iterable[QuarantinedRow]) -> dict[str, int]:
    """Rows quarantined per Oracle attribute (a row with several bad attributes counts under each):
    run metadata that stays small whatever the values were."""
    return dict(Counter(attribute for row in rows for attribute in row.attributes))
