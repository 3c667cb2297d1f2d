"""`oracle-mailchimp demo`: the connector end to end against the built-in sandbox, in under a minute.

Starts the sandbox, registers tenant `demo` in a throw-away workspace, runs the real Dagster sync job
(initial load), changes customers through the sandboxes' control APIs, runs again and prints what both
runs did and how the audience ended up. It checks its own result: a change that did not end as
expected makes it exit non-zero after the summary.
"""

import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import requests

from oracle_mailchimp_dagster.errors import UserError
from oracle_mailchimp_dagster.http.redaction import redact
from oracle_mailchimp_dagster.local.demo_report import (
    RunReport,
    change_problems,
    member_index,
    render_audience,
    render_changes,
    render_runs,
)
from oracle_mailchimp_dagster.local.demo_scenario import DemoFailed, SandboxControl, make_changes
from oracle_mailchimp_dagster.local.demo_workspace import (
    DEMO_TENANT,
    LocalWorkspace,
    applied_env,
    demo_status_line,
    register_demo_tenant,
)
from oracle_mailchimp_dagster.sandbox.common.latency import LatencyProfile
from oracle_mailchimp_dagster.sandbox.runner import SandboxOptions, SandboxPair
from oracle_mailchimp_dagster.store import SyncStore
from oracle_mailchimp_dagster.tenants import TenantRegistry

# The demo's Dagster instance: no telemetry banner, and no event log echoed to the terminal (the demo
# prints its own summary; the events stay in the instance, see --workdir).
DEMO_INSTANCE_YAML = "telemetry:\n  enabled: false\npython_logs:\n  python_log_level: CRITICAL\n"
# Bounded retries: against a local sandbox a failure is real, and the demo should say so promptly.
RETRY_ATTEMPTS = 3
RETRY_SECONDS = 30.0

Echo = Callable[..., None]


@dataclass(frozen=True)
class DemoOptions:
    customers: int = 500
    latency: LatencyProfile = "realistic"
    workdir: Path | None = None


def _definitions(workspace: LocalWorkspace) -> dg.Definitions:
    # Imported here: loading the definitions reads the tenant registry, which must exist by now.
    from oracle_mailchimp_dagster.definitions import build_definitions
    from oracle_mailchimp_dagster.defs.resources import AppDatabase, FusionResource, MailchimpResource

    return build_definitions(
        {
            "app_db": AppDatabase(database_url=workspace.database_url),
            "fusion": FusionResource(max_attempts=RETRY_ATTEMPTS, max_retry_seconds=RETRY_SECONDS),
            "mailchimp": MailchimpResource(max_attempts=RETRY_ATTEMPTS, max_retry_seconds=RETRY_SECONDS),
        }
    )


