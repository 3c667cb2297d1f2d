"""The chaos run, small: a sync process SIGKILLed in extraction, planning, the Mailchimp writes, just
before the first chunk's commit and between chunk commits, each followed by a rerun, loses,
duplicates and resubscribes no one. `make chaos` runs the full version (20 kills)."""

import contextlib
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

# Eleven sync processes and realistic latency: about a minute on a quiet machine, minutes on a busy one.
CHAOS_TIMEOUT_S = 600


def run_chaos(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`benchmarks.chaos` in its own session, its work folder under `tmp_path`; whatever it leaves
    running (its sandbox process, a sync) is killed with it, also when the test fails or times out."""
    command = [sys.executable, "-m", "benchmarks.chaos", *args]
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, start_new_session=True
    )
    try:
        out, err = process.communicate(timeout=CHAOS_TIMEOUT_S)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    return subprocess.CompletedProcess(command, process.returncode, out, err)


@pytest.mark.timeout(CHAOS_TIMEOUT_S + 60)
def test_kills_in_every_phase_lose_duplicate_and_resubscribe_nothing(tmp_path: Path) -> None:
    result = run_chaos(tmp_path, "--kills", "5", "--customers", "300")
    report = json.loads(result.stdout)
    assert report["kills_by_phase"] == {
        "extraction": 1,
        "planning": 1,
        "mailchimp writes": 1,
        "before commit": 1,
        "between chunk commits": 1,
    }, report
    assert (report["lost"], report["duplicated"], report["resubscribed"]) == (0, 0, 0), report["sample"]
    assert report["failed_reruns"] == 0, report["failed_rerun_output"]
    assert result.returncode == 0
