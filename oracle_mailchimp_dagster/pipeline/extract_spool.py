"""The extract step's output: the run's customers on disk by address partition, and a small manifest.

Records stream from Oracle into `PARTITIONS` files, each customer into the partition of its address
group (`pipeline.grouping`), a few thousand in memory at a time. Each batch's stored member states are
looked up as it arrives, for two things the plan needs from the whole run before it starts: the
bridges (customers whose record left their stored address), and the addresses whose writer the run
moves away, whose other holders are read again at the end (`sync.handover`).
"""

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from oracle_mailchimp_dagster.fusion import QuarantinedRow
from oracle_mailchimp_dagster.pipeline.extract import ExtractMode, FirstSeen, read_run
from oracle_mailchimp_dagster.pipeline.frames import FrameWriter, private_directory, read_frames
from oracle_mailchimp_dagster.pipeline.grouping import (
    Bridges,
    Spooled,
    bucket_of,
    is_bridge,
    own_group,
    spooled,
)
from oracle_mailchimp_dagster.pipeline.ports import CustomerSource
from oracle_mailchimp_dagster.pipeline.preload import Preloader
from oracle_mailchimp_dagster.pipeline.results import RunResults
from oracle_mailchimp_dagster.store.records import HighWaterMark
from oracle_mailchimp_dagster.store.sync_store import SyncStore
from oracle_mailchimp_dagster.sync.customer import Customer
from oracle_mailchimp_dagster.sync.handover import addresses_left, holders_outside

# A partition holds about 1/128 of the run: ~8,000 customers of a million, all the plan step reads
# at once. Buffers are written out whenever FLUSH_ROWS customers wait, whatever the partitions.
PARTITIONS = 128
FLUSH_ROWS = 5000


def partition_path(directory: Path, index: int) -> Path:
    return directory / f"p{index:03d}.frames"


class PartitionWriter:
    """Appends spooled customers to their partition's file, buffering at most FLUSH_ROWS in all."""

    def __init__(self, directory: Path, partitions: int = PARTITIONS, flush_rows: int = FLUSH_ROWS) -> None:
        self.directory = private_directory(directory)
        self.partitions = partitions
        self._flush_rows = flush_rows
        self._buffers: list[list[Spooled]] = [[] for _ in range(partitions)]
        self._writers: dict[int, FrameWriter] = {}
        self._buffered = 0
        self.rows = 0
        self.bytes = 0

    def add(self, row: Spooled, group: str) -> None:
        self._buffers[bucket_of(group, self.partitions)].append(row)
        self._buffered += 1
        self.rows += 1
        if self._buffered >= self._flush_rows:
            self.flush()

    def flush(self) -> None:
        for index, buffer in enumerate(self._buffers):
            if buffer:
                writer = self._writers.get(index)
                if writer is None:
                    writer = self._writers[index] = FrameWriter(partition_path(self.directory, index))
                writer.write(buffer)
                self._buffers[index] = []
        self._buffered = 0

    def close(self) -> None:
        self.flush()
        for writer in self._writers.values():
            self.bytes += writer.size
            writer.close()
        self._writers.clear()


class _Router:
    """The run's sink: looks up each batch's stored states, notes its bridges and the addresses it
    takes writers away from, hands its new customers to the preloader if there is one, and spools
    every other customer into its partition."""

    def __init__(
        self, store: SyncStore, tenant_id: str, writer: PartitionWriter, preloader: Preloader | None
    ) -> None:
        self._store = store
        self._tenant_id = tenant_id
        self._writer = writer
        self._preloader = preloader
        self.bridges = Bridges()
        self.bridge_count = 0
        self.left: set[str] = set()

    def __call__(self, customers: Sequence[Customer]) -> None:
        states = self._store.members.by_keys(self._tenant_id, [c.key for c in customers])
        self.left |= addresses_left(customers, states)
        rows = [spooled(customer, states.get(customer.key)) for customer in customers]
        if self._preloader is not None:
            rows = self._preloader.take(rows, states)
        self.spool(rows)

    def spool(self, rows: Iterable[Spooled]) -> None:
        for row in rows:
            if is_bridge(row):
                new, stored, _ = row
                assert new is not None and stored is not None
                self.bridges.link(new, stored)
                self.bridge_count += 1
            self._writer.add(row, own_group(row))


