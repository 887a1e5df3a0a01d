"""The Stream API server against the library in-process, on one embedded store.

(Not named grpc.py: run as a script, that name would shadow the grpc package.) The server runs
in its own process (``ma-streaming serve``), as it would for its clients, so client and server
do not share one interpreter lock. Writes: ``WriteDataPackets`` (one client stream, batches of
100 packets) vs the packet writer service in-process (``write_data`` per packet), each timed until
the packets are durable, each the best of ``--repeat`` sessions (the in-process ones before the
servers start, so that their processes do not load the baseline).
Reads: ``ReadPackets`` of the session, on a server with one packet per response and on one with
``batching_responses``, vs the packet reader service (HISTORIC) in-process on the same session;
each read is the best of ``--repeat`` rounds that take one read of each kind in turn (the
machine may be shared). PeriodicData packets of 100 doubles. Live: the in-process writer
at 1,000 packets/s while a ``ReadPackets`` call follows the session (batched server); latency
from write_data to the packet's arrival. Prints packets/s side by side and the ratios (goals:
write and read >= 0.5x; live p99 <= 25 ms).

    PYTHONPATH=src python benchmarks/grpc_server.py [--packets 20000] [--repeat 3] [--live-s 5]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
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


def _library(broker_list: str) -> Any:
    library = SupportLibraryBootstrapper.bootstrap(
        StreamingApiConfiguration(broker_list, additional_properties=[]), Logger()
    ).create()
    library.initialise()
    library.start()
    return library


def library_write(broker_list: str, count: int) -> float:
    """Seconds to write ``count`` packets of a new session through the in-process writer."""
    library = _library(broker_list)
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
        elapsed = time.perf_counter() - started
        sessions.end_session(DATA_SOURCE, key)
        return elapsed
    finally:
        library.stop()


def _read_once(library: Any, session_key: str) -> float:
    reader: Any = library.get_reading_packet_api().create_service(DATA_SOURCE, session_key).data
    counter = Counter()
    done = threading.Event()
    reader.session_reading_completed += lambda *_: done.set()
    reader.start()
    started = time.perf_counter()
    reader.set_handler(counter)
    done.wait(300)
    elapsed = time.perf_counter() - started
    reader.stop()
    return elapsed


def read_rounds(
    broker_list: str, ports: list[int], session_key: str, count: int, repeat: int
) -> list[list[float]]:
    """Seconds of ``repeat`` rounds of reads of the session: in-process (HISTORIC), then
    ``ReadPackets`` on each server of ``ports``, so each kind meets the same load at the time.
    One list per kind."""
    library = _library(broker_list)
    channels = [grpc.insecure_channel(f"127.0.0.1:{port}") for port in ports]
    times: list[list[float]] = [[] for _ in range(1 + len(ports))]
    try:
        for _ in range(repeat):
            times[0].append(_read_once(library, session_key))
            for kind, channel in enumerate(channels, start=1):
                times[kind].append(grpc_read(channel, session_key, count))
    finally:
        for channel in channels:
            channel.close()
        library.stop()
    return times


@contextmanager
def served(broker_list: str, batching: bool) -> Iterator[int]:
    """The port of ``ma-streaming serve`` on ``broker_list``, in a child process."""
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    env.pop("MA_STREAMING_BROKER", None)
    command = [sys.executable, "-m", "ma_dataplatforms_streaming_support_library.cli.main"]
    command += ["--broker", broker_list, "serve", "--port", "0", "--key-generator-port", "0"]
    command += ["--host", "127.0.0.1", *(["--batching-responses"] if batching else [])]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert server.stdout is not None
        found = re.search(r"Stream API on port (\d+)", server.stdout.readline())
        if not found:
            raise SystemExit("the server did not start")
        yield int(found.group(1))
    finally:
        server.terminate()
        server.wait(30)


def live_latency(broker_list: str, channel: grpc.Channel, seconds: float) -> list[float]:
    """Latencies (ms) of packets written in-process at 1,000/s and read with ReadPackets."""
    library = _library(broker_list)
    sessions: Any = library.get_session_manager_api().create_service().data
    writer: Any = library.get_writing_packet_api().create_service().data
    sessions.start()
    writer.start()
    key = sessions.create_new_session(SessionCreationInfo(data_source=DATA_SOURCE)).data.session_key
    connection = (
        api_pb2_grpc.ConnectionManagerServiceStub(channel)
        .NewConnection(
            api_pb2.NewConnectionRequest(
                details=api_pb2.ConnectionDetails(
                    data_source=DATA_SOURCE, session_key=key, main_offset=-1
                )
            )
        )
        .connection
    )
    call = api_pb2_grpc.PacketReaderServiceStub(channel).ReadPackets(
        api_pb2.ReadPacketsRequest(connection=connection)
    )
    count = int(seconds * 1000)
    sent: dict[int, int] = {}
    latencies: list[float] = []

    def receive() -> None:
        for response in call:
            now = time.perf_counter_ns()
            for item in response.response:
                latencies.append((now - sent[item.packet.id]) / 1e6)
            if len(latencies) >= count:
                return

    thread = threading.Thread(target=receive, daemon=True)
    thread.start()
    time.sleep(1.0)  # the call has resolved "latest" before the first write
    packets = []
    for index in range(count):
        packet = periodic(key, index)
        packet.id = index
        packets.append(PacketBytes(packet.SerializeToString()))
    started = time.perf_counter()
    for index, packet in enumerate(packets):
        time.sleep(max(0.0, started + index / 1000 - time.perf_counter()))
        sent[index] = time.perf_counter_ns()
        writer.write_data(DATA_SOURCE, "", key, packet)
        writer.flush()
    thread.join(seconds + 30)
    call.cancel()
    sessions.end_session(DATA_SOURCE, key)
    library.stop()
    return sorted(latencies)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--packets", type=int, default=20_000)
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="writes of each kind and rounds of reads (best counts)",
    )
    parser.add_argument("--live-s", type=float, default=5.0, help="seconds of live writing")
    args = parser.parse_args()
    count = args.packets
    repeat = max(1, args.repeat)
    with tempfile.TemporaryDirectory(prefix="ma-grpc-bench-") as tmp:
        broker_list = f"embedded:{Path(tmp) / 'store.db'}"
        in_write = min(library_write(broker_list, count) for _ in range(repeat))
        with served(broker_list, batching=True) as batched_port:
            with served(broker_list, batching=False) as single_port:
                with grpc.insecure_channel(f"127.0.0.1:{single_port}") as channel:
                    writes = [grpc_write(channel, count) for _ in range(repeat)]
                key, grpc_write_s = min(writes, key=lambda write: write[1])
                in_reads, unbatched, batched = read_rounds(
                    broker_list, [single_port, batched_port], key, count, repeat
                )
            with grpc.insecure_channel(f"127.0.0.1:{batched_port}") as channel:
                latencies = live_latency(broker_list, channel, args.live_s)
    in_read = min(in_reads)
    print(f"{count} PeriodicData packets of {SAMPLES} doubles, embedded store, best of {repeat}")
    print(f"{'':30}{'gRPC server':>14}{'in-process':>14}{'ratio':>8}")
    for name, remote, local in (
        ("write (packets/s)", grpc_write_s, in_write),
        ("read (packets/s)", min(unbatched), in_read),
        ("read (packets/s) batched", min(batched), in_read),
    ):
        print(f"{name:30}{count / remote:>14,.0f}{count / local:>14,.0f}{local / remote:>8.2f}")
    if latencies:
        p50 = latencies[len(latencies) // 2]
        p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
        print(
            f"live writer -> gRPC reader (batched) at 1,000 packets/s: {len(latencies)} packets, "
            f"p50 {p50:.1f} ms, p99 {p99:.1f} ms, max {latencies[-1]:.1f} ms"
        )


if __name__ == "__main__":
    main()
