"""DataPacketFilter: which packets ReadDataPackets passes on (parameter/event regexes, markers)."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from typing import Any

from google.protobuf.message import DecodeError

from ..core.data_format_management.data_format_management_service import (
    DataFormatManagementService,
)
from ..protos import api_pb2, open_data_pb2

__all__ = ["DataPacketFilter", "IdentifierFilter"]

logger = logging.getLogger(__name__)

_SAMPLE_PACKETS: dict[str, Callable[[bytes], Any]] = {
    "PeriodicData": open_data_pb2.PeriodicDataPacket.FromString,
    "RowData": open_data_pb2.RowDataPacket.FromString,
    "SynchroData": open_data_pb2.SynchroDataPacket.FromString,
}
_EVENT_TYPES = ("Event", "EventData")
_MARKER_TYPES = ("Marker", "MarkerData")


class IdentifierFilter:
    """An identifier passes when it matches no exclude pattern and some include pattern (searched,
    not anchored). No include pattern means ``.*``; no exclude pattern excludes only ``""``."""

    def __init__(self, include: list[re.Pattern[str]], exclude: list[re.Pattern[str]]) -> None:
        self._include = include or [re.compile(".*")]
        self._exclude = exclude or [re.compile("(^$)")]

    @classmethod
    def compile(
        cls, include: Sequence[str], exclude: Sequence[str], include_field: str, exclude_field: str
    ) -> IdentifierFilter | str:
        """The filter, or an error naming the first pattern that is not a regular expression."""
        compiled: list[list[re.Pattern[str]]] = [[], []]
        for patterns, field, target in (
            (include, include_field, compiled[0]),
            (exclude, exclude_field, compiled[1]),
        ):
            for index, pattern in enumerate(patterns):
                try:
                    target.append(re.compile(pattern))
                except re.error as exc:
                    return (
                        f"request.{field}[{index}] {pattern!r} is not a regular expression: {exc}"
                    )
        return cls(compiled[0], compiled[1])

    def passes(self, identifier: str) -> bool:
        if any(pattern.search(identifier) for pattern in self._exclude):
            return False
        return any(pattern.search(identifier) for pattern in self._include)


class DataPacketFilter:
    """Keeps sample packets with at least one parameter that passes, events whose identifier
    passes, markers when asked; drops every other type. Ids resolve through the library's data
    format service; a packet whose id is unknown is dropped (as the C# server does)."""

    def __init__(
        self,
        data_source: str,
        parameters: IdentifierFilter,
        events: IdentifierFilter,
        include_markers: bool,
        formats: DataFormatManagementService,
    ) -> None:
        self._data_source = data_source
        self._parameters = parameters
        self._events = events
        self._include_markers = include_markers
        self._formats = formats
        self._sample_cache: dict[bytes, bool] = {}
        self._event_cache: dict[bytes, bool] = {}

    @classmethod
    def from_request(
        cls,
        request: api_pb2.DataPacketRequest,
        data_source: str,
        formats: DataFormatManagementService,
    ) -> DataPacketFilter | str:
        parameters = IdentifierFilter.compile(
            request.include_parameters,
            request.exclude_parameters,
            "include_parameters",
            "exclude_parameters",
        )
        if isinstance(parameters, str):
            return parameters
        events = IdentifierFilter.compile(
            request.include_events, request.exclude_events, "include_events", "exclude_events"
        )
        if isinstance(events, str):
            return events
        return cls(data_source, parameters, events, request.include_markers, formats)

    def keep(self, packet: open_data_pb2.Packet) -> bool:
        kind = packet.type
        try:
            parse = _SAMPLE_PACKETS.get(kind)
            if parse is not None:
                return self._keep_samples(parse(packet.content).data_format)
            if kind in _EVENT_TYPES:
                return self._keep_event(
                    open_data_pb2.EventPacket.FromString(packet.content).data_format
                )
        except DecodeError:
            logger.warning("ReadDataPackets: an undecodable %s packet is dropped", kind)
            return False
        return kind in _MARKER_TYPES and self._include_markers

    def _keep_samples(self, data_format: open_data_pb2.SampleDataFormat) -> bool:
        key = data_format.SerializeToString()
        cached = self._sample_cache.get(key)
        if cached is not None:
            return cached
        if data_format.WhichOneof("format") == "parameter_identifiers":
            identifiers = list(data_format.parameter_identifiers.parameter_identifiers)
        else:
            result = self._formats.get_parameters_list(
                self._data_source, data_format.data_format_identifier
            )
            if not result.success or result.data is None:
                return False
            identifiers = result.data.parameter_list
        keep = any(self._parameters.passes(identifier) for identifier in identifiers)
        self._sample_cache[key] = keep
        return keep

    def _keep_event(self, data_format: open_data_pb2.EventDataFormat) -> bool:
        key = data_format.SerializeToString()
        cached = self._event_cache.get(key)
        if cached is not None:
            return cached
        if data_format.WhichOneof("format") == "event_identifier":
            identifier = data_format.event_identifier
        else:
            result = self._formats.get_event(self._data_source, data_format.data_format_identifier)
            if not result.success or result.data is None:
                return False
            identifier = result.data.event_name
        keep = self._events.passes(identifier)
        self._event_cache[key] = keep
        return keep
