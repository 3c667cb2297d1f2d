"""What scripts read stays usable: `tenants show ID --json` imports back through `tenants import`, and
`keys list --json` says which master keys are present."""

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from oracle_mailchimp_dagster.secrets import KeyStore, MasterKey
from oracle_mailchimp_dagster.store import Database
from oracle_mailchimp_dagster.tenants import TenantRegistry
from tests.fixtures.store import CliResult
from tests.support.tenant_samples import PLAINTEXTS, config, secrets
from tests.support.tenant_writes import written

Run = Callable[..., CliResult]
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def test_show_json_imports_back_unchanged(
    cli_env: Database, registry: TenantRegistry, key_store: KeyStore, run_cli: Run, tmp_path: Path
) -> None:
    registry.add(config(mailchimp={"api_base": "http://127.0.0.1:18002/3.0"}), secrets())
    shown = run_cli("tenants", "show", "acme", "--json")
    assert shown.code == 0, shown
    path = tmp_path / "acme.json"
    path.write_text(shown.out, encoding="utf-8")
    before = written(cli_env, key_store.key_file)

    imported = run_cli("tenants", "import", str(path))
    assert imported.code == 0, imported
    assert imported.out.strip() == f"imported 1 tenant(s) from {path}: created none; updated acme"
    assert (
        json.loads(run_cli("tenants", "show", "acme", "--json").out)["tenant"]
        == json.loads(shown.out)["tenant"]
    )
    # Only the tenant row's updated_at moved; secrets and every other row are as they were.
    after = written(cli_env, key_store.key_file)
    assert [row for row in after.rows if not row.startswith("tenants:")] == [
        row for row in before.rows if not row.startswith("tenants:")
    ]
    assert after.key_file == before.key_file
    for secret in PLAINTEXTS:
        assert secret not in shown.out + imported.output


def test_list_json_imports_back_too(
    cli_env: Database, registry: TenantRegistry, run_cli: Run, tmp_path: Path
) -> None:
    registry.add(config(), secrets())
    registry.add(config("globex"), secrets())
    path = tmp_path / "all.json"
    path.write_text(run_cli("tenants", "list", "--json").out, encoding="utf-8")
    result = run_cli("tenants", "import", str(path))
    assert result.code == 0 and result.out.strip().endswith("created none; updated acme, globex"), result


def test_keys_list_json_says_which_keys_are_present(
    cli_env: Database, registry: TenantRegistry, key_store: KeyStore, run_cli: Run
) -> None:
    registry.add(config(), secrets())
    [present] = json.loads(run_cli("keys", "list", "--json").out)["keys"]
    assert (present["primary"], present["present"], present["secrets"]) == (True, True, 2)
    # The key file loses the key the secrets are encrypted with (a restore from the wrong backup).
    replacement = MasterKey.generate()
    key_store.key_file.write_text(replacement.material.get_secret_value() + "\n", encoding="ascii")
    listed = run_cli("keys", "list", "--json")
    assert listed.code == 0, listed
    keys = {key["key_id"]: key for key in json.loads(listed.out)["keys"]}
    assert keys[replacement.key_id] == {
        "key_id": replacement.key_id,
        "primary": True,
        "secrets": 0,
        "present": True,
    }
    assert keys[present["key_id"]] == {
        "key_id": present["key_id"],
        "primary": False,
        "secrets": 2,
        "present": False,
    }
    assert "MISSING" in run_cli("keys", "list").out
