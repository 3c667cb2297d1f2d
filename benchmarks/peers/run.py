"""One initial sync by a peer (or the connector's CLI) on fresh sandboxes, measured like benchmarks.sync.

    .venv/bin/python -m benchmarks.peers.run --tool drt|sdk|connector --customers 10000 \
        [--latency realistic] [--peers-venv .venv-peers]

The two simulators run in processes of their own (`benchmarks.sandboxes`, as for benchmarks.sync),
and so does the tool: `drt run` from a scratch copy of benchmarks/peers/drt, the SDK loop
(benchmarks/peers/sdk_loop.py) in the peers venv, or `oracle-mailchimp sync` for the connector. Its
wall time and peak RSS are its own (os.wait4 on that one process). Then the sandboxes' stats give the
calls, and their data the correctness (benchmarks/peers/audit.py). Prints one JSON object with the
keys benchmarks.sync uses where they mean the same (wall_seconds, peak_memory_mib, records, created,
failed, oracle_requests, mailchimp_requests, ...).
"""

import argparse
import json
import os
import shutil
import string
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from benchmarks.peers.audit import audience_check
from benchmarks.sandboxes import start_sandbox

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
TOOLS = ("drt", "sdk", "connector")
PACKAGES = {"drt": "drt-core", "sdk": "mailchimp-marketing"}
TENANT = "bench"
SECRETS = ("ORACLE_CLIENT_SECRET", "MAILCHIMP_API_KEY")


@dataclass(frozen=True)
class Measured:
    """What one tool process did: exit code, wall seconds, peak RSS (MiB) and its output."""

    exit_code: int
    wall_seconds: float
    peak_memory_mib: float
    stdout: str
    stderr: str


def run_measured(argv: list[str], cwd: Path, env: dict[str, str], timeout_s: float) -> Measured:
    """Run one process to its end through measure.py, for its own rusage (not the harness's)."""
    out, err, usage = cwd / "tool.out", cwd / "tool.err", cwd / "tool.usage.json"
    wrapper = [sys.executable, str(HERE / "measure.py"), "--out", str(usage), "--timeout", str(timeout_s)]
    with out.open("wb") as stdout, err.open("wb") as stderr:
        subprocess.run([*wrapper, "--", *argv], cwd=cwd, env=env, stdout=stdout, stderr=stderr, check=True)
    measured = json.loads(usage.read_text())
    return Measured(
        int(measured["exit_code"]),
        float(measured["wall_seconds"]),
        float(measured["peak_memory_mib"]),
        out.read_text(errors="replace"),
        err.read_text(errors="replace"),
    )


def last_json(text: str) -> dict[str, Any]:
    """The last top-level JSON object a command printed (indented or not, after logs or not)."""
    decoder, found = json.JSONDecoder(), dict[str, Any]()
    start = text.find("{")
    while start != -1:
        try:
            value, end = decoder.raw_decode(text, start)
        except json.JSONDecodeError:
            start = text.find("{", start + 1)
            continue
        found = value if isinstance(value, dict) else found
        start = text.find("{", end)
    return found


def peer_version(python: Path, tool: str) -> str | None:
    if tool not in PACKAGES:
        return None
    code = f"import importlib.metadata as m; print(m.version({PACKAGES[tool]!r}))"
    answer = subprocess.run([str(python), "-c", code], capture_output=True, text=True, check=False)
    return answer.stdout.strip() or None


def drt_command(root: Path, env: dict[str, str], venv: Path) -> tuple[list[str], Path, dict[str, str]]:
    """A scratch copy of the drt project, and a scratch HOME whose .drt/profiles.yml points at Oracle."""
    project = root / "drt_project"
    shutil.copytree(HERE / "drt", project, ignore=shutil.ignore_patterns("profiles.yml"))
    home = root / "home"
    (home / ".drt").mkdir(parents=True)
    values = {**env, "ORACLE_ACCOUNTS_URL": env["ORACLE_BASE_URL"].rstrip("/") + env["ORACLE_RESOURCE_PATH"]}
    profile = string.Template((HERE / "drt" / "profiles.yml").read_text()).substitute(values)
    (home / ".drt" / "profiles.yml").write_text(profile)
    child = {**env, "HOME": str(home), "MAILCHIMP_USER": "drt", "DO_NOT_TRACK": "1"}
    return [str(venv / "bin" / "drt"), "run", "--output", "json"], project, child


def connector_command(root: Path, env: dict[str, str]) -> tuple[list[str], Path, dict[str, str]]:
    """The tenant registered in a scratch app database; `oracle-mailchimp sync` on a fresh DAGSTER_HOME."""
    from oracle_mailchimp_dagster.store.engine import Database
    from oracle_mailchimp_dagster.store.migrate import upgrade_schema
    from oracle_mailchimp_dagster.tenants.env_file import secrets_from_env, tenant_from_env
    from oracle_mailchimp_dagster.tenants.model import mapping_with_company
    from oracle_mailchimp_dagster.tenants.registry import TenantRegistry

    child = {
        **os.environ,
        "DAGSTER_HOME": str(root / "dagster_home"),
        "ORACLE_MAILCHIMP_DATABASE_URL": f"sqlite:///{root / 'app.db'}",
        "ORACLE_MAILCHIMP_KEY_FILE": str(root / "master.key"),
    }
    for name in ("ORACLE_MAILCHIMP_MASTER_KEY", "ORACLE_MAILCHIMP_CRASH_AT"):
        child.pop(name, None)
    os.environ.update({k: child[k] for k in ("ORACLE_MAILCHIMP_DATABASE_URL", "ORACLE_MAILCHIMP_KEY_FILE")})
    os.environ.pop("ORACLE_MAILCHIMP_MASTER_KEY", None)
    db = Database.from_url()
    upgrade_schema(db)
    tenant = tenant_from_env(TENANT, env, mapping=mapping_with_company())
    TenantRegistry.open(db).add(tenant, secrets_from_env(env))
    db.dispose()
    (root / "dagster_home").mkdir()
    cli = str(Path(sys.executable).with_name("oracle-mailchimp"))
    return [cli, "sync", TENANT, "--json"], root, child


