"""Chunks hold whole address groups: every customer touching an address (its record's or its stored
state's) is in the chunk of every other one, however the run's records were spread over partitions,
and however email changes chain addresses together."""

import random
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from oracle_mailchimp_dagster.pipeline.chunking import customer_chunks
from oracle_mailchimp_dagster.pipeline.extract import ExtractMode
from oracle_mailchimp_dagster.pipeline.extract_spool import ExtractManifest, PartitionWriter
from oracle_mailchimp_dagster.pipeline.frames import FrameRef, FrameWriter, read_frame, read_frames
from oracle_mailchimp_dagster.pipeline.grouping import Bridges, Spooled, is_bridge, own_group, spooled
from oracle_mailchimp_dagster.sync.customer import Customer
from oracle_mailchimp_dagster.sync.identity import subscriber_hash
from oracle_mailchimp_dagster.sync.model import Action, MemberState, PlannedAction

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def customer(party_id: int, email: str | None) -> Customer:
    return Customer(
        party_id=party_id,
        last_update_date=T0 + timedelta(seconds=party_id),
        party_number=f"CDRM_{party_id}",
        email_address=email,
    )


def state(key: str, email: str) -> MemberState:
    return MemberState(key, email, subscriber_hash(email), "digest", "subscribed")


def spool(rows: list[Spooled], directory: Path) -> ExtractManifest:
    """The manifest the extract step would write for these rows (bridges joined as it joins them)."""
    writer, bridges = PartitionWriter(directory, partitions=8, flush_rows=37), Bridges()
    for row in rows:
        if is_bridge(row):
            assert row[0] is not None and row[1] is not None
            bridges.link(row[0], row[1])
        writer.add(row, own_group(row))
    writer.close()
    return ExtractManifest(
        mode=ExtractMode.FULL,
        window_start=None,
        window_end=None,
        mark_before=None,
        mark_candidate=None,
        directory=directory,
        rows=writer.rows,
        partitions=8,
        bridged=bridges.roots(),
    )


def random_rows(rng: random.Random, count: int) -> list[Spooled]:
    """Customers on a few hundred addresses (many shared), some without any, some with a stored state
    on another address (an email change), a few of those chaining addresses."""
    addresses = [f"a{n}@example.com" for n in range(count // 3)]
    rows = []
    for party_id in range(1, count + 1):
        email = rng.choice(addresses) if rng.random() > 0.05 else None
        stored = None
        if rng.random() < 0.15:
            stored = state(f"CDRM_{party_id}", rng.choice(addresses))
        rows.append(spooled(customer(party_id, email), stored))
    return rows


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_every_address_is_in_one_chunk_and_every_customer_in_exactly_one(tmp_path: Path, seed: int) -> None:
    rows = random_rows(random.Random(seed), 3000)
    extract = spool(rows, tmp_path / "extract")
    chunks = list(customer_chunks(extract, 100, tmp_path / "spill"))

    keys = [c.key for chunk in chunks for c in chunk]
    assert sorted(keys) == sorted(row[2].key for row in rows)
    assert len(keys) == len(set(keys))
    chunk_of = {c.key: index for index, chunk in enumerate(chunks) for c in chunk}
    by_address: dict[str, set[int]] = defaultdict(set)
    for new, stored, c in rows:
        for address in (new, stored):
            if address is not None:
                by_address[address].add(chunk_of[c.key])
    assert all(len(found) == 1 for found in by_address.values())
    assert extract.bridged, "the scenario chains addresses"
    assert len(chunks) >= 5, "bridged groups may be large, the others are cut to about the chunk size"


def test_partitions_are_cut_to_the_chunk_size_and_small_ones_packed(tmp_path: Path) -> None:
    rows = [spooled(customer(n, f"own{n}@example.com"), None) for n in range(1, 1001)]
    extract = spool(rows, tmp_path / "extract")

    small = list(customer_chunks(extract, 40, tmp_path / "spill-small"))
    assert all(len(chunk) <= 40 for chunk in small) and 25 <= len(small) <= 40
    one = list(customer_chunks(extract, 10_000, tmp_path / "spill-one"))
    assert [len(chunk) for chunk in one] == [1000]


def test_a_group_larger_than_a_chunk_stays_whole(tmp_path: Path) -> None:
    rows = [spooled(customer(n, "shared@example.com"), None) for n in range(1, 301)]
    rows += [spooled(customer(n, f"own{n}@example.com"), None) for n in range(301, 321)]
    extract = spool(rows, tmp_path / "extract")

    chunks = list(customer_chunks(extract, 50, tmp_path / "spill"))

    [shared] = [chunk for chunk in chunks if any(c.email_address == "shared@example.com" for c in chunk)]
    assert sum(1 for c in shared if c.email_address == "shared@example.com") == 300


def test_bridges_join_chains_of_addresses_whatever_the_order() -> None:
    forward, backward = Bridges(), Bridges()
    pairs = [("a", "b"), ("c", "d"), ("b", "c"), ("x", "y")]
    for a, b in pairs:
        forward.link(a, b)
    for a, b in reversed(pairs):
        backward.link(b, a)
    assert (
        forward.roots()
        == backward.roots()
        == {
            "a": "a",
            "b": "a",
            "c": "a",
            "d": "a",
            "x": "x",
            "y": "x",
        }
    )


def test_frames_round_trip_the_records_and_refuse_a_truncated_file(tmp_path: Path) -> None:
    customers = [customer(n, f"c{n}@example.com") for n in range(1, 4)]
    action = PlannedAction(
        "CDRM_1", Action.UPSERT, "new member", merge_fields={"FNAME": "Ada"}, tags=frozenset({"t"})
    )
    path = tmp_path / "frames"
    with FrameWriter(path) as writer:
        first = writer.write(customers)
        second = writer.write([action])
    assert path.stat().st_mode & 0o777 == 0o600
    assert list(read_frames(path)) == [customers, [action]]
    assert read_frame(path, second) == [action]
    assert [c.key for c in read_frame(path, first)] == ["CDRM_1", "CDRM_2", "CDRM_3"]
    path.write_bytes(path.read_bytes()[:-3])
    with pytest.raises(ValueError, match="cut short"):
        read_frame(path, FrameRef(second.offset, second.length, 1))
