"""The Dagster UI as a person uses it, in headless Debian Chromium against a real `dagster dev`:

the asset graph shows the three assets; the Materialize button's dialog launches a run of one tenant
partition, which the run page shows succeeding; the tenant partition's latest materialization is that
run's, with its metadata; and (through GraphQL) the run the browser launched carries the tenant tag.

Sensors are stopped before the tenant exists (as in the backfill test), so the only run is the one
the browser launches. Each stage is a screenshot in the folder the test prints.
"""

from __future__ import annotations  # Page is only known once the import below succeeds

import contextlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# Without Playwright the tests' require_browser() fails them in one line, instead of collection failing.
with contextlib.suppress(ImportError):
    from playwright.sync_api import Page, expect

from oracle_mailchimp_dagster.defs.assets import GROUP
from oracle_mailchimp_dagster.defs.partitions import TENANTS
from oracle_mailchimp_dagster.defs.run_tags import TENANT_TAG, TRIGGER_TAG
from oracle_mailchimp_dagster.local.demo_workspace import LocalWorkspace
from oracle_mailchimp_dagster.sandbox.runner import SandboxOptions, SandboxPair
from tests.support import browser
from tests.support.browser import Screenshots, artifacts_dir, chromium_page, exact, require_browser
from tests.support.dagster_dev import DagsterDev, running_dagster_dev, workspace_cli

TENANT = "acme"
CUSTOMERS = 40
ASSETS = ("fusion_customers", "mailchimp_members", "mailchimp_sync_results")
PAGE_TIMEOUT_MS = 60_000  # the first page load compiles the UI's bundle on a busy two-core machine
RUN_TIMEOUT_MS = 120_000  # queued, picked up by the daemon, three steps and the checks
RUN_STATUSES = ("Success", "Failure", "Canceled")
PNG = b"\x89PNG\r\n\x1a\n"
RUN_PATH = re.compile(r"^/runs/[0-9a-f-]{36}$")


@pytest.fixture
def sandboxes() -> Iterator[SandboxPair]:
    require_browser()  # before anything starts: one clear line when the browser is missing
    with SandboxPair(SandboxOptions(customers=CUSTOMERS, latency="none")) as pair:
        yield pair


def register_tenant(workspace: LocalWorkspace, env_file: Path) -> None:
    """`oracle-mailchimp tenants add`, as an operator types it (consent said explicitly)."""
    workspace_cli(
        workspace, "tenants", "add", TENANT, "--env-file", str(env_file), "--status-if-new", "transactional"
    )


def tags_of(run: dict[str, Any]) -> dict[str, str]:
    return {t["key"]: t["value"] for t in run["tags"]}


def metadata_value(page: Page, key: str) -> str:
    """The value cell beside `key` in the metadata table of the page."""
    row = page.get_by_role("row").filter(has=page.get_by_role("cell", name=exact(key)))
    expect(row).to_have_count(1)
    return row.get_by_role("cell").nth(1).inner_text().strip()


def number(text: str) -> int:
    return int(text.replace(",", ""))


def open_asset_graph(page: Page, dev: DagsterDev, location: str) -> None:
    page.goto(f"{dev.url}/locations/{location}/asset-groups/{GROUP}")
    for asset in ASSETS:
        expect(page.get_by_text(exact(asset)).first).to_be_visible(timeout=PAGE_TIMEOUT_MS)


def launch_from_materialize_button(page: Page, shots: Screenshots) -> str:
    """The group's Materialize button, the tenant's partition chosen in its dialog, launched; the
    run id, from the run page the launch toast's View button opens."""
    page.get_by_role("button", name=re.compile(r"\bMaterialize all…$")).click()
    dialog = page.get_by_role("dialog").filter(has_text="Launch runs to materialize")
    expect(dialog).to_be_visible()
    dialog.get_by_text("Select a partition").click()
    choice = page.get_by_role("menuitem", name=re.compile(rf"^{TENANT}\b"))
    choice.click()
    dialog.get_by_text("Launch runs to materialize").click()  # closes the partition menu
    expect(choice).to_be_hidden()
    expect(dialog.get_by_text("1 partition", exact=True)).to_be_visible()
    launch = dialog.get_by_role("button", name="Launch 1 run")
    expect(launch).to_be_enabled()
    shots.take(page, "materialize-dialog")
    launch.click()
    toast = page.get_by_role("region", name=re.compile("Notifications"))
    view = toast.get_by_role("link", name="View", exact=True)
    expect(view).to_have_attribute("href", RUN_PATH)
    run_path = view.get_attribute("href") or ""
    view.click()
    expect(page).to_have_url(re.compile(re.escape(run_path)))
    return run_path.rsplit("/", 1)[1]


