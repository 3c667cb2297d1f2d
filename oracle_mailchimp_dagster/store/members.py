"""What we last made of each Oracle customer in Mailchimp (table `member_state`)."""

from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from oracle_mailchimp_dagster.store.bulk import PreparedWrite, prepare_upsert
from oracle_mailchimp_dagster.store.engine import Database
from oracle_mailchimp_dagster.store.schema import member_state
from oracle_mailchimp_dagster.store.sql import IN_CHUNK, WRITE_CHUNK, chunked, select_in
from oracle_mailchimp_dagster.sync.model import MemberState

_KEY = ("tenant_id", "customer_key")
# Member state never goes backwards: a row is replaced only by state from the same or a newer Oracle
# record (a row without a source time, written before it was kept, may be replaced by anything).
NEVER_OLDER = (
    "member_state.source_updated_at IS NULL OR (excluded.source_updated_at IS NOT NULL "
    "AND excluded.source_updated_at >= member_state.source_updated_at)"
)


def _row(tenant_id: str, member: MemberState) -> dict[str, Any]:
    return {
        "tenant_id": tenant_id,
        "customer_key": member.customer_key,
        "email": member.email,
        "subscriber_hash": member.subscriber_hash,
        "payload_hash": member.payload_hash,
        "known_status": member.known_status,
        "managed_tags": sorted(member.managed_tags),
        "last_synced_at": member.last_synced_at,
        "last_run_id": member.last_run_id,
        "customer_active": member.active,
        "source_updated_at": member.last_update,
        "merge_fields": member.merge_fields,
    }


def _member(mapping: Any) -> MemberState:
    return MemberState(
        customer_key=mapping["customer_key"],
        email=mapping["email"],
        subscriber_hash=mapping["subscriber_hash"],
        payload_hash=mapping["payload_hash"],
        known_status=mapping["known_status"],
        managed_tags=frozenset(mapping["managed_tags"]),
        active=bool(mapping["customer_active"]),
        last_update=mapping["source_updated_at"],
        last_synced_at=mapping["last_synced_at"],
        last_run_id=mapping["last_run_id"],
        merge_fields=mapping["merge_fields"],
    )


@dataclass(frozen=True)
class PreparedUpserts:
    """Rows to insert or replace, formatted before the transaction (see `bulk`); `count` distinct keys."""

    writes: tuple[PreparedWrite, ...]
    count: int

    def write(self, conn: Connection) -> int:
        for prepared in self.writes:
            prepared.write(conn)
        return self.count


def prepare_members(dialect: str, tenant_id: str, members: Iterable[MemberState]) -> PreparedUpserts:
    """`upsert_members`' rows, formatted for `dialect`."""
    latest = {member.customer_key: member for member in members}
    writes = []
    for chunk in chunked(latest.values(), WRITE_CHUNK):
        rows = [_row(tenant_id, member) for member in chunk]
        prepared = prepare_upsert(dialect, member_state, _KEY, rows, replace_if=NEVER_OLDER)
        if prepared is not None:
            writes.append(prepared)
    return PreparedUpserts(tuple(writes), len(latest))


def upsert_members(conn: Connection, tenant_id: str, members: Iterable[MemberState]) -> int:
    """Insert or replace members by customer key (a key given twice keeps its last state); a stored
    member whose Oracle record is newer than the one given is kept (see NEVER_OLDER).

    Each member must carry its email, subscriber hash and `last_synced_at`.
    """
    return prepare_members(conn.dialect.name, tenant_id, members).write(conn)


def delete_members(conn: Connection, tenant_id: str, customer_keys: Iterable[str]) -> int:
    deleted = 0
    for chunk in chunked(set(customer_keys), IN_CHUNK):
        result = conn.execute(
            sa.delete(member_state).where(
                member_state.c.tenant_id == tenant_id, member_state.c.customer_key.in_(chunk)
            )
        )
        deleted += result.rowcount
    return deleted


def set_known_status(
    conn: Connection, tenant_id: str, subscriber_hashes: Collection[str], status: str
) -> int:
    """Record a status Mailchimp reported (unsubscribed, cleaned) on every member with these hashes."""
    updated = 0
    for chunk in chunked(set(subscriber_hashes), IN_CHUNK):
        result = conn.execute(
            sa.update(member_state)
            .where(member_state.c.tenant_id == tenant_id, member_state.c.subscriber_hash.in_(chunk))
            .values(known_status=status)
        )
        updated += result.rowcount
    return updated


class MemberStateStore:
    """Reads of member state; lookups take any number of keys and query in chunks."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def by_keys(self, tenant_id: str, customer_keys: Iterable[str]) -> dict[str, MemberState]:
        """Known members among these customer keys (absent keys are simply missing from the result)."""
        with self._db.read() as conn:
            members = [
                _member(m) for m in select_in(conn, member_state, tenant_id, "customer_key", customer_keys)
            ]
        return {member.customer_key: member for member in members}

    def by_subscriber_hashes(self, tenant_id: str, subscriber_hashes: Iterable[str]) -> list[MemberState]:
        """Members whose email has one of these subscriber hashes (several customers may share one),
        ordered by customer key."""
        with self._db.read() as conn:
            rows = select_in(conn, member_state, tenant_id, "subscriber_hash", subscriber_hashes)
            members = [_member(m) for m in rows]
        return sorted(members, key=lambda m: m.customer_key)

    def iter_tenant(self, tenant_id: str, batch: int = 5000) -> Iterator[MemberState]:
        """Every stored member of the tenant, streamed in batches (a reconciliation reads them all)."""
        query = sa.select(member_state).where(member_state.c.tenant_id == tenant_id)
        with self._db.read() as conn:
            result = conn.execution_options(yield_per=batch).execute(query)
            for row in result.mappings():
                yield _member(row)

    def count(self, tenant_id: str) -> int:
        """How many members this connector manages for the tenant (the base of the removal-share guard)."""
        with self._db.read() as conn:
            query = sa.select(sa.func.count()).where(member_state.c.tenant_id == tenant_id)
            return int(conn.execute(query).scalar_one())
