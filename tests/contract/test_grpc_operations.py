"""Operating the Stream API server: health checks, reflection, Prometheus metrics, TLS and the
shared token (each off by default but health and reflection), on an embedded store."""

from __future__ import annotations

import shutil
import subprocess
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from ma_dataplatforms_streaming_support_library.contracts.shared.stream_api_configuration import (
    StreamingApiConfiguration,
)
from ma_dataplatforms_streaming_support_library.core.base.logger import Logger
from ma_dataplatforms_streaming_support_library.core.base.support_library_bootstrapper import (
    SupportLibraryBootstrapper,
)
from ma_dataplatforms_streaming_support_library.core.remote.context import (
    TOKEN_ENVIRONMENT_VARIABLE,
)
from ma_dataplatforms_streaming_support_library.protos import api_pb2, api_pb2_grpc, open_data_pb2
from ma_dataplatforms_streaming_support_library.server import ServerOptions, StreamApiServer

from .conftest import TOPIC_BASE, create_session

API_SERVICES = {
    "ma.streaming.api.v1.PacketWriterService",
    "ma.streaming.api.v1.DataFormatManagerService",
    "ma.streaming.api.v1.ConnectionManagerService",
    "ma.streaming.api.v1.PacketReaderService",
    "ma.streaming.api.v1.SessionManagementService",
}
TOKEN = "s3cret-token"
OPENSSL = (
    *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
    *("-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"),
)


def _server(tmp_path: Path, **options: Any) -> StreamApiServer:
    configuration = StreamingApiConfiguration(f"embedded:{tmp_path / 's.db'}", TOPIC_BASE, [], 10)
    return StreamApiServer(
        configuration,
        ServerOptions(**{"host": "127.0.0.1", "port": 0, "key_generator_port": 0, **options}),
    ).start()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[StreamApiServer]:
    started = _server(tmp_path, metrics_port=0)
    yield started
    started.stop(1)


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[str, str]:
    """A self-signed certificate for localhost/127.0.0.1: (cert PEM path, key PEM path)."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [*OPENSSL, "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return str(cert), str(key)


def test_health_checks_serve_each_service(server: StreamApiServer) -> None:
    with grpc.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        health = health_pb2_grpc.HealthStub(channel)
        for service in ("", *sorted(API_SERVICES)):
            answer = health.Check(health_pb2.HealthCheckRequest(service=service), timeout=10)
            assert answer.status == health_pb2.HealthCheckResponse.SERVING, service
        with pytest.raises(grpc.RpcError) as unknown:
            health.Check(health_pb2.HealthCheckRequest(service="nope"), timeout=10)
        assert unknown.value.code() is grpc.StatusCode.NOT_FOUND
    with grpc.insecure_channel(f"127.0.0.1:{server.key_generator_port}") as channel:
        answer = health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(
                service="ma.streaming.key_generator.v1.UniqueKeyGeneratorService"
            ),
            timeout=10,
        )
        assert answer.status == health_pb2.HealthCheckResponse.SERVING


def test_reflection_lists_the_services(server: StreamApiServer) -> None:
    with grpc.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        stub = reflection_pb2_grpc.ServerReflectionStub(channel)
        [answer] = stub.ServerReflectionInfo(
            iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=10
        )
        names = {service.name for service in answer.list_services_response.service}
    assert API_SERVICES | {"grpc.health.v1.Health"} <= names


def test_metrics_are_scraped_with_the_stream_api_names(
    server: StreamApiServer, data_source: str
) -> None:
    with grpc.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        sessions = api_pb2_grpc.SessionManagementServiceStub(channel)
        key = sessions.CreateSession(
            api_pb2.CreateSessionRequest(data_source=data_source)
        ).session_key
        packet = open_data_pb2.Packet(type="Marker", session_key=key, content=b"")
        details = [
            api_pb2.DataPacketDetails(message=packet, data_source=data_source, session_key=key)
        ]
        api_pb2_grpc.PacketWriterServiceStub(channel).WriteDataPackets(
            iter([api_pb2.WriteDataPacketsRequest(details=details * 3)])
        )
        connection = (
            api_pb2_grpc.ConnectionManagerServiceStub(channel)
            .NewConnection(
                api_pb2.NewConnectionRequest(
                    details=api_pb2.ConnectionDetails(data_source=data_source, session_key=key)
                )
            )
            .connection
        )
        call = api_pb2_grpc.PacketReaderServiceStub(channel).ReadPackets(
            api_pb2.ReadPacketsRequest(connection=connection)
        )
        received = [
            item for _, response in zip(range(3), call, strict=False) for item in response.response
        ]
        call.cancel()
    assert len(received) == 3
    with urllib.request.urlopen(
        f"http://127.0.0.1:{server.metrics_port}/metrics", timeout=10
    ) as page:
        text = page.read().decode()
    labels = f'data_source="{data_source}"'
    assert f'stream_api_data_packets_published_total{{{labels},stream=""}} 3.0' in text
    assert f"stream_api_sessions_total{{{labels}}} 1.0" in text
    assert f"stream_api_connections_total{{{labels}}} 1.0" in text
    delivered = f'stream_api_data_packets_delivered_total{{connection="{connection.id}",{labels},stream=""}} 3.0'
    assert delivered in text


def test_tls_and_token(
    tmp_path: Path, certificate: tuple[str, str], data_source: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    cert, key = certificate
    server = _server(tmp_path, tls_cert=cert, tls_key=key, token=TOKEN, key_generator_port=None)
    try:
        roots = Path(cert).read_bytes()
        credentials = grpc.ssl_channel_credentials(root_certificates=roots)
        with grpc.secure_channel(f"localhost:{server.port}", credentials) as channel:
            sessions = api_pb2_grpc.SessionManagementServiceStub(channel)
            request = api_pb2.GetCurrentSessionsRequest(data_source=data_source)
            with pytest.raises(grpc.RpcError) as refused:
                sessions.GetCurrentSessions(request, timeout=10)
            assert refused.value.code() is grpc.StatusCode.UNAUTHENTICATED
            with pytest.raises(grpc.RpcError) as wrong:
                sessions.GetCurrentSessions(
                    request, timeout=10, metadata=(("authorization", "Bearer nope"),)
                )
            assert wrong.value.code() is grpc.StatusCode.UNAUTHENTICATED
            answer = sessions.GetCurrentSessions(
                request, timeout=10, metadata=(("authorization", f"Bearer {TOKEN}"),)
            )
            assert answer.success
            health = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest())
            assert health.status == health_pb2.HealthCheckResponse.SERVING
        with (
            grpc.insecure_channel(f"127.0.0.1:{server.port}") as plain,
            pytest.raises(grpc.RpcError),
        ):
            api_pb2_grpc.SessionManagementServiceStub(plain).GetCurrentSessions(request, timeout=5)
        # The official API over grpcs://, with the token from the environment.
        monkeypatch.setenv(TOKEN_ENVIRONMENT_VARIABLE, TOKEN)
        api = SupportLibraryBootstrapper.bootstrap(
            StreamingApiConfiguration(
                f"grpcs://localhost:{server.port}?data_sources={data_source}",
                TOPIC_BASE,
                {"ssl.ca.location": cert},
                10,
            ),
            Logger(),
        ).create()
        with api:
            service = api.get_session_manager_api().create_service().data
            assert service is not None
            with service:
                info = create_session(service, data_source, "over tls")
                listed = service.get_all_sessions().data or []
                assert [s.session_key for s in listed] == [info.session_key]
    finally:
        server.stop(1)
