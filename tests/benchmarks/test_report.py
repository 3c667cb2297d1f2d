"""benchmarks.report turns result JSON into BENCHMARKS.md's tables (no peers, no sandbox, no runs)."""

import argparse
import json
from pathlib import Path
from typing import Any

import pytest

from benchmarks import report
from benchmarks.peers.run import last_json

FIXTURE = Path(__file__).with_name("fixtures") / "results.json"


@pytest.fixture
def entries(tmp_path: Path) -> list[dict[str, Any]]:
    """The fixture written as a results directory, one file a run, and read back as the report reads it."""
    for entry in json.loads(FIXTURE.read_text()):
        key = report.Run(entry["tool"], entry["customers"], entry["latency"]).key
        (tmp_path / f"{key}.json").write_text(json.dumps(entry))
    return report.load_results(tmp_path)


def rows_of(section: str, heading: str) -> list[list[str]]:
    """The body rows of the Markdown table under `heading`, as stripped cells."""
    lines = section.split(heading, 1)[1].strip().splitlines()
    body = []
    for line in lines[2:]:
        if not line.startswith("|"):
            break
        body.append([c.strip() for c in line.strip().strip("|").split("|")])
    return body


def test_performance_table_has_one_row_per_run_in_order_with_blanks_for_missing_keys(
    entries: list[dict[str, Any]],
) -> None:
    rows = rows_of(report.generated_section(entries, []), "### Speed, memory and calls")
    assert [(r[0], r[2]) for r in rows] == [
        ("oracle-mailchimp-dagster (benchmarks.sync)", "1,000"),
        ("oracle-mailchimp-dagster (`oracle-mailchimp sync` CLI)", "1,000"),
        ("drt-core 1.2.1 (rest_api, batch of 500)", "1,000"),
        ("mailchimp-marketing 3.0.80 (per-record loop)", "1,000"),
        ("oracle-mailchimp-dagster (benchmarks.sync)", "10,000"),
        ("drt-core ? (rest_api, batch of 500)", "10,000"),
    ]
    assert {r[1] for r in rows} == {"initial load"}
    assert rows[0][3:] == ["realistic", "9.5", "301.2", "3", "23", "816", "3.4", ""]
    assert rows[3][6:9] == ["3", "1,679", "816"]
    # benchmarks.sync without the call counts or the bound: blank cells, not an error.
    assert rows[4][3:] == ["realistic", "20.0", "340.0", "", "", "8,160", "", ""]
    assert rows[5][3:] == ["realistic", "", "", "", "", "", "", ""]


def test_correctness_table_lists_the_audited_runs_with_what_each_tool_says(
    entries: list[dict[str, Any]],
) -> None:
    rows = rows_of(report.generated_section(entries, []), "### Correctness of the audience")
    by_tool = {r[0].split(" (")[0]: r for r in rows}
    assert len(rows) == 3
    # drt says every row synced although four members have another customer's company.
    assert by_tool["drt-core 1.2.1"][2:] == ["1,000", "816", "812", "0", "4", "0", "0", "1,000", "0"]
    assert by_tool["mailchimp-marketing 3.0.80"][4:] == ["813", "0", "0", "3", "0", "825", "29"]
    # The connector counts its rejected rows with its failures.
    assert by_tool["oracle-mailchimp-dagster"][4:] == ["816", "0", "0", "0", "0", "816", "74"]


def test_runs_that_failed_are_listed_and_left_out_of_the_plots(entries: list[dict[str, Any]]) -> None:
    section = report.generated_section(entries, ["docs/benchmarks/wall.png"])
    assert "- drt-core ? (rest_api, batch of 500), 10,000 customers: no result (exit 1)" in section
    over = "exit 1 (over benchmarks.sync's --max-ratio or --max-memory-mib), figures kept"
    assert f"- oracle-mailchimp-dagster (benchmarks.sync), 10,000 customers: {over}" in section
    assert "1,000 customers" not in section.split("exited non-zero")[1]
    assert "![wall](docs/benchmarks/wall.png)" in section
    series = report.plot_series(entries)
    assert [p["customers"] for p in series["oracle-mailchimp-dagster (benchmarks.sync)"]] == [1000, 10000]
    assert "drt-core ? (rest_api, batch of 500)" not in series
    assert series["mailchimp-marketing 3.0.80 (per-record loop)"] == [
        {"customers": 1000, "wall": 262.0, "memory": 32.2}
    ]


