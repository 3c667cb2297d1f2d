"""Processes racing for one tenant's lease, to prove that taking it is atomic across processes.

Each contender takes the lease as often as it can until it has held it `holds` times, and while
holding it increments a counter file with a plain read and write: the lease is the only thing keeping
the two read-modify-writes apart, so a lost increment (or overlapping hold intervals) means two
processes held it at once. Every other hold ends by expiring the lease in place instead of releasing
it, so both ways of taking it (insert when absent, take over when expired) are raced.
"""

import json
import multiprocessing
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from oracle_mailchimp_dagster.store.engine import Database
from oracle_mailchimp_dagster.store.leases import LeaseStore
from oracle_mailchimp_dagster.store.location import normalise_url

LONG_TTL = timedelta(minutes=5)  # no hold may expire by itself: only the contenders end them


@dataclass(frozen=True)
class RaceResult:
    """What one contender saw: its hold intervals (monotonic clock, shared by processes on Linux)."""

    holder: str
    intervals: list[tuple[float, float]]
    refusals: int


def contend(url: str, tenant_id: str, holder: str, holds: int, workdir: str, barrier: Any) -> None:
    """One contender (run in its own process); writes its RaceResult as JSON to workdir/holder.json."""
    db = Database.from_url(normalise_url(url))
    leases = LeaseStore(db)
    counter = Path(workdir) / "counter"
    intervals: list[tuple[float, float]] = []
    refusals = 0
    barrier.wait(timeout=60)
    while len(intervals) < holds:
        lease = leases.try_acquire(tenant_id, holder, LONG_TTL)
        if lease is None:
            refusals += 1
            continue
        start = time.monotonic()
        value = int(counter.read_text())
        counter.write_text(str(value + 1))
        intervals.append((start, time.monotonic()))
        if len(intervals) % 2:
            leases.release(lease)
        else:
            leases.renew(lease, timedelta(0))  # expired now: the next taker takes it over
    db.dispose()
    result = {"holder": holder, "intervals": intervals, "refusals": refusals}
    (Path(workdir) / f"{holder}.json").write_text(json.dumps(result))


def race(
    url: str, tenant_id: str, workdir: Path, *, contenders: int = 2, holds: int = 40
) -> list[RaceResult]:
    """Start the contenders as separate processes at one barrier and collect what each saw."""
    (workdir / "counter").write_text("0")
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(contenders)
    processes = [
        context.Process(target=contend, args=(url, tenant_id, f"racer-{n}", holds, str(workdir), barrier))
        for n in range(contenders)
    ]
    for process in processes:
        process.start()
    try:
        for process in processes:
            process.join(timeout=120)
            assert process.exitcode == 0, f"contender exited with {process.exitcode}"
    finally:
        for process in processes:
            if process.is_alive():
                process.kill()
                process.join()
    results = []
    for n in range(contenders):
        data = json.loads((workdir / f"racer-{n}.json").read_text())
        results.append(RaceResult(data["holder"], [tuple(i) for i in data["intervals"]], data["refusals"]))
    return results


def counter_value(workdir: Path) -> int:
    return int((workdir / "counter").read_text())
