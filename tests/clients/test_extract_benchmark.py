"""The extraction benchmark, small: one page at a time and four at once read every customer once."""

import json

import pytest

from benchmarks import extract


def test_the_benchmark_compares_concurrencies_and_checks_each_customer_once(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = extract.main(["--customers", "3000", "--latency", "none", "--concurrency", "1", "4"])
    report = json.loads(capsys.readouterr().out)
    assert code == 0 and report["ok"] is True
    sequential, sliced = report["runs"]
    assert (sequential["concurrency"], sliced["concurrency"]) == (1, 4)
    for run in (sequential, sliced):
        assert (run["records"], run["missing"], run["repeated"]) == (3000, 0, 0)
    assert sequential["slices"] == 0 and sequential["sandbox_peak_concurrent_requests"] == 1
    assert sliced["slices"] > 1 and sliced["adaptive"]["peak_in_flight"] > 1
    assert sliced["http_calls"] == sliced["sandbox_requests"]
