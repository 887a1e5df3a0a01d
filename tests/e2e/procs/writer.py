"""Writer process: ``writer.py BROKER STRATEGY DATA_SOURCE MODE``.

``catalog``: creates sessions (one ended) and parameter data formats, prints them.
``session``: writes one whole session the way the official writer sample does (NewSession on each
stream, configuration, periodic data, EndOfSession on each stream, end_session) and prints every
packet it wrote, base64-encoded, per stream.
"""

from __future__ import annotations

import base64
import sys
import time

from common import emit, start_library, started

from ma_dataplatforms_streaming_support_library.contracts.packet_writing.packet_bytes import (
    PacketBytes,
)
from ma_dataplatforms_streaming_support_library.contracts.session_management.session_creation_info import (
    SessionCreationInfo,
)
from ma_dataplatforms_streaming_support_library.protos import open_data_pb2

STREAMS = ["", "stream1", "stream2"]
FORMATS = [["vCar:Chassis"], ["nEngine:Engine", "gLat:Chassis"], ["gLat:Chassis", "nEngine:Engine"]]


def envelope(
    packet_type: str, key: str, content: bytes, packet_id: int, essential: bool = False
) -> PacketBytes:
    packet = open_data_pb2.Packet(
        type=packet_type, session_key=key, content=content, id=packet_id, is_essential=essential
    )
    return PacketBytes(packet.SerializeToString())


def catalog(library: object, data_source: str) -> None:
    sessions = started(library.get_session_manager_api().create_service())  # type: ignore[attr-defined]
    formats = started(library.get_data_format_manager_api().create_service())  # type: ignore[attr-defined]
    keys = []
    for name in ("first", "second", "ended"):
        result = sessions.create_new_session(
            SessionCreationInfo(data_source, name, "Session", 1, None, {"Creator": "writer"}, [])
        )
        assert result.success, result.error_message
        keys.append(result.data.session_key)
    assert sessions.end_session(data_source, keys[2]).success
    ids = {}
    for parameters in FORMATS:
        result = formats.get_parameter_data_format_id(data_source, parameters)
        assert result.success, result.error_message
        ids[str(result.data.data_format_id)] = parameters
    emit(sessions=keys, formats=ids)
    sessions.stop()
    formats.stop()


def session(library: object, data_source: str) -> None:
    sessions = started(library.get_session_manager_api().create_service())  # type: ignore[attr-defined]
    formats = started(library.get_data_format_manager_api().create_service())  # type: ignore[attr-defined]
    writer = started(library.get_writing_packet_api().create_service())  # type: ignore[attr-defined]
    created = sessions.create_new_session(
        SessionCreationInfo(data_source, "e2e", "Session", 1, None, [], [])
    )
    assert created.success, created.error_message
    key = created.data.session_key
    format_id = formats.get_parameter_data_format_id(data_source, ["Sin:E2E"]).data.data_format_id
    written: dict[str, list[str]] = {stream: [] for stream in STREAMS}
    packet_id = 0

    def write(stream: str, packet: PacketBytes) -> None:
        assert writer.write_data(data_source, stream, key, packet).success
        written[stream].append(base64.b64encode(packet.data).decode())

    start = open_data_pb2.NewSessionPacket(data_source=data_source).SerializeToString()
    for stream in STREAMS:
        packet_id += 1
        write(stream, envelope("NewSession", key, start, packet_id))
    configuration = open_data_pb2.ConfigurationPacket(config_id="e2e").SerializeToString()
    packet_id += 1
    write("", envelope("Configuration", key, configuration, packet_id, essential=True))
    for index in range(30):
        for stream in STREAMS[1:]:
            packet_id += 1
            data = open_data_pb2.PeriodicDataPacket(
                data_format=open_data_pb2.SampleDataFormat(data_format_identifier=format_id),
                start_time=time.time_ns(),
                interval=1_000_000,
                columns=[
                    open_data_pb2.SampleColumn(
                        double_samples=open_data_pb2.DoubleSampleList(
                            samples=[open_data_pb2.DoubleSample(value=float(index))]
                        )
                    )
                ],
            ).SerializeToString()
            write(stream, envelope("PeriodicData", key, data, packet_id))
    end = open_data_pb2.EndOfSessionPacket(data_source=data_source).SerializeToString()
    for stream in STREAMS:
        packet_id += 1
        write(stream, envelope("EndOfSession", key, end, packet_id))
    assert sessions.end_session(data_source, key).success
    emit(session_key=key, format_id=format_id, packets=written)
    sessions.stop()
    formats.stop()
    writer.stop()


def main() -> None:
    broker_list, strategy, data_source, mode = sys.argv[1:5]
    library = start_library(broker_list, strategy)
    try:
        {"catalog": catalog, "session": session}[mode](library, data_source)
    finally:
        library.stop()


if __name__ == "__main__":
    main()
