"""Whether the extract step sends new customers while reading (`pipeline.preload`), and the preloader
it sends them with.

Only in a run that goes on to plan and load (both later steps are in the job and among the steps it
executes) and writes (not a dry run), with the chunk size and chunks in flight the run gives its plan
and results steps. The audience's merge fields are read when the first chunk is full; a mapping that
does not fit them sends nothing here: the plan step stops the run with its one-line reason, as
without the pre-load.
"""

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import dagster as dg

from oracle_mailchimp_dagster.defs.chunk_config import ChunkedResultsConfig, PlanConfig
from oracle_mailchimp_dagster.defs.resources import MailchimpResource
from oracle_mailchimp_dagster.defs.step import TENANT_STEPS, TenantStep
from oracle_mailchimp_dagster.mailchimp.models import list_fields_by_tag
from oracle_mailchimp_dagster.pipeline.preload import Preloader, PreloadOptions
from oracle_mailchimp_dagster.sync.mapping import mapping_problems
from oracle_mailchimp_dagster.sync.model import ListField

PLAN_STEP, RESULTS_STEP = TENANT_STEPS[1], TENANT_STEPS[2]


def _op_config(run_config: Mapping[str, Any], op: str) -> dict[str, Any]:
    return dict((run_config.get("ops") or {}).get(op, {}).get("config") or {})


def preload_options(context: dg.AssetExecutionContext, *, enabled: bool) -> PreloadOptions | None:
    """The pre-load's chunk size and chunks in flight, or None when this run must not send from the
    extract step (disabled, a run that stops before loading, or a dry run)."""
    if not enabled:
        return None
    graph = context.job_def.graph
    steps = context.run.step_keys_to_execute
    for step in (PLAN_STEP, RESULTS_STEP):
        if not graph.has_node_named(step) or (steps is not None and step not in steps):
            return None
    results = ChunkedResultsConfig(**_op_config(context.run.run_config, RESULTS_STEP))
    if results.dry_run:
        return None
    plan = PlanConfig(**_op_config(context.run.run_config, PLAN_STEP))
    return PreloadOptions(chunk_size=plan.resolved_chunk_size(), in_flight=results.chunks_in_flight)


@contextmanager
def preloader_for(
    context: dg.AssetExecutionContext,
    options: PreloadOptions | None,
    mailchimp: MailchimpResource,
    step: TenantStep,
) -> Iterator[Preloader | None]:
    """A preloader on the tenant's Mailchimp client for the step's read, or None (see the module)."""
    if options is None:
        yield None
        return
    tenant = step.tenant
    with mailchimp.client(tenant, step.registry) as client:

        def fields_by_tag() -> dict[str, ListField] | None:
            fields = list_fields_by_tag(client.get_merge_fields(tenant.mailchimp.list_id))
            return None if mapping_problems(tenant.mapping.resolve(), fields) else fields

        yield Preloader(
            client,
            store=step.store,
            tenant=tenant,
            fields_by_tag=fields_by_tag,
            run_id=context.run.run_id,
            options=options,
        )
