"""Every file the project creates is its user's alone (0600, folders 0700): the app database and its
SQLite companions, the key file, the sandbox env file, and everything a sync leaves under DAGSTER_HOME
(Dagster's storage, run history, logs, the IO manager's pickles of customer data). Real processes,
started with the usual umask 022, so only the command's own umask can make them private."""

import json
import os
import shutil
import signal
import sqlite3
import stat
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from oracle_mailchimp_dagster.local.dev import private_files
from oracle_mailchimp_dagster.sandbox.runner import SandboxOptions, SandboxPair
from tests.fixtures.store import CliResult

CLI = str(Path(sys.executable).with_name("oracle-mailchimp"))
REPO_DAGSTER_YAML = Path(__file__).parents[2] / "dagster.yaml"
USUAL_UMASK = 0o022


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def open_to_others(root: Path) -> list[str]:
    """Every file or folder under `root` (and `root`) that group or others may use."""
    paths = [root, *root.rglob("*")]
    return [f"{path} {mode(path):04o}" for path in paths if not path.is_symlink() and mode(path) & 0o077]


def run(args: list[str], env: dict[str, str], timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CLI, *args], env=env, capture_output=True, text=True, timeout=timeout, umask=USUAL_UMASK
    )


def env_for(tmp_path: Path) -> dict[str, str]:
    home = tmp_path / "home"
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "ORACLE_MAILCHIMP_DATABASE_URL": f"sqlite:///{home / 'oracle_mailchimp.db'}",
        "ORACLE_MAILCHIMP_KEY_FILE": str(tmp_path / "keys" / "master.key"),
    }
    env.pop("ORACLE_MAILCHIMP_MASTER_KEY", None)
    return env


def test_a_sync_leaves_nothing_open_to_other_users(tmp_path: Path) -> None:
    env = env_for(tmp_path)
    home = Path(env["DAGSTER_HOME"])
    env_file = tmp_path / "sandbox" / ".sandbox.env"
    with SandboxPair(SandboxOptions(customers=20)) as pair:
        env_file.parent.mkdir()
        pair.write_env_file(env_file)
        upgraded = run(["db", "upgrade"], env)
        assert upgraded.returncode == 0, upgraded.stderr
        shutil.copy(REPO_DAGSTER_YAML, home / "dagster.yaml")  # the user's own copy (README): theirs to set
        (home / "dagster.yaml").chmod(0o600)
        added = run(
            ["tenants", "add", "acme", "--status-if-new", "transactional", "--env-file", str(env_file)], env
        )
        assert added.returncode == 0, added.stderr
        synced = run(["sync", "acme", "--json"], env)
        assert synced.returncode == 0, synced.stderr
        assert json.loads(synced.stdout)["success"] is True
    pickles = [path for path in (home / "storage").rglob("*") if path.is_file()]
    assert pickles, "the IO manager stored the assets' values under DAGSTER_HOME/storage"
    assert (home / "oracle_mailchimp.db").is_file() and (home / "history").is_dir()
    assert open_to_others(home) == []
    assert open_to_others(tmp_path / "keys") == []
    assert mode(env_file) == 0o600


def test_db_upgrade_tightens_an_existing_home_and_database(tmp_path: Path) -> None:
    env = env_for(tmp_path)
    home = Path(env["DAGSTER_HOME"])
    home.mkdir(mode=0o755)
    home.chmod(0o755)
    database = home / "oracle_mailchimp.db"
    sqlite3.connect(database).close()  # an app database made before, readable by everyone
    database.chmod(0o644)
    first = run(["db", "upgrade"], env)
    assert first.returncode == 0, first.stderr
    lines = first.stdout.splitlines()
    assert lines[:2] == [
        f"DAGSTER_HOME {home} was open to other users (mode 0755): now 0700",
        f"app database file {database} was open to other users (mode 0644): now 0600",
    ]
    assert (mode(home), mode(database)) == (0o700, 0o600)
    assert open_to_others(home) == []
    again = run(["db", "upgrade"], env)
    assert again.returncode == 0 and "open to other users" not in again.stdout


def test_sandbox_serve_writes_its_env_file_private_even_over_an_open_one(tmp_path: Path) -> None:
    env_file = tmp_path / ".sandbox.env"
    env_file.write_text("OLD=1\n", encoding="utf-8")
    env_file.chmod(0o644)
    proc = subprocess.Popen(
        [CLI, "sandbox", "serve", "--customers", "5", "--env-file", str(env_file)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        umask=USUAL_UMASK,
    )
    try:
        deadline = time.monotonic() + 60
        while "MAILCHIMP_API_KEY=" not in env_file.read_text(encoding="utf-8"):
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
            time.sleep(0.05)
        assert mode(env_file) == 0o600
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=60)


def test_dagster_dev_inherits_the_private_umask(tmp_path: Path) -> None:
    before = os.umask(USUAL_UMASK)
    try:
        with private_files():
            child = subprocess.run(["sh", "-c", "umask"], capture_output=True, text=True, check=True)
            (tmp_path / "made").write_text("x", encoding="utf-8")
        assert child.stdout.strip() == "0077"
        assert mode(tmp_path / "made") == 0o600
        assert os.umask(USUAL_UMASK) == USUAL_UMASK, "the previous umask is back after the block"
    finally:
        os.umask(before)


def test_the_cli_in_process_restores_the_callers_umask(run_cli: Callable[..., CliResult]) -> None:
    before = os.umask(USUAL_UMASK)
    try:
        assert run_cli("keys", "generate").code == 0
        assert os.umask(USUAL_UMASK) == USUAL_UMASK
    finally:
        os.umask(before)
