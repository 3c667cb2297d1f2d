"""Sensors: the tenant registry drives partitions; Oracle changes trigger runs; Mailchimp audience
events (unsubscribes, cleaned addresses) are recorded for audit and never written to Oracle."""

from datetime import UTC, datetime, timedelta

import dagster as dg

from oracle_mailchimp_dagster.defs.cursors import AudienceEventsCursor, OracleChangeCursor, load_cursor
from oracle_mailchimp_dagster.defs.jobs import tenant_sync_job
from oracle_mailchimp_dagster.defs.partitions import TENANTS, tenant_partitions
from oracle_mailchimp_dagster.defs.resources import AppDatabase, FusionResource, MailchimpResource
from oracle_mailchimp_dagster.defs.run_tags import Trigger, run_tags
from oracle_mailchimp_dagster.defs.tenant_source import enabled_tenants
from oracle_mailchimp_dagster.pipeline.audience import record_audience_events

FIRST_AUDIENCE_LOOKBACK = timedelta(days=1)


@dg.sensor(
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Keeps the tenant partitions equal to the tenant registry.",
)
def tenant_registry_sensor(context: dg.SensorEvaluationContext, app_db: AppDatabase) -> dg.SensorResult:
    wanted = {t.id for t in app_db.registry().list_all()}
    existing = set(context.instance.get_dynamic_partitions(TENANTS))
    requests: list[dg.AddDynamicPartitionsRequest | dg.DeleteDynamicPartitionsRequest] = []
    if wanted - existing:
        requests.append(tenant_partitions.build_add_request(sorted(wanted - existing)))
    if existing - wanted:
        requests.append(tenant_partitions.build_delete_request(sorted(existing - wanted)))
    return dg.SensorResult(dynamic_partitions_requests=requests)


@dg.sensor(
    job=tenant_sync_job,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Asks each tenant's pod one cheap question (anything after the mark?) and requests a "
    "run only when the answer is yes.",
)
def oracle_change_sensor(
    context: dg.SensorEvaluationContext, app_db: AppDatabase, fusion: FusionResource
) -> dg.SensorResult:
    cursor = load_cursor(OracleChangeCursor, context.cursor)
    registry, store = app_db.registry(), app_db.sync_store()
    partitions = set(context.instance.get_dynamic_partitions(TENANTS))
    run_requests = []
    for tenant in enabled_tenants(registry):
        if tenant.id not in partitions:
            continue
        mark = store.marks.get(tenant.id)
        token = f"{mark.timestamp.isoformat()}:{mark.key}" if mark else "initial"
        if cursor.requested.get(tenant.id) == token:
            continue
        if mark is not None:
            with fusion.client(tenant, registry) as client:
                if not client.has_changes_after(mark.timestamp):
                    continue
        secret = registry.mailchimp_secret(tenant).get_secret_value()
        run_requests.append(
            dg.RunRequest(
                run_key=f"oracle-change:{tenant.id}:{token}",
                partition_key=tenant.id,
                tags=run_tags(tenant.id, secret, Trigger.ORACLE_CHANGE),
            )
        )
        cursor.requested[tenant.id] = token
    return dg.SensorResult(run_requests=run_requests, cursor=cursor.model_dump_json())


@dg.sensor(
    minimum_interval_seconds=300,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Records Mailchimp unsubscribes and cleaned addresses in the ledger and member state.",
)
def mailchimp_audience_events_sensor(
    context: dg.SensorEvaluationContext, app_db: AppDatabase, mailchimp: MailchimpResource
) -> dg.SensorResult | dg.SkipReason:
    cursor = load_cursor(AudienceEventsCursor, context.cursor)
    registry, store = app_db.registry(), app_db.sync_store()
    recorded = 0
    for tenant in enabled_tenants(registry):
        since = cursor.since.get(tenant.id) or datetime.now(UTC) - FIRST_AUDIENCE_LOOKBACK
        with mailchimp.client(tenant, registry) as client:
            result = record_audience_events(client, store, tenant, since)
        cursor.since[tenant.id] = result.next_since
        recorded += result.recorded
    context.log.info(f"recorded {recorded} audience events")
    return dg.SensorResult(cursor=cursor.model_dump_json())
