"""What every parser produces: the flat form of a batch of data packets, envelopes, outcomes."""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

import numpy as np
import numpy.typing as npt

from ..arrays import F64Array, I8Array, I64Array, ObjArray, U8Array, U64Array
from ._batch import ContentBatch, concat_ranges

__all__ = [
    "FORMAT_ID",
    "FORMAT_LIST",
    "FORMAT_NONE",
    "PacketEnvelopes",
    "PacketKind",
    "ParseOutcome",
    "ParsedPackets",
    "offsets_of",
]


FORMAT_NONE = 0  # no data_format, or one with neither oneof member set
FORMAT_ID = 1
FORMAT_LIST = 2


class PacketKind(enum.Enum):
    """The three sample-data packets, with the field numbers the fast decoder needs."""

    PERIODIC = "PeriodicData"
    SYNCHRO = "SynchroData"
    ROW = "RowData"

    @property
    def lists_field(self) -> int:
        """Field number of the repeated SampleColumn (or SampleRow) messages."""
        return 3 if self is PacketKind.ROW else 4

    @property
    def times_field(self) -> int | None:
        """Field number of the packed times: synchro intervals (uint32), row timestamps."""
        return {PacketKind.PERIODIC: None, PacketKind.SYNCHRO: 3, PacketKind.ROW: 2}[self]


@dataclass(frozen=True, eq=False)
class ParsedPackets:
    """What a decoder read from P data packets, before shapes are checked and times derived.

    Per packet: data format (kind, id, explicit list), ``start_ns`` and ``interval_ns`` (0 where
    the packet type has none), its raw times (synchro intervals or row timestamps) in
    ``times[time_offsets[p]:time_offsets[p + 1]]`` and its lists (columns, or rows for row
    packets) ``list_offsets[p]:list_offsets[p + 1]``. Per list: its kind and samples
    ``sample_offsets[j]:sample_offsets[j + 1]`` of ``values``/``status``. String lists keep their
    values in ``strings[j]`` (``values`` holds NaN there).
    """

    format_kinds: U8Array
    format_ids: U64Array
    format_lists: dict[int, tuple[str, ...]]
    start_ns: U64Array
    interval_ns: I64Array
    time_offsets: I64Array
    times: U64Array
    list_offsets: I64Array
    list_kinds: U8Array
    sample_offsets: I64Array
    values: F64Array
    status: I8Array
    strings: dict[int, ObjArray]

    def __len__(self) -> int:
        return int(self.format_kinds.size)

    @property
    def list_counts(self) -> I64Array:
        return np.diff(self.list_offsets)

    @property
    def sample_counts(self) -> I64Array:
        return np.diff(self.sample_offsets)

    def take(self, packets: I64Array) -> ParsedPackets:
        """The packets at these positions, in this order."""
        if packets.size == len(self) and np.array_equal(packets, np.arange(len(self))):
            return self
        time_counts = np.diff(self.time_offsets)[packets]
        times = self.times[concat_ranges(self.time_offsets[packets], time_counts)]
        list_counts = self.list_counts[packets]
        lists = concat_ranges(self.list_offsets[packets], list_counts)
        sample_counts = self.sample_counts[lists]
        samples = concat_ranges(self.sample_offsets[lists], sample_counts)
        format_lists: dict[int, tuple[str, ...]] = {}
        if self.format_lists:
            for new, old in enumerate(packets.tolist()):
                if old in self.format_lists:
                    format_lists[new] = self.format_lists[old]
        strings: dict[int, ObjArray] = {}
        if self.strings:
            for new, old in enumerate(lists.tolist()):
                if old in self.strings:
                    strings[new] = self.strings[old]
        return ParsedPackets(
            format_kinds=self.format_kinds[packets],
            format_ids=self.format_ids[packets],
            format_lists=format_lists,
            start_ns=self.start_ns[packets],
            interval_ns=self.interval_ns[packets],
            time_offsets=offsets_of(time_counts),
            times=times,
            list_offsets=offsets_of(list_counts),
            list_kinds=self.list_kinds[lists],
            sample_offsets=offsets_of(sample_counts),
            values=self.values[samples],
            status=self.status[samples],
            strings=strings,
        )

    @staticmethod
    def concat(parts: Sequence[ParsedPackets]) -> ParsedPackets:
        if len(parts) == 1:
            return parts[0]
        packet_base = np.cumsum([0] + [len(p) for p in parts])
        list_base = np.cumsum([0] + [int(p.list_kinds.size) for p in parts])
        format_lists: dict[int, tuple[str, ...]] = {}
        strings: dict[int, ObjArray] = {}
        for part, pb, lb in zip(
            parts, packet_base[:-1].tolist(), list_base[:-1].tolist(), strict=True
        ):
            format_lists.update({pb + p: fmt for p, fmt in part.format_lists.items()})
            strings.update({lb + j: vals for j, vals in part.strings.items()})
        return ParsedPackets(
            format_kinds=np.concatenate([p.format_kinds for p in parts]),
            format_ids=np.concatenate([p.format_ids for p in parts]),
            format_lists=format_lists,
            start_ns=np.concatenate([p.start_ns for p in parts]),
            interval_ns=np.concatenate([p.interval_ns for p in parts]),
            time_offsets=offsets_of(np.concatenate([np.diff(p.time_offsets) for p in parts])),
            times=np.concatenate([p.times for p in parts]),
            list_offsets=offsets_of(np.concatenate([p.list_counts for p in parts])),
            list_kinds=np.concatenate([p.list_kinds for p in parts]),
            sample_offsets=offsets_of(np.concatenate([p.sample_counts for p in parts])),
            values=np.concatenate([p.values for p in parts]),
            status=np.concatenate([p.status for p in parts]),
            strings=strings,
        )

    @staticmethod
    def merge(first: ParsedPackets, first_at: I64Array, second: ParsedPackets) -> ParsedPackets:
        """Interleave: ``first`` holds the packets at positions ``first_at`` of the result,
        ``second`` all the others, both in ascending position order."""
        total = len(first) + len(second)
        second_at = np.setdiff1d(np.arange(total), first_at, assume_unique=True)
        order = np.argsort(np.concatenate([first_at, second_at]), kind="stable")
        return ParsedPackets.concat([first, second]).take(order)


