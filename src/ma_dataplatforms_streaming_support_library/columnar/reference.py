"""Reference parser: the protobuf runtime parses, Python reads every value and status.

It is the specification the accelerated parsers are tested against, the fallback for packets
they decline, and the baseline of the decode benchmark.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..arrays import ObjArray
from ..protos import open_data_pb2 as pb
from ..protos.packets import parse_message, parse_packet
from ._batch import ContentBatch
from ._parsed import (
    FORMAT_ID,
    FORMAT_LIST,
    FORMAT_NONE,
    PacketEnvelopes,
    PacketKind,
    ParsedPackets,
    ParseOutcome,
    offsets_of,
)
from .model import ColumnKind

__all__ = ["ReferenceParser", "format_key_of", "parse_envelopes", "parse_samples"]

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
        return ParsedPackets(
            format_kinds=np.array(self.format_kinds, dtype=np.uint8),
            format_ids=np.array(self.format_ids, dtype=np.uint64),
            format_lists=self.format_lists,
            start_ns=np.array(self.start_ns, dtype=np.uint64),
            interval_ns=np.array(self.interval_ns, dtype=np.int64),
            time_offsets=offsets_of(self.time_counts),
            times=np.array(self.times, dtype=np.uint64),
            list_offsets=offsets_of(self.list_counts),
            list_kinds=np.array(self.list_kinds, dtype=np.uint8),
            sample_offsets=offsets_of(self.sample_counts),
            values=np.array(self.values, dtype=np.float64),
            status=np.array(self.status, dtype=np.int8),
            strings=self.strings,
        )


def parse_samples(batch: ContentBatch, kind: PacketKind) -> ParseOutcome[ParsedPackets]:
    """Parse every packet with protobuf; the packets protobuf rejects, or whose samples cannot
    be represented, are failures (and come back empty)."""
    message_type = _MESSAGES[kind]
    collector = _Collector()
    errors: dict[int, str] = {}
    for i in range(len(batch)):
        msg = parse_message(message_type, batch.message(i))
        if msg is None:
            errors[i] = f"not a valid {message_type.DESCRIPTOR.name}"
            collector.add_empty()
            continue
        reason = collector.add(msg, kind)
        if reason is not None:
            errors[i] = reason
            collector.add_empty()
    return ParseOutcome(collector.build(), errors)


def parse_envelopes(batch: ContentBatch) -> ParseOutcome[PacketEnvelopes]:
    """``Packet`` envelopes parsed by protobuf (contents copied into a new buffer); a packet
    protobuf rejects is a failure and comes back as an empty envelope."""
    parsed: list[pb.Packet] = []
    errors: dict[int, str] = {}
    for i in range(len(batch)):
        packet = parse_packet(batch.message(i))
        if packet is None:
            errors[i] = "not a valid Packet"
            packet = pb.Packet()
        parsed.append(packet)
    envelopes = PacketEnvelopes(
        tuple(p.type for p in parsed),
        tuple(p.session_key for p in parsed),
        np.array([p.is_essential for p in parsed], dtype=bool),
        np.array([p.id for p in parsed], dtype=np.uint64),
        ContentBatch.from_messages([p.content for p in parsed]),
    )
    return ParseOutcome(envelopes, errors)


class ReferenceParser:
    """The protobuf runtime behind the parser protocol (see ``columnar.parsers``)."""

    name = "reference"

    def parse_samples(self, batch: ContentBatch, kind: PacketKind) -> ParseOutcome[ParsedPackets]:
        return parse_samples(batch, kind)

    def parse_envelopes(self, batch: ContentBatch) -> ParseOutcome[PacketEnvelopes]:
        return parse_envelopes(batch)
