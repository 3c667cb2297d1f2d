"""The three tenant-partitioned assets: Oracle extract -> member frame -> Mailchimp results.

Their checks are partitioned by tenant as the assets are (`defs/checks.py`), so each tenant's latest
result shows on its own partition and one tenant's pass never hides another's failure.
"""

import time
from datetime import UTC, datetime

import dagster as dg

from oracle_mailchimp_dagster.defs.checks import (
    DEAD_LETTERS_WAITING,
    FAILED_RECORD_RATE,
    INVALID_RECORD_RATE,
    QUARANTINED_ROWS,
    check_result,
    tenant_check_spec,
)
from oracle_mailchimp_dagster.defs.chunk_config import ChunkedResultsConfig, PlanConfig
from oracle_mailchimp_dagster.defs.metadata import (
    ACTIONS,
    DETAILS,
    OUTCOMES,
    SAMPLE_ROWS,
    audit_command,
    counts_table,
    details_table,
    failure_sample,
    mark_entries,
    mark_text,
    table,
    when,
)
from oracle_mailchimp_dagster.defs.partitions import tenant_partitions
from oracle_mailchimp_dagster.defs.preload import preload_options, preloader_for
from oracle_mailchimp_dagster.defs.resources import (
    AppDatabase,
    FusionResource,
    MailchimpResource,
    SyncCheckThresholds,
)
from oracle_mailchimp_dagster.defs.run_config import ExtractConfig
from oracle_mailchimp_dagster.defs.step import current_extract, step_directory, user_errors_as_failures
from oracle_mailchimp_dagster.pipeline.apply import apply_plan, count_preloaded, dry_run
from oracle_mailchimp_dagster.pipeline.extract_spool import ExtractManifest, extract_to_spool
from oracle_mailchimp_dagster.pipeline.plan import MemberPlan, build_plan
from oracle_mailchimp_dagster.pipeline.quarantine import quarantine_key, quarantined_by_attribute
from oracle_mailchimp_dagster.pipeline.run_files import prune_other_runs
from oracle_mailchimp_dagster.pipeline.selection import resolve_selection
from oracle_mailchimp_dagster.sync.model import Action
from oracle_mailchimp_dagster.sync.outcomes import Outcome

GROUP = "oracle_to_mailchimp"