@dataclass(frozen=True)
class ExtractManifest:
    """What a run read from Oracle, as the plan step gets it (pickled by the IO manager, small): the
    window and marks, the quarantined rows (keys and a reason; a key is valid or quarantined), the
    holders read again, and where the customers are (`partitions` files under `directory`).

    `bridged` maps each address a bridge links to its merged group's root (`pipeline.grouping`)."""

    mode: ExtractMode
    window_start: datetime | None
    window_end: datetime | None
    mark_before: HighWaterMark | None
    mark_candidate: HighWaterMark | None
    directory: Path
    rows: int
    partitions: int = PARTITIONS
    retry_keys: tuple[str, ...] = ()
    stats: dict[str, int] = field(default_factory=dict)
    quarantined: tuple[QuarantinedRow, ...] = ()
    holders_reread: tuple[str, ...] = ()
    bridged: dict[str, str] = field(default_factory=dict)
    bridges: int = 0
    bytes: int = 0
    preloaded: RunResults | None = None
    read_waited_for_load_s: float = 0.0
    sent_actions: dict[str, int] = field(default_factory=dict)  # what was sent while reading, planned
    sent_invalid: dict[str, int] = field(default_factory=dict)

    @property
    def spooled_rows(self) -> int:
        """The customers left for the plan step (`rows` less those sent while reading)."""
        return self.rows - (self.preloaded.records if self.preloaded else 0)

    @property
    def advances_mark(self) -> bool:
        return self.mode.advances_mark

    def partition(self, index: int) -> Iterator[Spooled]:
        for frame in read_frames(partition_path(self.directory, index)):
            yield from frame

    def customers(self) -> Iterator[Customer]:
        """Every customer, partition by partition (not in the order read)."""
        for index in range(self.partitions):
            for _, _, customer in self.partition(index):
                yield customer


def _read_holders(
    client: CustomerSource, store: SyncStore, tenant_id: str, left: set[str], seen: FirstSeen
) -> tuple[str, ...]:
    """Read again, by key, the holders outside the run of the addresses it takes writers away from,
    so the member takes the next newest holder's data; returns the keys read."""
    if not left:
        return ()
    holders = store.members.by_subscriber_hashes(tenant_id, left)
    keys = sorted(holders_outside(holders, left, seen))
    if not keys:
        return ()
    seen.read(client.fetch_customers_by_numbers(keys))
    return tuple(k for k in keys if k in seen.keys)


def extract_to_spool(
    client: CustomerSource,
    mode: ExtractMode,
    *,
    store: SyncStore,
    tenant_id: str,
    directory: Path,
    mark: HighWaterMark | None,
    since: datetime | None = None,
    until: datetime | None = None,
    keys: Iterable[str] = (),
    retry_keys: Iterable[str] = (),
    now: datetime | None = None,
    preloader: Preloader | None = None,
) -> ExtractManifest:
    """Read the run's customers (`read_run`, then the holders a handover needs) into `directory`;
    with a `preloader`, the new ones are sent while reading (`pipeline.preload`)."""
    writer = PartitionWriter(directory)
    router = _Router(store, tenant_id, writer, preloader)
    seen = FirstSeen(router)
    try:
        window = read_run(
            client, mode, seen, mark=mark, since=since, until=until, keys=keys, retry_keys=retry_keys, now=now
        )
        reread = _read_holders(client, store, tenant_id, router.left, seen)
        if preloader is not None:
            router.spool(preloader.finish())
    finally:
        if preloader is not None:
            preloader.close()
        writer.close()
    preloaded = preloader.results if preloader is not None and preloader.results.records else None
    return ExtractManifest(
        mode=mode,
        window_start=window.window_start,
        window_end=window.window_end,
        mark_before=mark,
        mark_candidate=window.mark_candidate,
        directory=directory,
        rows=writer.rows + (preloaded.records if preloaded else 0),
        retry_keys=window.retry_keys,
        stats=window.stats,
        quarantined=tuple(seen.quarantined.values()),
        holders_reread=reread,
        bridged=router.bridges.roots(),
        bridges=router.bridge_count,
        bytes=writer.bytes,
        preloaded=preloaded,
        read_waited_for_load_s=preloader.read_waited_s if preloader is not None else 0.0,
        sent_actions=dict(preloader.actions) if preloader is not None else {},
        sent_invalid=dict(preloader.invalid) if preloader is not None else {},
    )
