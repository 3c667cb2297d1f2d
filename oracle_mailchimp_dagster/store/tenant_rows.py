"""Rows of `tenants` and `tenant_secrets`, read and written inside a transaction the caller opens.

The tenant registry composes these into one transaction per change (a tenant and its secrets land
together or not at all). Ciphertext is opaque here: encryption lives in `secrets/`.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from oracle_mailchimp_dagster.store.errors import TenantExistsError, TenantNotFoundError
from oracle_mailchimp_dagster.store.records import SecretName
from oracle_mailchimp_dagster.store.schema import (
    audience_event_marks,
    member_state,
    retry_queue,
    sync_state,
    tenant_leases,
    tenant_secrets,
    tenants,
)
from oracle_mailchimp_dagster.store.sql import upsert


@dataclass(frozen=True, slots=True)
class TenantRow:
    id: str
    display_name: str
    config: dict[str, Any]
    enabled: bool
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class SecretRow:
    tenant_id: str
    name: SecretName
    key_id: str
    updated_at: datetime
    ciphertext: str = field(repr=False)


def _tenant(m: Any) -> TenantRow:
    return TenantRow(
        id=m["id"],
        display_name=m["display_name"],
        config=dict(m["config"]),
        enabled=bool(m["enabled"]),
        created_at=m["created_at"],
        updated_at=m["updated_at"],
    )


def _secret(m: Any) -> SecretRow:
    return SecretRow(
        tenant_id=m["tenant_id"],
        name=SecretName(m["name"]),
        key_id=m["key_id"],
        updated_at=m["updated_at"],
        ciphertext=m["ciphertext"],
    )


def select_tenant(conn: Connection, tenant_id: str) -> TenantRow | None:
    row = conn.execute(sa.select(tenants).where(tenants.c.id == tenant_id)).first()
    return _tenant(row._mapping) if row is not None else None


def get_tenant(conn: Connection, tenant_id: str) -> TenantRow:
    row = select_tenant(conn, tenant_id)
    if row is None:
        raise TenantNotFoundError(tenant_id)
    return row


def select_tenants(conn: Connection) -> list[TenantRow]:
    return [_tenant(row._mapping) for row in conn.execute(sa.select(tenants).order_by(tenants.c.id))]


def insert_tenant(conn: Connection, row: TenantRow) -> None:
    if select_tenant(conn, row.id) is not None:
        raise TenantExistsError(row.id)
    conn.execute(
        sa.insert(tenants).values(
            id=row.id,
            display_name=row.display_name,
            config=row.config,
            enabled=row.enabled,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )
    )


def update_tenant(
    conn: Connection,
    tenant_id: str,
    *,
    display_name: str,
    config: dict[str, Any],
    enabled: bool,
    now: datetime,
) -> None:
    result = conn.execute(
        sa.update(tenants)
        .where(tenants.c.id == tenant_id)
        .values(display_name=display_name, config=config, enabled=enabled, updated_at=now)
    )
    if result.rowcount == 0:
        raise TenantNotFoundError(tenant_id)


def delete_tenant(conn: Connection, tenant_id: str) -> None:
    """Remove the tenant, its secrets, sync state and lease; the ledger and audience events stay for audit."""
    get_tenant(conn, tenant_id)
    for table in (tenant_secrets, sync_state, tenant_leases, member_state, retry_queue, audience_event_marks):
        conn.execute(sa.delete(table).where(table.c.tenant_id == tenant_id))
    conn.execute(sa.delete(tenants).where(tenants.c.id == tenant_id))


def put_secret(
    conn: Connection, tenant_id: str, name: SecretName, *, ciphertext: str, key_id: str, now: datetime
) -> None:
    conn.execute(
        upsert(conn, tenant_secrets, ("tenant_id", "name")).values(
            tenant_id=tenant_id, name=name.value, ciphertext=ciphertext, key_id=key_id, updated_at=now
        )
    )


def delete_secrets(conn: Connection, tenant_id: str, names: Iterable[SecretName]) -> None:
    wanted = [name.value for name in names]
    if wanted:
        conn.execute(
            sa.delete(tenant_secrets).where(
                tenant_secrets.c.tenant_id == tenant_id, tenant_secrets.c.name.in_(wanted)
            )
        )


def select_secret(conn: Connection, tenant_id: str, name: SecretName) -> SecretRow | None:
    row = conn.execute(
        sa.select(tenant_secrets).where(
            tenant_secrets.c.tenant_id == tenant_id, tenant_secrets.c.name == name.value
        )
    ).first()
    return _secret(row._mapping) if row is not None else None


def select_secrets(conn: Connection, tenant_id: str | None = None) -> list[SecretRow]:
    """Secret rows of one tenant, or of all tenants (for key rotation), in a stable order."""
    query = sa.select(tenant_secrets).order_by(tenant_secrets.c.tenant_id, tenant_secrets.c.name)
    if tenant_id is not None:
        query = query.where(tenant_secrets.c.tenant_id == tenant_id)
    return [_secret(row._mapping) for row in conn.execute(query)]


def secret_counts_by_key(conn: Connection) -> dict[str, int]:
    """How many stored secrets each master key encrypts (a key still counted here must not be removed)."""
    query = sa.select(tenant_secrets.c.key_id, sa.func.count()).group_by(tenant_secrets.c.key_id)
    return {key_id: int(count) for key_id, count in conn.execute(query)}