def reported(tool: str, output: dict[str, Any]) -> tuple[int | None, int | None, dict[str, Any]]:
    """(rows read, failures) as the tool itself reports them, and its summary."""
    if tool == "drt":
        sync = (output.get("syncs") or [{}])[0]
        summary = {k: sync.get(k) for k in ("status", "rows_extracted", "rows_synced", "rows_failed")}
        return sync.get("rows_extracted"), sync.get("rows_failed"), summary
    if tool == "sdk":
        return output.get("rows_read"), output.get("failed"), output
    keys = ("success", "rows_read", "outcomes", "failed", "dead_letters")
    return output.get("rows_read"), output.get("failed"), {k: output.get(k) for k in keys}


class Sandboxes:
    """The two simulators of one run, by the env file `sandbox serve` wrote."""

    def __init__(self, env: dict[str, str]) -> None:
        self.fusion = env["ORACLE_BASE_URL"].rstrip("/") + "/__sandbox"
        self.mailchimp = env["MAILCHIMP_API_BASE"].removesuffix("/3.0") + "/__sandbox"
        self.list_id = env["MAILCHIMP_LIST_ID"]

    def get(self, url: str, **params: Any) -> Any:
        answer = requests.get(url, params=params, timeout=600)
        answer.raise_for_status()
        return answer.json()

    def customers(self) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        while True:
            page = self.get(self.fusion + "/customers", offset=len(items), limit=100_000)
            items += page["items"]
            if not page["hasMore"]:
                return items

    def members(self) -> list[dict[str, Any]]:
        return list(self.get(f"{self.mailchimp}/lists/{self.list_id}/members")["members"])


def measure(tool: str, customers: int, latency: str, venv: Path, timeout_s: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix=f"omd-peer-{tool}-") as work:
        root = Path(work)
        sandbox = start_sandbox(customers, root / "sandbox.env", latency)
        try:
            env = dict(line.split("=", 1) for line in (root / "sandbox.env").read_text().splitlines())
            if tool == "drt":
                argv, cwd, child = drt_command(root, env, venv)
            elif tool == "sdk":
                child = {**env, "PATH": os.environ.get("PATH", "")}
                argv, cwd = [str(venv / "bin" / "python"), str(HERE / "sdk_loop.py")], root
            else:
                argv, cwd, child = connector_command(root, env)
            done = run_measured(argv, cwd, child, timeout_s)
            boxes = Sandboxes(env)
            fusion, mailchimp = boxes.get(boxes.fusion + "/stats"), boxes.get(boxes.mailchimp + "/stats")
            members = boxes.members()
            check = audience_check(boxes.customers(), members)
        finally:
            sandbox.terminate()
            sandbox.wait(30)
    output = last_json(done.stdout)
    records, failed, summary = reported(tool, output)
    by_route = {k: sum(v.values()) for k, v in mailchimp["requests_by_route"].items()}
    return {
        "tool": tool,
        "tool_version": peer_version(venv / "bin" / "python", tool),
        "customers": customers,
        "latency": latency,
        "exit_code": done.exit_code,
        "records": records,
        "created": len(members),
        "failed": failed,
        "tool_reported": summary,
        "oracle_requests": fusion["requests_total"],
        "mailchimp_requests": mailchimp["requests_total"],
        "mailchimp_requests_by_route": by_route,
        "peak_mailchimp_in_flight": max(mailchimp["peak_in_flight_by_key"].values(), default=0),
        "wall_seconds": done.wall_seconds,
        "records_per_second": round(records / done.wall_seconds, 1)
        if records and done.wall_seconds
        else None,
        "peak_memory_mib": done.peak_memory_mib,
        "correctness": check,
        "stderr_tail": redact(done.stderr[-1500:], env) if done.exit_code else "",
    }


def redact(text: str, env: dict[str, str]) -> str:
    """The tail of a failed tool's stderr, without the sandbox credentials it may echo."""
    for name in SECRETS:
        if env.get(name):
            text = text.replace(env[name], "***")
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tool", choices=TOOLS, required=True)
    parser.add_argument("--customers", type=int, default=1000)
    parser.add_argument("--latency", choices=["realistic", "none"], default="realistic")
    parser.add_argument("--peers-venv", type=Path, default=REPO / ".venv-peers")
    parser.add_argument("--timeout", type=float, default=4 * 3600, help="seconds before the tool is killed")
    args = parser.parse_args(argv)
    venv = args.peers_venv.resolve()
    if args.tool != "connector" and not (venv / "bin" / "python").exists():
        print(f"no peers venv at {venv}: run `make bench` (or pass --peers-venv)", file=sys.stderr)
        return 2
    report = measure(args.tool, args.customers, args.latency, venv, args.timeout)
    print(json.dumps(report, indent=2))
    return 0 if report["exit_code"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
