"""Test doubles for the buffering/interpolation tests: a scripted packet reader and packet builders."""

from __future__ import annotations

import datetime
from collections.abc import Sequence

from ma_dataplatforms_streaming_support_library.contracts.packet_reading.i_packet_reader_service import (
    IPacketReaderService,
)
from ma_dataplatforms_streaming_support_library.contracts.packet_reading.received_packet_dto import (
    ReceivedPacketDto,
)
from ma_dataplatforms_streaming_support_library.contracts.packet_reading.stream_info import (
    StreamInfo,
)
from ma_dataplatforms_streaming_support_library.contracts.packet_writing.packet_bytes import (
    PacketBytes,
)
from ma_dataplatforms_streaming_support_library.contracts.session_management.session_info import (
    SessionInfo,
)
from ma_dataplatforms_streaming_support_library.contracts.shared.event import Event
from ma_dataplatforms_streaming_support_library.contracts.shared.i_handler import IHandler
from ma_dataplatforms_streaming_support_library.core.base.service import ServiceBase
from ma_dataplatforms_streaming_support_library.protos import open_data_pb2 as pb


class ScriptedReader(ServiceBase, IPacketReaderService):
    """A packet reader whose packets and events the test pushes by hand."""

    def __init__(self, streams: Sequence[str] = ()) -> None:
        super().__init__()
        self.session_reading_started: Event[SessionInfo] = Event("session_reading_started")
        self.session_reading_completed: Event[SessionInfo] = Event("session_reading_completed")
        self.stream_reading_started: Event[StreamInfo] = Event("stream_reading_started")
        self.stream_reading_completed: Event[StreamInfo] = Event("stream_reading_completed")
        self.session_info_updated: Event[SessionInfo] = Event("session_info_updated")
        self.coverage_cursor_received = Event("coverage_cursor_received")  # type: ignore[var-annotated]
        self.session_association_info_updated = Event("session_association_info_updated")  # type: ignore[var-annotated]
        self.handlers: list[IHandler[ReceivedPacketDto]] = []
        self.configuration = type("Configuration", (), {"streams": list(streams)})()

    def set_handler(self, handler: IHandler[ReceivedPacketDto]) -> None:
        self.handlers.append(handler)

    def remove_handler(self, handler: IHandler[ReceivedPacketDto]) -> None:
        if handler in self.handlers:
            self.handlers.remove(handler)

    def send(self, session: SessionInfo, stream: str, packet: bytes) -> None:
        dto = ReceivedPacketDto(
            session.data_source,
            session.session_key,
            stream,
            PacketBytes(packet),
            datetime.datetime.now(datetime.timezone.utc),
        )
        for handler in list(self.handlers):
            handler.handle(dto)

    def start_session(self, session: SessionInfo) -> None:
        self.session_reading_started.raise_event(self, session)

    def complete_stream(self, session: SessionInfo, stream: str) -> None:
        self.stream_reading_completed.raise_event(
            self, StreamInfo(session.data_source, session.session_key, stream)
        )

    def complete_session(self, session: SessionInfo) -> None:
        self.session_reading_completed.raise_event(self, session)


def _format(parameters: Sequence[str] | int) -> pb.SampleDataFormat:
    if isinstance(parameters, int):
        return pb.SampleDataFormat(data_format_identifier=parameters)
    return pb.SampleDataFormat(
        parameter_identifiers=pb.ParameterList(parameter_identifiers=parameters)
    )


def _column(values: Sequence[float], status: Sequence[int] | None) -> pb.SampleColumn:
    codes = status if status is not None else [1] * len(values)
    samples = [pb.DoubleSample(value=v, status=s) for v, s in zip(values, codes, strict=True)]  # type: ignore[arg-type]
    return pb.SampleColumn(double_samples=pb.DoubleSampleList(samples=samples))


def envelope(packet_type: str, message: object) -> bytes:
    content = message.SerializeToString()  # type: ignore[attr-defined]
    return pb.Packet(type=packet_type, content=content).SerializeToString()


def periodic_packet(
    parameters: Sequence[str] | int,
    start_ns: int,
    interval_ns: int,
    columns: Sequence[Sequence[float]],
    status: Sequence[Sequence[int]] | None = None,
) -> bytes:
    message = pb.PeriodicDataPacket(
        data_format=_format(parameters),
        start_time=start_ns,
        interval=interval_ns,
        columns=[_column(c, status[i] if status else None) for i, c in enumerate(columns)],
    )
    return envelope("PeriodicData", message)


def row_packet(
    parameters: Sequence[str] | int, timestamps: Sequence[int], rows: Sequence[Sequence[float]]
) -> bytes:
    message = pb.RowDataPacket(
        data_format=_format(parameters),
        timestamps=timestamps,
        rows=[pb.SampleRow(double_samples=_column(r, None).double_samples) for r in rows],
    )
    return envelope("RowData", message)


def marker_packet(timestamp_ns: int, label: str, value: int = 0) -> bytes:
    return envelope("Marker", pb.MarkerPacket(timestamp=timestamp_ns, label=label, value=value))
