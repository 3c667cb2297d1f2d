"""`oracle-mailchimp db upgrade` prepares the app database and the Dagster instance, also when
several are started at once on a new DAGSTER_HOME."""

import os
import subprocess
import sys
from pathlib import Path

CLI = str(Path(sys.executable).with_name("oracle-mailchimp"))


def env_for(tmp_path: Path) -> dict[str, str]:
    env = {
        **os.environ,
        "DAGSTER_HOME": str(tmp_path / "home"),
        "ORACLE_MAILCHIMP_DATABASE_URL": f"sqlite:///{tmp_path / 'app.db'}",
        "ORACLE_MAILCHIMP_KEY_FILE": str(tmp_path / "master.key"),
    }
    env.pop("ORACLE_MAILCHIMP_MASTER_KEY", None)
    return env


def test_db_upgrade_prepares_the_dagster_instance(tmp_path: Path) -> None:
    env = env_for(tmp_path)
    first = subprocess.run([CLI, "db", "upgrade"], env=env, capture_output=True, text=True, timeout=180)
    assert first.returncode == 0, first.stderr
    assert f"Dagster instance in {tmp_path / 'home'}: storage ready" in first.stdout
    assert (tmp_path / "home" / "history" / "runs.db").exists()
    again = subprocess.run([CLI, "db", "upgrade"], env=env, capture_output=True, text=True, timeout=180)
    assert again.returncode == 0 and "schema already at" in again.stdout


def test_three_db_upgrades_at_once_on_a_new_home_all_succeed(tmp_path: Path) -> None:
    env = env_for(tmp_path)
    procs = [
        subprocess.Popen(
            [CLI, "db", "upgrade"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        for _ in range(3)
    ]
    outputs = [proc.communicate(timeout=300)[0] for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0, 0], outputs
    assert all("storage ready" in output for output in outputs)


def test_without_dagster_home_only_the_app_database_is_prepared(tmp_path: Path) -> None:
    env = env_for(tmp_path)
    del env["DAGSTER_HOME"]
    result = subprocess.run([CLI, "db", "upgrade"], env=env, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr
    assert "DAGSTER_HOME is not set, so there is no instance to prepare" in result.stdout
