"""Benchmarks against the peers: run them, keep their JSON, regenerate BENCHMARKS.md and its plots.

    .venv/bin/python -m benchmarks.report [--sizes 1000,10000,100000] [--sdk-sizes 1000,10000]
        [--check-sizes 1000,10000,100000] [--then-sizes 100000] [--with-1m]
        [--tools connector,check,drt,sdk] [--reuse] [--render-only] [--peers-venv .venv-peers]

Every run starts fresh sandboxes in their own process with the same customer count and latency
profile: `connector` is benchmarks.sync (the Dagster job in its process), `check` the connector's
`oracle-mailchimp sync` CLI and `drt` / `sdk` the peers, all three through benchmarks.peers.run (own
process, own rusage, plus how right the audience is). The per-record SDK loop makes two calls a member,
so it is capped (--sdk-sizes). Each result lands in benchmarks/results/<tool>-<latency>-<customers>.json;
the tables between BENCHMARKS.md's generated markers and docs/benchmarks/*.png are rebuilt from all of
them (the plots in the peers venv, which has matplotlib). Result keys are read tolerantly: a key a run
did not print is a blank cell. Besides initial loads, the connector is timed on the runs that follow one
(--then-sizes): an incremental run with 1% of the customers changed and a no-op tick; and --with-1m adds
a million customers twice, with realistic latency and with none (memory).
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"
DOCUMENT = REPO / "BENCHMARKS.md"
PLOTS = REPO / "docs" / "benchmarks"
PLOT_NAMES = ("wall", "memory")  # in this order in BENCHMARKS.md, whether redrawn or kept
BEGIN, END = "<!-- benchmarks.report: begin -->", "<!-- benchmarks.report: end -->"
TOOLS = ("connector", "check", "drt", "sdk")
LABELS = {
    "connector": "oracle-mailchimp-dagster (benchmarks.sync)",
    "check": "oracle-mailchimp-dagster (`oracle-mailchimp sync` CLI)",
    "drt": "drt-core {version} (rest_api, batch of 500)",
    "sdk": "mailchimp-marketing {version} (per-record loop)",
    "reconcile": "oracle-mailchimp-dagster (`oracle-mailchimp reconcile`)",
}
RECONCILE_CUSTOMERS = 125_000  # about 101k members
ORACLE_KEYS = ("oracle_requests", "oracle_calls", "fusion_requests")
MAILCHIMP_KEYS = ("mailchimp_requests", "mailchimp_calls")


THEN = ("incremental", "noop")  # benchmarks.sync --then: the run timed after an initial load
RUN_LABELS = {
    "none": "initial load",
    "incremental": "incremental, 1% changed",
    "noop": "no-op tick",
    "reconcile": "audience read back",
}


@dataclass(frozen=True)
class Run:
    tool: str
    customers: int
    latency: str = "realistic"
    then: str = "none"  # "none": the initial load is timed; else the run after it (connector only)

    @property
    def key(self) -> str:
        base = f"{self.tool}-{self.latency}-{self.customers}"
        return base if self.then == "none" else f"{base}-{self.then}"


# --- rendering (pure) --------------------------------------------------------------------------------


def first(result: Mapping[str, Any], keys: Iterable[str]) -> Any:
    return next((result[k] for k in keys if result.get(k) is not None), None)


def cell(value: Any) -> str:
    """A table cell: blank for a missing value, thousands separators for counts."""
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.1f}"
    return str(value)


def label(entry: Mapping[str, Any]) -> str:
    version = (entry.get("result") or {}).get("tool_version") or "?"
    return LABELS.get(entry["tool"], entry["tool"]).format(version=version)


def then_of(entry: Mapping[str, Any]) -> str:
    return str(entry.get("then") or "none")


def ordered(entries: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    rank = {tool: i for i, tool in enumerate(TOOLS)}
    runs = {then: i for i, then in enumerate(("none", *THEN))}
    return sorted(
        entries,
        key=lambda e: (
            e["latency"] != "realistic",
            e["customers"],
            rank.get(e["tool"], 9),
            runs.get(then_of(e), 9),
        ),
    )


def then_of_entry(entry: Mapping[str, Any]) -> str:
    return "reconcile" if entry["tool"] == "reconcile" else then_of(entry)


def initial(entries: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Initial loads by the tools compared (what the plots and the correctness table show)."""
    return [e for e in entries if then_of(e) == "none" and e["tool"] in TOOLS]


