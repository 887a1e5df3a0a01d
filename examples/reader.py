"""Read telemetry sessions through the official API, as Motion Applied's reader sample does.

``--live`` waits for sessions that start while it runs; ``--historic`` lists the sessions of the
store, picks one (``--index``, default the newest) and reads it from its first packet to its end.
It logs the samples of one parameter (``--parameter``, default ``Sin:MyApp``) and every reader
event. Only official import paths are used.

    python examples/reader.py --historic                  # newest session of the default store
    python examples/reader.py --live --duration 30        # follow live sessions for 30 s
"""

from __future__ import annotations

import argparse
import sys
import threading
import time

from ma_dataplatforms_streaming_support_library.contracts.data_format_management.i_data_format_management_service import (
    IDataFormatManagementService,
)
from ma_dataplatforms_streaming_support_library.contracts.packet_reading.coverage_cursor_info import (
    CoverageCursorInfo,
)
from ma_dataplatforms_streaming_support_library.contracts.packet_reading.i_packet_reader_service import (
    IPacketReaderService,
)
from ma_dataplatforms_streaming_support_library.contracts.packet_reading.packet_reading_configuration import (
    PacketReadingConfiguration,
)
from ma_dataplatforms_streaming_support_library.contracts.packet_reading.packet_reading_type import (
    PacketReadingType,
)
from ma_dataplatforms_streaming_support_library.contracts.packet_reading.received_packet_dto import (
    ReceivedPacketDto,
)
from ma_dataplatforms_streaming_support_library.contracts.packet_reading.stream_info import (
    StreamInfo,
)
from ma_dataplatforms_streaming_support_library.contracts.session_management.session_association_info import (
    SessionAssociationInfo,
)
from ma_dataplatforms_streaming_support_library.contracts.session_management.session_info import (
    SessionInfo,
)
from ma_dataplatforms_streaming_support_library.contracts.shared.i_handler import IHandler
from ma_dataplatforms_streaming_support_library.contracts.shared.stream_api_configuration import (
    StreamingApiConfiguration,
)
from ma_dataplatforms_streaming_support_library.contracts.shared.stream_creation_strategy import (
    StreamCreationStrategy,
)
from ma_dataplatforms_streaming_support_library.core.base.logger import ILogger, Logger
from ma_dataplatforms_streaming_support_library.core.base.support_library_bootstrapper import (
    SupportLibraryBootstrapper,
)
from ma_dataplatforms_streaming_support_library.protos.open_data_pb2 import (
    Packet,
    PeriodicDataPacket,
)


class ParameterLogger(IHandler[ReceivedPacketDto]):
    """Logs the samples of one parameter from every PeriodicData packet it receives."""

    def __init__(
        self, data_formats: IDataFormatManagementService, logger: ILogger, parameter: str
    ) -> None:
        self.data_formats = data_formats
        self.logger = logger
        self.parameter = parameter
        self.packets = 0
        self.samples = 0

    def handle(self, packet: ReceivedPacketDto) -> None:
        self.packets += 1
        envelope = Packet.FromString(packet.packet_bytes.data)
        if envelope.type != "PeriodicData":
            self.logger.info(f"[{packet.stream or 'main'}] {envelope.type} packet")
            return
        periodic = PeriodicDataPacket.FromString(envelope.content)
        data_format = periodic.data_format
        if data_format.HasField("parameter_identifiers"):
            parameters = list(data_format.parameter_identifiers.parameter_identifiers)
        else:
            result = self.data_formats.get_parameters_list(
                packet.data_source, data_format.data_format_identifier
            )
            if not result.success or result.data is None:
                self.logger.error(f"unknown data format: {result.error_message}")
                return
            parameters = result.data.parameter_list
        if self.parameter not in parameters:
            return
        column = periodic.columns[parameters.index(self.parameter)]
        values = [sample.value for sample in column.double_samples.samples]
        self.samples += len(values)
        self.logger.info(
            f"[{packet.stream or 'main'}] {self.parameter} at {periodic.start_time}: "
            f"{len(values)} samples, first {values[0]:.3f}, last {values[-1]:.3f}"
        )


