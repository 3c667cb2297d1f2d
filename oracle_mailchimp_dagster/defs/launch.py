"""Run the sync job for one tenant on the configured Dagster instance, as the CLI and demo do.

The run is recorded in the instance (DAGSTER_HOME), so it shows in the Dagster UI like a scheduled one.
It executes in this process, outside the instance's run queue and so outside dagster.yaml's one run
per tenant: the tenant's lease, taken by the assets themselves, keeps it from overlapping another run.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import dagster as dg

from oracle_mailchimp_dagster.defs.build import build_definitions
from oracle_mailchimp_dagster.defs.metadata import report_values
from oracle_mailchimp_dagster.defs.partitions import TENANTS
from oracle_mailchimp_dagster.defs.resources import AppDatabase
from oracle_mailchimp_dagster.defs.run_tags import Trigger, run_tags
from oracle_mailchimp_dagster.errors import UserError
from oracle_mailchimp_dagster.tenants.registry import TenantRegistry

JOB = "tenant_sync_job"


@dataclass(frozen=True)
class SyncRequest:
    """The CLI's options: one replay route at most (see `pipeline.selection`), dry run, and the
    lease settings when not the app_db resource's defaults."""

    tenant_id: str
    full: bool = False
    since: str | None = None
    until: str | None = None
    replay_run_id: str | None = None
    failed_only: bool = False
    customer_keys: Sequence[str] = ()
    dry_run: bool = False
    lease_wait_s: float | None = None
    lease_ttl_s: float | None = None

    def resources(self) -> dict[str, object]:
        """Resources replacing the defaults: the app database with these lease settings, if any."""
        if self.lease_wait_s is None and self.lease_ttl_s is None:
            return {}
        default = AppDatabase()
        wait, ttl = self.lease_wait_s, self.lease_ttl_s
        app_db = AppDatabase(
            lease_wait_seconds=default.lease_wait_seconds if wait is None else wait,
            lease_ttl_seconds=default.lease_ttl_seconds if ttl is None else ttl,
        )
        return {"app_db": app_db}

    def run_config(self) -> dict[str, Any]:
        extract: dict[str, Any] = {"full": self.full, "failed_only": self.failed_only}
        if self.since is not None:
            extract["since"] = self.since
        if self.until is not None:
            extract["until"] = self.until
        if self.replay_run_id is not None:
            extract["replay_run_id"] = self.replay_run_id
        if self.customer_keys:
            extract["customer_keys"] = list(self.customer_keys)
        return {
            "ops": {
                "fusion_customers": {"config": extract},
                "mailchimp_sync_results": {"config": {"dry_run": self.dry_run}},
            }
        }


@dataclass(frozen=True)
class SyncSummary:
    run_id: str
    success: bool
    metadata: dict[str, dict[str, Any]] = field(default_factory=dict)
    error: str | None = None


def _metadata(result: dg.ExecuteInProcessResult) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for asset in ("fusion_customers", "mailchimp_members", "mailchimp_sync_results"):
        materializations = result.asset_materializations_for_node(asset)
        if materializations:
            found[asset] = report_values(materializations[0].metadata)
    return found


def _error(result: dg.ExecuteInProcessResult) -> str | None:
    """Why the run failed: a `dg.Failure`'s description (problems a person fixes), else the innermost
    exception as `Class: message` (a bug or an outage; its traceback is in the event log)."""
    for event in result.get_step_failure_events():
        failure = event.step_failure_data.user_failure_data
        if failure is not None and failure.description:
            return failure.description
        error = event.step_failure_data.error
        while error is not None and error.cause is not None:
            error = error.cause
        if error is not None:
            lines = error.message.strip().splitlines()
            text = lines[-1].partition(": ")[2] if lines else ""
            return f"{error.cls_name}: {text}" if text else error.cls_name
    return None


def launch_sync(
    request: SyncRequest,
    registry: TenantRegistry,
    instance: dg.DagsterInstance,
    definitions: dg.Definitions | None = None,
) -> SyncSummary:
    """Run the job in this process on `instance`; failures are returned, not raised.

    `definitions` (the demo's) bring their own resources, so they cannot take the request's lease
    settings as well."""
    if definitions is not None and request.resources():
        raise ValueError("lease settings apply to the default definitions; set them on app_db instead")
    tenant = registry.get(request.tenant_id)
    if not tenant.enabled:
        raise UserError(f"tenant '{tenant.id}' is disabled: enable it with `oracle-mailchimp tenants update`")
    if not instance.has_dynamic_partition(TENANTS, tenant.id):
        instance.add_dynamic_partitions(TENANTS, [tenant.id])
    job = (definitions or build_definitions(request.resources())).resolve_job_def(JOB)
    tags = run_tags(tenant.id, registry.mailchimp_secret(tenant).get_secret_value(), Trigger.CLI)
    result = job.execute_in_process(
        instance=instance,
        partition_key=tenant.id,
        run_config=request.run_config(),
        tags=tags,
        raise_on_error=False,
    )
    return SyncSummary(result.run_id, result.success, _metadata(result), _error(result))
