"""The tenant registry: tenant configuration in the app database, credentials encrypted beside it.

A tenant and its secrets are written in one transaction. Secrets are decrypted one at a time, when a
caller asks, and returned as `SecretStr`; nothing here keeps plaintext. Each secret is checked before
anything is written (`tenants.secret_rules`) and sealed with its tenant and the hosts it is sent to
(`tenants.secret_binding`); a change that would send a stored secret to another host is refused unless
the secret is given again (`tenants.credential_hosts`). A change of a setting the sync state depends
on (`tenants.state_changes`) is refused while state is stored, or resets that state in the same
transaction when the caller asks.
"""

from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

from pydantic import SecretStr, ValidationError
from sqlalchemy.engine import Connection

from oracle_mailchimp_dagster.secrets import (
    CiphertextRejected,
    KeyNotInKeyring,
    Keyring,
    KeyStore,
    Sealed,
)
from oracle_mailchimp_dagster.store import Database, SecretName, ensure_schema_current
from oracle_mailchimp_dagster.store import tenant_rows as rows
from oracle_mailchimp_dagster.store.reset import StateReset, has_sync_state, reset_sync_state
from oracle_mailchimp_dagster.tenants.consent import StatusNotStated, stored_status
from oracle_mailchimp_dagster.tenants.credential_hosts import (
    HostChange,
    HostChangeRefused,
    changes_needing_secret,
)
from oracle_mailchimp_dagster.tenants.errors import TenantConfigError, describe_validation_error
from oracle_mailchimp_dagster.tenants.model import TenantConfig
from oracle_mailchimp_dagster.tenants.secret_binding import BoundSecret
from oracle_mailchimp_dagster.tenants.secret_rules import OPTIONAL_SECRETS, check_secrets
from oracle_mailchimp_dagster.tenants.secret_vault import MissingSecretError, SecretVault
from oracle_mailchimp_dagster.tenants.state_changes import (
    SettingChange,
    StateChangeRefused,
    describe_changes,
    key_data_center,
    state_affecting_changes,
)

RESET_ON_REQUEST = "reset on request"

# (tenant id, the changes of its settings the sync state depends on)
PendingChanges = list[tuple[str, list[SettingChange]]]
# A tenant to import and the secrets its entry gives.
ImportItem = tuple[TenantConfig, Mapping[SecretName, SecretStr]]


@dataclass(frozen=True)
class SecretInfo:
    """What may be shown about a stored secret: never its value."""

    name: SecretName
    key_id: str
    updated_at: datetime


@dataclass(frozen=True)
class ImportResult:
    created: list[str]
    updated: list[str]
    resets: list[StateReset] = field(default_factory=list)


@dataclass(frozen=True)
class UpdateResult:
    """The changes the sync state depends on, and the reset they caused (None: the state was kept)."""

    changes: list[SettingChange]
    reset: StateReset | None


def _config(row: rows.TenantRow) -> TenantConfig:
    try:
        return TenantConfig.from_stored(row.id, row.display_name, row.enabled, row.config)
    except ValidationError as exc:
        raise TenantConfigError(describe_validation_error(exc, f"stored tenant '{row.id}'")) from None


def stored_statuses(
    conn: Connection, entries: Sequence[ImportItem], unstated: Collection[str]
) -> list[ImportItem]:
    """`entries`, those in `unstated` given their stored `status_if_new`; `StatusNotStated` names the
    new ones (nothing tells what their members should be)."""
    kept: list[ImportItem] = []
    new: list[str] = []
    for config, secrets in entries:
        row = rows.select_tenant(conn, config.id) if config.id in unstated else None
        if config.id in unstated and row is None:
            new.append(config.id)
        elif row is not None:
            policy = config.policy.model_copy(update={"status_if_new": stored_status(row.config)})
            config = config.model_copy(update={"policy": policy})
        kept.append((config, secrets))
    if new:
        raise StatusNotStated(new)
    return kept


