"""Materialize the connector's assets for one tenant partition on the doubles: no HTTP at all."""

from collections.abc import Mapping, Sequence
from typing import Any

import dagster as dg

from oracle_mailchimp_dagster.defs.metadata import report_values
from oracle_mailchimp_dagster.defs.resources import AppDatabase, SyncCheckThresholds
from tests.support.doubles.audience import InMemoryAudience
from tests.support.doubles.fusion import InMemoryFusion
from tests.support.doubles.resources import InMemoryAudienceResource, InMemoryFusionResource
from tests.support.doubles.values import InMemoryValues


class AssetRuns:
    """Runs assets of `partition_key` with the real app database, both doubles and `values` as the IO
    manager, so what one run wrote (or the test seeded) is what the next one reads."""

    def __init__(
        self,
        instance: dg.DagsterInstance,
        partition_key: str,
        *,
        database_url: str,
        fusion: InMemoryFusion,
        audience: InMemoryAudience,
        values: InMemoryValues,
    ) -> None:
        self.instance = instance
        self.partition_key = partition_key
        self.resources: dict[str, Any] = {
            "app_db": AppDatabase(database_url=database_url),
            "fusion": InMemoryFusionResource(double=fusion),
            "mailchimp": InMemoryAudienceResource(double=audience),
            "check_thresholds": SyncCheckThresholds(),
            "io_manager": values.resource(),
        }

    def __call__(
        self,
        *assets: dg.AssetsDefinition,
        selection: Sequence[dg.AssetsDefinition] | None = None,
        run_config: Mapping[str, Any] | None = None,
    ) -> dg.ExecuteInProcessResult:
        """One run; raises on failure (a step's `dg.Failure` comes out as itself)."""
        return dg.materialize(
            list(assets),
            selection=selection,
            instance=self.instance,
            partition_key=self.partition_key,
            resources=self.resources,
            run_config=run_config,
        )


def metadata(result: dg.ExecuteInProcessResult, asset: str) -> dict[str, Any]:
    """The plain view (`report_values`) of the run's materialization of `asset`: count tables as
    `action_*` / `outcome_*`, the `details` figures as keys, timestamps and marks as text."""
    return report_values(result.asset_materializations_for_node(asset)[0].metadata)