def final_run_status(page: Page) -> str:
    """The run page's status once it is final (Success, Failure or Canceled), with the launch toast
    gone (it stays while the pointer is over it)."""
    status = page.get_by_text(re.compile(rf"^({'|'.join(RUN_STATUSES)})$")).first
    expect(status).to_be_visible(timeout=RUN_TIMEOUT_MS)
    page.mouse.move(0, 0)
    expect(page.get_by_role("region", name=re.compile("Notifications")).get_by_role("link")).to_have_count(0)
    return status.inner_text()


def test_the_ui_shows_the_assets_launches_a_tenant_run_and_shows_its_metadata(
    sandboxes: SandboxPair, tmp_path: Path
) -> None:
    pair = sandboxes
    shots = Screenshots(artifacts_dir(tmp_path, "test_ui"))
    env_file = tmp_path / "sandbox.env"
    pair.write_env_file(env_file)
    workspace = LocalWorkspace(tmp_path / "dagster_home")
    workspace.open_registry().db.dispose()  # the app database exists before dagster dev starts

    with running_dagster_dev(workspace, tmp_path / "dagster_dev.log") as dev:
        repo = dev.repository_selector()
        dev.stop_all_sensors(repo)
        register_tenant(workspace, env_file)
        dev.add_partition(repo, TENANTS, TENANT)  # what the stopped registry sensor would do

        # Dismissed as the welcome dialog's Skip does, so it never covers what the test clicks.
        assert dev.graphql("mutation { setNuxSeen }")["setNuxSeen"] is True
        with chromium_page(shots) as page:
            # The asset graph: the group's three assets.
            open_asset_graph(page, dev, repo["repositoryLocationName"])
            shots.take(page, "asset-graph")

            # The Materialize button: its dialog, the tenant's partition, launched; the run succeeds.
            run_id = launch_from_materialize_button(page, shots)
            status = final_run_status(page)
            assert status == "Success", f"run {run_id}: {status} (dagster dev's log: {dev.log_path})"
            expect(page.get_by_text(f"partition: {TENANT}")).to_be_visible()
            expect(page.get_by_text("RUN_SUCCESS", exact=True)).to_be_visible()
            shots.take(page, "run")

            # The tenant partition's latest materialization is that run's, with its metadata.
            page.goto(f"{dev.url}/assets/{ASSETS[0]}?view=partitions&partition={TENANT}")
            expect(page.get_by_text("Latest materialization")).to_be_visible(timeout=PAGE_TIMEOUT_MS)
            expect(page.get_by_role("link", name=run_id[:8], exact=True)).to_be_visible()
            assert number(metadata_value(page, "http_calls")) > 0
            assert number(metadata_value(page, "rows")) == CUSTOMERS
            shots.take(page, "partition-metadata")

            # The graph again: each asset has the tenant's partition materialized.
            open_asset_graph(page, dev, repo["repositoryLocationName"])
            filled = page.get_by_role("link", name="100% filled", exact=True)
            for asset in ASSETS:
                partitions = page.locator(f'[href="/assets/{asset}?view=partitions"]')
                expect(filled.and_(partitions)).to_be_visible()
            shots.take(page, "asset-graph-materialized")

        # The run the browser launched, as the API has it: the UI's, tagged with its tenant.
        run = dev.runs([run_id])[run_id]
        assert run["status"] == "SUCCESS", run
        tags = tags_of(run)
        assert tags.get("dagster/from_ui") == "true", tags
        assert (tags.get(TENANT_TAG), tags.get(TRIGGER_TAG), tags.get("dagster/partition")) == (
            TENANT,
            "ui",
            TENANT,
        )
    stages = ["asset-graph", "materialize-dialog", "run", "partition-metadata", "asset-graph-materialized"]
    assert [path.name for path in shots.taken] == [f"{n:02d}-{s}.png" for n, s in enumerate(stages, 1)]
    assert all(path.read_bytes().startswith(PNG) for path in shots.taken)


def test_a_missing_browser_fails_the_test_in_one_line_naming_the_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(browser, "CHROMIUM", tmp_path / "chromium")
    with pytest.raises(pytest.fail.Exception) as failed:
        require_browser()
    said = str(failed.value)
    assert "\n" not in said and "apt-get install -y chromium" in said, said
    assert f"missing: {tmp_path / 'chromium'}" in said, said
