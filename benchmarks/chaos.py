"""Chaos: kill the sync process with SIGKILL at random points, rerun, and check the audience.

    .venv/bin/python -m benchmarks.chaos --kills 20 [--customers 2000] [--latency realistic] [--seed 7]

Each round changes Oracle (renames, email changes, inactivations, new customers) and sometimes has a
contact unsubscribe in Mailchimp, starts `oracle-mailchimp sync` as a real process and kills it with
SIGKILL, then reruns the sync to completion. Each round also renames a block of customers, and the
runs settle chunks of 100 customers (ORACLE_MAILCHIMP_CHUNK_SIZE), so a round's run has several chunk
commits. The rounds take turns: a random delay into extraction, into planning or into the Mailchimp
writes (after the harness sees that step start in the Dagster instance), between the writes and the
first chunk's commit (the run kills itself there: ORACLE_MAILCHIMP_CRASH_AT=kill:before_commit),
between the first chunk's commit and the others (kill:after_chunk_commit@1), or at any moment of the
run (a delay up to the previous round's run time). After the last round the audience is compared with
an independent expectation (tests/support/expected.py):

- lost: an address an active customer holds that is not a live member with the customer's data;
- duplicated: a live member that no active customer holds (a copy left by a half-done email change);
- resubscribed: a member that was unsubscribed (by the contact, or for an inactive customer no active
  one shares the address with) and is subscribed again.

Prints JSON with the counts and the kills by phase; exits 1 when any count is not 0, a rerun failed, or
a round's run was not killed mid-run.
"""

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from benchmarks.sandboxes import SandboxProcesses, start_sandbox
from oracle_mailchimp_dagster.pipeline.plan import CHUNK_SIZE_ENV
from oracle_mailchimp_dagster.store.engine import Database
from oracle_mailchimp_dagster.store.migrate import upgrade_schema
from oracle_mailchimp_dagster.tenants.env_file import secrets_from_env, tenant_from_env
from oracle_mailchimp_dagster.tenants.model import mapping_with_company
from oracle_mailchimp_dagster.tenants.registry import TenantRegistry
from tests.support.expected import expected_members

TENANT = "chaos"
RUN_TIMEOUT_S = 600.0
LIVE = frozenset({"subscribed", "transactional", "pending"})


@dataclass
class Sandboxes:
    """The two simulators' base URLs and the audience, from the env file `sandbox serve` writes."""

    env: dict[str, str]

    @property
    def fusion(self) -> str:
        return self.env["ORACLE_BASE_URL"].rstrip("/") + "/__sandbox"

    @property
    def mailchimp(self) -> str:
        return self.env["MAILCHIMP_API_BASE"].removesuffix("/3.0") + "/__sandbox"

    @property
    def list_id(self) -> str:
        return self.env["MAILCHIMP_LIST_ID"]

    def customers(self) -> list[dict[str, Any]]:
        answer = requests.get(self.fusion + "/customers", params={"limit": 100_000}, timeout=60)
        answer.raise_for_status()
        return list(answer.json()["items"])

    def members(self) -> dict[str, dict[str, Any]]:
        answer = requests.get(f"{self.mailchimp}/lists/{self.list_id}/members", timeout=60)
        answer.raise_for_status()
        return {m["email_address"].lower(): m for m in answer.json()["members"]}

    def fusion_call(self, method: str, path: str, **kwargs: Any) -> None:
        requests.request(method, self.fusion + path, timeout=60, **kwargs).raise_for_status()

    def unsubscribe(self, email: str) -> None:
        path = f"{self.mailchimp}/lists/{self.list_id}/members/{email}/unsubscribe"
        requests.post(path, timeout=60).raise_for_status()


@dataclass
class History:
    """What the rounds did that the final check needs: who must never be subscribed again."""

    unsubscribed: set[str] = field(default_factory=set)  # by the contacts themselves
    inactivated: set[str] = field(default_factory=set)  # addresses of customers Oracle inactivated
    kills: list[dict[str, Any]] = field(default_factory=list)
    failed_reruns: list[str] = field(default_factory=list)


