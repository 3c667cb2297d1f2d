"""One writer per tenant through real `oracle-mailchimp sync` processes, the sandboxes over HTTP and a
real DAGSTER_HOME instance.

The CLI executes its run in process, outside the instance's queue and so outside dagster.yaml's one
run per tenant: only the tenant's lease keeps two of them apart. Run A's Mailchimp batch is held by
the sandbox (a delay fault); a second run started meanwhile must wait for A's commit, fail naming A
when it may not wait that long, or, if A dies, go ahead once A's lease has expired.
"""

import os
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from tests.support.cli_sync import (
    TENANT,
    CliWorld,
    SyncProcess,
    logged,
    materialization,
    open_cli_world,
    step_window,
)
from tests.support.dagster_dev import poll
from tests.support.expected import assert_audience_matches
from tests.support.scenario import sole_holders

# Long enough for a second process to start (importing Dagster takes ~4 s, twice that on a busy
# machine, e.g. under 4 xdist workers on 2 cores) and find A's lease while A's batch is held.
BATCH_DELAY_MS = 15000
# Held until A is killed, which happens once B is seen waiting for A's lease (so no race with B's start).
HELD_UNTIL_KILLED_MS = 30000
NEW_NAME = "Renamed While Syncing Ltd"
MAILCHIMP_STEPS = {"mailchimp_members", "mailchimp_sync_results"}


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliWorld]:
    monkeypatch.setenv("ORACLE_MAILCHIMP_KEY_FILE", str(tmp_path / "master.key"))
    monkeypatch.delenv("ORACLE_MAILCHIMP_MASTER_KEY", raising=False)
    with open_cli_world(tmp_path, dict(os.environ)) as world:
        yield world


def start_slow_first_run(
    world: CliWorld, *args: str, delay_ms: int = BATCH_DELAY_MS
) -> tuple[SyncProcess, str]:
    """Run A, its batch held in the sandbox; returns it once it holds the tenant, with its run id."""
    world.slow_next_batch(delay_ms)
    first = world.start_sync("A", *args)
    lease = poll(world.lease, timeout_s=60, what="run A taking the tenant's lease")
    return first, lease.holder


def test_a_second_sync_waits_for_the_first_and_oracles_latest_name_wins(world: CliWorld) -> None:
    (renamed,) = sole_holders(world.customers(), 1)
    email = renamed["EmailAddress"].strip().lower()
    first, holder = start_slow_first_run(world)
    second = world.start_sync("B")  # while A holds the tenant
    poll(world.batch_delayed, timeout_s=60, what="run A's batch reaching Mailchimp")
    # A has read Oracle and is writing the old name; the customer is renamed in Oracle meanwhile.
    world.fusion_control("PATCH", f"/customers/{renamed['PartyNumber']}", json={"OrganizationName": NEW_NAME})

    a, b = first.wait(), second.wait()
    assert (a.code, b.code) == (0, 0), a.err + b.err
    run_a, run_b = a.report()["run_id"], b.report()["run_id"]
    assert run_a == holder

    assert world.members()[email]["merge_fields"]["COMPANY"] == NEW_NAME
    assert_audience_matches(world)
    [row] = [e for e in world.store.ledger.for_run(TENANT, run_b) if e.customer_key == renamed["PartyNumber"]]
    assert row.outcome == "updated"
    a_committed = max(e.recorded_at for e in world.store.ledger.for_run(TENANT, run_a))
    with world.instance() as instance:
        assert logged(instance, run_b, f"tenant 'acme' is being synced by run {run_a}")  # B waited for A
        assert materialization(instance, run_b, "fusion_customers")["lease_waited_s"] > 0
        b_mailchimp_start, _ = step_window(instance, run_b, MAILCHIMP_STEPS)
        a_mailchimp_start, _ = step_window(instance, run_a, MAILCHIMP_STEPS)
    # The runs' Mailchimp work never overlaps: A wrote and committed before B's first Mailchimp call.
    assert a_mailchimp_start < a_committed.timestamp() <= b_mailchimp_start
    # ... and the sandbox saw B's write of the new name after A's commit (its clock has seconds).
    changed = datetime.fromisoformat(world.members()[email]["last_changed"])
    assert changed >= a_committed.replace(microsecond=0)
    assert world.lease() is None


def test_a_second_sync_that_may_not_wait_long_enough_exits_1_naming_the_run_holding_the_tenant(
    world: CliWorld,
) -> None:
    first, holder = start_slow_first_run(world)
    second = world.start_sync("B", "--lease-wait", "1")

    refused = second.wait()
    assert refused.code == 1
    lines = refused.err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in refused.err + refused.out, refused.err
    report = refused.report()
    assert lines[0].startswith(
        f"oracle-mailchimp: run {report['run_id']} failed: tenant 'acme' is being synced by run {holder} "
        "(lease until "
    )
    assert lines[0].endswith("; waited 1 s for it, try again when that run has finished")
    assert report["success"] is False and report["ledger_rows"] == 0 and report["rows_read"] is None

    done = first.wait()
    assert done.code == 0 and done.report()["run_id"] == holder
    assert_audience_matches(world)


def test_the_lease_of_a_killed_sync_expires_and_the_next_sync_proceeds(world: CliWorld) -> None:
    # A is killed mid-write (its batch held by the sandbox) once B is waiting for A's lease.
    first, holder = start_slow_first_run(world, "--lease-ttl", "8", delay_ms=HELD_UNTIL_KILLED_MS)
    second = world.start_sync("B")  # starting up while A holds the tenant
    poll(world.batch_delayed, timeout_s=60, what="run A's batch reaching Mailchimp")
    waiting = poll(lambda: world.run_waiting_for(holder), timeout_s=60, what="run B waiting for A's lease")
    first.kill()  # holding the tenant: no release, no teardown, no more renewals
    orphan = world.lease()
    assert orphan is not None and orphan.holder == holder

    done = second.wait()
    assert done.code == 0, done.err
    run_b = done.report()["run_id"]
    assert run_b == waiting
    with world.instance() as instance:
        assert logged(instance, run_b, f"tenant 'acme' is being synced by run {holder}")
    b_rows = world.store.ledger.for_run(TENANT, run_b)
    assert b_rows and min(e.recorded_at for e in b_rows) >= orphan.expires_at  # only after A's lease expired
    assert world.store.ledger.for_run(TENANT, holder) == []  # A never committed
    assert_audience_matches(world)
    assert world.lease() is None