def table(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return lines


def performance_rows(entries: Iterable[Mapping[str, Any]]) -> list[list[Any]]:
    rows = []
    for entry in ordered(entries):
        r = entry.get("result") or {}
        rows.append(
            [
                label(entry),
                RUN_LABELS.get(then_of_entry(entry), then_of_entry(entry)),
                entry["customers"],
                entry["latency"],
                r.get("wall_seconds"),
                r.get("peak_memory_mib"),
                first(r, ORACLE_KEYS),
                first(r, MAILCHIMP_KEYS),
                r.get("created"),
                r.get("sequential_bound_seconds"),
                r.get("ratio"),
            ]
        )
    return rows


def reported_counts(entry: Mapping[str, Any]) -> tuple[Any, Any]:
    """(synced, failed) in the tool's own words: what a user of it would be told."""
    r = entry.get("result") or {}
    said = r.get("tool_reported") or {}
    if entry["tool"] == "drt":
        return said.get("rows_synced"), said.get("rows_failed")
    if entry["tool"] == "sdk":
        return said.get("upserted"), said.get("failed")
    outcomes = said.get("outcomes") or {}
    synced = sum(int(outcomes.get(k) or 0) for k in ("created", "updated", "email_changed"))
    failed = int(said.get("failed") or 0) + int(outcomes.get("rejected") or 0)
    return (synced, failed) if outcomes else (None, said.get("failed"))


def correctness_rows(entries: Iterable[Mapping[str, Any]]) -> list[list[Any]]:
    rows = []
    for entry in ordered(initial(entries)):
        r = entry.get("result") or {}
        check = r.get("correctness")
        if not check:
            continue
        synced, failed = reported_counts(entry)
        keys = ("expected", "right", "missing", "wrong_company", "wrong_tags", "unexpected")
        rows.append([label(entry), entry["customers"], r.get("records"), *(check.get(k) for k in keys)])
        rows[-1] += [synced, failed]
    return rows


def failures(entries: Iterable[Mapping[str, Any]]) -> list[str]:
    """Runs without figures, and runs that exited non-zero (benchmarks.sync does over its own limits)."""
    lines = []
    for entry in ordered(entries):
        then = then_of(entry)
        run = "" if then == "none" else f" ({RUN_LABELS.get(then, then)})"
        where = f"- {label(entry)}, {entry['customers']:,} customers{run}:"
        code = entry.get("exit_code")
        if (entry.get("result") or {}).get("wall_seconds") is None:
            lines.append(f"{where} no result (exit {code})")
        elif code not in (0, None):
            why = (
                " (over benchmarks.sync's --max-ratio or --max-memory-mib)"
                if entry["tool"] == "connector"
                else ""
            )
            lines.append(f"{where} exit {code}{why}, figures kept")
    return lines


def generated_section(entries: Sequence[Mapping[str, Any]], plots: Sequence[str]) -> str:
    """The Markdown between the markers: tables from the results, the plots, runs that failed."""
    sizes = sorted({(e["latency"], e["customers"]) for e in entries})
    dates = sorted(str(e.get("measured_at", ""))[:10] for e in entries if e.get("measured_at"))
    cpus = sorted({str((e.get("machine") or {}).get("cpus")) for e in entries})
    ran = ", ".join(f"{n:,} ({lat})" for lat, n in sizes) or "none"
    revisions = ", ".join(sorted({str(e["revision"]) for e in entries if e.get("revision")})) or "?"
    lines = [
        BEGIN,
        "<!-- Generated by `python -m benchmarks.report` from benchmarks/results/*.json: do not edit. -->",
        "",
        f"Sizes run: {ran}. Measured {dates[0] if dates else '?'} to {dates[-1] if dates else '?'} "
        f"on {'/'.join(cpus)} CPU(s), at revision {revisions}.",
        "",
        "### Speed, memory and calls",
        "",
        *table(
            (
                "Tool",
                "Run",
                "Customers",
                "Latency",
                "Wall s",
                "Peak MiB",
                "Oracle calls",
                "Mailchimp calls",
                "Members created",
                "sequential_bound_seconds",
                "Wall / bound",
            ),
            performance_rows(entries),
        ),
        "",
        "### Correctness of the audience",
        "",
        *table(
            (
                "Tool",
                "Customers",
                "Rows read",
                "Expected members",
                "Right",
                "Missing",
                "Wrong company",
                "Wrong tags",
                "Unexpected",
                "Tool says synced",
                "Tool says failed",
            ),
            correctness_rows(entries),
        ),
    ]
    if plots:
        lines += ["", "### Plots", ""] + [f"![{Path(p).stem}]({p})" for p in plots]
    failed = failures(entries)
    if failed:
        lines += ["", "Runs that exited non-zero or printed no figures:", "", *failed]
    return "\n".join([*lines, END])


def update_document(text: str, section: str) -> str:
    """`text` with its generated section replaced (appended when it has none)."""
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        return head + section + rest.split(END, 1)[1]
    return text.rstrip("\n") + "\n\n## Results\n\n" + section + "\n"


def plot_series(entries: Iterable[Mapping[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Per tool (and latency, when not realistic): points of customers, wall seconds and peak MiB."""
    series: dict[str, list[dict[str, Any]]] = {}
    for entry in ordered(initial(entries)):
        r = entry.get("result") or {}
        if r.get("wall_seconds") is None:
            continue
        name = label(entry) + ("" if entry["latency"] == "realistic" else f", latency {entry['latency']}")
        point = {
            "customers": entry["customers"],
            "wall": r["wall_seconds"],
            "memory": r.get("peak_memory_mib"),
        }
        series.setdefault(name, []).append(point)
    return series


def load_results(directory: Path) -> list[dict[str, Any]]:
    return [json.loads(path.read_text()) for path in sorted(directory.glob("*.json"))]


# --- running (I/O) -----------------------------------------------------------------------------------


def command(run: Run, peers_venv: Path) -> list[str]:
    python = sys.executable
    if run.tool == "connector":
        argv = [python, "-m", "benchmarks.sync", "--customers", str(run.customers), "--latency", run.latency]
        return argv if run.then == "none" else [*argv, "--then", run.then]
    if run.tool == "reconcile":
        return [python, "-m", "benchmarks.reconcile", "--customers", str(run.customers)]
    tool = "connector" if run.tool == "check" else run.tool
    base = [python, "-m", "benchmarks.peers.run", "--tool", tool, "--customers", str(run.customers)]
    return [*base, "--latency", run.latency, "--peers-venv", str(peers_venv)]


def revision() -> str:
    """The commit measured, `+dirty` when the work tree had uncommitted changes."""
    git = ["git", "-C", str(REPO)]
    head = subprocess.run(
        [*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    dirty = subprocess.run(
        [*git, "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True
    )
    return (head or "?") + ("+dirty" if dirty.stdout.strip() else "")


def execute(run: Run, peers_venv: Path, results: Path) -> dict[str, Any]:
    """Run one benchmark; its JSON (printed even when benchmarks.sync exits 1 over a limit) is kept."""
    from benchmarks.peers.run import last_json

    argv = command(run, peers_venv)
    print(f"benchmarks.report: {run.key} ...", file=sys.stderr, flush=True)
    measured = revision()  # before the run: the commit whose code it runs
    done = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, check=False)
    entry = {
        "tool": run.tool,
        "customers": run.customers,
        "latency": run.latency,
        "then": run.then,
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join(["python", *argv[1:]]).replace(str(REPO) + "/", ""),
        "exit_code": done.returncode,
        "machine": {"cpus": os.cpu_count()},
        "revision": measured,
        "result": last_json(done.stdout),
    }
    results.mkdir(parents=True, exist_ok=True)
    (results / f"{run.key}.json").write_text(json.dumps(entry, indent=2) + "\n")
    if done.returncode and not entry["result"]:
        print(f"benchmarks.report: {run.key} failed: {done.stderr.strip()[-300:]}", file=sys.stderr)
    return entry


def plan(args: argparse.Namespace) -> list[Run]:
    tools = set(args.tools.split(","))
    sizes = {
        "connector": args.sizes,
        "check": args.check_sizes,
        "drt": args.sizes,
        "sdk": args.sdk_sizes,
    }
    runs = [Run(tool, n) for tool in TOOLS if tool in tools for n in sizes[tool]]
    if "connector" in tools:
        runs += [Run("connector", n, then=then) for n in args.then_sizes for then in THEN]
        runs.append(Run("reconcile", RECONCILE_CUSTOMERS))
    if args.with_1m:
        runs += [Run("connector", 1_000_000), Run("connector", 1_000_000, "none")]
    return runs


def render(results: Path, peers_venv: Path) -> None:
    entries = load_results(results)
    plots: list[str] = []
    python = peers_venv / "bin" / "python"
    if entries and python.exists():
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as data:
            json.dump(plot_series(entries), data)
        plot = REPO / "benchmarks" / "peers" / "plot.py"
        subprocess.run([str(python), str(plot), "--data", data.name, "--out", str(PLOTS)], check=True)
        os.unlink(data.name)
        plots = [f"docs/benchmarks/{name}.png" for name in PLOT_NAMES]
    elif entries:
        print(f"benchmarks.report: no {python}: plots left as they were", file=sys.stderr)
        plots = [f"docs/benchmarks/{name}.png" for name in PLOT_NAMES if (PLOTS / f"{name}.png").exists()]
    text = DOCUMENT.read_text() if DOCUMENT.exists() else "# Benchmarks\n"
    DOCUMENT.write_text(update_document(text, generated_section(entries, plots)))


def sizes(raw: str) -> list[int]:
    return [int(part.replace("_", "")) for part in raw.split(",") if part.strip()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=sizes, default=[1_000, 10_000, 100_000], help="connector and drt")
    parser.add_argument("--sdk-sizes", type=sizes, default=[1_000, 10_000], help="the per-record loop")
    parser.add_argument(
        "--check-sizes", type=sizes, default=[1_000, 10_000, 100_000], help="the connector CLI"
    )
    parser.add_argument(
        "--then-sizes",
        type=sizes,
        default=[100_000],
        help="the connector's incremental run (1%% changed) and no-op tick after an initial load",
    )
    parser.add_argument(
        "--with-1m", action="store_true", help="also 1M customers, realistic latency and --latency none"
    )
    parser.add_argument("--tools", default=",".join(TOOLS))
    parser.add_argument("--reuse", action="store_true", help="keep results already in benchmarks/results")
    parser.add_argument("--render-only", action="store_true", help="no runs: rebuild from the results")
    parser.add_argument("--peers-venv", type=Path, default=REPO / ".venv-peers")
    args = parser.parse_args(argv)
    unknown = set(args.tools.split(",")) - set(TOOLS)
    if unknown:
        parser.error(f"unknown tools: {', '.join(sorted(unknown))} (one of {', '.join(TOOLS)})")
    peers_venv = args.peers_venv.resolve()
    if not args.render_only:
        runs = plan(args)
        needs_peers = any(run.tool in ("drt", "sdk") for run in runs)
        if needs_peers and not (peers_venv / "bin" / "python").exists():
            print(
                f"benchmarks.report: no peers venv at {peers_venv} (make bench creates it)", file=sys.stderr
            )
            return 2
        for run in runs:
            if not (args.reuse and (RESULTS / f"{run.key}.json").exists()):
                execute(run, peers_venv, RESULTS)
    render(RESULTS, peers_venv)
    print(f"benchmarks.report: wrote {DOCUMENT.relative_to(REPO)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
