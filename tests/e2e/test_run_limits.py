"""dagster.yaml's run limits under a real `dagster dev`: one run per tenant, one per Mailchimp key, and
nothing serialized beyond that, for runs tagged by the sensors and for runs launched as the UI
launches them alike.

Five runs are launched at once through GraphQL. Three are tagged as the sensors tag them: two for
`acme` and one for `initech` (its own key and audience). Two carry only their partition, as the UI's
Materialize button and a backfill submit them: one for `acme`, one for `globex` (same Mailchimp key as
acme, its own audience). The run coordinator tags those two on submission, so the per-tenant limit
holds `acme-ui` and the per-key limit holds `globex`.

Fusion answers each page after a second, so a first sync lasts about ten seconds: longer than the
daemon's 5 s dequeue interval, so initech must start while an acme or globex run is still going, and
a missing limit cannot hide behind the queue's own pace. Sensors are stopped before any tenant
exists, as in the backfill test, so no other run appears.
"""

import signal
from collections.abc import Iterator
from itertools import combinations
from pathlib import Path
from typing import Any

import pytest
import requests
from pydantic import SecretStr

from oracle_mailchimp_dagster.defs.jobs import tenant_sync_job
from oracle_mailchimp_dagster.defs.partitions import TENANTS
from oracle_mailchimp_dagster.defs.run_tags import (
    MAILCHIMP_KEY_TAG,
    TENANT_TAG,
    TRIGGER_TAG,
    Trigger,
    run_tags,
)
from oracle_mailchimp_dagster.local.demo_workspace import LocalWorkspace
from oracle_mailchimp_dagster.local.dev import group_alive
from oracle_mailchimp_dagster.sandbox.runner import SandboxOptions, SandboxPair
from oracle_mailchimp_dagster.store import SecretName
from oracle_mailchimp_dagster.sync.identity import credential_fingerprint
from oracle_mailchimp_dagster.tenants import TenantConfig
from tests.support.dagster_dev import (
    TERMINAL_RUN_STATUSES,
    DagsterDev,
    poll,
    running_dagster_dev,
)
from tests.support.e2e_tenants import customers, live_members, new_audience, tenant
from tests.support.expected import expected_members

CUSTOMERS = 200
PAGE_SIZE = 20  # ten Fusion pages per full extract
PAGE_LATENCY_MS = 1000.0  # so a first sync spends ~10 s extracting: two dequeue intervals
# Not the sandbox's default key: its credential label (last four hex digits) differs too.
INITECH_API_KEY_HEAD = "5f3c9a7e1b2d4c6f8a0e9d7b3c5a1f2e"
MAILCHIMP_CONNECTION_LIMIT = 10
RUNS_TIMEOUT_S = 240.0
PARTITION_TAG = "dagster/partition"
# (name, tenant, tagged as the sensors tag runs): the others are launched as the UI or a backfill
# launches them, with their partition only, and tagged by the run coordinator.
LAUNCHES = (
    ("acme#1", "acme", True),
    ("acme#2", "acme", True),
    ("globex", "globex", False),
    ("initech", "initech", True),
    ("acme-ui", "acme", False),
)


@pytest.fixture
def sandboxes() -> Iterator[SandboxPair]:
    with SandboxPair(SandboxOptions(customers=CUSTOMERS, latency="none")) as pair:
        yield pair


def register_api_key(pair: SandboxPair, api_key: str) -> None:
    response = requests.post(
        f"{pair.mailchimp.url}/__sandbox/api-keys", json={"api_key": api_key}, timeout=30
    )
    assert response.status_code == 200, response.text


def slow_fusion_pages(pair: SandboxPair, request_ms: float) -> None:
    response = requests.put(
        f"{pair.fusion.url}/__sandbox/latency", json={"request_ms": request_ms}, timeout=30
    )
    assert response.status_code == 200, response.text
    assert response.json()["request_ms"] == request_ms


def paged_tenant(tenant_id: str, list_id: str, pair: SandboxPair) -> TenantConfig:
    """The shared e2e tenant, reading Fusion in small pages."""
    base = tenant(tenant_id, list_id, pair)
    return base.model_copy(update={"oracle": base.oracle.model_copy(update={"page_size": PAGE_SIZE})})


