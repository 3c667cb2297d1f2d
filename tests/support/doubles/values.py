"""Asset values in memory across runs, so a test can feed an asset a hand-made upstream value.

Dagster's own in-memory IO manager keeps values for one run only; this one is a dict the test holds:
seed it with an upstream value and materialize the downstream asset alone, or read what a run wrote.
"""

from typing import Any

import dagster as dg


def _key(asset_key: dg.AssetKey, partition_key: str | None) -> tuple[str, str | None]:
    return asset_key.to_user_string(), partition_key


class InMemoryValues(dg.IOManager):
    """Values by (asset, partition); `put` seeds one, `get` reads one back."""

    def __init__(self) -> None:
        self._values: dict[tuple[str, str | None], Any] = {}

    def put(self, asset: str, value: Any, partition_key: str | None = None) -> None:
        self._values[_key(dg.AssetKey(asset), partition_key)] = value

    def get(self, asset: str, partition_key: str | None = None) -> Any:
        return self._values[_key(dg.AssetKey(asset), partition_key)]

    def handle_output(self, context: dg.OutputContext, obj: Any) -> None:
        partition = context.asset_partition_key if context.has_asset_partitions else None
        self._values[_key(context.asset_key, partition)] = obj

    def load_input(self, context: dg.InputContext) -> Any:
        partition = context.asset_partition_key if context.has_asset_partitions else None
        return self._values[_key(context.asset_key, partition)]

    def resource(self) -> dg.IOManagerDefinition:
        """This object as the run's `io_manager`."""
        return dg.IOManagerDefinition.hardcoded_io_manager(self)
