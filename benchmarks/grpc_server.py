"""The Stream API server against the library in-process, on one embedded store.

(Not named grpc.py: run as a script, that name would shadow the grpc package.) Writes: ``WriteDataPackets`` (one client stream, batches of 100 packets) vs the packet writer
service in-process, each timed until the packets are durable. Reads: ``ReadPackets`` of the
session vs the packet reader service (HISTORIC) in-process. PeriodicData packets of 100 doubles.
Prints packets/s side by side and the ratios (goals: both >= 0.5x).

    PYTHONPATH=src python benchmarks/grpc_server.py [--packets 20000] [--batching]
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import grpc

from ma_dataplatforms_streaming_support_library.contracts.packet_reading.received_packet_dto import (
    ReceivedPacketDto,
)
from ma_dataplatforms_streaming_support_library.contracts.packet_writing.packet_bytes import (
    PacketBytes,
)
from ma_dataplatforms_streaming_support_library.contracts.session_management.session_creation_info import (
    SessionCreationInfo,
)
from ma_dataplatforms_streaming_support_library.contracts.shared.i_handler import IHandler
from ma_dataplatforms_streaming_support_library.contracts.shared.stream_api_configuration import (
    StreamingApiConfiguration,
)
from ma_dataplatforms_streaming_support_library.core.base.logger import Logger
from ma_dataplatforms_streaming_support_library.core.base.support_library_bootstrapper import (
    SupportLibraryBootstrapper,
)
from ma_dataplatforms_streaming_support_library.protos import api_pb2, api_pb2_grpc, open_data_pb2
from ma_dataplatforms_streaming_support_library.server import ServerOptions, serve_stream_api

DATA_SOURCE = "Bench"
SAMPLES = 100
BATCH = 100


def periodic(session_key: str, index: int) -> open_data_pb2.Packet:
    packet = open_data_pb2.PeriodicDataPacket(
        data_format=open_data_pb2.SampleDataFormat(
            parameter_identifiers=open_data_pb2.ParameterList(parameter_identifiers=["x:bench"])
        ),
        start_time=1_700_000_000_000_000_000 + index * 1_000_000_000,
        interval=10_000_000,
    )
    samples = packet.columns.add().double_samples.samples
    for sample in range(SAMPLES):
        samples.add(value=index + sample * 0.01, status=open_data_pb2.DATA_STATUS_VALID)
    return open_data_pb2.Packet(
        type="PeriodicData", session_key=session_key, content=packet.SerializeToString()
    )


class Counter(IHandler[ReceivedPacketDto]):
    def __init__(self) -> None:
        self.count = 0

    def handle(self, packet: ReceivedPacketDto) -> None:
        self.count += 1


def grpc_write(channel: grpc.Channel, count: int) -> tuple[str, float]:
    sessions = api_pb2_grpc.SessionManagementServiceStub(channel)
    key = sessions.CreateSession(api_pb2.CreateSessionRequest(data_source=DATA_SOURCE)).session_key
    details = [
        api_pb2.DataPacketDetails(
            message=periodic(key, i), data_source=DATA_SOURCE, session_key=key
        )
        for i in range(count)
    ]
    requests = [
        api_pb2.WriteDataPacketsRequest(details=details[i : i + BATCH])
        for i in range(0, count, BATCH)
    ]
    connection = (
        api_pb2_grpc.ConnectionManagerServiceStub(channel)
        .NewConnection(
            api_pb2.NewConnectionRequest(details=api_pb2.ConnectionDetails(data_source=DATA_SOURCE))
        )
        .connection
    )
    started = time.perf_counter()
    api_pb2_grpc.PacketWriterServiceStub(channel).WriteDataPackets(iter(requests))
    # ReadEssentials makes the server's pending writes durable before it reads.
    for _ in api_pb2_grpc.PacketReaderServiceStub(channel).ReadEssentials(
        api_pb2.ReadEssentialsRequest(connection=connection)
    ):
        pass
    elapsed = time.perf_counter() - started
    sessions.EndSession(api_pb2.EndSessionRequest(session_key=key))
    return key, elapsed


def grpc_read(channel: grpc.Channel, session_key: str, count: int) -> float:
    connection = (
        api_pb2_grpc.ConnectionManagerServiceStub(channel)
        .NewConnection(
            api_pb2.NewConnectionRequest(
                details=api_pb2.ConnectionDetails(data_source=DATA_SOURCE, session_key=session_key)
            )
        )
        .connection
    )
    started = time.perf_counter()
    call = api_pb2_grpc.PacketReaderServiceStub(channel).ReadPackets(
        api_pb2.ReadPacketsRequest(connection=connection)
    )
    seen = 0
    for response in call:
        seen += len(response.response)
        if seen >= count:
            break
    elapsed = time.perf_counter() - started
    call.cancel()
    return elapsed


def library_write_and_read(broker_list: str, count: int) -> tuple[float, float]:
    library = SupportLibraryBootstrapper.bootstrap(
        StreamingApiConfiguration(broker_list, additional_properties=[]), Logger()
    ).create()
    library.initialise()
    library.start()
    try:
        sessions: Any = library.get_session_manager_api().create_service().data
        writer: Any = library.get_writing_packet_api().create_service().data
        sessions.start()
        writer.start()
        key = sessions.create_new_session(
            SessionCreationInfo(data_source=DATA_SOURCE)
        ).data.session_key
        packets = [PacketBytes(periodic(key, i).SerializeToString()) for i in range(count)]
        started = time.perf_counter()
        for packet in packets:
            writer.write_data(DATA_SOURCE, "", key, packet)
        writer.flush()
        write_s = time.perf_counter() - started
        sessions.end_session(DATA_SOURCE, key)
        reader: Any = library.get_reading_packet_api().create_service(DATA_SOURCE, key).data
        counter = Counter()
        done = threading.Event()
        reader.session_reading_completed += lambda *_: done.set()
        reader.start()
        started = time.perf_counter()
        reader.set_handler(counter)
        done.wait(300)
        read_s = time.perf_counter() - started
        reader.stop()
        return write_s, read_s
    finally:
        library.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--packets", type=int, default=20_000)
    parser.add_argument("--batching", action="store_true", help="batching_responses on the server")
    args = parser.parse_args()
    count = args.packets
    with tempfile.TemporaryDirectory(prefix="ma-grpc-bench-") as tmp:
        broker_list = f"embedded:{Path(tmp) / 'store.db'}"
        in_write, in_read = library_write_and_read(broker_list, count)
        configuration = StreamingApiConfiguration(
            broker_list, additional_properties=[], batching_responses=args.batching
        )
        server = serve_stream_api(
            configuration, ServerOptions(host="127.0.0.1", port=0, key_generator_port=None)
        )
        channel = grpc.insecure_channel(f"127.0.0.1:{server.port}")
        try:
            key, grpc_write_s = grpc_write(channel, count)
            grpc_read_s = grpc_read(channel, key, count)
        finally:
            channel.close()
            server.stop(1)
    print(f"{count} PeriodicData packets of {SAMPLES} doubles, embedded store")
    print(f"{'':28}{'gRPC server':>14}{'in-process':>14}{'ratio':>8}")
    for name, remote, local in (
        ("write (packets/s)", grpc_write_s, in_write),
        (f"read (packets/s){' batched' if args.batching else ''}", grpc_read_s, in_read),
    ):
        print(f"{name:28}{count / remote:>14,.0f}{count / local:>14,.0f}{local / remote:>8.2f}")


if __name__ == "__main__":
    main()
