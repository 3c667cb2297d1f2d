"""`dagster asset materialize` on the group and a tenant partition works like any other run."""

import os
import subprocess
import sys
from pathlib import Path

from tests.fixtures.sync import SyncHarness
from tests.support.expected import assert_audience_matches

REPO = Path(__file__).resolve().parents[2]


def test_dagster_asset_materialize_cli(sync_harness: SyncHarness, harness_env: Path) -> None:
    dagster = Path(sys.executable).with_name("dagster")
    env = {**os.environ, "DAGSTER_HOME": str(harness_env)}
    result = subprocess.run(
        [
            str(dagster),
            "asset",
            "materialize",
            "-m",
            "oracle_mailchimp_dagster.definitions",
            "--select",
            "group:oracle_to_mailchimp",
            "--partition",
            "acme",
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert_audience_matches(sync_harness)
    runs = sync_harness.instance.get_runs()
    assert len(runs) == 1 and runs[0].tags["dagster/partition"] == "acme"
    assert len(sync_harness.store.ledger.for_run("acme", runs[0].run_id)) == len(sync_harness.customers())
