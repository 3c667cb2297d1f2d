"""The chaos run, small: a sync process SIGKILLed in extraction, planning, the Mailchimp writes, just
before the first chunk's commit and between chunk commits, each followed by a rerun, loses,
duplicates and resubscribes no one. `make chaos` runs the full version (20 kills)."""

import json
import subprocess
import sys

import pytest

# Nine sync processes and realistic latency: ~50 s on a quiet machine, several minutes on a busy one.
CHAOS_TIMEOUT_S = 600


@pytest.mark.timeout(CHAOS_TIMEOUT_S + 60)
def test_kills_in_every_phase_lose_duplicate_and_resubscribe_nothing() -> None:
    command = [sys.executable, "-m", "benchmarks.chaos", "--kills", "5", "--customers", "300"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=CHAOS_TIMEOUT_S)
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
