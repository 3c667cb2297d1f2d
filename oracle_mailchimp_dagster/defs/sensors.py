"""Sensors: the tenant registry drives partitions; Oracle changes trigger runs.

The change sensor asks every tenant's pod one cheap question per tick. With hundreds of tenants the
questions go out concurrently (`ProbeLimits.workers` at a time), the tick keeps to a time budget well
under Dagster's 60 s sensor timeout and resumes where it stopped, and a tenant whose probe fails is
logged with the way to fix it, counted, and asked again next tick, without stopping the others.
(Mailchimp audience events are read in runs: `defs/audience.py`.)
"""

import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Generic, TypeVar, cast

import dagster as dg

from oracle_mailchimp_dagster.defs.cursors import OracleChangeCursor, TickSummary, load_cursor
from oracle_mailchimp_dagster.defs.jobs import tenant_sync_job
from oracle_mailchimp_dagster.defs.partitions import TENANTS, tenant_partitions
from oracle_mailchimp_dagster.defs.resources import AppDatabase, FusionResource
from oracle_mailchimp_dagster.defs.run_tags import Trigger, run_tags
from oracle_mailchimp_dagster.defs.tenant_source import enabled_tenants
from oracle_mailchimp_dagster.errors import UserError
from oracle_mailchimp_dagster.http.redaction import redact_credentials
from oracle_mailchimp_dagster.store.records import HighWaterMark
from oracle_mailchimp_dagster.store.sync_store import SyncStore
from oracle_mailchimp_dagster.tenants.model import TenantConfig
from oracle_mailchimp_dagster.tenants.registry import TenantRegistry


@dataclass(frozen=True)
class ProbeLimits:
    """How one tick of the change sensor spends its time.

    No probe starts after `start_budget_s`; the tick returns by `tick_budget_s` (well under Dagster's
    60 s), counting a probe still unanswered then as failed. A probe's own HTTP limits (`probe_client`)
    keep an unanswered one from outliving the tick by much.
    """

    workers: int = 32
    start_budget_s: float = 30.0
    tick_budget_s: float = 40.0


PROBE_LIMITS = ProbeLimits()
R = TypeVar("R")

# A probe is retried by the next tick, so within one it gets short timeouts and one retry at most.
_PROBE_HTTP = {
    "connect_timeout_s": 5.0,
    "read_timeout_s": 10.0,
    "deadline_s": 10.0,
    "max_attempts": 2,
    "max_retry_seconds": 5.0,
}


def probe_client(fusion: FusionResource) -> FusionResource:
    """The resource with each HTTP limit no looser than a probe's (a deployment's tighter ones stay)."""
    limits = {name: min(getattr(fusion, name), value) for name, value in _PROBE_HTTP.items()}
    return fusion.model_copy(update=limits)


@dataclass
class Budgeted(Generic[R]):
    """What a budgeted batch did with each key: a result, still running when time ran out, or not
    started (the budget ended first)."""

    results: dict[str, R] = field(default_factory=dict)
    unfinished: list[str] = field(default_factory=list)
    unreached: list[str] = field(default_factory=list)


def run_budgeted(
    keys: Sequence[str],
    work: Callable[[str], R],
    limits: ProbeLimits,
    clock: Callable[[], float] = time.monotonic,
) -> Budgeted[R]:
    """`work(key)` for each key, `limits.workers` at a time, in the order given, within the budget.

    `work` must not raise (it returns its failure). Threads still running at the end are left to
    finish on their own (the HTTP limits bound them); their results are dropped.
    """
    start = clock()
    started: set[str] = set()
    guard = threading.Lock()

    def attempt(key: str) -> tuple[bool, R | None]:
        if clock() - start > limits.start_budget_s:
            return False, None
        with guard:
            started.add(key)
        return True, work(key)

    pool = ThreadPoolExecutor(max_workers=limits.workers, thread_name_prefix="oracle-change-probe")
    futures = {key: pool.submit(attempt, key) for key in keys}
    wait(futures.values(), timeout=max(0.0, limits.tick_budget_s - (clock() - start)))
    pool.shutdown(wait=False, cancel_futures=True)
    outcome: Budgeted[R] = Budgeted()
    with guard:
        for key, future in futures.items():
            ran, result = future.result() if future.done() and not future.cancelled() else (False, None)
            if ran:
                outcome.results[key] = cast(R, result)
            elif key in started and not future.done():
                outcome.unfinished.append(key)
            else:
                outcome.unreached.append(key)
    return outcome


@dataclass(frozen=True)
class Evaluation:
    """One tenant's answer this tick: the mark token, and a run request or the reason it failed."""

    token: str
    request: dg.RunRequest | None = None
    error: str | None = None


def mark_token(mark: HighWaterMark | None) -> str:
    return f"{mark.timestamp.isoformat()}:{mark.key}" if mark else "initial"


def fix_hint(tenant_id: str) -> str:
    return (
        f"check its Oracle credentials and pod URL with `oracle-mailchimp tenants test {tenant_id}` "
        "(it is probed again next tick)"
    )


