"""Records on disk between a run's steps: files of length-prefixed pickled frames, one list a frame.

A step writes its records a frame at a time and the next one reads them back a frame at a time, so
neither holds a run's records at once, whatever the customer count. The format needs no dependency:
each frame is an 8-byte little-endian length and a pickle of a list (docs/DECISIONS.md, "Streaming
through chunks"). The files are written by the run itself under the Dagster instance's storage
directory, private to its user (0600 in 0700 folders), and read only by the steps of that run (or its
re-execution), with the same trust as Dagster's own pickled step outputs.

The slotted domain records are pickled by their constructor arguments (`_BY_FIELDS`): half the time
of the default slot-by-slot state, and a `Customer` recomputes its derived key and activity as built.
"""

import io
import os
import pickle  # nosec B403: frames written and read by the same run, under the instance's storage
import struct
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, BinaryIO

from oracle_mailchimp_dagster.sync.customer import Customer
from oracle_mailchimp_dagster.sync.model import MemberState, PlannedAction

_LENGTH = struct.Struct("<Q")
_PROTOCOL = 5


def _by_fields(cls: type) -> Callable[[Any], tuple[type, tuple[Any, ...]]]:
    names = [f.name for f in fields(cls) if f.init]

    def reduce(obj: Any) -> tuple[type, tuple[Any, ...]]:
        return cls, tuple([getattr(obj, name) for name in names])

    return reduce


_BY_FIELDS = {cls: _by_fields(cls) for cls in (Customer, PlannedAction, MemberState)}


def dumps(records: Sequence[Any]) -> bytes:
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, protocol=_PROTOCOL)
    pickler.dispatch_table = _BY_FIELDS  # type: ignore[assignment]
    pickler.dump(list(records))
    return buffer.getvalue()


def private_directory(path: Path) -> Path:
    """`path` and any missing parent, created 0700 (already there: left as it is)."""
    missing = []
    current = path
    while not current.exists():
        missing.append(current)
        current = current.parent
    for folder in reversed(missing):
        folder.mkdir(mode=0o700, exist_ok=True)
    return path


@dataclass(frozen=True, slots=True)
class FrameRef:
    """Where one frame is in its file, and how many records it holds."""

    offset: int
    length: int
    count: int


class FrameWriter:
    """Appends frames to a new file (an existing one is replaced), created 0600."""

    def __init__(self, path: Path) -> None:
        self.path = path
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        self._file: BinaryIO = os.fdopen(descriptor, "wb")
        self._offset = 0

    def write(self, records: Sequence[Any]) -> FrameRef:
        body = dumps(records)
        self._file.write(_LENGTH.pack(len(body)))
        self._file.write(body)
        ref = FrameRef(self._offset, _LENGTH.size + len(body), len(records))
        self._offset += ref.length
        return ref

    @property
    def size(self) -> int:
        """Bytes written so far."""
        return self._offset

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> "FrameWriter":
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def _read(file: BinaryIO, path: Path) -> list[Any] | None:
    header = file.read(_LENGTH.size)
    if not header:
        return None
    if len(header) != _LENGTH.size:
        raise ValueError(f"{path}: a frame's length is cut short (the file is truncated)")
    (length,) = _LENGTH.unpack(header)
    body = file.read(length)
    if len(body) != length:
        raise ValueError(f"{path}: a frame is cut short (the file is truncated)")
    records: list[Any] = pickle.loads(body)  # nosec B301: this run's own frames (see the module doc)
    return records


def read_frames(path: Path) -> Iterator[list[Any]]:
    """Every frame of the file in order; a file never written holds none."""
    if not path.exists():
        return
    with path.open("rb") as file:
        while (records := _read(file, path)) is not None:
            yield records


def read_frame(path: Path, ref: FrameRef) -> list[Any]:
    with path.open("rb") as file:
        file.seek(ref.offset)
        records = _read(file, path)
    if records is None:
        raise ValueError(f"{path}: no frame at offset {ref.offset} (the file is truncated)")
    return records
