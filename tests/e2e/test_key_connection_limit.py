"""Mailchimp's 10 connections per API key, held across processes: three `oracle-mailchimp sync` processes
of three tenants sharing one key, launched at once against the sandboxes, with a real DAGSTER_HOME.

The CLI runs its job in process, outside the instance's run queue and so outside dagster.yaml's one
run per key: only the app database's connection slots keep the three runs together within the key's
10. Each tenant has its own audience and enough customers for well over 8 batch upserts, and the
Mailchimp sandbox answers after Mailchimp's own latency (150 ms a request, 2 ms a member), so each run
keeps its 8 connections busy for seconds and the runs' writes overlap: 24 wanted, 10 allowed. Without
the gate the same runs hold up to 24 (`tests/clients/test_mailchimp_limits.py` shows the difference
at the client, three processes of one key: over 10 without the gate, exactly 10 with it).
"""

import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from oracle_mailchimp_dagster.sandbox.runner import SandboxOptions, SandboxPair
from oracle_mailchimp_dagster.store.connection_slots import ConnectionSlots
from oracle_mailchimp_dagster.store.engine import Database
from oracle_mailchimp_dagster.store.location import DATABASE_URL_ENV, normalise_url
from oracle_mailchimp_dagster.store.migrate import upgrade_schema
from oracle_mailchimp_dagster.sync.identity import credential_fingerprint
from oracle_mailchimp_dagster.tenants.env_file import secrets_from_env
from oracle_mailchimp_dagster.tenants.registry import TenantRegistry
from tests.support.cli_sync import CLI, REPO_DAGSTER_YAML, SyncProcess
from tests.support.e2e_tenants import customers, live_members, new_audience, tenant
from tests.support.expected import expected_members

# About 3,900 upserts a tenant: eight batches of 500 at once, and more waiting.
CUSTOMERS = 6500
MAILCHIMP_LATENCY = {"request_ms": 150.0, "per_item_ms": 2.0}  # the sandbox's `realistic` Mailchimp
KEY_LIMIT = 10
RUN_CONCURRENCY = 9  # a run's own limit (MailchimpResource.concurrency)
TENANTS = ("acme", "globex", "initech")


@dataclass
class SharedKeyWorld:
    pair: SandboxPair
    db: Database
    env: dict[str, str]
    workdir: Path
    lists: dict[str, str]

    def start_sync(self, tenant_id: str) -> SyncProcess:
        out, err = self.workdir / f"{tenant_id}.out", self.workdir / f"{tenant_id}.err"
        with out.open("wb") as stdout, err.open("wb") as stderr:
            process = subprocess.Popen(
                [CLI, "sync", tenant_id, "--json"],
                env=self.env,
                stdout=stdout,
                stderr=stderr,
                start_new_session=True,
            )
        return SyncProcess(tenant_id, process, out, err)

    def mailchimp_stats(self) -> dict[str, object]:
        response = requests.get(f"{self.pair.mailchimp.url}/__sandbox/stats", timeout=30)
        assert response.status_code == 200, response.text
        stats: dict[str, object] = response.json()
        return stats


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[SharedKeyWorld]:
    """Three tenants on one Mailchimp key, each with its own audience, in a migrated SQLite app database."""
    monkeypatch.setenv("ORACLE_MAILCHIMP_KEY_FILE", str(tmp_path / "master.key"))
    monkeypatch.delenv("ORACLE_MAILCHIMP_MASTER_KEY", raising=False)
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(REPO_DAGSTER_YAML, home / "dagster.yaml")
    url = f"sqlite:///{tmp_path / 'oracle_mailchimp.db'}"
    env = {key: value for key, value in os.environ.items() if key != "ORACLE_MAILCHIMP_CRASH_AT"}
    env.update({DATABASE_URL_ENV: url, "DAGSTER_HOME": str(home)})
    db = Database.from_url(normalise_url(url))
    upgrade_schema(db)
    registry = TenantRegistry.open(db)
    with SandboxPair(SandboxOptions(customers=CUSTOMERS)) as pair:
        lists = {"acme": pair.mailchimp.config.list_id}
        lists |= {
            tenant_id: new_audience(pair, f"{tenant_id.title()} Customers") for tenant_id in TENANTS[1:]
        }
        secrets = secrets_from_env(pair.env())  # one Mailchimp key for all three
        for tenant_id, list_id in lists.items():
            registry.add(tenant(tenant_id, list_id, pair), secrets)
        response = requests.put(f"{pair.mailchimp.url}/__sandbox/latency", json=MAILCHIMP_LATENCY, timeout=30)
        assert response.status_code == 200, response.text
        yield SharedKeyWorld(pair, db, env, tmp_path, lists)
    db.dispose()


def test_three_syncs_sharing_a_key_keep_to_its_10_connections_in_all(world: SharedKeyWorld) -> None:
    syncs = [world.start_sync(tenant_id) for tenant_id in TENANTS]  # at once
    try:
        finished = {sync.name: sync.wait(timeout_s=120) for sync in syncs}
    finally:
        for sync in syncs:
            sync.kill()
    for tenant_id, done in finished.items():
        assert done.code == 0, f"{tenant_id}: {done.err[-2000:]}"
        assert done.report()["success"] is True, tenant_id

    key = world.pair.mailchimp.config.api_key
    stats = world.mailchimp_stats()
    peaks = stats["peak_in_flight_by_key"]
    assert isinstance(peaks, dict) and len(peaks) == 1, peaks
    (peak,) = peaks.values()
    # More than one run's 9 at once, so the runs overlapped and wanted more than the key allows...
    assert RUN_CONCURRENCY < peak <= KEY_LIMIT, stats
    # ... and none was refused: the slots kept the three processes within Mailchimp's limit.
    assert stats["too_many_requests"] == 0, stats["too_many_requests_by_key"]
    assert ConnectionSlots(world.db).held(credential_fingerprint(key)) == []  # all given back

    expected = set(expected_members(customers(world.pair)))
    assert len(expected) > RUN_CONCURRENCY * 500 * 0.9
    for tenant_id, list_id in world.lists.items():
        assert set(live_members(world.pair, list_id)) == expected, tenant_id
