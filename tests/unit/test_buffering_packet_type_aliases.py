"""Buffering reads "EventData"/"MarkerData" packets as events/markers."""

from __future__ import annotations

import pytest
from streaming_fakes import ScriptedReader, envelope, periodic_packet

from ma_dataplatforms_streaming_support_library.contracts.buffering import (
    BufferingConfiguration,
    EventData,
    MarkerData,
    TimestampData,
)
from ma_dataplatforms_streaming_support_library.contracts.session_management.session_info import (
    SessionInfo,
)
from ma_dataplatforms_streaming_support_library.contracts.shared.i_handler import IHandler
from ma_dataplatforms_streaming_support_library.core.buffering.sample_reader_service import (
    SampleReaderService,
)
from ma_dataplatforms_streaming_support_library.protos import open_data_pb2 as pb

MS = 1_000_000
SESSION = SessionInfo("key-aliases", "Default", "run")


class Collector(IHandler[TimestampData]):
    def __init__(self) -> None:
        self.items: list[TimestampData] = []

    def handle(self, obj: TimestampData) -> None:
        self.items.append(obj)


def _extras(packet_type: str, message: object) -> list[object]:
    """The extra values buffering delivers for one packet of ``packet_type`` at 5 ms."""
    service = SampleReaderService(
        BufferingConfiguration(None, 100, 100, include_marker_data=True, include_event_data=True),
        stream_discovery_grace_s=0,
    )
    reader = ScriptedReader(())
    service.set_reader_service(reader)
    service.start()
    collector = Collector()
    service.set_handler(collector)
    reader.send(SESSION, "", envelope(packet_type, message))
    reader.send(SESSION, "A", periodic_packet(["p"], 0, 5 * MS, [[1, 2]]))
    reader.complete_session(SESSION)
    service.stop()
    return [
        value.cast(value.value_type)
        for item in collector.items[1:-1]
        for column in item.time_columns
        for value in column.sample_values
        if value.value_type in (MarkerData, EventData)
    ]


@pytest.mark.parametrize("packet_type", ["Marker", "MarkerData"])
def test_marker_spellings_are_markers(packet_type: str) -> None:
    marker = pb.MarkerPacket(timestamp=5 * MS, label="Lap", value=3)

    assert _extras(packet_type, marker) == [MarkerData(5 * MS, 3, "Lap")]


@pytest.mark.parametrize("packet_type", ["Event", "EventData"])
def test_event_spellings_are_events(packet_type: str) -> None:
    event = pb.EventPacket(
        timestamp=5 * MS,
        data_format=pb.EventDataFormat(event_identifier="Pit"),
        raw_values=[1.5],
    )

    assert _extras(packet_type, event) == [EventData(5 * MS, "Pit", 0, [1.5])]
