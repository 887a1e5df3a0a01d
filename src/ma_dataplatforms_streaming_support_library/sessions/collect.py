"""SessionCollector: a session's packets in, per-parameter arrays out, decoded in batches by columnar/."""

from __future__ import annotations

import dataclasses
import logging
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Protocol, TypeVar

import numpy as np

from ..arrays import BoolArray, F64Array
from ..columnar import (
    ContentBatch,
    DecodeStats,
    FormatBatch,
    PacketDecodeError,
    ValuesArray,
    decode_events,
    decode_markers,
    decode_periodic_batch,
    decode_row_batch,
    decode_synchro_batch,
    read_envelopes,
)
from ..columnar.heads import Heads, read_heads
from ..contracts.data_format_management.data_format_info_type import DataFormatInfoType
from ..contracts.session_management.session_info import SessionInfo
from ..protos import open_data_pb2 as pb
from ..protos.packets import parse_message, parse_packet
from .groups import MAX_FIRST_CAPACITY, Group, Where, assemble, by_kind
from .parameters import Parameter, parameter_of
from .selection import Chooser, Selection
from .types import CorruptRecord, EventRecord, MarkerRecord, Origin, SessionData

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
_COLLECTED_TYPES = DATA_PACKET_TYPES | {"Marker", "Event", "Configuration"}
#: corrupt records logged one by one; the rest are logged at debug level and counted
_LOGGED_CORRUPT = 10


class FormatLookup(Protocol):
    """Where the collector finds what a data format id names: the library's data format catalog,
    or a Stream API server's data format manager."""

    def find_by_id(
        self, data_source: str, kind: DataFormatInfoType, data_format_id: int
    ) -> list[str] | None: ...

    def catch_up(self, data_source: str) -> None: ...


