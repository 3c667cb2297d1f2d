"""The three tenant-partitioned assets: Oracle extract -> member frame -> Mailchimp results."""

import time
from datetime import UTC, datetime

import dagster as dg

from oracle_mailchimp_dagster.defs.chunk_config import ChunkedResultsConfig, PlanConfig
from oracle_mailchimp_dagster.defs.metadata import SAMPLE_ROWS, counts, failure_sample, mark_text, md_table
from oracle_mailchimp_dagster.defs.partitions import tenant_partitions
from oracle_mailchimp_dagster.defs.resources import (
    AppDatabase,
    FusionResource,
    MailchimpResource,
    SyncCheckThresholds,
)
from oracle_mailchimp_dagster.defs.run_config import ExtractConfig
from oracle_mailchimp_dagster.defs.step import current_extract, step_directory, user_errors_as_failures
from oracle_mailchimp_dagster.pipeline.apply import apply_plan, dry_run
from oracle_mailchimp_dagster.pipeline.extract_spool import ExtractManifest, extract_to_spool
from oracle_mailchimp_dagster.pipeline.plan import MemberPlan, build_plan
from oracle_mailchimp_dagster.pipeline.quarantine import quarantine_key, quarantined_by_attribute
from oracle_mailchimp_dagster.pipeline.run_files import prune_other_runs
from oracle_mailchimp_dagster.pipeline.selection import resolve_selection
from oracle_mailchimp_dagster.sync.model import Action
from oracle_mailchimp_dagster.sync.outcomes import Outcome

GROUP = "oracle_to_mailchimp"
ACTIONS = [a.value for a in Action]
OUTCOMES = [o.value for o in Outcome]


@dg.asset(
    partitions_def=tenant_partitions,
    group_name=GROUP,
    kinds={"oracle", "pandas"},
    description="Customers Oracle Fusion created, changed or inactivated since the high-water mark "
    "(or the replay selection), plus records parked for retry.",
    check_specs=[
        dg.AssetCheckSpec(
            "quarantined_rows",
            asset="fusion_customers",
            description="Rows Oracle sent malformed (a value of the wrong JSON type, e.g. a PostalCode as a "
            "number) were set aside instead of stopping the tenant: each is recorded as rejected with its "
            "reason, and is read again when Oracle next changes it. Warns when there is any.",
        )
    ],
)
def fusion_customers(
    context: dg.AssetExecutionContext, config: ExtractConfig, app_db: AppDatabase, fusion: FusionResource
):  # returns a MaterializeResult; annotating it makes Dagster expect a tuple of outputs
    with user_errors_as_failures(), app_db.tenant_step(context) as step:
        store = step.store
        selection = resolve_selection(**config.model_dump(), store=store, tenant_id=step.tenant_id)
        now = datetime.now(UTC)
        due = [entry.customer_key for entry in store.retries.due(step.tenant_id, now)]
        started = time.monotonic()
        directory = step_directory(context, step.tenant_id)
        with fusion.client(step.tenant, step.registry) as client:
            extract = extract_to_spool(
                client,
                selection.mode,
                store=store,
                tenant_id=step.tenant_id,
                directory=directory,
                mark=store.marks.get(step.tenant_id),
                since=selection.since,
                until=selection.until,
                keys=selection.keys,
                retry_keys=due,
                now=now,
            )
            calls = client.stats.snapshot()
        prune_other_runs(directory)
    duration = time.monotonic() - started
    return dg.MaterializeResult(
        value=extract,
        metadata={
            "mode": extract.mode.value,
            "window_start": extract.window_start.isoformat() if extract.window_start else "beginning",
            "window_end": extract.window_end.isoformat() if extract.window_end else "",
            "mark_before": mark_text(extract.mark_before),
            "rows": extract.rows,
            "retries_due": len(extract.retry_keys),
            "pages": int(extract.stats.get("pages", 0) + calls.get("pages", 0)),
            "http_calls": int(calls.get("http_calls", 0)),
            "token_fetches": int(calls.get("token_fetches", 0)),
            "duration_s": round(duration, 3),
            "lease_waited_s": round(step.lease_waited_s, 3),
            "quarantined": len(extract.quarantined),
            "holders_reread": len(extract.holders_reread),
            "address_bridges": extract.bridges,
            "spooled_mib": round(extract.bytes / 2**20, 1),
        },
        check_results=[
            dg.AssetCheckResult(
                check_name="quarantined_rows",
                passed=not extract.quarantined,
                severity=dg.AssetCheckSeverity.WARN,
                metadata={
                    "quarantined_rows": len(extract.quarantined),
                    "by_attribute": dg.MetadataValue.json(quarantined_by_attribute(extract.quarantined)),
                    "sample": md_table(
                        ["customer", "reason"],
                        ((quarantine_key(q), q.reason) for q in extract.quarantined[:SAMPLE_ROWS]),
                    ),
                },
            )
        ],
    )