@dg.asset(
    partitions_def=tenant_partitions,
    group_name=GROUP,
    kinds={"oracle", "pandas"},
    description="Customers Oracle Fusion created, changed or inactivated since the high-water mark "
    "(or the replay selection), plus records parked for retry. Customers new to the audience are sent "
    "while reading, in chunks (`sent_while_reading`), so the load overlaps the extract. Plotted: rows, "
    "pages, http_calls, quarantined, sent_while_reading, duration_s.",
    check_specs=[tenant_check_spec(QUARANTINED_ROWS, "fusion_customers")],
)
def fusion_customers(
    context: dg.AssetExecutionContext,
    config: ExtractConfig,
    app_db: AppDatabase,
    fusion: FusionResource,
    mailchimp: MailchimpResource,
):  # returns a MaterializeResult; annotating it makes Dagster expect a tuple of outputs
    with user_errors_as_failures(), app_db.tenant_step(context) as step:
        preload = preload_options(context, enabled=config.send_while_reading)
        store = step.store
        selection = resolve_selection(
            **config.model_dump(exclude={"send_while_reading"}), store=store, tenant_id=step.tenant_id
        )
        now = datetime.now(UTC)
        due = [entry.customer_key for entry in store.retries.due(step.tenant_id, now)]
        mark = store.marks.get(step.tenant_id)
        context.log.info(
            f"tenant {step.tenant_id}: reading Oracle customers ({selection.mode.value}) after mark "
            f"{mark_text(mark)} up to {now.isoformat(timespec='seconds')}, plus {len(due)} due for retry"
        )
        started = time.monotonic()
        directory = step_directory(context, step.tenant_id)
        with (
            fusion.client(step.tenant, step.registry) as client,
            preloader_for(context, preload, mailchimp, step) as preloader,
        ):
            extract = extract_to_spool(
                client,
                selection.mode,
                store=store,
                tenant_id=step.tenant_id,
                directory=directory,
                mark=mark,
                since=selection.since,
                until=selection.until,
                keys=selection.keys,
                retry_keys=due,
                now=now,
                preloader=preloader,
            )
            calls = client.stats.snapshot()
        prune_other_runs(directory)
    duration = time.monotonic() - started
    pages = int(extract.stats.get("pages", 0) + calls.get("pages", 0))
    http_calls = int(calls.get("http_calls", 0))
    quarantined = len(extract.quarantined)
    by_attribute = quarantined_by_attribute(extract.quarantined)
    preloaded = extract.preloaded
    sent = preloaded.records if preloaded else 0
    context.log.info(
        f"tenant {step.tenant_id}: read {extract.rows} rows in {pages} pages ({http_calls} HTTP calls), "
        f"{quarantined} quarantined, {extract.bytes / 2**20:.1f} MiB spooled, in {duration:.1f} s"
        + (f"; sent {sent} new customers while reading" if preloaded else "")
    )
    return dg.MaterializeResult(
        value=extract,
        metadata={
            "tenant": step.tenant_id,
            "mode": extract.mode.value,
            "window_start": when(extract.window_start, "beginning"),
            "window_end": when(extract.window_end, ""),
            **mark_entries("mark_before", extract.mark_before),
            "rows": extract.rows,
            "pages": pages,
            "http_calls": http_calls,
            "quarantined": quarantined,
            "sent_while_reading": sent,
            "duration_s": round(duration, 3),
            "spooled_mib": round(extract.bytes / 2**20, 1),
            DETAILS: details_table(
                {
                    "retries_due": len(extract.retry_keys),
                    "token_fetches": int(calls.get("token_fetches", 0)),
                    "lease_waited_s": round(step.lease_waited_s, 3),
                    "holders_reread": len(extract.holders_reread),
                    "address_bridges": extract.bridges,
                    "sent_while_reading_created": int(
                        preloaded.by_outcome.get(Outcome.CREATED.value, 0) if preloaded else 0
                    ),
                    "sent_while_reading_failed": preloaded.failed if preloaded else 0,
                    "read_waited_for_load_s": round(extract.read_waited_for_load_s, 1),
                }
            ),
        },
        check_results=[
            check_result(
                QUARANTINED_ROWS,
                step.tenant_id,
                passed=not extract.quarantined,
                summary=f"{quarantined} of {extract.rows + quarantined} rows quarantined as malformed",
                metadata={
                    "quarantined_rows": quarantined,
                    "by_attribute": counts_table("attribute", by_attribute, by_attribute),
                    "sample": table(
                        [("customer", "string"), ("reason", "string")],
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
    "audience before any write. Plotted: records, removals, chunks, duration_s; `actions` counts them.",
    check_specs=[tenant_check_spec(INVALID_RECORD_RATE, "mailchimp_members")],
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
        context.log.info(
            f"tenant {step.tenant_id}: planning {extract.spooled_rows} customers against audience "
            f"{step.tenant.mailchimp.list_id}"
        )
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
    duration = time.monotonic() - started
    planned = ", ".join(f"{a} {plan.counts[a]}" for a in ACTIONS if plan.counts.get(a)) or "nothing"
    context.log.info(
        f"tenant {step.tenant_id}: planned {total} records in {len(plan.chunks)} chunks ({planned}), "
        f"in {duration:.1f} s"
    )
    return dg.MaterializeResult(
        value=plan,
        metadata={
            "tenant": step.tenant_id,
            "records": total,
            "removals": plan.counts.get("removals", 0),
            "chunks": len(plan.chunks),
            "duration_s": round(duration, 3),
            "actions": counts_table("action", plan.counts, ACTIONS),
            "invalid_by_reason": counts_table("reason", plan.invalid_by_reason, plan.invalid_by_reason),
            DETAILS: details_table(
                {"managed_members": plan.managed_members, "state_version": plan.state_version or 0}
            ),
            "preview": table(
                [("customer", "string"), ("action", "string"), ("reason", "string"), ("email", "string")],
                ((a.customer_key, a.action.value, a.reason, a.email) for a in plan.preview),
            ),
        },
        check_results=[
            check_result(
                INVALID_RECORD_RATE,
                step.tenant_id,
                passed=rate <= limit,
                summary=f"{invalid} of {total} records invalid ({rate:.1%}, warns above {limit:.0%})",
                metadata={"invalid_records": invalid, "rate": round(rate, 4), "limit": limit},
            )
        ],
    )


@dg.asset(
    partitions_def=tenant_partitions,
    group_name=GROUP,
    kinds={"mailchimp"},
    description="Executes the plan against Mailchimp and settles it chunk by chunk: each chunk's ledger "
    "rows, member state and retry queue in one transaction; the high-water mark with the last one. "
    "Plotted: records, outcome_created, outcome_updated, failed, dead_letters, duration_s; `outcomes` "
    "counts every outcome; `ledger_query` is the audit command listing every record.",
    check_specs=[
        tenant_check_spec(FAILED_RECORD_RATE, "mailchimp_sync_results"),
        tenant_check_spec(DEAD_LETTERS_WAITING, "mailchimp_sync_results"),
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
        what = "a dry run of" if config.dry_run else "sending"
        context.log.info(
            f"tenant {tenant_id}: {what} {plan.records - plan.sent_while_reading} planned records in "
            f"{len(plan.chunks)} chunks ({plan.sent_while_reading} sent while reading)"
        )
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
            count_preloaded(results, plan)
    limit = check_thresholds.max_failed_rate
    duration = time.monotonic() - started
    failed = results.failed
    total = results.records
    rate = failed / total if total else 0.0
    dead_letters = store.retries.dead_letter_count(tenant_id)
    audit = audit_command(tenant_id, run_id, app_db.database_url)
    outcomes = ", ".join(f"{o} {n}" for o in OUTCOMES if (n := results.by_outcome.get(o, 0))) or "none"
    context.log.info(
        f"tenant {tenant_id}: wrote {total} records ({outcomes}) in {results.chunks_committed} of "
        f"{results.chunks} chunks, {failed} failed, mark {mark_text(results.mark_after)}, in "
        f"{duration:.1f} s; every record: {audit}"
    )
    return dg.MaterializeResult(
        value=results,
        metadata={
            "tenant": tenant_id,
            "dry_run": config.dry_run,
            "records": total,
            "outcome_created": int(results.by_outcome.get(Outcome.CREATED.value, 0)),
            "outcome_updated": int(results.by_outcome.get(Outcome.UPDATED.value, 0)),
            "failed": failed,
            "dead_letters": dead_letters,
            "duration_s": round(duration, 3),
            "outcomes": counts_table("outcome", results.by_outcome, OUTCOMES),
            **mark_entries("mark_before", results.mark_before),
            **mark_entries("mark_after", results.mark_after),
            DETAILS: details_table(
                {
                    "records_per_second": round(total / duration, 1) if duration > 0 else 0.0,
                    "chunks": results.chunks,
                    "chunks_committed": results.chunks_committed,
                    "state_version": results.state_version,
                }
            ),
            "ledger_run_id": run_id,
            "ledger_query": audit,
            "failures_sample": failure_sample(results.failures),
        },
        check_results=[
            check_result(
                FAILED_RECORD_RATE,
                tenant_id,
                passed=rate <= limit,
                summary=f"{failed} of {total} records failed ({rate:.1%}, warns above {limit:.0%})",
                metadata={"failed_records": failed, "rate": round(rate, 4), "limit": limit},
            ),
            check_result(
                DEAD_LETTERS_WAITING,
                tenant_id,
                passed=dead_letters == 0,
                summary=f"{dead_letters} dead letters waiting (no longer retried by themselves)",
                metadata={"dead_letters": dead_letters},
            ),
        ],
    )
