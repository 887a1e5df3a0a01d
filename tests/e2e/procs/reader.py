"""Reader process: ``reader.py BROKER STRATEGY DATA_SOURCE live|historic [SESSION_KEY]``.

Prints ``{"ready": true}`` once its reader runs (handler set, events subscribed), then one line per
event and packet, in the order they happen, and exits after the first session completes (or after
60 s). Historic mode uses the official sample's ``create_service(data_source, session_key)``.
"""

from __future__ import annotations

import base64
import sys
import threading
from typing import Any

from common import emit, start_library, started

from ma_dataplatforms_streaming_support_library.contracts.packet_reading.packet_reading_configuration import (
    PacketReadingConfiguration,
)
from ma_dataplatforms_streaming_support_library.contracts.packet_reading.packet_reading_type import (
    PacketReadingType,
)
from ma_dataplatforms_streaming_support_library.contracts.packet_reading.received_packet_dto import (
    ReceivedPacketDto,
)
from ma_dataplatforms_streaming_support_library.contracts.shared.i_handler import IHandler
from ma_dataplatforms_streaming_support_library.protos import open_data_pb2


class Handler(IHandler[ReceivedPacketDto]):
    """Like the official sample's handler: resolves the writer's data format ids while reading."""

    def __init__(self, data_formats: Any) -> None:
        self.data_formats = data_formats

    def handle(self, packet: ReceivedPacketDto) -> None:
        parameters = None
        envelope = open_data_pb2.Packet.FromString(packet.packet_bytes.data)
        if envelope.type == "PeriodicData":
            content = open_data_pb2.PeriodicDataPacket.FromString(envelope.content)
            result = self.data_formats.get_parameters_list(
                packet.data_source, content.data_format.data_format_identifier
            )
            parameters = result.data.parameter_list if result.success else result.error_message
        emit(
            event="packet",
            session_key=packet.session_key,
            stream=packet.stream,
            data=base64.b64encode(packet.packet_bytes.data).decode(),
            parameters=parameters,
        )


class Notifier:
    def __init__(self) -> None:
        self.done = threading.Event()

    def session_started(self, sender: object, info: object) -> None:
        emit(event="session_started", session_key=info.session_key)  # type: ignore[attr-defined]

    def session_completed(self, sender: object, info: object) -> None:
        emit(event="session_completed", session_key=info.session_key, historical=info.historical)  # type: ignore[attr-defined]
        self.done.set()

    def stream_started(self, sender: object, info: object) -> None:
        emit(event="stream_started", session_key=info.session_key, stream=info.stream)  # type: ignore[attr-defined]

    def stream_completed(self, sender: object, info: object) -> None:
        emit(event="stream_completed", session_key=info.session_key, stream=info.stream)  # type: ignore[attr-defined]


def main() -> None:
    broker_list, strategy, data_source, mode = sys.argv[1:5]
    library = start_library(broker_list, strategy)
    reading = library.get_reading_packet_api()
    if mode == "live":
        result = reading.create_service_with_config(
            PacketReadingConfiguration("", 10, False, data_source, "*", PacketReadingType.LIVE, [])
        )
    else:
        result = reading.create_service(data_source, sys.argv[5])
    assert result.success, result.error_message
    reader = result.data
    notifier = Notifier()
    reader.initialise()
    reader.start()
    # After start(), as the official sample; events first so that none can be missed.
    reader.session_reading_started.subscribe(notifier.session_started)
    reader.session_reading_completed.subscribe(notifier.session_completed)
    reader.stream_reading_started.subscribe(notifier.stream_started)
    reader.stream_reading_completed.subscribe(notifier.stream_completed)
    reader.set_handler(Handler(started(library.get_data_format_manager_api().create_service())))
    emit(ready=True)
    finished = notifier.done.wait(60)
    reader.session_reading_started.unsubscribe(notifier.session_started)
    reader.session_reading_completed.unsubscribe(notifier.session_completed)
    reader.stream_reading_started.unsubscribe(notifier.stream_started)
    reader.stream_reading_completed.unsubscribe(notifier.stream_completed)
    reader.stop()
    library.stop()
    emit(finished=finished)


if __name__ == "__main__":
    main()
