"""`mailchimp_members` alone, fed a hand-made extract: the plan it makes against the audience's fields,
its invalid-record check, and a mapping that does not fit the audience stopping the run."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import pytest

from oracle_mailchimp_dagster.defs.assets import fusion_customers, mailchimp_members, mailchimp_sync_results
from oracle_mailchimp_dagster.pipeline.extract import ExtractMode
from oracle_mailchimp_dagster.pipeline.extract_spool import ExtractManifest, extract_to_spool
from oracle_mailchimp_dagster.pipeline.plan import MemberPlan
from oracle_mailchimp_dagster.store.records import HighWaterMark
from oracle_mailchimp_dagster.store.sync_store import SyncStore
from oracle_mailchimp_dagster.tenants.model import TenantConfig, mapping_with_company
from oracle_mailchimp_dagster.tenants.registry import TenantRegistry
from tests.support.doubles import (
    AssetRuns,
    AudienceCall,
    InMemoryAudience,
    InMemoryFusion,
    InMemoryValues,
    fusion_customer,
    metadata,
)

TENANT = "acme"
NOW = datetime.now(UTC).replace(microsecond=0)


def extract_of(store: SyncStore, directory: Path, *emails: str) -> ExtractManifest:
    """A hand-made extract: these customers, spooled as the extract step spools them."""
    rows = [fusion_customer(i, email, NOW - timedelta(minutes=i)) for i, email in enumerate(emails, 1)]
    extract = extract_to_spool(
        InMemoryFusion(rows),
        ExtractMode.INCREMENTAL,
        store=store,
        tenant_id=TENANT,
        directory=directory,
        mark=None,
        now=NOW,
    )
    assert extract.mark_candidate == HighWaterMark(NOW - timedelta(minutes=1), 1)
    return extract


def test_plans_one_upsert_per_new_customer_and_rejects_an_invalid_email(
    materialize: AssetRuns,
    values: InMemoryValues,
    audience: InMemoryAudience,
    store: SyncStore,
    tmp_path: Path,
) -> None:
    extract = extract_of(store, tmp_path, "a@example.com", "not-an-email", "b@example.com")
    values.put("fusion_customers", extract, TENANT)

    result = materialize(fusion_customers, mailchimp_members, selection=[mailchimp_members])

    plan: MemberPlan = values.get("mailchimp_members", TENANT)
    actions = plan.frame()
    assert dict(zip(actions["customer_key"], actions["action"], strict=True)) == {
        "CUST-1": "upsert",
        "CUST-2": "reject_invalid",
        "CUST-3": "upsert",
    }
    upserts = actions[actions["action"] == "upsert"].sort_values("customer_key")
    assert list(upserts["status_if_new"]) == ["transactional", "transactional"]
    assert upserts.iloc[0]["merge_fields"]["FNAME"] == "Ada"
    md = metadata(result, "mailchimp_members")
    assert (md["records"], md["action_upsert"], md["action_reject_invalid"]) == (3, 2, 1)
    assert md["invalid_by_reason"] == {"malformed email address": 1}
    [check] = result.get_asset_check_evaluations()
    assert check.check_name == "invalid_record_rate"
    assert not check.passed  # 1 in 3 is over the 10 % default
    assert check.metadata["rate"].value == pytest.approx(0.3333)
    assert check.metadata["invalid_records"].value == 1
    assert audience.calls == [AudienceCall("get_merge_fields")]


def test_a_mapping_naming_a_missing_merge_field_fails_the_run_before_any_write(
    materialize: AssetRuns,
    tenant: TenantConfig,
    registry: TenantRegistry,
    fusion: InMemoryFusion,
    audience: InMemoryAudience,
    store: SyncStore,
) -> None:
    registry.update(tenant.model_copy(update={"mapping": mapping_with_company()}))
    fusion.put(fusion_customer(1, "a@example.com", NOW - timedelta(minutes=1)))

    with pytest.raises(dg.Failure) as failure:
        materialize(fusion_customers, mailchimp_members, mailchimp_sync_results)

    assert "merge field COMPANY (mapped from OrganizationName) does not exist" in (
        failure.value.description or ""
    )
    assert audience.writes == []
    assert store.marks.get(TENANT) is None
    assert store.ledger.for_customer(TENANT, "CUST-1") == []
