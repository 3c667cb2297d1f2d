"""The run queue with every run saying who and why: a `QueuedRunCoordinator` that tags runs on
submission.

The UI's Materialize button, a re-execution and a backfill submit `__ASSET_JOB` runs carrying only
`dagster/partition`. Before such a run is queued, `submit_run` adds what is missing: the tenant (the
partition, when the run targets the tenant-partitioned assets), the fingerprint of its Mailchimp key
(from the registry) and the trigger `ui` (unless a sensor, schedule or automation condition launched
it; a re-execution that keeps its parent's tags keeps its trigger). The queue's tag limits in dagster.yaml
(one run per tenant, one per Mailchimp key) then hold it like any scheduled run: the dequeue only sees
queued runs, and a run becomes queued here, after its tags are written.

Nothing here may fail a submission: an unknown tenant or an unreadable registry leaves the tags that
could be found, says so in the run's event log, and the run fails later with its own clear error.
Configured in dagster.yaml (`run_coordinator`); its settings are the `QueuedRunCoordinator`'s.
"""

import logging
from collections.abc import Callable, Mapping

from dagster import DagsterInstance, DagsterRun, DynamicPartitionsDefinition
from dagster._core.definitions.assets.graph.remote_asset_graph import partitions_def_for_remote_job
from dagster._core.run_coordinator import QueuedRunCoordinator, SubmitRunContext
from dagster._core.storage.tags import (
    AUTO_MATERIALIZE_TAG,
    AUTOMATION_CONDITION_TAG,
    SCHEDULE_NAME_TAG,
    SENSOR_NAME_TAG,
)
from dagster._core.workspace.context import BaseWorkspaceRequestContext

from oracle_mailchimp_dagster.defs.partitions import TENANTS
from oracle_mailchimp_dagster.defs.run_tags import (
    MAILCHIMP_KEY_TAG,
    PARTITION_TAG,
    TENANT_TAG,
    TRIGGER_TAG,
    Trigger,
)
from oracle_mailchimp_dagster.errors import UserError
from oracle_mailchimp_dagster.http.redaction import redact_credentials
from oracle_mailchimp_dagster.store.engine import Database
from oracle_mailchimp_dagster.sync.identity import credential_fingerprint
from oracle_mailchimp_dagster.tenants.registry import TenantRegistry

log = logging.getLogger(__name__)

# Dagster's tags of runs that a sensor, schedule or automation condition launched: whatever their
# reason, it is not a person in the UI, so they are not called `ui` (ours carry their own trigger).
AUTOMATION_TAGS = frozenset(
    {SENSOR_NAME_TAG, SCHEDULE_NAME_TAG, AUTO_MATERIALIZE_TAG, AUTOMATION_CONDITION_TAG}
)

# The fingerprint of a tenant's Mailchimp key; raises when the tenant or its key cannot be read.
Fingerprint = Callable[[str], str]


def missing_tags(
    tags: Mapping[str, str], targets_tenants: Callable[[], bool], fingerprint: Fingerprint
) -> tuple[dict[str, str], str | None]:
    """The tags to add to a run with `tags`, and why the key tag could not be found (or None).

    `targets_tenants` says whether the run's assets are partitioned by tenant (asked only when the
    tenant must come from the partition)."""
    added: dict[str, str] = {}
    if TRIGGER_TAG not in tags and not tags.keys() & AUTOMATION_TAGS:
        added[TRIGGER_TAG] = Trigger.UI.value
    tenant = tags.get(TENANT_TAG)
    if tenant is None and PARTITION_TAG in tags and targets_tenants():
        tenant = added[TENANT_TAG] = tags[PARTITION_TAG]
    problem = None
    if tenant is not None and MAILCHIMP_KEY_TAG not in tags:
        try:
            added[MAILCHIMP_KEY_TAG] = fingerprint(tenant)
        except Exception as exc:
            text = redact_credentials(str(exc)).splitlines()
            reason = text[0] if isinstance(exc, UserError) and text else type(exc).__name__
            problem = (
                f"no {MAILCHIMP_KEY_TAG} tag (so dagster.yaml's one run per Mailchimp key does not "
                f"hold this run): {reason}"
            )
    return added, problem


def registry_fingerprint(tenant_id: str) -> str:
    """The tenant's Mailchimp key fingerprint, read from the configured registry."""
    db = Database.from_url()
    try:
        registry = TenantRegistry.open(db)
        secret = registry.mailchimp_secret(registry.get(tenant_id))
        return credential_fingerprint(secret.get_secret_value())
    finally:
        db.dispose()


def partitioned_by_tenants(run: DagsterRun, workspace: BaseWorkspaceRequestContext) -> bool:
    """Whether the run's assets (or its job) are partitioned by the tenants' dynamic partitions."""
    if run.asset_selection:
        graph = workspace.asset_graph
        defs = [graph.get(key).partitions_def for key in run.asset_selection if graph.has(key)]
    else:
        origin = run.remote_job_origin
        if origin is None:
            return False
        repository = workspace.get_code_location(origin.location_name).get_repository(
            origin.repository_origin.repository_name
        )
        defs = [partitions_def_for_remote_job(repository, run.job_name)]
    return any(isinstance(d, DynamicPartitionsDefinition) and d.name == TENANTS for d in defs)


class TenantTaggingRunCoordinator(QueuedRunCoordinator[DagsterInstance]):
    """`QueuedRunCoordinator` (same settings, same daemon) that adds the tenant, Mailchimp-key and
    trigger tags a run lacks before queueing it."""

    def submit_run(self, context: SubmitRunContext) -> DagsterRun:
        run = context.dagster_run
        if run.tags.keys() >= {TENANT_TAG, MAILCHIMP_KEY_TAG, TRIGGER_TAG}:
            return super().submit_run(context)  # the sensors' runs: nothing to read

        def targets_tenants() -> bool:
            try:
                return partitioned_by_tenants(run, context.workspace)
            except Exception:  # the workspace cannot tell: the partition names a tenant only if known
                log.warning("oracle-mailchimp: cannot read the partitions of run %s", run.run_id)
                return _registry_knows(run.tags[PARTITION_TAG])

        added, problem = missing_tags(run.tags, targets_tenants, registry_fingerprint)
        if added:
            self._instance.add_run_tags(run.run_id, added)
            run = self._instance.get_run_by_id(run.run_id) or run
            context = context._replace(dagster_run=run)
        if problem:
            self._instance.report_engine_event(f"oracle-mailchimp: {problem}", run)
        return super().submit_run(context)


def _registry_knows(tenant_id: str) -> bool:
    db = Database.from_url()
    try:
        return TenantRegistry.open(db).exists(tenant_id)
    except Exception:
        return False
    finally:
        db.dispose()
