"""`keys rotate` run by several processes at once never loses a key: the key file is edited under an
exclusive lock, and every stored secret still decrypts afterwards."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from oracle_mailchimp_dagster.secrets import KeyStore, MasterKey, MasterKeyError
from oracle_mailchimp_dagster.store import Database, upgrade_schema
from oracle_mailchimp_dagster.store.records import SecretName
from oracle_mailchimp_dagster.tenants import TenantRegistry
from tests.support.tenant_samples import MAILCHIMP_KEY, ORACLE_SECRET, config, secrets

CLI = str(Path(sys.executable).with_name("oracle-mailchimp"))
OLD_KEYS = 2_000
PARALLEL = 5
ROUNDS = 5
GLOBEX_KEY = "fedcba9876543210fedcba9876543210-us1"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """A SQLite app database with two tenants, and a key file that already holds thousands of old keys."""
    values = {
        **os.environ,
        "ORACLE_MAILCHIMP_DATABASE_URL": f"sqlite:///{tmp_path / 'app.db'}",
        "ORACLE_MAILCHIMP_KEY_FILE": str(tmp_path / "master.key"),
    }
    values.pop("ORACLE_MAILCHIMP_MASTER_KEY", None)
    keys = [MasterKey.generate() for _ in range(OLD_KEYS)]
    fd = os.open(values["ORACLE_MAILCHIMP_KEY_FILE"], os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write("".join(f"{key.material.get_secret_value()}\n" for key in keys))
    db = Database.from_url(make_url(values["ORACLE_MAILCHIMP_DATABASE_URL"]))
    upgrade_schema(db)
    keystore = KeyStore.from_env(values)
    registry = TenantRegistry.open(db, keystore)
    registry.add(config("acme"), secrets())
    registry.add(
        config("globex"), secrets(oracle="globex-Or4cle", mailchimp="fedcba9876543210fedcba9876543210-us1")
    )
    db.dispose()
    return values


def all_secrets(values: dict[str, str]) -> dict[tuple[str, SecretName], str]:
    db = Database.from_url(make_url(values["ORACLE_MAILCHIMP_DATABASE_URL"]))
    try:
        registry = TenantRegistry.open(db, KeyStore.from_env(values))
        return {
            (tenant.id, name): registry.secret(tenant.id, name).get_secret_value()
            for tenant in registry.list_all()
            for name in (SecretName.ORACLE_CLIENT_SECRET, SecretName.MAILCHIMP_API_KEY)
        }
    finally:
        db.dispose()


def test_five_parallel_rotations_five_times_lose_no_key(env: dict[str, str]) -> None:
    expected = {
        ("acme", SecretName.ORACLE_CLIENT_SECRET): ORACLE_SECRET,
        ("acme", SecretName.MAILCHIMP_API_KEY): MAILCHIMP_KEY,
        ("globex", SecretName.ORACLE_CLIENT_SECRET): "globex-Or4cle",
        ("globex", SecretName.MAILCHIMP_API_KEY): GLOBEX_KEY,
    }
    for _ in range(ROUNDS):
        procs = [
            subprocess.Popen(
                [CLI, "keys", "rotate"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
            )
            for _ in range(PARALLEL)
        ]
        outputs = [proc.communicate(timeout=300)[0] for proc in procs]
        assert [proc.returncode for proc in procs] == [0] * PARALLEL, outputs
        assert all_secrets(env) == expected
        listed = subprocess.run(
            [CLI, "keys", "list", "--json"], env=env, capture_output=True, text=True, timeout=120, check=True
        )
        keys = json.loads(listed.stdout)["keys"]
        assert all(key["present"] for key in keys), [k for k in keys if not k["present"]]
    keyring = KeyStore.from_env(env).load()
    assert len(keyring.key_ids) == OLD_KEYS + ROUNDS * PARALLEL  # every rotation's key is kept


def test_a_key_file_open_to_others_is_refused_with_the_fix(env: dict[str, str]) -> None:
    key_file = Path(env["ORACLE_MAILCHIMP_KEY_FILE"])
    key_file.chmod(0o644)
    with pytest.raises(MasterKeyError, match=r"open to other users \(mode 0644\): run `chmod 600 "):
        KeyStore.from_env(env).load()
    listed = subprocess.run([CLI, "keys", "list"], env=env, capture_output=True, text=True, timeout=120)
    output = (listed.stdout + listed.stderr).strip()
    assert listed.returncode != 0 and "\n" not in output and "chmod 600" in output