class EventLogger:
    """Subscribes to every reader event and logs it."""

    def __init__(self, reader: IPacketReaderService, logger: ILogger) -> None:
        self.reader = reader
        self.logger = logger
        self.completed_sessions = 0
        self.session_completed = threading.Event()
        reader.session_reading_started.subscribe(self.on_session_started)
        reader.session_reading_completed.subscribe(self.on_session_completed)
        reader.stream_reading_started.subscribe(self.on_stream_started)
        reader.stream_reading_completed.subscribe(self.on_stream_completed)
        reader.session_info_updated.subscribe(self.on_session_info_updated)
        reader.coverage_cursor_received.subscribe(self.on_coverage_cursor)
        reader.session_association_info_updated.subscribe(self.on_association)

    def unsubscribe(self) -> None:
        self.reader.session_reading_started.unsubscribe(self.on_session_started)
        self.reader.session_reading_completed.unsubscribe(self.on_session_completed)
        self.reader.stream_reading_started.unsubscribe(self.on_stream_started)
        self.reader.stream_reading_completed.unsubscribe(self.on_stream_completed)
        self.reader.session_info_updated.unsubscribe(self.on_session_info_updated)
        self.reader.coverage_cursor_received.unsubscribe(self.on_coverage_cursor)
        self.reader.session_association_info_updated.unsubscribe(self.on_association)

    def on_session_started(self, sender: object, info: SessionInfo) -> None:
        self.logger.info(f"session reading started: {info.session_key} ({info.identifier})")

    def on_session_completed(self, sender: object, info: SessionInfo) -> None:
        self.logger.info(f"session reading completed: {info.session_key} ({info.identifier})")
        self.completed_sessions += 1
        self.session_completed.set()

    def on_stream_started(self, sender: object, info: StreamInfo) -> None:
        self.logger.info(f"stream reading started: {info.stream or 'main'}")

    def on_stream_completed(self, sender: object, info: StreamInfo) -> None:
        self.logger.info(f"stream reading completed: {info.stream or 'main'}")

    def on_session_info_updated(self, sender: object, info: SessionInfo) -> None:
        self.logger.info(f"session info updated: {info}")

    def on_coverage_cursor(self, sender: object, info: CoverageCursorInfo) -> None:
        self.logger.info(f"coverage cursor: {info.coverage_cursor_time}")

    def on_association(self, sender: object, info: SessionAssociationInfo) -> None:
        self.logger.info(f"association updated: {info}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--live", action="store_true", help="follow sessions that start from now on")
    mode.add_argument("--historic", action="store_true", help="read one existing session")
    parser.add_argument("--broker", default="", help="host:port for Kafka, embedded:PATH, or ''")
    parser.add_argument("--index", type=int, default=-1, help="historic: which listed session")
    parser.add_argument("--parameter", default="Sin:MyApp")
    parser.add_argument("--duration", type=float, default=30.0, help="live: seconds to follow")
    parser.add_argument("--sessions", type=int, default=0, help="live: stop after N sessions")
    args = parser.parse_args(argv)

    logger = Logger()
    configuration = StreamingApiConfiguration(
        args.broker, StreamCreationStrategy.TOPIC_BASE, [], 10
    )
    support_lib = SupportLibraryBootstrapper.bootstrap(configuration, logger).create()
    support_lib.initialise()
    support_lib.start()
    data_formats = support_lib.get_data_format_manager_api().create_service().data
    if data_formats is None:
        return 1
    data_formats.initialise()
    data_formats.start()
    reading_api = support_lib.get_reading_packet_api()
    handler = ParameterLogger(data_formats, logger, args.parameter)

    if args.live:
        config = PacketReadingConfiguration(
            "", 10, False, "Default", "*", PacketReadingType.LIVE, []
        )
        created = reading_api.create_service_with_config(config)
    else:
        sessions_service = support_lib.get_session_manager_api().create_service().data
        if sessions_service is None:
            return 1
        sessions_service.initialise()
        sessions_service.start()
        sessions = sessions_service.get_all_sessions().data or []
        sessions_service.stop()
        if not sessions:
            logger.error("no sessions in the store; write one with examples/writer.py")
            return 1
        for index, session in enumerate(sessions):
            print(f"[{index}] {session.identifier} {session.session_key}")
        chosen = sessions[args.index]
        created = reading_api.create_service(chosen.data_source, chosen.session_key)
    reader = created.data
    if not created.success or reader is None:
        logger.error(f"could not create the reader: {created.error_message}")
        return 1
    reader.initialise()
    reader.start()
    reader.set_handler(handler)
    events = EventLogger(reader, logger)

    deadline = time.monotonic() + args.duration
    while time.monotonic() < deadline:
        if events.session_completed.wait(0.2) and (
            args.historic or (args.sessions and events.completed_sessions >= args.sessions)
        ):
            break
    events.unsubscribe()
    reader.stop()
    reader.remove_handler(handler)
    data_formats.stop()
    support_lib.stop()
    print(
        f"read {handler.packets} packets, {handler.samples} samples of {args.parameter}, "
        f"{events.completed_sessions} session(s) completed"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
