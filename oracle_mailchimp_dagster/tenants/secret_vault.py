"""A tenant's secrets as stored: sealed with the tenant, name and hosts, encrypted, and opened one at a
time; the registry's only way to read or write a secret row."""

from collections.abc import Callable, Collection, Mapping
from datetime import datetime

from pydantic import SecretStr
from sqlalchemy.engine import Connection

from oracle_mailchimp_dagster.errors import UserError
from oracle_mailchimp_dagster.secrets import (
    CiphertextRejected,
    KeyNotInKeyring,
    Keyring,
    KeyStore,
    Sealed,
    SecretDecryptionError,
)
from oracle_mailchimp_dagster.store import SecretName
from oracle_mailchimp_dagster.store import tenant_rows as rows
from oracle_mailchimp_dagster.tenants.credential_hosts import credential_hosts
from oracle_mailchimp_dagster.tenants.model import TenantConfig
from oracle_mailchimp_dagster.tenants.secret_binding import BoundSecret, seal, unseal
from oracle_mailchimp_dagster.tenants.secret_rules import OPTIONAL_SECRETS

# The stored configuration of a tenant, or None when it no longer validates.
CurrentConfig = Callable[[Connection, str], TenantConfig | None]


class MissingSecretError(UserError):
    """A tenant lacks a credential its auth modes need."""


class SecretVault:
    """Seals, encrypts, decrypts and unseals the secret rows of the tenants table."""

    def __init__(self, keys: KeyStore) -> None:
        self.keys = keys

    def stored(
        self, conn: Connection, keyring: Keyring, tenant_id: str, name: SecretName
    ) -> SecretStr | None:
        """A stored secret decrypted, or None when absent or undecryptable (the caller only compares)."""
        row = rows.select_secret(conn, tenant_id, name)
        if row is None:
            return None
        try:
            return self.open(keyring, row).value
        except SecretDecryptionError:
            return None

    def store(
        self,
        conn: Connection,
        keyring: Keyring,
        config: TenantConfig,
        secrets: Mapping[SecretName, SecretStr],
        now: datetime,
        remove: Collection[SecretName] = (),
    ) -> None:
        """Write the given secrets, check the tenant holds every one it needs, and drop the others:
        those its auth modes no longer use, and the optional ones named in `remove`."""
        required = set(config.required_secrets())
        allowed = required | OPTIONAL_SECRETS
        given_and_removed = sorted(name.value for name in secrets if name in remove)
        if given_and_removed:
            raise MissingSecretError(
                f"tenant '{config.id}': {', '.join(given_and_removed)} cannot be given and removed at once"
            )
        unexpected = sorted(name.value for name in secrets if name not in allowed)
        if unexpected:
            raise MissingSecretError(
                f"tenant '{config.id}' does not use {', '.join(unexpected)} with its auth modes "
                f"(Oracle {config.oracle.auth.value}, Mailchimp {config.mailchimp.auth.value})"
            )
        for name, value in secrets.items():
            if not value.get_secret_value():
                raise MissingSecretError(f"the {name.value} given for tenant '{config.id}' is empty")
            sealed = keyring.encrypt(seal(value, config.id, name, credential_hosts(config, name)))
            rows.put_secret(
                conn, config.id, name, ciphertext=sealed.ciphertext, key_id=sealed.key_id, now=now
            )
        stored = {row.name for row in rows.select_secrets(conn, config.id)}
        missing = sorted(name.value for name in required - stored)
        if missing:
            raise MissingSecretError(
                f"tenant '{config.id}' needs {' and '.join(missing)} "
                f"(Oracle auth {config.oracle.auth.value}, Mailchimp auth {config.mailchimp.auth.value})"
            )
        rows.delete_secrets(conn, config.id, (stored - allowed) | (stored & set(remove) & OPTIONAL_SECRETS))

    def rebound(
        self, conn: Connection, keyring: Keyring, row: rows.SecretRow, current: CurrentConfig
    ) -> Sealed | None:
        """An unbound (older) secret sealed with its tenant's hosts; None when bound already, or when the
        tenant's settings cannot be read (it is then only re-encrypted)."""
        bound = self.open(keyring, row)
        config = current(conn, row.tenant_id) if bound.hosts is None else None
        if config is None:
            return None
        return keyring.encrypt(seal(bound.value, row.tenant_id, row.name, credential_hosts(config, row.name)))

    def open(self, keyring: Keyring, row: rows.SecretRow) -> BoundSecret:
        """Decrypt and unseal a stored secret; one sealed for another tenant or name is refused."""
        try:
            plaintext = keyring.decrypt(Sealed(row.key_id, row.ciphertext))
        except (KeyNotInKeyring, CiphertextRejected) as exc:
            raise self.decryption_error(row, exc) from None
        try:
            bound = unseal(plaintext)
        except ValueError:
            raise SecretDecryptionError(
                row.tenant_id, row.name.value, "its sealed envelope is damaged; set the secret again"
            ) from None
        if bound.hosts is not None and (bound.tenant_id, bound.name) != (row.tenant_id, row.name.value):
            raise SecretDecryptionError(
                row.tenant_id,
                row.name.value,
                "it was sealed for another tenant or secret (copied in the database?); set the secret again",
            )
        return bound

    def decryption_error(self, row: rows.SecretRow, exc: Exception) -> SecretDecryptionError:
        if isinstance(exc, KeyNotInKeyring):
            keyring_ids = self.keys.load().key_ids
            if not keyring_ids:
                reason = self.keys.describe_missing()
            else:
                reason = (
                    f"it was encrypted with master key {row.key_id}, which is not in the "
                    f"{self.keys.describe()} (keys there: {', '.join(keyring_ids)}); "
                    "restore that key, or set the secret again"
                )
        else:
            reason = (
                f"the stored ciphertext does not verify with master key {row.key_id} "
                "(altered in the database, or the key material was replaced); set the secret again"
            )
        return SecretDecryptionError(row.tenant_id, row.name.value, reason)
