"""`ma-streaming serve` with a client written like Motion Applied's Python gRPC samples.

The client is a separate program that knows nothing of this library: it compiles the .proto
files itself (grpcio-tools, from the generator's own environment) and talks to the default
ports 13579 and 15379 with plain stubs. It creates a session, writes configuration, metadata,
data and markers, ends the session and reads it back over gRPC; the test then reads the same
session through the official API's ``read_session`` and stops the server with SIGTERM.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ma_dataplatforms_streaming_support_library import read_session

REPO = Path(__file__).resolve().parents[2]
SRC = REPO / "src"
PORTS = (13579, 15379)
WAIT_S = 60

CLIENT = textwrap.dedent(
    """
    import json, sys, time
    import grpc
    from google.protobuf import any_pb2
    from ma.streaming.api.v1 import api_pb2, api_pb2_grpc
    from ma.streaming.key_generator.v1 import key_generator_pb2, key_generator_pb2_grpc
    from ma.streaming.open_data.v1 import open_data_pb2

    DATA_SOURCE = sys.argv[1]
    channel = grpc.insecure_channel("localhost:13579")
    sessions = api_pb2_grpc.SessionManagementServiceStub(channel)
    formats = api_pb2_grpc.DataFormatManagerServiceStub(channel)
    writer = api_pb2_grpc.PacketWriterServiceStub(channel)
    connections = api_pb2_grpc.ConnectionManagerServiceStub(channel)
    reader = api_pb2_grpc.PacketReaderServiceStub(channel)
    keys = api_pb2_grpc_keys = key_generator_pb2_grpc.UniqueKeyGeneratorServiceStub(
        grpc.insecure_channel("localhost:15379"))

    def write(session_key, packet_type, message, essential=False):
        packet = open_data_pb2.Packet(type=packet_type, session_key=session_key,
                                      is_essential=essential, content=message.SerializeToString())
        writer.WriteDataPacket(api_pb2.WriteDataPacketRequest(detail=api_pb2.DataPacketDetails(
            message=packet, data_source=DATA_SOURCE, stream="", session_key=session_key)))

    key_id = keys.GenerateUniqueKey(key_generator_pb2.GenerateUniqueKeyRequest(
        type=key_generator_pb2.KEY_TYPE_STRING)).string_key
    created = sessions.CreateSession(api_pb2.CreateSessionRequest(
        data_source=DATA_SOURCE, identifier="Sample Session " + key_id[:8], version=1))
    session_key = created.session_key
    write(session_key, "NewSession", open_data_pb2.NewSessionPacket(data_source=DATA_SOURCE))
    config = open_data_pb2.ConfigurationPacket(config_id="cfg1", parameter_definitions=[
        open_data_pb2.ParameterDefinition(identifier="Sin:MyApp", name="Sin",
                                          data_type=open_data_pb2.DATA_TYPE_FLOAT64,
                                          frequencies=[100])])
    write(session_key, "Configuration", config, essential=True)
    note = any_pb2.Any()
    note.Pack(open_data_pb2.MarkerPacket(label="packed"))
    write(session_key, "Metadata", open_data_pb2.MetadataPacket(metadata={"note": note}))
    format_id = formats.GetParameterDataFormatId(api_pb2.GetParameterDataFormatIdRequest(
        data_source=DATA_SOURCE, parameters=["Sin:MyApp"])).data_format_identifier
    start = int(time.time() * 1e9)
    for index in range(10):
        samples = [open_data_pb2.DoubleSample(value=float(index * 10 + k),
                                              status=open_data_pb2.DATA_STATUS_VALID)
                   for k in range(10)]
        write(session_key, "PeriodicData", open_data_pb2.PeriodicDataPacket(
            data_format=open_data_pb2.SampleDataFormat(data_format_identifier=format_id),
            start_time=start + index * 100_000_000, interval=10_000_000,
            columns=[open_data_pb2.SampleColumn(
                double_samples=open_data_pb2.DoubleSampleList(samples=samples))]))
    write(session_key, "Marker", open_data_pb2.MarkerPacket(timestamp=start, label="Lap 1",
                                                            type="Lap Trigger"))
    write(session_key, "EndOfSession", open_data_pb2.EndOfSessionPacket(data_source=DATA_SOURCE))
    ended = sessions.EndSession(api_pb2.EndSessionRequest(data_source=DATA_SOURCE,
                                                          session_key=session_key))

    connection = connections.NewConnection(api_pb2.NewConnectionRequest(
        details=api_pb2.ConnectionDetails(data_source=DATA_SOURCE, session_key=session_key))
    ).connection
    types = []
    call = reader.ReadPackets(api_pb2.ReadPacketsRequest(connection=connection))
    for response in call:
        types.extend(item.packet.type for item in response.response)
        if types[-1] == "EndOfSession":
            break
    call.cancel()
    info = sessions.GetSessionInfo(api_pb2.GetSessionInfoRequest(session_key=session_key))
    print(json.dumps({"session_key": session_key, "created": created.success,
                      "ended": ended.success, "types": types,
                      "complete": info.is_complete, "identifier": info.identifier}))
    """
)


def _free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


@pytest.fixture(scope="module")
def client_stubs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The client's own stubs, compiled from proto/ as a sample user would compile them."""
    setup = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "generate_protos.py"), "--setup-only"],
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    protoc_python = setup.stdout.strip().splitlines()[-1]
    out = tmp_path_factory.mktemp("client_stubs")
    protos = [str(p.relative_to(REPO / "proto")) for p in (REPO / "proto").rglob("*.proto")]
    subprocess.run(
        [
            protoc_python,
            "-m",
            "grpc_tools.protoc",
            "-I",
            str(REPO / "proto"),
            f"--python_out={out}",
            f"--grpc_python_out={out}",
            *protos,
        ],
        cwd=REPO / "proto",
        check=True,
        timeout=300,
    )
    return out


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], str]]:
    if not all(_free(port) for port in PORTS):
        pytest.skip(f"the default Stream API ports {PORTS} are taken on this machine")
    store = f"embedded:{tmp_path / 'store.db'}"
    env = {k: v for k, v in os.environ.items() if k != "MA_STREAMING_BROKER"}
    env["PYTHONPATH"] = str(SRC)
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ma_dataplatforms_streaming_support_library.cli.main",
            "--broker",
            store,
            "serve",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    deadline = time.monotonic() + WAIT_S
    while _free(PORTS[0]) or _free(PORTS[1]):
        assert server.poll() is None, server.communicate()
        assert time.monotonic() < deadline, "the server did not listen in time"
        time.sleep(0.2)
    try:
        yield server, store
    finally:
        if server.poll() is None:
            server.kill()
            server.communicate()


def test_a_sample_style_client_round_trip(
    served: tuple[subprocess.Popen[str], str], client_stubs: Path, tmp_path: Path, data_source: str
) -> None:
    server, store = served
    script = tmp_path / "sample_client.py"
    script.write_text(CLIENT, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = str(client_stubs)
    result = subprocess.run(
        [sys.executable, str(script), data_source],
        capture_output=True,
        text=True,
        env=env,
        timeout=WAIT_S,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["created"] and summary["ended"] and summary["complete"]
    assert summary["types"] == [
        "NewSession",
        "Configuration",
        "Metadata",
        *["PeriodicData"] * 10,
        "Marker",
        "EndOfSession",
    ]
    data = read_session(summary["session_key"], store)
    sine = data.parameter("Sin:MyApp")
    assert list(sine.values) == [float(v) for v in range(100)]
    assert data.complete

    server.send_signal(signal.SIGTERM)
    out, err = server.communicate(timeout=WAIT_S)
    assert server.returncode == 0, err
    assert "Stream API stopped" in out
