"""What every asset step starts with, written once: the tenant of the partition, its registry and store
(and its lease, see `AppDatabase.tenant_step`).

Problems a person must fix (a tenant that is not registered, a schema behind, a wrong key, a mapping
that does not fit the audience) leave the step as a `dg.Failure` with a readable description and no
retry; anything else is left to Dagster's normal failure handling.
"""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import dagster as dg

from oracle_mailchimp_dagster.errors import UserError
from oracle_mailchimp_dagster.http.redaction import redact_credentials
from oracle_mailchimp_dagster.pipeline import run_files
from oracle_mailchimp_dagster.pipeline.extract_spool import ExtractManifest
from oracle_mailchimp_dagster.store.sync_store import SyncStore
from oracle_mailchimp_dagster.tenants.model import TenantConfig
from oracle_mailchimp_dagster.tenants.registry import TenantRegistry


@dataclass(frozen=True)
class TenantStep:
    """One asset step of one tenant: its configuration, the registry (for secrets) and the sync store,
    opened under the tenant's lease (`lease_waited_s`: how long the step waited for another run)."""

    tenant: TenantConfig
    registry: TenantRegistry
    store: SyncStore
    lease_waited_s: float = 0.0

    @property
    def tenant_id(self) -> str:
        return self.tenant.id


# The steps that work on a tenant, in the order a run executes them (the assets, by name).
TENANT_STEPS = ("fusion_customers", "mailchimp_members", "mailchimp_sync_results")


def is_last_tenant_step(step: str, run_steps: Sequence[str] | None) -> bool:
    """No step after `step` in this run works on the tenant (`run_steps` None: the run executes all),
    so the run is done with it when `step` ends: a re-execution from the results step, a run of the
    extract alone, and every full run after its commit."""
    planned = [name for name in TENANT_STEPS if run_steps is None or name in run_steps]
    return step not in planned or planned[-1] == step


@contextmanager
def user_errors_as_failures() -> Iterator[None]:
    """A `UserError` raised inside becomes a `dg.Failure` whose description is its message."""
    try:
        yield
    except UserError as exc:
        # The clients redact what they quote; this is the last gate before the event log.
        raise dg.Failure(description=redact_credentials(str(exc)), allow_retries=False) from None


def step_directory(context: dg.AssetExecutionContext, tenant_id: str) -> Path:
    """The run's folder of frames for this step's asset, under the instance's storage directory
    (where Dagster keeps the step outputs that name it): see `pipeline.run_files`."""
    storage = context.instance.storage_directory()
    return run_files.step_directory(storage, tenant_id, context.op_def.name, context.run.run_id)


def current_extract(value: object) -> ExtractManifest:
    """The extract step's output as this version writes it; one pickled by an earlier version (the
    customers in memory) cannot be planned in chunks: the run is to be made again."""
    if not isinstance(value, ExtractManifest):
        raise UserError(
            "the extract this step was given was made by an earlier version of the connector; "
            "re-run the sync (a new run extracts again)"
        )
    return value