def _reason(exc: Exception) -> str:
    text = str(exc) if isinstance(exc, UserError) else f"{type(exc).__name__}: {exc}"
    return redact_credentials(text)


def evaluate_tenant(
    tenant: TenantConfig,
    requested: str | None,
    registry: TenantRegistry,
    store: SyncStore,
    fusion: FusionResource,
) -> Evaluation:
    """Whether the tenant needs a run: never synced, or Oracle has a customer after its mark (unless a
    run was already requested for that mark). Never raises: a failure is returned."""
    token = ""
    try:
        mark = store.marks.get(tenant.id)
        token = mark_token(mark)
        if requested == token:
            return Evaluation(token)
        if mark is not None:
            with fusion.client(tenant, registry) as client:
                if not client.has_changes_after(mark.timestamp):
                    return Evaluation(token)
        secret = registry.mailchimp_secret(tenant).get_secret_value()
        request = dg.RunRequest(
            run_key=f"oracle-change:{tenant.id}:{token}",
            partition_key=tenant.id,
            tags=run_tags(tenant.id, secret, Trigger.ORACLE_CHANGE),
        )
        return Evaluation(token, request=request)
    except Exception as exc:  # isolated: one tenant's failure must not stop the tick
        return Evaluation(token, error=_reason(exc))


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


def detect_oracle_changes(
    context: dg.SensorEvaluationContext,
    app_db: AppDatabase,
    fusion: FusionResource,
    limits: ProbeLimits = PROBE_LIMITS,
) -> dg.SensorResult:
    """One tick of `oracle_change_sensor` (the limits are a parameter so tests can shrink them)."""
    started = time.monotonic()
    cursor = load_cursor(OracleChangeCursor, context.cursor)
    registry, store = app_db.registry(), app_db.sync_store()
    partitions = set(context.instance.get_dynamic_partitions(TENANTS))
    tenants = {t.id: t for t in enabled_tenants(registry) if t.id in partitions}
    cursor.keep_only(set(tenants))
    prober = probe_client(fusion)
    requested = dict(cursor.requested)  # read by the workers; the cursor is written after they finish

    def work(tenant_id: str) -> Evaluation:
        return evaluate_tenant(tenants[tenant_id], requested.get(tenant_id), registry, store, prober)

    batch = run_budgeted(cursor.visit_order(tenants), work, limits)
    cursor.tick += 1
    failures: dict[str, str] = {}
    run_requests = []
    for tenant_id, result in batch.results.items():
        cursor.evaluated_in[tenant_id] = cursor.tick
        if result.error is not None:
            failures[tenant_id] = result.error
        elif result.request is not None:
            run_requests.append(result.request)
            cursor.requested[tenant_id] = result.token
    for tenant_id in batch.unfinished:
        # Started but unanswered: to the back of the queue, so a hanging pod cannot hold the front.
        cursor.evaluated_in[tenant_id] = cursor.tick
        failures[tenant_id] = f"no answer within the tick's {limits.tick_budget_s:.0f} s budget"
    for tenant_id in tenants:
        if tenant_id in failures:
            cursor.failures[tenant_id] = cursor.failures.get(tenant_id, 0) + 1
        elif tenant_id in batch.results:
            cursor.failures.pop(tenant_id, None)
    for tenant_id, reason in sorted(failures.items()):
        times = cursor.failures[tenant_id]
        context.log.warning(
            f"tenant '{tenant_id}': change detection failed ({times} tick(s) in a row): "
            f"{reason.rstrip('.')}. To fix it, {fix_hint(tenant_id)}"
        )
    cursor.last_tick = TickSummary(
        tenants=len(tenants),
        evaluated=sum(1 for r in batch.results.values() if r.error is None),
        requested=len(run_requests),
        failed=len(failures),
        unreached=len(batch.unreached),
        seconds=round(time.monotonic() - started, 3),
    )
    context.log.info(_summary_line(cursor.last_tick, sorted(failures)))
    return dg.SensorResult(run_requests=run_requests, cursor=cursor.model_dump_json())


def _summary_line(tick: TickSummary, failed: list[str]) -> str:
    line = (
        f"evaluated {tick.evaluated} of {tick.tenants} tenant(s) in {tick.seconds:.1f} s: "
        f"{tick.requested} run(s) requested, {tick.failed} failed"
    )
    if failed:
        shown = ", ".join(failed[:10]) + (f" and {len(failed) - 10} more" if len(failed) > 10 else "")
        line += f" ({shown})"
    if tick.unreached:
        line += f", {tick.unreached} not reached (the next tick starts with them)"
    return line


@dg.sensor(
    job=tenant_sync_job,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Asks each tenant's pod one cheap question (anything after the mark?), many at once "
    "within a time budget, and requests a run only when the answer is yes; a tenant whose probe fails "
    "is logged and asked again next tick.",
)
def oracle_change_sensor(
    context: dg.SensorEvaluationContext, app_db: AppDatabase, fusion: FusionResource
) -> dg.SensorResult:
    return detect_oracle_changes(context, app_db, fusion)