@dg.asset(
    partitions_def=tenant_partitions,
    group_name=GROUP,
    kinds={"pandas"},
    description="One planned action per customer (upsert, email change, unsubscribe, archive, delete, "
    "retag, skip, reject) with its reason, in chunks of whole address groups; checked against the "
    "audience before any write.",
    check_specs=[dg.AssetCheckSpec("invalid_record_rate", asset="mailchimp_members")],
)
def mailchimp_members(
    context: dg.AssetExecutionContext,
    config: PlanConfig,
    fusion_customers: ExtractManifest,
    app_db: AppDatabase,
    mailchimp: MailchimpResource,
    check_thresholds: SyncCheckThresholds,
):  # returns a MaterializeResult; annotating it makes Dagster expect a tuple of outputs
    started = time.monotonic()
    with user_errors_as_failures(), app_db.tenant_step(context) as step:
        extract = current_extract(fusion_customers)
        with mailchimp.client(step.tenant, step.registry) as client:
            merge_fields = client.get_merge_fields(step.tenant.mailchimp.list_id)
        directory = step_directory(context, step.tenant_id)
        plan = build_plan(
            extract,
            step.tenant,
            merge_fields,
            step.store,
            directory,
            chunk_size=config.resolved_chunk_size(),
        )
        prune_other_runs(directory)
    limit = check_thresholds.max_invalid_rate
    total = plan.records
    invalid = plan.counts.get(Action.REJECT_INVALID.value, 0)
    rate = invalid / total if total else 0.0
    return dg.MaterializeResult(
        value=plan,
        metadata={
            "records": total,
            **counts("action_", plan.counts, ACTIONS),
            "removals": plan.counts.get("removals", 0),
            "managed_members": plan.managed_members,
            "state_version": plan.state_version,
            "chunks": len(plan.chunks),
            "duration_s": round(time.monotonic() - started, 3),
            "invalid_by_reason": dg.MetadataValue.json(plan.invalid_by_reason),
            "preview": md_table(
                ["customer", "action", "reason", "email"],
                ((a.customer_key, a.action.value, a.reason, a.email) for a in plan.preview),
            ),
        },
        check_results=[
            dg.AssetCheckResult(
                check_name="invalid_record_rate",
                passed=rate <= limit,
                severity=dg.AssetCheckSeverity.WARN,
                metadata={"invalid_records": invalid, "rate": round(rate, 4), "limit": limit},
            )
        ],
    )


@dg.asset(
    partitions_def=tenant_partitions,
    group_name=GROUP,
    kinds={"mailchimp"},
    description="Executes the plan against Mailchimp and settles it chunk by chunk: each chunk's ledger "
    "rows, member state and retry queue in one transaction; the high-water mark with the last one.",
    check_specs=[
        dg.AssetCheckSpec("failed_record_rate", asset="mailchimp_sync_results"),
        dg.AssetCheckSpec("dead_letters_waiting", asset="mailchimp_sync_results"),
    ],
)
def mailchimp_sync_results(
    context: dg.AssetExecutionContext,
    config: ChunkedResultsConfig,
    mailchimp_members: MemberPlan,
    app_db: AppDatabase,
    mailchimp: MailchimpResource,
    check_thresholds: SyncCheckThresholds,
):  # returns a MaterializeResult; annotating it makes Dagster expect a tuple of outputs
    run_id = context.run.run_id
    plan = mailchimp_members
    started = time.monotonic()
    with user_errors_as_failures(), app_db.tenant_step(context) as step:  # released after the commit
        tenant_id, tenant, store = step.tenant_id, step.tenant, step.store
        state = store.marks.state(tenant_id)
        if config.dry_run:
            results = dry_run(plan, run_id, state)
        else:
            plan.check_current(tenant_id, state)  # a persisted plan from before another commit: refused
            with mailchimp.client(tenant, step.registry) as client:
                results = apply_plan(
                    plan,
                    client,
                    store=store,
                    tenant=tenant,
                    run_id=run_id,
                    state=state,
                    in_flight=config.chunks_in_flight,
                )
    limit = check_thresholds.max_failed_rate
    duration = time.monotonic() - started
    failed = results.failed
    total = results.records
    rate = failed / total if total else 0.0
    dead_letters = store.retries.dead_letter_count(tenant_id)
    return dg.MaterializeResult(
        value=results,
        metadata={
            "dry_run": config.dry_run,
            "records": total,
            **counts("outcome_", results.by_outcome, OUTCOMES),
            "failed": failed,
            "duration_s": round(duration, 3),
            "records_per_second": round(total / duration, 1) if duration > 0 else 0.0,
            "mark_before": mark_text(results.mark_before),
            "mark_after": mark_text(results.mark_after),
            "state_version": results.state_version,
            "chunks": results.chunks,
            "chunks_committed": results.chunks_committed,
            "dead_letters": dead_letters,
            "ledger_run_id": run_id,
            "ledger_query": f"oracle-mailchimp audit {tenant_id} --run {run_id}",
            "failures_sample": failure_sample(results.failures),
        },
        check_results=[
            dg.AssetCheckResult(
                check_name="failed_record_rate",
                passed=rate <= limit,
                severity=dg.AssetCheckSeverity.WARN,
                metadata={"failed_records": failed, "rate": round(rate, 4), "limit": limit},
            ),
            dg.AssetCheckResult(
                check_name="dead_letters_waiting",
                passed=dead_letters == 0,
                severity=dg.AssetCheckSeverity.WARN,
                metadata={"dead_letters": dead_letters},
            ),
        ],
    )
