"""SessionCollector: a session's packets in, per-parameter arrays out, decoded in batches by columnar/."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import math
import mmap
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

from ..columnar import (
    ContentBatch,
    DecodeStats,
    FormatBatch,
    PacketDecodeError,
    decode_events,
    decode_markers,
    decode_periodic_batch,
    decode_row_batch,
    decode_synchro_batch,
    read_envelopes,
)
from ..contracts.data_format_management.data_format_info_type import DataFormatInfoType
from ..contracts.session_management.session_info import SessionInfo
from ..core.data_format_management.catalog import DataFormatCatalog
from ..protos import open_data_pb2 as pb
from ..protos.packets import parse_message, parse_packet
from .parameters import Parameter, parameter_of
from .types import (
    CorruptRecord,
    EventRecord,
    Float64Array,
    Int8Array,
    Int64Array,
    MarkerRecord,
    Origin,
    ParameterSeries,
    SessionData,
)

__all__ = ["DATA_PACKET_TYPES", "SessionCollector"]

logger = logging.getLogger(__name__)

BatchDecoder = Callable[..., list[FormatBatch]]
T = TypeVar("T")

_DECODERS: dict[str, BatchDecoder] = {
    "PeriodicData": decode_periodic_batch,
    "RowData": decode_row_batch,
    "SynchroData": decode_synchro_batch,
}
DATA_PACKET_TYPES = frozenset(_DECODERS)
#: corrupt records logged one by one; the rest are logged at debug level and counted
_LOGGED_CORRUPT = 10
#: bound on a group's first allocation (values elements); past it, it grows by doubling
_MAX_FIRST_CAPACITY = 1 << 28
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


def _in_time_order(timestamps: Int64Array) -> bool:
    for start in range(0, timestamps.size - 1, _ORDER_CHECK_BLOCK):
        block = timestamps[start : start + _ORDER_CHECK_BLOCK + 1]
        if not bool(np.all(block[1:] >= block[:-1])):
            return False
    return True


class _Group:
    """Samples of one parameter list on one stream: shared timestamps, one row per parameter.

    Batches are copied into arrays sized from the expected sample count, so the decoded chunks
    are released at once and pages past the samples actually read are never touched; the
    series read are views of these arrays, never copies.
    """

    def __init__(self, identifiers: tuple[str, ...], stream: str, capacity: int) -> None:
        self.identifiers = identifiers
        self.stream = stream
        self.size = 0
        self.timestamps: Int64Array = np.empty(0, np.int64)
        self.values: Float64Array = np.empty((len(identifiers), 0), np.float64)
        self.status: Int8Array = np.empty((len(identifiers), 0), np.int8)
        self._resize(capacity)

    def _resize(self, capacity: int) -> None:
        rows, size = len(self.identifiers), self.size
        timestamps: Int64Array = _reserve((capacity,), np.int64)
        values: Float64Array = _reserve((rows, capacity), np.float64)
        status: Int8Array = _reserve((rows, capacity), np.int8)
        timestamps[:size] = self.timestamps[:size]
        values[:, :size] = self.values[:, :size]
        status[:, :size] = self.status[:, :size]
        self.timestamps, self.values, self.status = timestamps, values, status

    def add(self, timestamps: Int64Array, values: Float64Array, status: Int8Array) -> None:
        start, end = self.size, self.size + timestamps.size
        if end > self.timestamps.size:
            self._resize(max(end, 2 * self.timestamps.size))
        self.timestamps[start:end] = timestamps
        self.values[:, start:end] = values
        self.status[:, start:end] = status
        self.size = end

    def arrays(self) -> tuple[Int64Array, Float64Array, Int8Array]:
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


class SessionCollector:
    """Packets in (log order), one ``SessionData`` out; every step works on whole batches.

    ``expected_packets`` (the records a scan will read) sizes the sample arrays up front.
    ``warn=False`` logs corrupt records and unknown formats at debug level only (for callers
    that decode the same packets again and again).
    """

    def __init__(
        self,
        data_source: str,
        catalog: DataFormatCatalog,
        expected_packets: int = 0,
        *,
        warn: bool = True,
    ) -> None:
        self._warning = logging.WARNING if warn else logging.DEBUG
        self._data_source = data_source
        self._catalog = catalog
        self._expected_packets = expected_packets
        self._batch_packets = 0
        self._groups: dict[tuple[str, tuple[str, ...]], _Group] = {}
        self._formats: dict[int, tuple[str, ...] | None] = {}
        self._events: dict[int, str | None] = {}
        self.packet_counts: Counter[str] = Counter()
        self.stream_packet_counts: Counter[str] = Counter()
        self.markers: list[MarkerRecord] = []
        self.events: list[EventRecord] = []
        self.unresolved_formats: Counter[int] = Counter()
        self.corrupt_records: list[CorruptRecord] = []
        self.string_samples = 0
        #: parameter identifier → its definition from the session's Configuration packets
        self.definitions: dict[str, Parameter] = {}

    # input ------------------------------------------------------------------------------------
    def add_packets(
        self,
        streams: Sequence[str],
        packets: ContentBatch | Sequence[bytes],
        origins: Sequence[Origin],
    ) -> None:
        """Add serialized Packets (each as bytes, or packed into one ``ContentBatch``) with the
        stream each came from; decodes them as one batch."""
        batch = (
            packets if isinstance(packets, ContentBatch) else ContentBatch.from_messages(packets)
        )
        self._batch_packets = len(batch)
        kept, envelopes = self._skipping(
            list(range(len(batch))),
            lambda chosen: read_envelopes(batch.take(chosen)),
            origins,
            "not an Open Data Packet",
            lambda i: parse_packet(batch.message(i)) is not None,
        )
        self.packet_counts.update(envelopes.types)
        self.stream_packet_counts.update(streams[i] for i in kept)
        by_kind: dict[tuple[str, str], list[int]] = {}
        for position, packet_type in enumerate(envelopes.types):
            if packet_type in _DECODERS or packet_type in ("Marker", "Event", "Configuration"):
                by_kind.setdefault((packet_type, streams[kept[position]]), []).append(position)
        for (packet_type, stream), positions in by_kind.items():
            contents = envelopes.contents.take(positions)
            where = [origins[kept[p]] for p in positions]
            if packet_type == "Configuration":
                self._add_configuration(contents, where)
            elif packet_type == "Marker":
                self._add_markers(contents, stream, where)
            elif packet_type == "Event":
                self._add_events(contents, stream, where)
            else:
                self._decode(packet_type, stream, contents, where)

    def _skipping(
        self,
        positions: list[int],
        decode: Callable[[list[int]], T],
        origins: Sequence[Origin],
        what: str,
        parses: Callable[[int], bool],
    ) -> tuple[list[int], T]:
        """``decode(positions)``, leaving out (as corrupt) each packet it rejects.

        A batch decoder stops at the first bad packet. After the first one, every other packet
        is checked alone (``parses``) and the bad ones left out in one pass, so a batch full of
        corrupt records costs what a clean one does instead of one decode per bad record.
        """
        checked = False
        while True:
            try:
                return positions, decode(positions)
            except PacketDecodeError as exc:
                bad = positions.pop(exc.packet_index)
                self._corrupt(origins[bad], f"{what}: {exc.reason}")
                if not checked:
                    checked = True
                    positions = self._parsing(positions, parses, origins, what)

    def _parsing(
        self,
        positions: list[int],
        parses: Callable[[int], bool],
        origins: Sequence[Origin],
        what: str,
    ) -> list[int]:
        kept = []
        for position in positions:
            if parses(position):
                kept.append(position)
            else:
                self._corrupt(origins[position], f"{what}: protobuf cannot parse it")
        return kept

    def _corrupt(self, origin: Origin, reason: str) -> None:
        topic, partition, offset = origin
        level = self._warning if len(self.corrupt_records) < _LOGGED_CORRUPT else logging.DEBUG
        logger.log(
            level,
            "corrupt record at %s:%d offset %d: %s; skipped",
            topic,
            partition,
            offset,
            reason,
        )
        self.corrupt_records.append(CorruptRecord(topic, partition, offset, reason))

    def _add_configuration(self, contents: ContentBatch, origins: list[Origin]) -> None:
        for index in range(len(contents)):
            packet = parse_message(pb.ConfigurationPacket, contents.message(index))
            if packet is None:
                self._corrupt(origins[index], "unreadable Configuration")
                continue
            for definition in packet.parameter_definitions:
                self.definitions[definition.identifier] = parameter_of(definition)

    def _add_markers(self, contents: ContentBatch, stream: str, origins: list[Origin]) -> None:
        _, m = self._skipping(
            list(range(len(contents))),
            lambda chosen: decode_markers(contents.take(chosen)),
            origins,
            "unreadable Marker",
            lambda i: parse_message(pb.MarkerPacket, contents.message(i)) is not None,
        )
        self.markers += [
            MarkerRecord(
                m.timestamps_ns[i].item(),
                m.end_times_ns[i].item(),
                m.labels[i],
                m.types[i],
                m.descriptions[i],
                m.sources[i],
                m.values[i].item(),
                stream,
            )
            for i in range(len(m))
        ]

    def _add_events(self, contents: ContentBatch, stream: str, origins: list[Origin]) -> None:
        _, e = self._skipping(
            list(range(len(contents))),
            lambda chosen: decode_events(contents.take(chosen)),
            origins,
            "unreadable Event",
            lambda i: parse_message(pb.EventPacket, contents.message(i)) is not None,
        )
        for index, (fmt, timestamp) in enumerate(
            zip(e.data_formats, e.timestamps_ns.tolist(), strict=True)
        ):
            data_format_id = fmt if isinstance(fmt, int) else 0
            identifier = fmt if isinstance(fmt, str) else None
            if isinstance(fmt, int):
                identifier = self._event_identifier(fmt)
                if identifier is None:
                    self.unresolved_formats[fmt] += 1
            raw = tuple(e.raw_values(index).tolist())
            self.events.append(
                EventRecord(timestamp, identifier or "", data_format_id, raw, stream)
            )

    # decoding ---------------------------------------------------------------------------------
    def _lookup(self, kind: DataFormatInfoType, data_format_id: int) -> list[str] | None:
        """The format's identifiers; an unknown id first waits for the definitions written so far
        (a live session can define formats after the read started)."""
        found = self._catalog.find_by_id(self._data_source, kind, data_format_id)
        if found is None:
            self._catalog.catch_up(self._data_source)
            found = self._catalog.find_by_id(self._data_source, kind, data_format_id)
        return found

    def _event_identifier(self, data_format_id: int) -> str | None:
        if data_format_id not in self._events:
            found = self._lookup(DataFormatInfoType.EVENT, data_format_id)
            self._events[data_format_id] = found[0] if found else None
        return self._events[data_format_id]

    def _parameters(self, data_format_id: int) -> tuple[str, ...] | None:
        if data_format_id not in self._formats:
            found = self._lookup(DataFormatInfoType.PARAMETERS, data_format_id)
            self._formats[data_format_id] = tuple(found) if found else None
        return self._formats[data_format_id]

    def _decode(
        self, packet_type: str, stream: str, contents: ContentBatch, origins: list[Origin]
    ) -> None:
        stats = DecodeStats()
        batches = _DECODERS[packet_type](contents, errors="skip", stats=stats)
        for error in stats.errors:
            self._corrupt(origins[error.packet_index], f"undecodable {packet_type}: {error.reason}")
        for batch in batches:
            fmt = batch.data_format
            if isinstance(fmt, int):
                identifiers = self._parameters(fmt)
                if identifiers is None:
                    self.unresolved_formats[fmt] += int(batch.packet_indices.size)
                    continue
            elif fmt is None:
                for index in batch.packet_indices.tolist():
                    self._corrupt(origins[index], f"{packet_type} packet has no data format")
                continue
            else:
                identifiers = fmt
            if len(identifiers) != batch.parameter_count:
                for index in batch.packet_indices.tolist():
                    self._corrupt(
                        origins[index],
                        f"{packet_type} packet has {batch.parameter_count} parameter(s) but its "
                        f"data format names {len(identifiers)}",
                    )
                continue
            group = self._groups.get((stream, identifiers))
            if group is None:
                group = _Group(identifiers, stream, self._first_capacity(batch))
                self._groups[(stream, identifiers)] = group
            group.add(batch.timestamps_ns, *self._numeric(batch))

    def _first_capacity(self, batch: FormatBatch) -> int:
        """Samples per parameter to expect if the whole read were like the current batch."""
        points = batch.timestamps_ns.size
        per_packet = points / max(1, self._batch_packets)
        expected = int(per_packet * self._expected_packets * 1.02) + 1
        bound = _MAX_FIRST_CAPACITY // max(1, batch.parameter_count)
        return max(points, min(expected, bound))

    def _numeric(self, batch: FormatBatch) -> tuple[Float64Array, Int8Array]:
        """float64 values; string samples (object arrays) become NaN and are counted."""
        values = batch.values
        if values.dtype != object:
            return values, batch.status  # type: ignore[return-value]
        text = np.frompyfunc(lambda v: isinstance(v, str), 1, 1)(values).astype(bool)
        self.string_samples += int(text.sum())
        numeric = np.where(text, np.nan, values).astype(np.float64)
        return numeric, batch.status

    # output -----------------------------------------------------------------------------------
    def finish(self, info: SessionInfo, *, complete: bool, location: str) -> SessionData:
        for data_format_id, packets in sorted(self.unresolved_formats.items()):
            logger.log(
                self._warning,
                "%d packet(s) of session %s use data format id %d, not defined on data source %r; "
                "skipped",
                packets,
                info.session_key,
                data_format_id,
                self._data_source,
            )
        if len(self.corrupt_records) > _LOGGED_CORRUPT:
            logger.log(
                self._warning,
                "session %s: %d corrupt records skipped in all (see SessionData.corrupt_records)",
                info.session_key,
                len(self.corrupt_records),
            )
        series, streams = self._assemble()
        for identifier, parameter in self.definitions.items():
            if identifier in series:
                series[identifier] = dataclasses.replace(series[identifier], units=parameter.units)
        self.markers.sort(key=lambda m: m.timestamp_ns)
        self.events.sort(key=lambda e: e.timestamp_ns)
        self.corrupt_records.sort(key=lambda c: (c.topic, c.partition, c.offset))
        return SessionData(
            session_info=info,
            complete=complete,
            location=location,
            series=series,
            streams_of_parameters=streams,
            packet_counts=dict(self.packet_counts),
            stream_packet_counts=dict(self.stream_packet_counts),
            markers=self.markers,
            events=self.events,
            unresolved_formats=dict(self.unresolved_formats),
            corrupt_records=self.corrupt_records,
            string_samples=self.string_samples,
            parameter_definitions=self.definitions,
        )

    def _assemble(self) -> tuple[dict[str, ParameterSeries], dict[str, list[str]]]:
        parts: dict[str, list[ParameterSeries]] = {}
        streams: dict[str, list[str]] = {}
        while self._groups:
            _, group = self._groups.popitem()
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
            name: dataclasses.replace(_merge(pieces), identifier=name)
            for name, pieces in parts.items()
        }
        return {name: s for name, s in series.items() if len(s)}, {
            name: sorted(streams[name]) for name in series if len(series[name])
        }


def _merge(pieces: list[ParameterSeries]) -> ParameterSeries:
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