class TenantRegistry:
    """Tenants and their credentials: what the CLI edits and the Dagster layer reads."""

    def __init__(self, db: Database, keys: KeyStore) -> None:
        self.db = db
        self.keys = keys
        self.vault = SecretVault(keys)

    @classmethod
    def open(cls, db: Database | None = None, keys: KeyStore | None = None) -> "TenantRegistry":
        """The configured database (schema checked) and master keys."""
        db = Database.from_url() if db is None else db
        ensure_schema_current(db)
        return cls(db, KeyStore.from_env() if keys is None else keys)

    # --- reads -----------------------------------------------------------------------------------

    def get(self, tenant_id: str) -> TenantConfig:
        with self.db.read() as conn:
            return _config(rows.get_tenant(conn, tenant_id))

    def exists(self, tenant_id: str) -> bool:
        with self.db.read() as conn:
            return rows.select_tenant(conn, tenant_id) is not None

    def list_all(self, *, enabled_only: bool = False) -> list[TenantConfig]:
        with self.db.read() as conn:
            configs = [_config(row) for row in rows.select_tenants(conn)]
        return [c for c in configs if c.enabled or not enabled_only]

    def secret_info(self, tenant_id: str) -> list[SecretInfo]:
        with self.db.read() as conn:
            rows.get_tenant(conn, tenant_id)
            return [SecretInfo(r.name, r.key_id, r.updated_at) for r in rows.select_secrets(conn, tenant_id)]

    def secret(self, tenant_id: str, name: SecretName) -> SecretStr:
        """Decrypt one secret now. Errors name the tenant and secret, never the ciphertext."""
        return self.bound_secret(tenant_id, name).value

    def bound_secret(self, tenant_id: str, name: SecretName) -> BoundSecret:
        """Decrypt one secret now, with the hosts it was entered for (`tenants.connections` checks them)."""
        with self.db.read() as conn:
            rows.get_tenant(conn, tenant_id)
            row = rows.select_secret(conn, tenant_id, name)
        if row is None:
            raise MissingSecretError(f"tenant '{tenant_id}' has no {name.value} stored")
        return self.vault.open(self.keys.load(), row)

    def oracle_secret(self, config: TenantConfig) -> SecretStr:
        """The Oracle client secret (oauth) or password (basic)."""
        return self.secret(config.id, config.oracle.secret_name)

    def mailchimp_secret(self, config: TenantConfig) -> SecretStr:
        """The Mailchimp API key or OAuth access token."""
        return self.secret(config.id, config.mailchimp.secret_name)

    def alert_webhook(self, tenant_id: str) -> SecretStr | None:
        """The tenant's alert webhook URL (a credential: its path is a token), or None when it has none."""
        try:
            return self.secret(tenant_id, SecretName.ALERT_WEBHOOK_URL)
        except MissingSecretError:
            return None

    def alert_webhook_set(self, tenant_id: str) -> bool:
        """Whether the tenant has an alert webhook (nothing is decrypted)."""
        return any(info.name is SecretName.ALERT_WEBHOOK_URL for info in self.secret_info(tenant_id))

    def registered_at(self) -> dict[str, datetime]:
        """When each tenant was registered (the clock a never-synced tenant goes stale by)."""
        with self.db.read() as conn:
            return {row.id: row.created_at for row in rows.select_tenants(conn)}

    def key_usage(self) -> dict[str, int]:
        """Stored secrets per master key id."""
        with self.db.read() as conn:
            return rows.secret_counts_by_key(conn)

    # --- writes ----------------------------------------------------------------------------------

    def add(self, config: TenantConfig, secrets: Mapping[SecretName, SecretStr]) -> None:
        """Register a new tenant with every secret its auth modes need, all checked before any write."""
        check_secrets(config, secrets, f"tenant '{config.id}'")
        required, given = set(config.required_secrets()), set(secrets) - OPTIONAL_SECRETS
        if required != given:  # said before the key file is created
            wrong = sorted(name.value for name in given - required)
            missing = sorted(name.value for name in required - given)
            need = f"does not use {', '.join(wrong)}" if wrong else f"needs {' and '.join(missing)}"
            raise MissingSecretError(
                f"tenant '{config.id}' {need} (Oracle auth {config.oracle.auth.value}, "
                f"Mailchimp auth {config.mailchimp.auth.value})"
            )
        keyring = self.keys.load(create=True)
        now = datetime.now(UTC)
        with self.db.write() as conn:
            rows.insert_tenant(conn, self._row(config, now, now))
            self.vault.store(conn, keyring, config, secrets, now)

    def update(
        self,
        config: TenantConfig,
        secrets: Mapping[SecretName, SecretStr] | None = None,
        *,
        reset_state: bool = False,
        remove_secrets: Collection[SecretName] = (),
    ) -> UpdateResult:
        """Replace a tenant's configuration; given secrets replace stored ones, unneeded ones are dropped
        (and the optional ones in `remove_secrets`, e.g. the alert webhook).

        A change that sends a stored secret to another host without that secret raises
        `HostChangeRefused`, and a change the sync state depends on raises `StateChangeRefused` while
        state is stored (with `reset_state` the state is reset in the same transaction instead); both
        write nothing.
        """
        secrets = secrets or {}
        check_secrets(config, secrets, f"tenant '{config.id}'")
        keyring = self.keys.load(create=bool(secrets))
        now = datetime.now(UTC)
        with self.db.write() as conn:
            self._refuse_host_changes(conn, keyring, [(config, secrets)])
            changes = self._state_changes(conn, keyring, config, secrets)
            self._refuse_unreset(conn, [(config.id, changes)], reset_state)
            self._update(conn, keyring, config, secrets, now, remove_secrets)
            reset = self._reset(conn, config.id, _changed(changes), now) if changes and reset_state else None
        return UpdateResult(changes, reset)

    def reset_state(self, tenant_id: str, reason: str = RESET_ON_REQUEST) -> StateReset:
        """Forget the tenant's member state, retry queue and mark; the next sync loads the audience fully."""
        with self.db.write() as conn:
            rows.get_tenant(conn, tenant_id)
            return self._reset(conn, tenant_id, reason, datetime.now(UTC))

    def remove(self, tenant_id: str) -> None:
        """Delete the tenant, its secrets and sync state; its ledger rows stay for audit."""
        with self.db.write() as conn:
            rows.delete_tenant(conn, tenant_id)

    def import_tenants(
        self,
        entries: Sequence[ImportItem],
        *,
        reset_state: bool = False,
        removals: Mapping[str, Collection[SecretName]] | None = None,
        unstated_status: Collection[str] = (),
    ) -> ImportResult:
        """Create or update many tenants in one transaction: all of them land, or none.

        Existing tenants are checked as `update` checks them, all before the first write, so one
        refusal names every tenant at fault; `reset_state` resets exactly the tenants whose changes
        need it. `removals` names, per tenant, optional secrets to drop (the alert webhook).
        `unstated_status` names the tenants whose entry did not state `status_if_new`: an existing
        one keeps its stored status, a new one is refused (`StatusNotStated`), before any write.
        """
        removals = removals or {}
        for config, secrets in entries:
            check_secrets(config, secrets, f"tenant '{config.id}'")
        if unstated_status:  # refused before the key file is created, and checked again below
            with self.db.read() as conn:
                stored_statuses(conn, entries, unstated_status)
        keyring = self.keys.load(create=any(secrets for _, secrets in entries))
        now = datetime.now(UTC)
        result = ImportResult(created=[], updated=[])
        with self.db.write() as conn:
            entries = stored_statuses(conn, entries, unstated_status)
            existing = [entry for entry in entries if rows.select_tenant(conn, entry[0].id) is not None]
            self._refuse_host_changes(conn, keyring, existing)
            pending = {
                config.id: self._state_changes(conn, keyring, config, secrets)
                for config, secrets in entries
                if rows.select_tenant(conn, config.id) is not None
            }
            self._refuse_unreset(conn, list(pending.items()), reset_state)
            for config, secrets in entries:
                if config.id not in pending and config.id not in result.created:
                    rows.insert_tenant(conn, self._row(config, now, now))
                    self.vault.store(conn, keyring, config, secrets, now)
                    result.created.append(config.id)
                    continue
                self._update(conn, keyring, config, secrets, now, removals.get(config.id, ()))
                result.updated.append(config.id)
                changes = pending.get(config.id)
                if reset_state and changes:
                    result.resets.append(self._reset(conn, config.id, _changed(changes), now))
        return result

    def reencrypt_all(self) -> int:
        """Re-encrypt every stored secret under the primary key (after `keys rotate`); returns how many.

        A secret stored before secrets were bound to hosts is sealed now with the hosts its tenant's
        settings name (the operator holding the master key vouches for them by rotating).
        """
        keyring = self.keys.load()
        now = datetime.now(UTC)
        with self.db.write() as conn:
            secret_rows = rows.select_secrets(conn)
            for row in secret_rows:
                sealed = self.vault.rebound(conn, keyring, row, self._current)
                if sealed is None:
                    try:
                        sealed = keyring.reseal(Sealed(row.key_id, row.ciphertext))
                    except (KeyNotInKeyring, CiphertextRejected) as exc:
                        raise self.vault.decryption_error(row, exc) from None
                rows.put_secret(
                    conn, row.tenant_id, row.name, ciphertext=sealed.ciphertext, key_id=sealed.key_id, now=now
                )
        return len(secret_rows)

    # --- helpers ---------------------------------------------------------------------------------

    @staticmethod
    def _row(config: TenantConfig, created_at: datetime, updated_at: datetime) -> rows.TenantRow:
        return rows.TenantRow(
            id=config.id,
            display_name=config.display_name,
            config=config.stored_config(),
            enabled=config.enabled,
            created_at=created_at,
            updated_at=updated_at,
        )

    def _update(
        self,
        conn: Connection,
        keyring: Keyring,
        config: TenantConfig,
        secrets: Mapping[SecretName, SecretStr],
        now: datetime,
        remove: Collection[SecretName] = (),
    ) -> None:
        rows.update_tenant(
            conn,
            config.id,
            display_name=config.display_name,
            config=config.stored_config(),
            enabled=config.enabled,
            now=now,
        )
        self.vault.store(conn, keyring, config, secrets, now, remove)

    @staticmethod
    def _current(conn: Connection, tenant_id: str) -> TenantConfig | None:
        """The stored configuration, or None when it no longer validates (it cannot be compared)."""
        try:
            return _config(rows.get_tenant(conn, tenant_id))
        except TenantConfigError:
            return None

    def _refuse_host_changes(
        self,
        conn: Connection,
        keyring: Keyring,
        entries: Sequence[tuple[TenantConfig, Mapping[SecretName, SecretStr]]],
    ) -> None:
        """Raise `HostChangeRefused` naming every tenant whose change sends a stored secret elsewhere."""
        refused: list[tuple[str, list[HostChange]]] = []
        for config, secrets in entries:
            current = self._current(conn, config.id)
            changes = changes_needing_secret(current, config, secrets)
            if any(change.secret is SecretName.MAILCHIMP_API_KEY for change in changes):
                # The key's own data center is always allowed: decrypt the stored key only to learn it.
                stored = self.vault.stored(conn, keyring, config.id, SecretName.MAILCHIMP_API_KEY)
                changes = changes_needing_secret(
                    current, config, secrets, key_data_center=key_data_center(stored)
                )
            if changes:
                refused.append((config.id, changes))
        if refused:
            raise HostChangeRefused(refused)

    def _state_changes(
        self,
        conn: Connection,
        keyring: Keyring,
        config: TenantConfig,
        secrets: Mapping[SecretName, SecretStr],
    ) -> list[SettingChange]:
        """The changes from the stored configuration to `config` that the sync state depends on."""
        current = self._current(conn, config.id)
        if current is None:
            return []  # a stored configuration that no longer validates cannot be compared; it is replaced
        old_dc = new_dc = None
        new_key = secrets.get(SecretName.MAILCHIMP_API_KEY)
        if new_key is not None or current.mailchimp != config.mailchimp:
            # Only then can the key's data center, and so the account, differ: decrypt just for that.
            stored_key = self.vault.stored(conn, keyring, config.id, SecretName.MAILCHIMP_API_KEY)
            old_dc = key_data_center(stored_key)
            new_dc = key_data_center(new_key or stored_key)
        return state_affecting_changes(current, config, old_data_center=old_dc, new_data_center=new_dc)

    @staticmethod
    def _refuse_unreset(conn: Connection, pending: PendingChanges, reset_state: bool) -> None:
        """Raise `StateChangeRefused` for tenants whose changes would leave stored state meaningless."""
        if reset_state:
            return
        refused = [
            (tenant_id, changes)
            for tenant_id, changes in pending
            if changes and has_sync_state(conn, tenant_id)
        ]
        if refused:
            raise StateChangeRefused(refused)

    @staticmethod
    def _reset(conn: Connection, tenant_id: str, reason: str, now: datetime) -> StateReset:
        """The one place the registry resets sync state (inside the caller's transaction)."""
        return reset_sync_state(conn, tenant_id, reason, now)


def _changed(changes: list[SettingChange]) -> str:
    """The reason a reset records in the ledger."""
    return f"settings changed: {describe_changes(changes)}"


@contextmanager
def open_registry() -> Iterator[TenantRegistry]:
    """The registry on the configured database (schema checked); its connections close afterwards."""
    db = Database.from_url()
    try:
        yield TenantRegistry.open(db)
    finally:
        db.dispose()
