"""What the UI shows of a run, on the doubles: checks that explain themselves per tenant, metadata
where only meaningful figures are numbers, log lines, and a clear failure for an unknown partition."""

import shlex
from datetime import UTC, datetime, timedelta

import dagster as dg
import pytest

from oracle_mailchimp_dagster.defs.assets import fusion_customers, mailchimp_members, mailchimp_sync_results
from oracle_mailchimp_dagster.defs.build import build_definitions
from oracle_mailchimp_dagster.defs.metadata import ACTIONS, OUTCOMES, report_values
from oracle_mailchimp_dagster.defs.partitions import TENANTS, tenant_partitions
from oracle_mailchimp_dagster.store import DATABASE_URL_ENV
from oracle_mailchimp_dagster.store.engine import Database
from oracle_mailchimp_dagster.tenants.model import TenantConfig
from tests.support.doubles import AssetRuns, InMemoryAudience, InMemoryFusion, InMemoryValues, fusion_customer
from tests.support.plotted import PLOTTED

TENANT = "acme"
NOW = datetime.now(UTC).replace(microsecond=0)
ASSETS = (fusion_customers, mailchimp_members, mailchimp_sync_results)


def numbers(metadata: dict[str, dg.MetadataValue]) -> set[str]:
    """The entries the UI plots across runs."""
    kinds = (dg.IntMetadataValue, dg.FloatMetadataValue)
    return {key for key, value in metadata.items() if isinstance(value, kinds)}


def materialized(result: dg.ExecuteInProcessResult, asset: str) -> dict[str, dg.MetadataValue]:
    return dict(result.asset_materializations_for_node(asset)[0].metadata)


def test_every_check_of_the_sync_assets_says_what_when_and_what_to_do_and_is_per_tenant() -> None:
    graph = build_definitions().resolve_asset_graph()
    ours = {asset.key for asset in ASSETS}
    checks = {k.name: graph.get_check_spec(k) for k in graph.asset_check_keys if k.asset_key in ours}
    assert set(checks) == {
        "quarantined_rows",
        "invalid_record_rate",
        "failed_record_rate",
        "dead_letters_waiting",
        "audience_fresh",
    }
    for name, spec in checks.items():
        assert spec.description and "To fix" in spec.description, name
        assert "Warns" in spec.description or "Fails" in spec.description, name
        assert spec.partitions_def == tenant_partitions, name


def test_a_run_plots_only_meaningful_figures_and_each_check_result_names_its_tenant(
    materialize: AssetRuns, fusion: InMemoryFusion, instance: dg.DagsterInstance, db: Database
) -> None:
    fusion.put(
        fusion_customer(1, "a@example.com", NOW - timedelta(minutes=3)),
        fusion_customer(2, "b@example.com", NOW - timedelta(minutes=2)),
        fusion_customer(3, "not-an-email", NOW - timedelta(minutes=1)),
    )

    result = materialize(*ASSETS)

    for asset, plotted in PLOTTED.items():
        assert numbers(materialized(result, asset)) == plotted, asset
    plan = materialized(result, "mailchimp_members")
    actions = plan["actions"]
    assert isinstance(actions, dg.TableMetadataValue)
    assert [dict(r.data) for r in actions.records] == [
        {"action": "upsert", "count": 2},
        {"action": "reject_invalid", "count": 1},
    ]
    assert isinstance(plan["preview"], dg.TableMetadataValue) and len(plan["preview"].records) == 3
    results = materialized(result, "mailchimp_sync_results")
    assert isinstance(results["mark_after"], dg.TimestampMetadataValue)
    assert results["mark_after"].value == (NOW - timedelta(minutes=1)).timestamp()
    assert isinstance(results["failures_sample"], dg.TableMetadataValue)
    url = db.url.render_as_string(hide_password=False)
    expected = f"{DATABASE_URL_ENV}={shlex.quote(url)} oracle-mailchimp audit {TENANT} --run {result.run_id}"
    assert results["ledger_query"].value == expected

    # The plain view the CLI summary and the demo read: every count with its zeros, marks as text.
    plain = report_values(results)
    assert {k for k in plain if k.startswith("outcome_")} == {f"outcome_{o}" for o in OUTCOMES}
    assert (plain["outcome_created"], plain["outcome_rejected"], plain["outcome_deleted"]) == (2, 1, 0)
    assert plain["mark_after"] == f"{(NOW - timedelta(minutes=1)).isoformat()} / PartyId 3"
    planned = report_values(plan)
    assert {k for k in planned if k.startswith("action_")} == {f"action_{a}" for a in ACTIONS}
    assert (planned["action_upsert"], planned["action_delete"]) == (2, 0)

    evaluations = result.get_asset_check_evaluations()
    assert {e.check_name for e in evaluations} >= {"quarantined_rows", "invalid_record_rate"}
    for evaluation in evaluations:
        assert evaluation.partition == TENANT, evaluation.check_name
        assert (evaluation.description or "").startswith(f"tenant {TENANT}"), evaluation.check_name
        assert evaluation.metadata["tenant"].value == TENANT
    (invalid,) = [e for e in evaluations if e.check_name == "invalid_record_rate"]
    assert invalid.description == f"tenant {TENANT}: 1 of 3 records invalid (33.3%, warns above 10%)"

    said = [entry.user_message for entry in instance.all_logs(result.run_id) if entry.user_message]
    for line in (
        f"tenant {TENANT}: read 3 rows in 1 pages (1 HTTP calls), 0 quarantined",
        f"tenant {TENANT}: planned 3 records in 1 chunks (upsert 2, reject_invalid 1)",
        f"tenant {TENANT}: wrote 3 records (created 2, rejected 1) in 1 of 1 chunks, 0 failed",
    ):
        assert any(line in message for message in said), (line, said)


def test_a_partition_that_is_no_registered_tenant_fails_in_one_line_saying_how_to_add_one(
    db: Database, tenant: TenantConfig, fusion: InMemoryFusion, audience: InMemoryAudience
) -> None:
    with dg.DagsterInstance.ephemeral() as instance:
        instance.add_dynamic_partitions(TENANTS, ["ghost"])  # as the UI's "Add a partition" does
        url = db.url.render_as_string(hide_password=False)
        runs = AssetRuns(
            instance, "ghost", database_url=url, fusion=fusion, audience=audience, values=InMemoryValues()
        )
        with pytest.raises(dg.Failure) as failed:
            runs(*ASSETS)
    said = failed.value.description or ""
    assert "\n" not in said
    assert said.startswith("partition 'ghost' is not a registered tenant")
    assert "`oracle-mailchimp tenants add ghost ...`" in said
    assert fusion.calls == [] and audience.calls == []
