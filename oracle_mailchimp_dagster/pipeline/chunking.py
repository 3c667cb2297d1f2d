"""The plan step's chunks: the extract's partitions cut and packed into chunks of whole address groups.

A chunk is planned alone, so it must hold every run customer touching any of its addresses
(`pipeline.grouping`). Partitions are read one at a time; customers touching a bridged address are set
aside to a spill (by merged group) and chunked after the partitions. A partition larger than a chunk is
cut by its groups' ids; smaller ones are packed together up to the chunk size. A single group larger
than the chunk size stays whole (it cannot be planned in parts).
"""

from collections.abc import Callable, Iterator
from math import ceil
from pathlib import Path

from oracle_mailchimp_dagster.pipeline.extract_spool import ExtractManifest, PartitionWriter, partition_path
from oracle_mailchimp_dagster.pipeline.frames import read_frames
from oracle_mailchimp_dagster.pipeline.grouping import LAST_LEVEL, Spooled, bucket_of, group_of, own_group
from oracle_mailchimp_dagster.sync.customer import Customer


def _cut(
    rows: list[Spooled], group: Callable[[Spooled], str], size: int, level: int = 1
) -> list[list[Spooled]]:
    """`rows` in units of at most `size` by their groups' ids (bits after the partition's), cut again
    where the hash left one too large; a unit of a single group stays whole."""
    if len(rows) <= size or level > LAST_LEVEL:
        return [rows]
    parts = ceil(len(rows) / size)
    units: list[list[Spooled]] = [[] for _ in range(parts)]
    for row in rows:
        units[bucket_of(group(row), parts, level=level)].append(row)
    return [cut for unit in units if unit for cut in _cut(unit, group, size, level + 1)]


class _Packer:
    """Packs units (lists of whole groups) into chunks of about `chunk_size` customers."""

    def __init__(self, chunk_size: int) -> None:
        self.chunk_size = chunk_size
        self._pending: list[Customer] = []

    def add(self, rows: list[Spooled], group: Callable[[Spooled], str]) -> Iterator[list[Customer]]:
        if not rows:
            return
        for unit in _cut(rows, group, self.chunk_size):
            if self._pending and len(self._pending) + len(unit) > self.chunk_size:
                yield self._take()
            self._pending.extend(customer for _, _, customer in unit)
            if len(self._pending) >= self.chunk_size:
                yield self._take()

    def finish(self) -> Iterator[list[Customer]]:
        if self._pending:
            yield self._take()

    def _take(self) -> list[Customer]:
        chunk, self._pending = self._pending, []
        return chunk


def _bridged_group(bridged: dict[str, str]) -> Callable[[Spooled], str]:
    def group(row: Spooled) -> str:
        root = group_of(row, bridged)
        assert root is not None, "only customers touching a bridged address are spilled"
        return root

    return group


def customer_chunks(extract: ExtractManifest, chunk_size: int, spill: Path) -> Iterator[list[Customer]]:
    """The run's customers in chunks of whole address groups (`spill`: a folder for the bridged)."""
    if chunk_size < 1:
        raise ValueError("chunk_size must be at least 1")
    packer = _Packer(chunk_size)
    bridged = extract.bridged
    spilled = PartitionWriter(spill, extract.partitions) if bridged else None
    for index in range(extract.partitions):
        rows = list(extract.partition(index))
        if spilled is not None:
            kept = []
            for row in rows:
                root = group_of(row, bridged)
                if root is None:
                    kept.append(row)
                else:
                    spilled.add(row, root)
            rows = kept
        yield from packer.add(rows, own_group)
    if spilled is not None:
        spilled.close()
        by_root = _bridged_group(bridged)
        for index in range(extract.partitions):
            rows = [row for frame in read_frames(partition_path(spill, index)) for row in frame]
            yield from packer.add(rows, by_root)
    yield from packer.finish()
