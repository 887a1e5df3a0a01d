"""Per-parameter sample arrays of a read: one group per parameter list and stream, then merged."""

from __future__ import annotations

import contextlib
import dataclasses
import math
import mmap
import sys
from collections.abc import Collection, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from ..arrays import F64Array, I8Array, I64Array
from .types import Origin, ParameterSeries

__all__ = ["Group", "Where", "assemble", "by_kind", "merge"]

#: bound on a group's first allocation (values elements); past it, it grows by doubling
MAX_FIRST_CAPACITY = 1 << 28
# Arrays from this size on are mapped apart from the heap (NumPy advises huge pages from 4 MiB).
_MAPPED_BYTES = 4 << 20
# Timestamps compared per step when checking a group's time order (bounds the temporaries).
_ORDER_CHECK_BLOCK = 1 << 16


def _reserve(shape: tuple[int, ...], dtype: type[np.generic]) -> npt.NDArray[Any]:
    """An uninitialised array whose pages take memory only once written.

    A large one is mapped without transparent huge pages: a huge page makes a whole 2 MiB
    resident at the first write into it, also across the unfilled end of each row of an array
    reserved larger than it gets filled.
    """
    kind = np.dtype(dtype)
    size = math.prod(shape) * kind.itemsize
    if size < _MAPPED_BYTES:
        return np.empty(shape, kind)
    if sys.platform == "win32":
        mapped = mmap.mmap(-1, size)
    else:
        mapped = mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE)
        if sys.platform == "linux":
            with contextlib.suppress(OSError):  # a kernel built without huge pages
                mapped.madvise(mmap.MADV_NOHUGEPAGE)
    return np.frombuffer(mapped, kind).reshape(shape)


def _in_time_order(timestamps: I64Array) -> bool:
    for start in range(0, timestamps.size - 1, _ORDER_CHECK_BLOCK):
        block = timestamps[start : start + _ORDER_CHECK_BLOCK + 1]
        if not bool(np.all(block[1:] >= block[:-1])):
            return False
    return True


class Group:
    """Samples of one parameter list on one stream: shared timestamps, one row per parameter.

    Batches are copied into arrays sized from the expected sample count, so the decoded chunks
    are released at once and pages past the samples actually read are never touched; the
    series read are views of these arrays, never copies.
    """

    def __init__(self, identifiers: tuple[str, ...], stream: str, capacity: int) -> None:
        self.identifiers = identifiers
        self.stream = stream
        self.size = 0
        self.timestamps: I64Array = np.empty(0, np.int64)
        self.values: F64Array = np.empty((len(identifiers), 0), np.float64)
        self.status: I8Array = np.empty((len(identifiers), 0), np.int8)
        self._resize(capacity)

    def _resize(self, capacity: int) -> None:
        rows, size = len(self.identifiers), self.size
        timestamps: I64Array = _reserve((capacity,), np.int64)
        values: F64Array = _reserve((rows, capacity), np.float64)
        status: I8Array = _reserve((rows, capacity), np.int8)
        timestamps[:size] = self.timestamps[:size]
        values[:, :size] = self.values[:, :size]
        status[:, :size] = self.status[:, :size]
        self.timestamps, self.values, self.status = timestamps, values, status

    def add(self, timestamps: I64Array, values: F64Array, status: I8Array) -> None:
        start, end = self.size, self.size + timestamps.size
        if end > self.timestamps.size:
            self._resize(max(end, 2 * self.timestamps.size))
        self.timestamps[start:end] = timestamps
        self.values[:, start:end] = values
        self.status[:, start:end] = status
        self.size = end

    def arrays(self) -> tuple[I64Array, F64Array, I8Array]:
        """The samples read, sorted by time (stable) if they were not already: views of the
        group's arrays, sorted in place one row at a time."""
        size = self.size
        timestamps, values, status = (
            self.timestamps[:size],
            self.values[:, :size],
            self.status[:, :size],
        )
        if not _in_time_order(timestamps):
            order = np.argsort(timestamps, kind="stable")
            timestamps[:] = timestamps[order]
            for row in range(len(self.identifiers)):
                values[row] = values[row, order]
                status[row] = status[row, order]
        return timestamps, values, status


def merge(pieces: list[ParameterSeries]) -> ParameterSeries:
    """One parameter's series from several groups (streams or formats), in time order."""
    if len(pieces) == 1:
        return pieces[0]
    timestamps = np.concatenate([p.timestamps for p in pieces])
    order = np.argsort(timestamps, kind="stable")
    return ParameterSeries(
        timestamps[order],
        np.concatenate([p.values for p in pieces])[order],
        np.concatenate([p.status for p in pieces])[order],
    )


def assemble(
    groups: dict[tuple[str, tuple[str, ...]], Group],
) -> tuple[dict[str, ParameterSeries], dict[str, list[str]]]:
    """Each parameter's series over all its groups (emptied on the way), and its streams."""
    parts: dict[str, list[ParameterSeries]] = {}
    streams: dict[str, list[str]] = {}
    while groups:
        _, group = groups.popitem()
        timestamps, values, status = group.arrays()
        # Parameters of one group share their timestamps array: none may be changed in place.
        for array in (timestamps, values, status):
            array.flags.writeable = False
        for row, identifier in enumerate(group.identifiers):
            parts.setdefault(identifier, []).append(
                ParameterSeries(timestamps, values[row], status[row])
            )
            if group.stream not in streams.setdefault(identifier, []):
                streams[identifier].append(group.stream)
    series = {
        name: dataclasses.replace(merge(pieces), identifier=name) for name, pieces in parts.items()
    }
    return {name: s for name, s in series.items() if len(s)}, {
        name: sorted(streams[name]) for name in series if len(series[name])
    }


class Where:
    """Where each packet of a batch came from, looked up only for the corrupt ones."""

    def __init__(self, origins: Sequence[Origin], picks: I64Array | None = None) -> None:
        self._origins = origins
        self._picks = picks

    def __getitem__(self, index: int) -> Origin:
        return self._origins[index if self._picks is None else int(self._picks[index])]

    def take(self, positions: I64Array) -> Where:
        return Where(self._origins, positions if self._picks is None else self._picks[positions])


def by_kind(
    types: Sequence[str], streams: Sequence[str], wanted: Collection[str]
) -> dict[tuple[str, str], I64Array]:
    """Positions of the packets of each (type, stream) of the ``wanted`` types, in order of first
    packet."""
    type_names = list(dict.fromkeys(types))
    names = [t for t in type_names if t in wanted]
    stream_names = list(dict.fromkeys(streams))
    every = np.arange(len(types), dtype=np.int64)
    type_codes = np.array(types, dtype=object) if len(type_names) > 1 else None
    stream_codes = np.array(streams, dtype=object) if len(stream_names) > 1 else None
    out: dict[tuple[str, str], I64Array] = {}
    for name in names:
        of_type = every if type_codes is None else every[type_codes == name]
        for stream in stream_names:
            positions = (
                of_type if stream_codes is None else of_type[stream_codes[of_type] == stream]
            )
            if positions.size:
                out[(name, stream)] = positions
    return out
