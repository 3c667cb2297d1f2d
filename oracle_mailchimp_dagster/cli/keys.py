"""`oracle-mailchimp keys`: the master keys that encrypt tenant credentials, and their rotation."""

import json

import click

from oracle_mailchimp_dagster.secrets import MasterKey, MasterKeyError, SecretDecryptionError
from oracle_mailchimp_dagster.secrets.keystore import KEYS_HELP
from oracle_mailchimp_dagster.tenants.registry import open_registry


@click.group(epilog=KEYS_HELP)
def keys() -> None:
    """Master keys: list, rotate (re-encrypting every secret), remove, generate."""


@keys.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
def list_keys(as_json: bool) -> None:
    """Each key, newest (primary) first, with how many stored secrets it encrypts."""
    with open_registry() as registry:
        keyring = registry.keys.load()
        usage = registry.key_usage()
    rows = [
        {"key_id": key_id, "primary": index == 0, "secrets": usage.get(key_id, 0), "present": True}
        for index, key_id in enumerate(keyring.key_ids)
    ]
    rows += [
        {"key_id": key_id, "primary": False, "secrets": count, "present": False}
        for key_id, count in sorted(usage.items())
        if key_id not in keyring
    ]
    if as_json:
        click.echo(json.dumps({"source": registry.keys.describe(), "keys": rows}, indent=2))
        return
    click.echo(f"master keys from {registry.keys.describe()}")
    if not rows:
        click.echo("  (none yet: one is created when the first secret is stored)")
    for row in rows:
        role = "primary" if row["primary"] else ("MISSING" if not row["present"] else "old")
        click.echo(f"  {row['key_id']}  {role:<7}  encrypts {row['secrets']} secret(s)")


@keys.command()
@click.option(
    "--reencrypt-only",
    is_flag=True,
    help="Do not add a key; re-encrypt every secret under the current primary (after editing the variable).",
)
def rotate(reencrypt_only: bool) -> None:
    """Add a new primary key and re-encrypt every stored secret with it; old keys keep decrypting."""
    added: MasterKey | None = None
    with open_registry() as registry, registry.keys.editing():
        if not reencrypt_only:
            if registry.keys.uses_env:
                raise MasterKeyError(
                    f"master keys come from {registry.keys.describe()}, which oracle-mailchimp cannot edit: "
                    "put a new key (`oracle-mailchimp keys generate`) first in that comma-separated list, "
                    "then run `oracle-mailchimp keys rotate --reencrypt-only`"
                )
            added = registry.keys.add_primary()
            click.echo(f"added primary key {added.key_id} to {registry.keys.describe()}")
        try:
            count = registry.reencrypt_all()
        except SecretDecryptionError as exc:
            if added is None:
                raise
            raise SecretDecryptionError(
                exc.tenant_id,
                exc.secret_name,
                f"{exc.reason}; nothing was re-encrypted (key {added.key_id} was added: "
                "once fixed, run `oracle-mailchimp keys rotate --reencrypt-only`)",
            ) from None
        keyring = registry.keys.load()
        missing = sorted(set(registry.key_usage()) - set(keyring.key_ids))
        if missing:  # a check after the commit: every stored secret must still have its key
            raise MasterKeyError(
                f"after re-encryption, secrets are encrypted with key(s) {', '.join(missing)} that "
                f"{registry.keys.describe()} no longer holds: restore it from a backup"
            )
        primary = keyring.primary.key_id
    click.echo(f"re-encrypted {count} secret(s) with key {primary}")
    click.echo("older keys still decrypt until removed: `oracle-mailchimp keys remove KEY_ID`")


@keys.command()
@click.argument("key_id")
def remove(key_id: str) -> None:
    """Remove a key from the key file; refused while any stored secret still uses it."""
    with open_registry() as registry, registry.keys.editing():
        in_use = registry.key_usage().get(key_id, 0)
        if in_use:
            raise MasterKeyError(
                f"key {key_id} still encrypts {in_use} secret(s): run `oracle-mailchimp keys rotate` "
                "(or `keys rotate --reencrypt-only`) first"
            )
        registry.keys.remove(key_id)
    click.echo(f"removed key {key_id} from {registry.keys.describe()}")


@keys.command()
def generate() -> None:
    """Print a new random key (for ORACLE_MAILCHIMP_MASTER_KEY); stores nothing."""
    click.echo(MasterKey.generate().material.get_secret_value())