class SessionCollector:
    """Packets in (log order), one ``SessionData`` out; every step works on whole batches.

    ``expected_packets`` (the records a scan will read) sizes the sample arrays up front.
    ``warn=False`` logs corrupt records and unknown formats at debug level only (for callers
    that decode the same packets again and again). With a ``selection``, the headers of the
    sample packets are peeked first and only the packets holding a selected parameter within
    the selected window are decoded; the other parameters and samples are left out.
    """

    def __init__(
        self,
        data_source: str,
        catalog: FormatLookup,
        expected_packets: int = 0,
        *,
        warn: bool = True,
        selection: Selection | None = None,
    ) -> None:
        self._selection = selection
        self._warning = logging.WARNING if warn else logging.DEBUG
        self._data_source = data_source
        self._catalog = catalog
        self._expected_packets = expected_packets
        self._batch_packets = 0
        self._groups: dict[tuple[str, tuple[str, ...]], Group] = {}
        self._chooser = Chooser(selection, self._parameters)
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
        everything = Where(origins)
        kept, envelopes = self._skipping(
            list(range(len(batch))),
            lambda chosen: read_envelopes(batch.take(chosen)),
            everything,
            "not an Open Data Packet",
            lambda i: parse_packet(batch.message(i)) is not None,
        )
        self.packet_counts.update(envelopes.types)
        if len(kept) == len(batch):
            where, kept_streams = everything, streams
        else:
            where = everything.take(np.array(kept, np.int64))
            kept_streams = [streams[i] for i in kept]
        self.stream_packet_counts.update(kept_streams)
        kinds = by_kind(envelopes.types, kept_streams, _COLLECTED_TYPES)
        for (packet_type, stream), positions in kinds.items():
            contents = envelopes.contents.take(positions)
            if packet_type == "Configuration":
                self._add_configuration(contents, where.take(positions))
            elif packet_type == "Marker":
                self._add_markers(contents, stream, where.take(positions))
            elif packet_type == "Event":
                self._add_events(contents, stream, where.take(positions))
            else:
                self._decode(packet_type, stream, contents, where.take(positions))

    def needed_records(self, heads: Sequence[bytes]) -> tuple[BoolArray, Counter[str]]:
        """Which records (by the heads of their values) the selection needs, and how many
        packets of each type the others are: those hold none of its parameters."""
        return self._chooser.needed_records(read_heads(heads))

    def needed_by_heads(self, heads: Heads) -> tuple[BoolArray, Counter[str]]:
        """The same, from the packet types and data format ids of the records' heads."""
        return self._chooser.needed_records(heads)

    def skipped_records(self, stream: str, packets: Counter[str]) -> None:
        """Count packets of a stream left unread (they hold no selected parameter) as read."""
        if packets:
            self.packet_counts.update(packets)
            self.stream_packet_counts[stream] += sum(packets.values())

    def _skipping(
        self,
        positions: list[int],
        decode: Callable[[list[int]], T],
        origins: Where,
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
        origins: Where,
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

    def _add_configuration(self, contents: ContentBatch, origins: Where) -> None:
        for index in range(len(contents)):
            packet = parse_message(pb.ConfigurationPacket, contents.message(index))
            if packet is None:
                self._corrupt(origins[index], "unreadable Configuration")
                continue
            for definition in packet.parameter_definitions:
                self.definitions[definition.identifier] = parameter_of(definition)

    def _add_markers(self, contents: ContentBatch, stream: str, origins: Where) -> None:
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

    def _add_events(self, contents: ContentBatch, stream: str, origins: Where) -> None:
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
        self, packet_type: str, stream: str, contents: ContentBatch, origins: Where
    ) -> None:
        if self._selection is not None:
            picked = self._chooser.pick(packet_type, contents, self.unresolved_formats)
            if picked is not None:
                contents, origins = contents.take(picked), origins.take(picked)
            if not len(contents):
                return
        stats = DecodeStats()
        batches = _DECODERS[packet_type](contents, errors="skip", stats=stats)
        for error in stats.errors:
            self._corrupt(origins[error.packet_index], f"undecodable {packet_type}: {error.reason}")
        for batch in batches:
            fmt = batch.data_format
            if fmt is None:
                for index in batch.packet_indices.tolist():
                    self._corrupt(origins[index], f"{packet_type} packet has no data format")
                continue
            identifiers = self._chooser.identifiers(fmt)
            if identifiers is None:
                self.unresolved_formats[int(fmt)] += int(batch.packet_indices.size)  # type: ignore[arg-type]
                continue
            if len(identifiers) != batch.parameter_count:
                for index in batch.packet_indices.tolist():
                    self._corrupt(
                        origins[index],
                        f"{packet_type} packet has {batch.parameter_count} parameter(s) but its "
                        f"data format names {len(identifiers)}",
                    )
                continue
            self._add_batch(stream, identifiers, batch)

    def _add_batch(self, stream: str, identifiers: tuple[str, ...], batch: FormatBatch) -> None:
        """The batch's selected rows and samples into their group."""
        timestamps, values, status = batch.timestamps_ns, batch.values, batch.status
        rows = self._chooser.rows(identifiers)
        if rows is not None:
            if not rows[0]:
                return
            index = list(rows[0])
            identifiers, values, status = rows[1], values[index], status[index]
        inside = None if self._selection is None else self._selection.in_window(timestamps)
        if inside is not None:
            timestamps, values, status = timestamps[inside], values[:, inside], status[:, inside]
            if not timestamps.size:
                return
        group = self._groups.get((stream, identifiers))
        if group is None:
            group = Group(
                identifiers, stream, self._first_capacity(timestamps.size, len(identifiers))
            )
            self._groups[(stream, identifiers)] = group
        group.add(timestamps, self._numeric(values), status)

    def _first_capacity(self, points: int, parameters: int) -> int:
        """Samples per parameter to expect if the whole read were like the current batch."""
        per_packet = points / max(1, self._batch_packets)
        expected = int(per_packet * self._expected_packets * 1.02) + 1
        bound = MAX_FIRST_CAPACITY // max(1, parameters)
        return max(points, min(expected, bound))

    def _numeric(self, values: ValuesArray) -> F64Array:
        """float64 values; string samples (object arrays) become NaN and are counted."""
        if values.dtype != object:
            return values  # type: ignore[return-value]
        text = np.frompyfunc(lambda v: isinstance(v, str), 1, 1)(values).astype(bool)
        self.string_samples += int(text.sum())
        return np.where(text, np.nan, values).astype(np.float64)

    @property
    def seen_parameters(self) -> set[str]:
        """Identifiers of every data format met so far, decoded or not."""
        return self._chooser.seen

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
        series, streams = assemble(self._groups)
        for identifier, parameter in self.definitions.items():
            if identifier in series:
                series[identifier] = dataclasses.replace(series[identifier], units=parameter.units)
        if self._selection is not None and self._selection.has_window:
            self.markers = self._selection.markers(self.markers)
            self.events = self._selection.events(self.events)
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