def change_oracle(sandboxes: Sandboxes, rng: random.Random, round_no: int, history: History) -> None:
    """A handful of every kind of change, on customers whose address no other customer shares."""
    customers = sandboxes.customers()
    members = sandboxes.members()
    active = [c for c in customers if c["PartyStatus"] == "A" and c.get("EmailAddress")]
    picks = rng.sample(active, min(len(active), 8))
    for index, customer in enumerate(picks):
        number = customer["PartyNumber"]
        kind = index % 4
        if kind == 0:
            body = {"OrganizationName": f"Renamed {round_no}-{index} Ltd"}
            sandboxes.fusion_call("PATCH", f"/customers/{number}", json=body)
        elif kind == 1:
            body = {"EmailAddress": f"moved-{round_no}-{index}@chaos-{rng.randrange(10**6)}.io"}
            sandboxes.fusion_call("PATCH", f"/customers/{number}", json=body)
        elif kind == 2:
            # The default policy unsubscribes its member, unless another active customer holds it.
            history.inactivated.add(customer["EmailAddress"].strip().lower())
            sandboxes.fusion_call("POST", f"/customers/{number}/inactivate")
        else:
            email = customer["EmailAddress"].strip().lower()
            if members.get(email, {}).get("status") in LIVE and rng.random() < 0.5:
                sandboxes.unsubscribe(email)  # the contact's own choice, then an Oracle change
                history.unsubscribed.add(email)
            body = {"OrganizationName": f"Still Here {round_no}-{index}"}
            sandboxes.fusion_call("PATCH", f"/customers/{number}", json=body)
    new = {
        "OrganizationName": f"Chaos New {round_no} GmbH",
        "EmailAddress": f"new-{round_no}@chaos-new-{rng.randrange(10**6)}.io",
        "PartyStatus": "A",
        "Type": "ZCA_CUSTOMER",
        "CustomerClassCode": "SMB",
    }
    sandboxes.fusion_call("POST", "/customers", json=new)
    for index, customer in enumerate(rng.sample(active, min(len(active), BULK_RENAMES))):
        body = {"OrganizationName": f"Bulk {round_no}-{index} AG"}
        sandboxes.fusion_call("PATCH", f"/customers/{customer['PartyNumber']}", json=body)


# Renames per round besides the handful above, and customers per chunk: a round's run commits several
# chunks, so kills land between them.
BULK_RENAMES = 250
CHUNK_SIZE = 100


def sync_command() -> list[str]:
    # A short lease, so the run after a kill takes over the dead holder's lease in seconds.
    return [str(Path(sys.executable).with_name("oracle-mailchimp")), "sync", TENANT, "--lease-ttl", "3"]