def overlap(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return bool(a["startTime"] < b["endTime"] and b["startTime"] < a["endTime"])


def timeline(runs: dict[str, dict[str, Any]], names: dict[str, str]) -> str:
    """Each run's name, status and start / end in seconds from the first start, in order of start."""
    starts = [r["startTime"] for r in runs.values() if r["startTime"] is not None]
    origin = min(starts) if starts else 0.0

    def at(value: float | None) -> str:
        return "-" if value is None else f"{value - origin:+.1f}s"

    return "; ".join(
        f"{names[run_id]} {r['status']} {at(r['startTime'])}..{at(r['endTime'])}"
        for run_id, r in sorted(runs.items(), key=lambda item: item[1]["startTime"] or float("inf"))
    )


def test_runs_are_serialized_per_tenant_and_per_mailchimp_key_and_only_so(
    sandboxes: SandboxPair, tmp_path: Path
) -> None:
    pair = sandboxes
    shared_key = pair.mailchimp.config.api_key
    initech_key = f"{INITECH_API_KEY_HEAD}-{pair.mailchimp.config.dc}"
    register_api_key(pair, initech_key)
    keys = {"acme": shared_key, "globex": shared_key, "initech": initech_key}
    lists = {
        "acme": pair.mailchimp.config.list_id,
        "globex": new_audience(pair, "Globex Customers"),
        "initech": new_audience(pair, "Initech Customers"),
    }
    workspace = LocalWorkspace(tmp_path / "dagster_home")
    registry = workspace.open_registry()
    try:
        with running_dagster_dev(workspace, tmp_path / "dagster_dev.log") as dev:
            repo = dev.repository_selector()
            dev.stop_all_sensors(repo)
            for tenant_id, list_id in lists.items():
                registry.add(
                    paged_tenant(tenant_id, list_id, pair),
                    {
                        SecretName.ORACLE_CLIENT_SECRET: pair.fusion.config.client_secret,
                        SecretName.MAILCHIMP_API_KEY: SecretStr(keys[tenant_id]),
                    },
                )
                dev.add_partition(repo, TENANTS, tenant_id)
            slow_fusion_pages(pair, PAGE_LATENCY_MS)

            names: dict[str, str] = {}
            for name, tenant_id, keyed in LAUNCHES:
                tags = {PARTITION_TAG: tenant_id}
                if keyed:
                    tags |= run_tags(tenant_id, keys[tenant_id], Trigger.SCHEDULE)
                names[dev.launch_run(repo, tenant_sync_job.name, tags)] = name
            runs = wait_for_runs(dev, names)
            dev.stop()
    finally:
        registry.db.dispose()

    # dagster dev stopped by itself on SIGTERM, with every process of its group.
    assert dev.stop_messages == ["Stopping dagster dev ..."], dev.stop_messages
    assert dev.process.returncode in (0, -signal.SIGTERM), dev.process.returncode
    assert not group_alive(dev.process.pid)

    by_name = {names[run_id]: run for run_id, run in runs.items()}
    story = timeline(runs, names)
    assert all(run["status"] == "SUCCESS" for run in runs.values()), story

    # One run per tenant, however launched: no two acme runs side by side.
    acme = ("acme#1", "acme#2", "acme-ui")
    for a, b in combinations(acme, 2):
        assert not overlap(by_name[a], by_name[b]), f"{a} / {b}: {story}"
    # One run per Mailchimp key: globex, launched as the UI launches it, never alongside an acme run.
    for a in acme:
        assert not overlap(by_name[a], by_name["globex"]), f"{a} / globex: {story}"
    # Nothing more: initech (own tenant, own key) ran alongside one of the others.
    others = [name for name in by_name if name != "initech"]
    assert any(overlap(by_name["initech"], by_name[other]) for other in others), story

    # The key tag is a fingerprint shared by acme and globex only, on the UI-style runs too (added by
    # the run coordinator, with the tenant and the trigger `ui`); no tag carries a secret.
    fingerprints = {name: tag_values(run).get(MAILCHIMP_KEY_TAG) for name, run in by_name.items()}
    assert fingerprints == {
        "acme#1": credential_fingerprint(shared_key),
        "acme#2": credential_fingerprint(shared_key),
        "globex": credential_fingerprint(shared_key),
        "initech": credential_fingerprint(initech_key),
        "acme-ui": credential_fingerprint(shared_key),
    }
    whom = {
        name: (tag_values(run)[TENANT_TAG], tag_values(run)[TRIGGER_TAG]) for name, run in by_name.items()
    }
    assert whom == {
        "acme#1": ("acme", "schedule"),
        "acme#2": ("acme", "schedule"),
        "globex": ("globex", "ui"),
        "initech": ("initech", "schedule"),
        "acme-ui": ("acme", "ui"),
    }
    assert credential_fingerprint(shared_key) != credential_fingerprint(initech_key)
    key_heads = [key.partition("-")[0] for key in (shared_key, initech_key)]  # the key without its dc
    secrets = (*key_heads, pair.fusion.config.client_secret.get_secret_value())
    for run in runs.values():
        for key, value in tag_values(run).items():
            assert not any(secret in key or secret in value for secret in secrets), key

    # Mailchimp saw at most its 10 connections per key, refused none, and each tenant's audience is built.
    stats = requests.get(f"{pair.mailchimp.url}/__sandbox/stats", timeout=30).json()
    assert stats["too_many_requests"] == 0, stats["too_many_requests_by_key"]
    peaks = stats["peak_in_flight_by_key"]
    assert len(peaks) == 2 and max(peaks.values()) <= MAILCHIMP_CONNECTION_LIMIT, peaks
    expected = set(expected_members(customers(pair)))
    assert expected
    for tenant_id, list_id in lists.items():
        assert set(live_members(pair, list_id)) == expected, tenant_id


def tag_values(run: dict[str, Any]) -> dict[str, str]:
    return {t["key"]: t["value"] for t in run["tags"]}


def wait_for_runs(dev: DagsterDev, names: dict[str, str]) -> dict[str, dict[str, Any]]:
    """Poll until every run is terminal; on the deadline, fail with the timeline and the log's end."""

    def all_finished() -> dict[str, dict[str, Any]] | None:
        runs = dev.runs(list(names))
        assert sorted(runs) == sorted(names), runs
        return runs if all(r["status"] in TERMINAL_RUN_STATUSES for r in runs.values()) else None

    try:
        return poll(all_finished, RUNS_TIMEOUT_S, "every launched run finishes", interval_s=1.0)
    except AssertionError as exc:
        story = timeline(dev.runs(list(names)), names)
        raise AssertionError(f"{exc}: {story}; dagster dev's log ends:\n{dev.log()[-4000:]}") from None
