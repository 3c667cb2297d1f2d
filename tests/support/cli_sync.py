"""`oracle-mailchimp sync` as separate processes against both sandboxes: the world they share (app
database, key file, DAGSTER_HOME with the repo's dagster.yaml, tenant `acme`), starting, killing and
waiting for them, and what the Dagster instance recorded of their runs.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dagster as dg
import requests

from oracle_mailchimp_dagster.defs.metadata import report_values
from oracle_mailchimp_dagster.sandbox.runner import SandboxOptions, SandboxPair
from oracle_mailchimp_dagster.store.engine import Database
from oracle_mailchimp_dagster.store.leases import LeaseStore
from oracle_mailchimp_dagster.store.location import DATABASE_URL_ENV, normalise_url
from oracle_mailchimp_dagster.store.migrate import upgrade_schema
from oracle_mailchimp_dagster.store.records import Lease
from oracle_mailchimp_dagster.store.sync_store import SyncStore
from oracle_mailchimp_dagster.tenants.env_file import secrets_from_env, tenant_from_env
from oracle_mailchimp_dagster.tenants.model import mapping_with_company
from oracle_mailchimp_dagster.tenants.registry import TenantRegistry

CLI = str(Path(sys.executable).with_name("oracle-mailchimp"))
REPO_DAGSTER_YAML = Path(__file__).parents[2] / "dagster.yaml"
TENANT = "acme"
# The batch upsert, `POST /3.0/lists/{list_id}` (the Mailchimp sandbox's fault rules match the path).
BATCH_PATH = r"^/3\.0/lists/[0-9a-f]+$"


@dataclass(frozen=True)
class Finished:
    code: int
    out: str
    err: str

    def report(self) -> dict[str, Any]:
        """The `--json` summary."""
        report: dict[str, Any] = json.loads(self.out)
        return report


@dataclass
class SyncProcess:
    """One `oracle-mailchimp sync` process, in its own session (so it is killed as a group)."""

    name: str
    process: subprocess.Popen[bytes]
    out: Path
    err: Path

    def wait(self, timeout_s: float = 120.0) -> Finished:
        try:
            code = self.process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"sync {self.name} did not finish within {timeout_s:.0f} s") from None
        return Finished(code, self.out.read_text(), self.err.read_text())

    def kill(self) -> None:
        """SIGKILL, as the OOM killer or a lost machine would: no cleanup runs."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)


@dataclass
class CliWorld:
    pair: SandboxPair
    db: Database
    store: SyncStore
    env: dict[str, str]
    home: Path
    workdir: Path
    started: list[SyncProcess] = field(default_factory=list)

    # ---- processes ------------------------------------------------------------------------------

    def start_sync(self, name: str, *args: str) -> SyncProcess:
        out, err = self.workdir / f"{name}.out", self.workdir / f"{name}.err"
        with out.open("wb") as stdout, err.open("wb") as stderr:
            process = subprocess.Popen(
                [CLI, "sync", TENANT, "--json", *args],
                env=self.env,
                stdout=stdout,
                stderr=stderr,
                start_new_session=True,
            )
        started = SyncProcess(name, process, out, err)
        self.started.append(started)
        return started

    def lease(self) -> Lease | None:
        return LeaseStore(self.db).current(TENANT)

    # ---- the sandboxes --------------------------------------------------------------------------

    def fusion_control(self, method: str, path: str, **kwargs: Any) -> Any:
        response = requests.request(method, self.pair.fusion.url + "/__sandbox" + path, timeout=30, **kwargs)
        assert response.status_code < 300, response.text
        return response.json() if response.content else None

    def mailchimp_control(self, method: str, path: str, **kwargs: Any) -> Any:
        response = requests.request(
            method, self.pair.mailchimp.url + "/__sandbox" + path, timeout=30, **kwargs
        )
        assert response.status_code < 300, response.text
        return response.json() if response.content else None

    def customers(self) -> list[dict[str, Any]]:
        return list(self.fusion_control("GET", "/customers", params={"limit": 100000})["items"])

    def members(self) -> dict[str, dict[str, Any]]:
        """Every member of the tenant's list (archived too), by lower-cased address."""
        body = self.mailchimp_control("GET", f"/lists/{self.pair.mailchimp.config.list_id}/members")
        return {m["email_address"].lower(): m for m in body["members"]}

    def slow_next_batch(self, delay_ms: int) -> None:
        """The next batch upsert waits `delay_ms` in the Mailchimp sandbox before it is applied."""
        rule = {"kind": "delay", "delay_ms": delay_ms, "method": "POST", "path": BATCH_PATH, "times": 1}
        self.mailchimp_control("POST", "/faults", json=rule)

    def batch_delayed(self) -> bool:
        """The slow batch has arrived and is being held."""
        rules = self.mailchimp_control("GET", "/faults")["rules"]
        return any(r["kind"] == "delay" and r["fired"] >= 1 for r in rules)

    def run_waiting_for(self, holder: str) -> str | None:
        """The id of a run that has logged it is waiting for run `holder`'s lease, or None (yet)."""
        with self.instance() as instance:
            for run in instance.get_runs():
                if run.run_id != holder and logged(instance, run.run_id, f"being synced by run {holder}"):
                    return run.run_id
        return None

    # ---- the Dagster instance -------------------------------------------------------------------

    @contextmanager
    def instance(self) -> Iterator[dg.DagsterInstance]:
        instance = dg.DagsterInstance.from_config(str(self.home))
        try:
            yield instance
        finally:
            instance.dispose()