def run_to_end(env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    command, timeout = sync_command(), RUN_TIMEOUT_S
    return subprocess.run(command, env=dict(env), capture_output=True, text=True, timeout=timeout)


# Where a round kills the run: after a step has started (a random delay into it), between the
# Mailchimp writes and the ledger commit (the run kills itself there), or at a random moment.
PHASES = ("extraction", "planning", "mailchimp writes", "before commit", "between chunk commits", "anywhere")
CRASH_OF_PHASE = {"before commit": "kill:before_commit", "between chunk commits": "kill:after_chunk_commit@1"}
STEP_OF_PHASE = {
    "extraction": "fusion_customers",
    "planning": "mailchimp_members",
    "mailchimp writes": "mailchimp_sync_results",
}
STEP_WAIT_S = 120.0


def started_steps(instance: Any, known_runs: set[str]) -> set[str]:
    """The steps the newest run not in `known_runs` has started (empty before it exists)."""
    runs = [r for r in instance.get_runs(limit=3) if r.run_id not in known_runs]
    if not runs:
        return set()
    return {
        e.step_key
        for e in instance.all_logs(runs[0].run_id)
        if e.dagster_event is not None and e.dagster_event.event_type_value == "STEP_START" and e.step_key
    }


def run_and_kill(env: Mapping[str, str], phase: str, rng: random.Random, run_s: float) -> dict[str, Any]:
    """Start a sync and SIGKILL it in `phase` (unless it finished first); say whether it was killed.
    `run_s`: how long the previous round's run took (the bound of a kill at any moment)."""
    import dagster as dg

    child_env = dict(env)
    crash = CRASH_OF_PHASE.get(phase)
    if crash is not None:
        child_env["ORACLE_MAILCHIMP_CRASH_AT"] = crash
    os.environ["DAGSTER_HOME"] = env["DAGSTER_HOME"]
    with dg.DagsterInstance.get() as instance:
        known = {r.run_id for r in instance.get_runs()}
        proc = subprocess.Popen(
            sync_command(), env=child_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        step = STEP_OF_PHASE.get(phase)
        delay = rng.uniform(0.0, 0.6) if step else rng.uniform(0.5, max(run_s * 0.8, 0.6))
        if step is not None:
            deadline = time.monotonic() + STEP_WAIT_S
            while proc.poll() is None and step not in started_steps(instance, known):
                if time.monotonic() > deadline:
                    break
                time.sleep(0.05)  # polling the instance for the step, with a deadline
        try:
            proc.wait(timeout=delay if crash is None else RUN_TIMEOUT_S)
            killed = proc.returncode == -signal.SIGKILL
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            proc.wait(60)
            killed = True
    return {"phase": phase, "delay_s": round(delay, 2), "killed": killed, "exit": proc.returncode}


def _wrong(member: dict[str, Any] | None, want: dict[str, Any], statuses: frozenset[str]) -> str | None:
    """Why this member is not what the customer says it should be, or None when it is."""
    if member is None:
        return "missing"
    if member["status"] not in statuses:
        return f"status {member['status']}"
    if member["merge_fields"].get("COMPANY", "") != want["company"][:255]:
        return f"COMPANY {member['merge_fields'].get('COMPANY')!r} != {want['company']!r}"
    if set(member.get("tags") or ()) != want["tags"]:
        return f"tags {sorted(member.get('tags') or ())} != {sorted(want['tags'])}"
    return None


def audit(sandboxes: Sandboxes, history: History) -> dict[str, Any]:
    """The final comparison: lost, duplicated and resubscribed members, with a sample of each."""
    expected = expected_members(sandboxes.customers())
    members = sandboxes.members()
    lost = {}
    for email, want in expected.items():
        statuses = LIVE if email not in history.unsubscribed else frozenset({"unsubscribed"})
        reason = _wrong(members.get(email), want, statuses)
        if reason is not None:
            lost[email] = reason
    duplicated = sorted(e for e, m in members.items() if m["status"] in LIVE and e not in expected)
    resubscribed = sorted(e for e in history.unsubscribed if members.get(e, {}).get("status") == "subscribed")
    return {
        "lost": len(lost),
        "duplicated": len(duplicated),
        "resubscribed": len(resubscribed),
        "sample": {"lost": dict(list(lost.items())[:5]), "duplicated": duplicated[:5]},
    }


def prepare(root: Path, customers: int, latency: str) -> tuple[SandboxProcesses, Sandboxes, dict[str, str]]:
    """The sandbox process, a registered tenant and the environment every sync process gets."""
    env = {
        **os.environ,
        "DAGSTER_HOME": str(root / "dagster_home"),
        "ORACLE_MAILCHIMP_DATABASE_URL": f"sqlite:///{root / 'app.db'}",
        "ORACLE_MAILCHIMP_KEY_FILE": str(root / "master.key"),
    }
    env.pop("ORACLE_MAILCHIMP_MASTER_KEY", None)
    env.pop("ORACLE_MAILCHIMP_CRASH_AT", None)
    env[CHUNK_SIZE_ENV] = str(CHUNK_SIZE)
    os.environ.update({k: env[k] for k in ("ORACLE_MAILCHIMP_DATABASE_URL", "ORACLE_MAILCHIMP_KEY_FILE")})
    sandbox = start_sandbox(customers, root / "sandbox.env", latency)
    values = dict(line.split("=", 1) for line in (root / "sandbox.env").read_text().splitlines())
    db = Database.from_url()
    upgrade_schema(db)
    TenantRegistry.open(db).add(
        tenant_from_env(TENANT, values, mapping=mapping_with_company()), secrets_from_env(values)
    )
    db.dispose()
    (root / "dagster_home").mkdir()
    return sandbox, Sandboxes(values), env


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--latency", choices=["realistic", "none"], default="realistic")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--no-kill",
        action="store_true",
        help="the same rounds without killing: separates sync rules from crashes",
    )
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    history = History()
    with tempfile.TemporaryDirectory(prefix="omd-chaos-") as work:
        sandbox, sandboxes, env = prepare(Path(work), args.customers, args.latency)
        try:
            started = time.monotonic()
            first = run_to_end(env)  # the initial load, unkilled: how long a run takes
            full_run_s = time.monotonic() - started
            if first.returncode != 0:
                history.failed_reruns.append(first.stdout[-500:] + first.stderr[-500:])
            run_s = full_run_s
            for round_no in range(args.kills):
                change_oracle(sandboxes, rng, round_no, history)
                if not args.no_kill:
                    phase = PHASES[round_no % len(PHASES)]
                    history.kills.append(run_and_kill(env, phase, rng, run_s))
                started = time.monotonic()
                rerun = run_to_end(env)
                run_s = time.monotonic() - started
                if rerun.returncode != 0:
                    history.failed_reruns.append(rerun.stdout[-500:] + rerun.stderr[-500:])
            counts = audit(sandboxes, history)
        finally:
            sandbox.terminate()
            sandbox.wait(30)
    report = {
        "kills": args.kills,
        "customers": args.customers,
        "latency": args.latency,
        "full_run_seconds": round(full_run_s, 1),
        "killed_mid_run": sum(1 for k in history.kills if k["killed"]),
        **counts,
        "failed_reruns": len(history.failed_reruns),
        "failed_rerun_output": history.failed_reruns[:3],
        "kills_by_phase": dict(Counter(k["phase"] for k in history.kills if k["killed"])),
        "not_killed": [k["phase"] for k in history.kills if not k["killed"]],
        "kill_delays_s": [k["delay_s"] for k in history.kills],
    }
    print(json.dumps(report, indent=2))
    damage = counts["lost"] + counts["duplicated"] + counts["resubscribed"]
    clean = damage == 0 and not history.failed_reruns and not report["not_killed"]
    return 0 if clean else 1


if __name__ == "__main__":
    sys.exit(main())
