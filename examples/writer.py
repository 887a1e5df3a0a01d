"""Write a telemetry session through the official API, as Motion Applied's writer sample does.

Creates a session, sends NewSession packets to both streams, a configuration packet, an out-lap
marker, a session info update, periodic data (a 100 Hz sine and cosine) on two streams, then
EndOfSession packets and ends the session. Real time by default; ``--fast`` writes as fast as
possible. Only official import paths are used, so it runs unchanged on the official package.

    python examples/writer.py --fast                      # embedded default store
    python examples/writer.py --broker localhost:9092     # a Kafka cluster
"""

from __future__ import annotations

import argparse
import datetime
import math
import sys
import time

from ma_dataplatforms_streaming_support_library.contracts.data_format_management.i_data_format_management_service import (
    IDataFormatManagementService,
)
from ma_dataplatforms_streaming_support_library.contracts.packet_writing.i_packet_writer_service import (
    IPacketWriterService,
)
from ma_dataplatforms_streaming_support_library.contracts.packet_writing.info_type import InfoType
from ma_dataplatforms_streaming_support_library.contracts.packet_writing.packet_bytes import (
    PacketBytes,
)
from ma_dataplatforms_streaming_support_library.contracts.session_management.session_creation_info import (
    SessionCreationInfo,
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
from ma_dataplatforms_streaming_support_library.protos.open_data_pb2 import (
    ConfigurationPacket,
    DataStatus,
    DataType,
    EndOfSessionPacket,
    GroupDefinition,
    MarkerPacket,
    NewSessionPacket,
    Packet,
    ParameterDefinition,
    PeriodicDataPacket,
    SampleColumn,
    SampleDataFormat,
    SessionInfoPacket,
)

DATA_SOURCE = "Default"
STREAMS = ("", "Stream1")
FREQUENCY_HZ = 100
SAMPLES_PER_PACKET = 100
PARAMETERS = {"Stream1": ["Sin:MyApp"], "": ["Cos:MyApp"]}


class SessionWriter:
    """Writes one session; counts what it wrote."""

    def __init__(
        self,
        writer: IPacketWriterService,
        data_formats: IDataFormatManagementService,
        session_key: str,
        logger: Logger,
    ) -> None:
        self.writer = writer
        self.data_formats = data_formats
        self.session_key = session_key
        self.logger = logger
        self.packet_id = 0
        self.packets = 0
        self.samples = 0

    def send(self, packet_type: str, content: bytes, stream: str, essential: bool = False) -> None:
        packet = Packet(
            type=packet_type,
            session_key=self.session_key,
            is_essential=essential,
            content=content,
            id=self.packet_id,
        )
        self.packet_id += 1
        result = self.writer.write_data(
            DATA_SOURCE, stream, self.session_key, PacketBytes(packet.SerializeToString())
        )
        if not result.success:
            raise RuntimeError(f"writing a {packet_type} packet failed: {result.error_message}")
        self.packets += 1

    def periodic(self, stream: str, data_format_id: int, start_ns: int, phase: float) -> None:
        wave = math.cos if stream == "" else math.sin
        values = [wave(2 * math.pi * (phase + i / FREQUENCY_HZ)) for i in range(SAMPLES_PER_PACKET)]
        column = SampleColumn()
        for value in values:
            column.double_samples.samples.add(value=value, status=DataStatus.DATA_STATUS_VALID)
        packet = PeriodicDataPacket(
            data_format=SampleDataFormat(data_format_identifier=data_format_id),
            start_time=start_ns,
            interval=1_000_000_000 // FREQUENCY_HZ,
            columns=[column],
        )
        self.send("PeriodicData", packet.SerializeToString(), stream)
        self.samples += SAMPLES_PER_PACKET


def configuration_packet() -> ConfigurationPacket:
    definitions = [
        ParameterDefinition(
            identifier=identifier,
            name=identifier.split(":")[0],
            application_name="MyApp",
            description=f"{identifier.split(':')[0]} wave",
            units="-",
            data_type=DataType.DATA_TYPE_FLOAT64,
            format_string="%5.2f",
            min_value=-1,
            max_value=1,
            frequencies=[FREQUENCY_HZ],
        )
        for identifiers in PARAMETERS.values()
        for identifier in identifiers
    ]
    group = GroupDefinition(identifier="MyApp", name="MyApp", application_name="MyApp")
    return ConfigurationPacket(
        config_id="ExampleConfig", parameter_definitions=definitions, group_definitions=[group]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--broker", default="", help="host:port for Kafka, embedded:PATH, or '' (default store)"
    )
    parser.add_argument("--packets", type=int, default=100, help="periodic packets per stream")
    parser.add_argument(
        "--fast", action="store_true", help="write as fast as possible, not real time"
    )
    parser.add_argument("--identifier", default="SupportLibrarySession")
    args = parser.parse_args(argv)

    logger = Logger()
    configuration = StreamingApiConfiguration(
        args.broker, StreamCreationStrategy.TOPIC_BASE, [], 10
    )
    support_lib = SupportLibraryBootstrapper.bootstrap(configuration, logger).create()
    support_lib.initialise()
    support_lib.start()

    sessions = support_lib.get_session_manager_api().create_service().data
    data_formats = support_lib.get_data_format_manager_api().create_service().data
    writer = support_lib.get_writing_packet_api().create_service().data
    if sessions is None or data_formats is None or writer is None:
        logger.error("could not create the services")
        return 1
    for service in (sessions, data_formats, writer):
        service.initialise()
        service.start()

    started = time.perf_counter()
    utc_offset = datetime.datetime.now().astimezone().utcoffset()
    created = sessions.create_new_session(
        SessionCreationInfo(DATA_SOURCE, args.identifier, "Session", 1, utc_offset, [], [])
    )
    if not created.success or created.data is None:
        logger.error(f"could not create the session: {created.error_message}")
        return 1
    session = created.data
    out = SessionWriter(writer, data_formats, session.session_key, logger)

    new_session = NewSessionPacket(
        data_source=DATA_SOURCE,
        utc_offset=session.utc_offset,
        session_info=SessionInfoPacket(
            data_source=DATA_SOURCE,
            identifier=session.identifier,
            type=session.type,
            version=session.version,
        ),
    )
    for stream in STREAMS:
        out.send("NewSession", new_session.SerializeToString(), stream)
    out.send("Configuration", configuration_packet().SerializeToString(), "", essential=True)

    format_ids = {}
    for stream, identifiers in PARAMETERS.items():
        result = data_formats.get_parameter_data_format_id(DATA_SOURCE, identifiers)
        if not result.success or result.data is None:
            logger.error(f"could not get a data format id: {result.error_message}")
            return 1
        format_ids[stream] = result.data.data_format_id

    first_ns = time.time_ns()
    lap = MarkerPacket(
        timestamp=first_ns,
        label="Out Lap",
        type="Lap Trigger",
        description="Out lap",
        source="0",
        value=1,
    )
    out.send("Marker", lap.SerializeToString(), "")
    update = SessionInfoPacket(
        data_source=DATA_SOURCE,
        identifier=session.identifier,
        type=session.type,
        version=session.version,
        details={"Example Detail": "Example Value"},
    )
    info = Packet(
        type="SessionInfo", session_key=session.session_key, content=update.SerializeToString()
    )
    if not writer.write_info(PacketBytes(info.SerializeToString()), InfoType.SESSION_INFO).success:
        logger.error("could not update the session info")

    packet_ns = SAMPLES_PER_PACKET * 1_000_000_000 // FREQUENCY_HZ
    for index in range(args.packets):
        start_ns = first_ns + index * packet_ns
        for stream in PARAMETERS:
            out.periodic(
                stream, format_ids[stream], start_ns, index * SAMPLES_PER_PACKET / FREQUENCY_HZ
            )
        if not args.fast:
            time.sleep(max(0.0, (start_ns + packet_ns - time.time_ns()) / 1e9))

    for stream in STREAMS:
        out.send(
            "EndOfSession", EndOfSessionPacket(data_source=DATA_SOURCE).SerializeToString(), stream
        )
    ended = sessions.end_session(DATA_SOURCE, session.session_key)
    elapsed = time.perf_counter() - started
    for service in (sessions, data_formats, writer):
        service.stop()
    support_lib.stop()
    if not ended.success:
        logger.error(f"could not end the session: {ended.error_message}")
        return 1
    print(
        f"wrote session {session.session_key} ({args.identifier}) to "
        f"{args.broker or 'the embedded default store'}: {out.packets} packets, "
        f"{out.samples} samples in {elapsed:.2f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