class DemoSession:
    """One demo: a started sandbox, a prepared workspace and a Dagster instance on it."""

    def __init__(self, pair: SandboxPair, workspace: LocalWorkspace, echo: Echo) -> None:
        self.pair = pair
        self.workspace = workspace
        self.echo = echo
        self.registry: TenantRegistry | None = None

    def step(self, text: str) -> float:
        self.echo(f"{text} ... ", nl=False)
        return time.monotonic()

    def run(self) -> list[str]:
        """Both runs and the changes between them; returns what did not go as expected."""
        workspace = self.workspace
        workspace.write_instance_config(DEMO_INSTANCE_YAML)
        registry = self.registry = workspace.open_registry()
        register_demo_tenant(registry, self.pair)
        tenant = registry.get(DEMO_TENANT)
        self.echo(f"Tenant     {tenant.id}: {demo_status_line(tenant)}")
        self.echo(f"           inactive customers: {tenant.policy.inactive_action.value}")
        from oracle_mailchimp_dagster.defs.launch import SyncRequest, launch_sync

        definitions = _definitions(workspace)
        reports: list[RunReport] = []
        with (
            dg.DagsterInstance.from_config(str(workspace.dagster_home)) as instance,
            requests.Session() as http,
        ):

            def sync(title: str, label: str) -> RunReport:
                started = self.step(label)
                summary = launch_sync(SyncRequest(DEMO_TENANT), registry, instance, definitions)
                seconds = time.monotonic() - started
                if not summary.success:
                    self.echo("failed")
                    raise DemoFailed(f"{title} failed: {summary.error or 'see the Dagster event log'}")
                self.echo(f"done in {seconds:.1f} s")
                return RunReport.from_metadata(title, summary.run_id, seconds, summary.metadata)

            reports.append(sync("run 1", "Run 1      initial sync through Dagster"))
            control = SandboxControl(self.pair, http)
            started = self.step("Changes    5 customers changed through the sandbox control APIs")
            changes = make_changes(control, tenant.policy.status_if_new.value)
            self.echo(f"done in {time.monotonic() - started:.1f} s")
            reports.append(sync("run 2", "Run 2      incremental sync through Dagster"))
            members = control.members()

        ledger = SyncStore(registry.db).ledger.for_run(DEMO_TENANT, reports[1].run_id)
        outcomes = {entry.customer_key: entry.outcome for entry in ledger}
        index = member_index(members)
        lines = render_runs(reports)
        lines += render_changes(changes, outcomes, index)
        lines += render_audience(self.pair.mailchimp.config.list_id, members, changes)
        self.echo("\n".join(lines))
        return [
            p for change in changes for p in change_problems(change, outcomes.get(change.party_number), index)
        ]

    def close(self) -> None:
        if self.registry is not None:
            self.registry.db.dispose()


def _describe(exc: Exception) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def run_demo(options: DemoOptions, echo: Echo) -> None:
    """Run the whole demo; any failure becomes one DemoFailed line, with the sandbox stopped."""
    began = time.monotonic()
    with ExitStack() as stack:
        if options.workdir is None:
            home = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="oracle-mailchimp-demo-")))
            where = f"{home} (temporary, removed at the end)"
        else:
            home = options.workdir.absolute()
            where = f"{home} (kept: Dagster home with both runs, app database, master key file)"
        workspace = LocalWorkspace(home)
        echo("oracle-mailchimp demo: the connector against the built-in Oracle Fusion and Mailchimp sandbox")
        echo("")
        started = time.monotonic()
        echo(f"Sandbox    {options.customers} customers, latency '{options.latency}' ... ", nl=False)
        try:
            pair = SandboxPair(SandboxOptions(customers=options.customers, latency=options.latency))
        except Exception as exc:
            echo("failed")
            raise DemoFailed(f"cannot start the sandbox: {_describe(exc)}") from None
        echo(f"started in {time.monotonic() - started:.1f} s")
        secrets = [v for k, v in pair.env().items() if k in ("ORACLE_CLIENT_SECRET", "MAILCHIMP_API_KEY")]
        stack.callback(echo, "Sandbox stopped.")
        stack.callback(pair.stop)
        echo(f"           Oracle Fusion {pair.fusion.url}, Mailchimp {pair.mailchimp.api_base}")
        echo(f"Workspace  {where}")
        session = DemoSession(pair, workspace, echo)
        stack.callback(session.close)
        try:
            with applied_env(workspace.env()):
                problems = session.run()
        except DemoFailed as exc:
            raise DemoFailed(redact(str(exc), secrets)) from None
        except UserError as exc:
            raise DemoFailed(f"demo failed: {redact(str(exc), secrets)}") from None
        except Exception as exc:  # one readable line, never a traceback (and never a secret)
            raise DemoFailed(
                f"demo failed: {type(exc).__name__}: {redact(_describe(exc), secrets)}"
            ) from None
        echo("")
    if problems:
        raise DemoFailed(f"{len(problems)} check(s) failed: " + "; ".join(problems))
    echo(f"Demo finished in {time.monotonic() - began:.1f} s: every change ended as expected.")
    if options.workdir is not None:
        home = options.workdir.absolute()
        echo(f"Browse both runs in the Dagster UI: DAGSTER_HOME={home} dagster dev -w workspace.yaml")