def offsets_of(counts: npt.ArrayLike) -> I64Array:
    """Offsets ``[0, c0, c0 + c1, …]`` of consecutive runs of the given lengths."""
    counts = np.asarray(counts, dtype=np.int64)
    out = np.zeros(counts.size + 1, dtype=np.int64)
    np.cumsum(counts, out=out[1:])
    return out


@dataclass(frozen=True, eq=False)
class PacketEnvelopes:
    """The fields of many ``Packet`` envelopes. ``contents`` are spans of the input buffer."""

    types: tuple[str, ...]
    session_keys: tuple[str, ...]
    is_essential: npt.NDArray[np.bool_]
    ids: npt.NDArray[np.uint64]
    contents: ContentBatch

    def __len__(self) -> int:
        return len(self.types)

    def indices_of(self, type_name: str) -> I64Array:
        """Positions of the packets whose ``type`` is ``type_name`` (exact, case-sensitive)."""
        return np.flatnonzero(np.fromiter((t == type_name for t in self.types), bool, len(self)))

    def contents_of(self, type_name: str) -> ContentBatch:
        """The contents of the packets of one type, ready for the decode functions."""
        return self.contents.take(self.indices_of(type_name))


T = TypeVar("T", ParsedPackets, PacketEnvelopes)


@dataclass(frozen=True, eq=False)
class ParseOutcome(Generic[T]):
    """What any parser returns for a batch, whichever implementation ran.

    ``result`` holds every packet of the batch, in order; the packets in ``failures`` (position
    → reason) are not valid and come back empty. ``fast_packets`` counts the packets an
    accelerated path read itself; ``fallbacks`` counts, by reason, those it handed to the
    protobuf reference path (the reference implementation reports 0 and nothing).
    """

    result: T
    failures: dict[int, str] = field(default_factory=dict)
    fast_packets: int = 0
    fallbacks: Counter[str] = field(default_factory=Counter)
