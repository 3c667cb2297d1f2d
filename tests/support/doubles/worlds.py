"""Two runs' worth of customers for the chunking tests, and what a run leaves that two runs compare.

The customers share addresses in small groups whose holders are far apart in keyset order (on
different extract pages); some have no or a malformed address, some are inactive. The changes of the
second run move writers off shared addresses (their other holders are read again), move customers
onto shared addresses and onto each other's old addresses (chains of email changes), inactivate
writers and sole holders, and rename.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any

import dagster as dg
import pytest

from oracle_mailchimp_dagster.defs.assets import fusion_customers, mailchimp_members, mailchimp_sync_results
from oracle_mailchimp_dagster.fusion import FusionCustomer
from oracle_mailchimp_dagster.store.sync_store import SyncStore
from tests.support.doubles.audience import InMemoryAudience
from tests.support.doubles.fusion import InMemoryFusion
from tests.support.doubles.records import fusion_customer
from tests.support.doubles.runs import AssetRuns

GROUPS = 60  # shared addresses, held by the ids g, g + SPREAD, g + 2 * SPREAD, ...
SPREAD = 600
# Every key a world's customers can have (the snapshot's and the tests' lookups).
CUSTOMER_KEYS = [f"CUST-{n}" for n in range(1, 10 * SPREAD)]


def _email(party_id: int) -> str | None:
    group = party_id % SPREAD
    if 1 <= group <= GROUPS:
        return f"shared-{group}@example.com"
    if party_id % 97 == 0:
        return "not-an-email"
    if party_id % 89 == 0:
        return None
    return f"c{party_id}@example.com"


def initial_customers(count: int, start: datetime) -> list[FusionCustomer]:
    """`count` customers, updated one second apart (keyset order is id order)."""
    return [
        fusion_customer(
            n,
            _email(n),
            start + timedelta(seconds=n),
            PartyStatus="I" if n % 71 == 0 else "A",
            CustomerClassCode=("RETAIL", "WHOLESALE", "SMB")[n % 3],
        )
        for n in range(1, count + 1)
    ]


def changes(customers: list[FusionCustomer], at: datetime) -> list[FusionCustomer]:
    """The second run's records (each newer than the first), by the kinds the module names."""
    by_id = {c.party_id: c for c in customers}
    changed: dict[int, dict[str, Any]] = {}
    holders: dict[str, list[int]] = {}
    for c in customers:
        if c.email_address and c.email_address.startswith("shared-") and c.party_status == "A":
            holders.setdefault(c.email_address, []).append(c.party_id)
    writers = sorted(max(ids) for ids in holders.values() if len(ids) > 1)  # the newest of each address
    for n in writers[:10]:
        changed[n] = {"EmailAddress": f"moved-{n}@example.com"}  # the next holder takes the address
    for n in writers[10:18]:
        changed[n] = {"PartyStatus": "I"}  # inactive writer: the next holder takes the address
    sole = [n for n in sorted(by_id) if _email(n) == f"c{n}@example.com" and n % 71]
    for index, n in enumerate(sole[:20]):
        changed[n] = {"EmailAddress": f"shared-{index + 1}@example.com"}  # joins a shared address
    chain = sole[20:30]
    for left, right in pairwise(chain):
        changed[left] = {"EmailAddress": f"c{right}@example.com"}  # onto the next one's old address
    changed[chain[-1]] = {"EmailAddress": f"chain-end-{chain[-1]}@example.com"}
    for n in sole[30:40]:
        changed[n] = {"PartyStatus": "I"}
    for n in sole[40:60]:
        changed[n] = {"OrganizationName": f"Renamed {n} Ltd", "CustomerClassCode": "WHOLESALE"}
    out = []
    for offset, (n, values) in enumerate(sorted(changed.items())):
        row = by_id[n].model_dump(by_alias=True) | values | {"LastUpdateDate": at + timedelta(seconds=offset)}
        out.append(FusionCustomer.model_validate(row))
    return out


@dataclass(frozen=True)
class Snapshot:
    """What a run left: each record's ledger row, each customer's member state, the audience."""

    ledger: dict[str, tuple[str, str, int]]
    states: dict[str, tuple[Any, ...]]
    members: dict[str, tuple[str, tuple[tuple[str, str], ...], tuple[str, ...]]]
    archived: frozenset[str]


def snapshot(store: SyncStore, audience: InMemoryAudience, tenant_id: str, run_id: str) -> Snapshot:
    rows = store.ledger.for_run(tenant_id, run_id)
    ledger = {r.customer_key: (r.action, r.outcome, r.attempt) for r in rows}
    assert len(ledger) == len(rows), "one ledger row per record"
    states = {
        key: (s.email, s.payload_hash, s.known_status, tuple(sorted(s.managed_tags)), s.active, s.last_update)
        for key, s in store.members.by_keys(tenant_id, CUSTOMER_KEYS).items()
    }
    members = {
        m.email_address.lower(): (
            m.status,
            tuple(sorted((k, str(v)) for k, v in m.merge_fields.items())),
            tuple(sorted(m.tags)),
        )
        for m in audience.members.values()
    }
    archived = frozenset(m.email_address.lower() for m in audience.archived.values())
    return Snapshot(ledger, states, members, archived)


SYNC_ASSETS = (fusion_customers, mailchimp_members, mailchimp_sync_results)


class World:
    """A tenant with its own app database, Oracle, audience and Dagster instance."""

    def __init__(self, runs: AssetRuns, store: SyncStore, fusion: InMemoryFusion, audience: InMemoryAudience):
        self.runs, self.store, self.fusion, self.audience = runs, store, fusion, audience

    def run(self, run_config: dict[str, Any]) -> dg.ExecuteInProcessResult:
        return self.runs(*SYNC_ASSETS, run_config=run_config)

    def snapshot(self, result: dg.ExecuteInProcessResult) -> Snapshot:
        return snapshot(self.store, self.audience, self.runs.partition_key, result.run_id)

    def crashed_run(self, point: str, run_config: dict[str, Any], monkeypatch: Any) -> dg.DagsterRun:
        """A run stopped by the crash point `point` (ORACLE_MAILCHIMP_CRASH_AT), which is unset after."""
        monkeypatch.setenv("ORACLE_MAILCHIMP_CRASH_AT", point)
        with pytest.raises(Exception, match=f"deliberate crash at '{point}'"):
            self.run(run_config)
        monkeypatch.delenv("ORACLE_MAILCHIMP_CRASH_AT")
        [crashed] = self.runs.instance.get_runs(limit=1)
        return crashed


# One start for every world of a session, so two worlds compare mark for mark.
WORLD_START = datetime.now(UTC).replace(microsecond=0) - timedelta(days=2)


def populate(fusion: InMemoryFusion, customers: int = 2000) -> None:
    fusion.page_size = 100  # holders of one address are pages apart
    fusion.put(*initial_customers(customers, WORLD_START))
