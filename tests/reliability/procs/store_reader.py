"""Live reader process for the fault suite: ``store_reader.py BROKER_LIST DATA_SOURCE``.

Reads every session of DATA_SOURCE live (packet numbers are envelope ids) and prints
``{"ready": true}`` once reading, then ``{"session": KEY, "numbers": [...]}`` every 0.2 s with
the numbers delivered since the last line; runs until killed (or ``DURATION_S`` if given as a
third argument, then exits 0).
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections import defaultdict

from ma_dataplatforms_streaming_support_library.contracts.packet_reading.packet_reading_configuration import (
    PacketReadingConfiguration,
)
from ma_dataplatforms_streaming_support_library.contracts.packet_reading.packet_reading_type import (
    PacketReadingType,
)
from ma_dataplatforms_streaming_support_library.contracts.packet_reading.received_packet_dto import (
    ReceivedPacketDto,
)
from ma_dataplatforms_streaming_support_library.contracts.shared.stream_api_configuration import (
    StreamingApiConfiguration,
)
from ma_dataplatforms_streaming_support_library.contracts.shared.stream_creation_strategy import (
    StreamCreationStrategy,
)
from ma_dataplatforms_streaming_support_library.core.base.logger import Logger
from ma_dataplatforms_streaming_support_library.core.base.support_library_bootstrapper import (
    SupportLibraryBootstrapper,
)
from ma_dataplatforms_streaming_support_library.protos import open_data_pb2


def emit(**fields: object) -> None:
    sys.stdout.write(json.dumps(fields) + "\n")
    sys.stdout.flush()


class Handler:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.pending: dict[str, list[int]] = defaultdict(list)

    def handle(self, packet: ReceivedPacketDto) -> None:
        envelope = open_data_pb2.Packet.FromString(packet.packet_bytes.data)
        if envelope.type == "Marker":
            with self.lock:
                self.pending[packet.session_key].append(envelope.id)

    def drain(self) -> dict[str, list[int]]:
        with self.lock:
            taken, self.pending = self.pending, defaultdict(list)
        return taken


def main(broker_list: str, data_source: str, duration_s: float | None) -> None:
    configuration = StreamingApiConfiguration(
        broker_list, StreamCreationStrategy.TOPIC_BASE, [], 10
    )
    library = SupportLibraryBootstrapper.bootstrap(configuration, Logger()).create()
    library.initialise()
    library.start()
    reading = PacketReadingConfiguration(
        "", 3600, False, data_source, "*", PacketReadingType.LIVE, []
    )
    reader = library.get_reading_packet_api().create_service_with_config(reading).data
    reader.initialise()
    reader.start()
    handler = Handler()
    reader.set_handler(handler)
    emit(ready=True)
    deadline = None if duration_s is None else time.monotonic() + duration_s
    while deadline is None or time.monotonic() < deadline:
        time.sleep(0.2)
        for key, numbers in handler.drain().items():
            emit(session=key, numbers=numbers)
    time.sleep(1.0)  # what was written just before the end
    reader.stop()
    for key, numbers in handler.drain().items():
        emit(session=key, numbers=numbers)
    emit(done=True)
    library.stop()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], float(sys.argv[3]) if len(sys.argv) > 3 else None)
