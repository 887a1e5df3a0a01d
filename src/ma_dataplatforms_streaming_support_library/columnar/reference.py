"""Reference decoder: parse with the protobuf runtime and read every value and status in Python.

It is the specification the fast path is tested against, the fallback for packets the fast
path declines, and the baseline of the decode benchmark.
"""

from __future__ import annotations

import logging
import math
from typing import Any

import numpy as np
from google.protobuf.message import DecodeError

from ..protos import open_data_pb2 as pb
from ._parsed import FORMAT_ID, FORMAT_LIST, FORMAT_NONE, ObjArray, PacketKind, ParsedPackets
from ._wire import ContentBatch
from .model import ColumnKind

__all__ = ["format_key_of", "parse_reference"]

logger = logging.getLogger(__name__)

_MESSAGES: dict[PacketKind, Any] = {
    PacketKind.PERIODIC: pb.PeriodicDataPacket,
    PacketKind.SYNCHRO: pb.SynchroDataPacket,
    PacketKind.ROW: pb.RowDataPacket,
}
_LIST_KINDS = {
    "double_samples": ColumnKind.DOUBLE,
    "int32_samples": ColumnKind.INT32,
    "bool_samples": ColumnKind.BOOL,
    "string_samples": ColumnKind.STRING,
}
_STATUS_MAX = 127  # statuses are int8 arrays; DataStatus uses 0..3


def format_key_of(data_format: pb.SampleDataFormat) -> tuple[int, int, tuple[str, ...] | None]:
    """``(format kind, id, explicit list)`` of a SampleDataFormat message."""
    which = data_format.WhichOneof("format")
    if which == "data_format_identifier":
        return FORMAT_ID, data_format.data_format_identifier, None
    if which == "parameter_identifiers":
        return FORMAT_LIST, 0, tuple(data_format.parameter_identifiers.parameter_identifiers)
    return FORMAT_NONE, 0, None


class _Collector:
    """Accumulates packets into the flat lists ParsedPackets is built from."""

    def __init__(self) -> None:
        self.format_kinds: list[int] = []
        self.format_ids: list[int] = []
        self.format_lists: dict[int, tuple[str, ...]] = {}
        self.start_ns: list[int] = []
        self.interval_ns: list[int] = []
        self.time_counts: list[int] = []
        self.times: list[int] = []
        self.list_counts: list[int] = []
        self.list_kinds: list[int] = []
        self.sample_counts: list[int] = []
        self.values: list[float] = []
        self.status: list[int] = []
        self.strings: dict[int, ObjArray] = {}

    def add_empty(self) -> None:
        for column in (self.format_kinds, self.format_ids, self.start_ns, self.interval_ns):
            column.append(0)
        self.time_counts.append(0)
        self.list_counts.append(0)

    def add(self, msg: Any, kind: PacketKind) -> str | None:
        """Append one parsed packet; the reason when its samples cannot be represented."""
        fkind, fid, flist = format_key_of(msg.data_format)
        lists = msg.rows if kind is PacketKind.ROW else msg.columns
        times = list(msg.timestamps if kind is PacketKind.ROW else getattr(msg, "intervals", ()))
        list_base = len(self.list_kinds)
        values: list[float] = []
        status: list[int] = []
        kinds: list[int] = []
        counts: list[int] = []
        strings: dict[int, ObjArray] = {}
        for j, column in enumerate(lists):
            which = column.WhichOneof("list")
            if which is None:
                kinds.append(ColumnKind.NONE)
                counts.append(0)
                continue
            samples = getattr(column, which).samples
            for sample in samples:
                values.append(sample.value)
                status.append(sample.status)
            kinds.append(_LIST_KINDS[which])
            counts.append(len(samples))
            if which == "string_samples":
                text = np.array(values[len(values) - len(samples) :], dtype=object)
                strings[list_base + j] = text.reshape(-1)
                values[len(values) - len(samples) :] = [math.nan] * len(samples)
        if status and (min(status) < 0 or max(status) > _STATUS_MAX):
            bad = next(s for s in status if not 0 <= s <= _STATUS_MAX)
            return f"sample status {bad} is outside 0..{_STATUS_MAX}"
        if kind is not PacketKind.ROW:
            self.start_ns.append(msg.start_time)
        else:
            self.start_ns.append(0)
        self.interval_ns.append(msg.interval if kind is PacketKind.PERIODIC else 0)
        if fkind == FORMAT_LIST and flist is not None:
            self.format_lists[len(self.format_kinds)] = flist
        self.format_kinds.append(fkind)
        self.format_ids.append(fid)
        self.time_counts.append(len(times))
        self.times.extend(times)
        self.list_counts.append(len(kinds))
        self.list_kinds.extend(kinds)
        self.sample_counts.extend(counts)
        self.values.extend(values)
        self.status.extend(status)
        self.strings.update(strings)
        return None

    def build(self) -> ParsedPackets:
        def offsets(counts: list[int]) -> np.ndarray[Any, np.dtype[np.int64]]:
            return np.concatenate(([0], np.cumsum(counts, dtype=np.int64))).astype(np.int64)

        return ParsedPackets(
            format_kinds=np.array(self.format_kinds, dtype=np.uint8),
            format_ids=np.array(self.format_ids, dtype=np.uint64),
            format_lists=self.format_lists,
            start_ns=np.array(self.start_ns, dtype=np.uint64),
            interval_ns=np.array(self.interval_ns, dtype=np.int64),
            time_offsets=offsets(self.time_counts),
            times=np.array(self.times, dtype=np.uint64),
            list_offsets=offsets(self.list_counts),
            list_kinds=np.array(self.list_kinds, dtype=np.uint8),
            sample_offsets=offsets(self.sample_counts),
            values=np.array(self.values, dtype=np.float64),
            status=np.array(self.status, dtype=np.int8),
            strings=self.strings,
        )


def parse_reference(batch: ContentBatch, kind: PacketKind) -> tuple[ParsedPackets, dict[int, str]]:
    """Parse every packet with protobuf; also returns ``{packet: reason}`` for the packets that
    protobuf rejects or whose samples cannot be represented (those come back empty)."""
    message_type = _MESSAGES[kind]
    collector = _Collector()
    errors: dict[int, str] = {}
    for i in range(len(batch)):
        try:
            msg = message_type.FromString(batch.message(i))
        except DecodeError as exc:
            errors[i] = f"not a valid {message_type.DESCRIPTOR.name}: {exc}"
            collector.add_empty()
            continue
        reason = collector.add(msg, kind)
        if reason is not None:
            errors[i] = reason
            collector.add_empty()
    return collector.build(), errors
