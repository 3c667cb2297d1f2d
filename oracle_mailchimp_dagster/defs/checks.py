"""The checks of the sync assets: what each checks, when it warns and what to do, per tenant.

Each check is partitioned by tenant like its asset (Dagster 1.13 `AssetCheckSpec(partitions_def=...)`,
a preview feature), so every evaluation is stored against its tenant's partition: the UI shows each
tenant's latest result and a failing tenant is not hidden by another's pass. Each result also names
its tenant in its description and its `tenant` metadata, which the UI shows wherever it lists results.
"""

import warnings
from collections.abc import Mapping

import dagster as dg

from oracle_mailchimp_dagster.defs.partitions import tenant_partitions

QUARANTINED_ROWS = "quarantined_rows"
INVALID_RECORD_RATE = "invalid_record_rate"
FAILED_RECORD_RATE = "failed_record_rate"
DEAD_LETTERS_WAITING = "dead_letters_waiting"

DESCRIPTIONS = {
    QUARANTINED_ROWS: "Rows Oracle sent malformed (a value of the wrong JSON type, e.g. a PostalCode as a "
    "number) are set aside instead of stopping the tenant: each is recorded as rejected with its reason "
    "and read again when Oracle next changes it. Warns when a run quarantined any row. To fix: correct "
    "the attribute named in the result's sample in Oracle; the next run after that change syncs it.",
    INVALID_RECORD_RATE: "The share of a run's records rejected before anything is sent (no email "
    "address, or a malformed one). Warns above check_thresholds.max_invalid_rate (10 % unless "
    "configured). To fix: correct the addresses in Oracle (mailchimp_members' invalid_by_reason counts "
    "the reasons, the audit command lists the records), or raise the threshold if that data is expected.",
    FAILED_RECORD_RATE: "The share of a run's records that Mailchimp refused or that failed after "
    "retries. Warns above check_thresholds.max_failed_rate (5 % unless configured). To fix: read the "
    "failures with the audit command in mailchimp_sync_results' ledger_query; retryable failures are "
    "retried by the next runs, refused data waits for a change in Oracle.",
    DEAD_LETTERS_WAITING: "Records that failed the tenant's maximum number of attempts and are no "
    "longer retried by themselves. Warns while any is waiting. To fix: see them with `oracle-mailchimp "
    "audit TENANT`, remove the cause, then replay them with `oracle-mailchimp sync TENANT --customer "
    "KEY` (or `--replay-run RUN_ID --failed-only`).",
}


def tenant_check_spec(name: str, asset: str) -> dg.AssetCheckSpec:
    """The check `name` of `asset`, partitioned by tenant, with its description."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.PreviewWarning)  # partitioned checks are preview in 1.13
        return dg.AssetCheckSpec(
            name, asset=asset, description=DESCRIPTIONS[name], partitions_def=tenant_partitions
        )


def check_result(
    name: str, tenant_id: str, *, passed: bool, summary: str, metadata: Mapping[str, object]
) -> dg.AssetCheckResult:
    """A warning-level result that names its tenant first, in its description and its metadata."""
    return dg.AssetCheckResult(
        check_name=name,
        passed=passed,
        severity=dg.AssetCheckSeverity.WARN,
        description=f"tenant {tenant_id}: {summary}",
        metadata={"tenant": dg.MetadataValue.text(tenant_id), **metadata},  # type: ignore[dict-item]
    )