def step_window(instance: dg.DagsterInstance, run_id: str, steps: set[str]) -> tuple[float, float]:
    """When the run's first step in `steps` started and its last one ended (epoch seconds)."""
    starts, ends = [], []
    for entry in instance.all_logs(run_id):
        event = entry.dagster_event
        if event is None or entry.step_key not in steps:
            continue
        if event.event_type is dg.DagsterEventType.STEP_START:
            starts.append(entry.timestamp)
        elif event.event_type in (dg.DagsterEventType.STEP_SUCCESS, dg.DagsterEventType.STEP_FAILURE):
            ends.append(entry.timestamp)
    assert starts and ends, f"run {run_id} has no events for {sorted(steps)}"
    return min(starts), max(ends)


def logged(instance: dg.DagsterInstance, run_id: str, text: str) -> bool:
    """Some log message of the run contains `text`."""
    return any(text in (entry.user_message or "") for entry in instance.all_logs(run_id))


def materialization(instance: dg.DagsterInstance, run_id: str, asset: str) -> dict[str, Any]:
    """The metadata values of the run's materialization of `asset`."""
    for entry in instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION):
        found = entry.asset_materialization
        if found is not None and found.asset_key == dg.AssetKey(asset):
            return report_values(found.metadata)
    raise AssertionError(f"run {run_id} did not materialize {asset}")


@contextmanager
def open_cli_world(tmp_path: Path, environ: dict[str, str], customers: int = 40) -> Iterator[CliWorld]:
    """Both sandboxes and tenant `acme` (the demo's COMPANY mapping) in a migrated SQLite app database.

    `environ` is the test's environment with the key file set (the registry encrypts with it); the
    processes get it plus the database URL and DAGSTER_HOME. Processes still running at the end are
    killed before the sandboxes stop.
    """
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(REPO_DAGSTER_YAML, home / "dagster.yaml")
    url = f"sqlite:///{tmp_path / 'oracle_mailchimp.db'}"
    env = {key: value for key, value in environ.items() if key != "ORACLE_MAILCHIMP_CRASH_AT"}
    env.update({DATABASE_URL_ENV: url, "DAGSTER_HOME": str(home)})
    db = Database.from_url(normalise_url(url))
    upgrade_schema(db)
    registry = TenantRegistry.open(db)
    with SandboxPair(SandboxOptions(customers=customers)) as pair:
        sandbox_env = pair.env()
        registry.add(
            tenant_from_env(TENANT, sandbox_env, mapping=mapping_with_company()),
            secrets_from_env(sandbox_env),
        )
        world = CliWorld(pair, db, SyncStore(db), env, home, tmp_path)
        try:
            yield world
        finally:
            for process in world.started:
                process.kill()
    db.dispose()