def test_the_document_keeps_its_prose_and_only_the_generated_section_changes(
    entries: list[dict[str, Any]],
) -> None:
    prose = f"# Benchmarks\n\nMethod.\n\n{report.BEGIN}\nold table\n{report.END}\n\n## Limits\n\nText.\n"
    section = report.generated_section(entries, [])
    updated = report.update_document(prose, section)
    assert updated.startswith("# Benchmarks\n\nMethod.\n\n" + report.BEGIN)
    assert updated.endswith(report.END + "\n\n## Limits\n\nText.\n")
    assert "old table" not in updated and "| Tool |" in updated
    assert report.update_document(updated, section) == updated
    assert report.update_document("# Benchmarks\n", section).endswith("## Results\n\n" + section + "\n")


def test_plan_caps_the_sdk_loop_and_adds_1m_only_on_request() -> None:
    args = argparse.Namespace(
        tools="connector,drt,sdk",
        sizes=[1000, 100_000],
        sdk_sizes=[1000],
        check_sizes=[],
        then_sizes=[100_000],
        with_1m=True,
    )
    keys = [run.key for run in report.plan(args)]
    assert keys == [
        "connector-realistic-1000",
        "connector-realistic-100000",
        "drt-realistic-1000",
        "drt-realistic-100000",
        "sdk-realistic-1000",
        "connector-realistic-100000-incremental",
        "connector-realistic-100000-noop",
        "reconcile-realistic-125000",
        "connector-realistic-1000000",
        "connector-none-1000000",
    ]
    [reconcile] = [run for run in report.plan(args) if run.tool == "reconcile"]
    assert report.command(reconcile, Path("peers"))[2:] == ["benchmarks.reconcile", "--customers", "125000"]
    then_runs = [run for run in report.plan(args) if run.then != "none"]
    assert [report.command(run, Path("peers"))[-2:] for run in then_runs] == [
        ["--then", "incremental"],
        ["--then", "noop"],
    ]
    args.tools = "drt"
    assert all(run.tool == "drt" or run.customers == 1_000_000 for run in report.plan(args))


def test_the_reconciliation_gets_its_row_and_stays_out_of_the_comparisons(
    entries: list[dict[str, Any]],
) -> None:
    reconcile = {
        "tool": "reconcile",
        "customers": 125_000,
        "latency": "realistic",
        "exit_code": 0,
        "result": {"wall_seconds": 30.5, "peak_memory_mib": 150.2, "mailchimp_requests": 104},
    }
    rows = rows_of(report.generated_section([*entries, reconcile], []), "### Speed, memory and calls")
    [row] = [r for r in rows if r[1] == "audience read back"]
    assert row[0] == "oracle-mailchimp-dagster (`oracle-mailchimp reconcile`)"
    assert row[4:6] == ["30.5", "150.2"] and row[7] == "104"
    assert all("reconcile" not in name for name in report.plot_series([*entries, reconcile]))


def test_runs_after_an_initial_load_get_their_own_rows_and_stay_out_of_plots_and_correctness(
    entries: list[dict[str, Any]],
) -> None:
    base = {"tool": "connector", "customers": 100_000, "latency": "realistic", "exit_code": 0}
    incremental = {**base, "then": "incremental", "result": {"wall_seconds": 12.5, "ratio": 0.3}}
    noop = {**base, "then": "noop", "result": {"wall_seconds": 2.5, "correctness": {"expected": 1}}}
    initial = {**base, "result": {"wall_seconds": 140.0}}
    runs = [*entries, noop, incremental, initial]
    rows = rows_of(report.generated_section(runs, []), "### Speed, memory and calls")
    at_100k = [(r[1], r[4], r[-1]) for r in rows if r[2] == "100,000"]
    assert at_100k == [
        ("initial load", "140.0", ""),
        ("incremental, 1% changed", "12.5", "0.3"),
        ("no-op tick", "2.5", ""),
    ]
    correctness = rows_of(report.generated_section(runs, []), "### Correctness of the audience")
    assert all(r[1] != "100,000" for r in correctness)
    assert [
        p["customers"] for p in report.plot_series(runs)["oracle-mailchimp-dagster (benchmarks.sync)"]
    ] == [
        1000,
        10000,
        100_000,
    ]


def test_last_json_reads_the_object_a_command_printed_after_other_output() -> None:
    assert last_json('Running 1 sync\n{\n  "a": {"b": 1}\n}\n') == {"a": {"b": 1}}
    assert last_json('{"first": 1}\nlog line\n{"second": 2}\n') == {"second": 2}
    assert last_json("no json here {") == {}
