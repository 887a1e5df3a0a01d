"""RemoteContext: what the services of a support library share when its broker is a Stream API
server (``grpc://host:port``): one gRPC channel, the stubs, and the data sources it knows."""

from __future__ import annotations

import logging
import os
import threading
import urllib.parse
from collections.abc import Callable
from typing import Any

from ...contracts.shared.stream_api_configuration import StreamingApiConfiguration
from ...errors import ConfigurationError, MissingDependencyError, TransportError

try:
    import grpc
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise MissingDependencyError("grpcio", "grpc", "grpc:// brokers") from exc

from ...protos import api_pb2_grpc
from .formats import RemoteFormats

__all__ = ["TOKEN_ENVIRONMENT_VARIABLE", "RemoteContext"]

logger = logging.getLogger(__name__)

#: a shared token the server asks for; sent as ``authorization: Bearer <token>``
TOKEN_ENVIRONMENT_VARIABLE = "MA_STREAMING_GRPC_TOKEN"
#: the data source the official samples use, listed when the address names none
DEFAULT_DATA_SOURCE = "Default"


def _parse(broker_list: str) -> tuple[str, bool, list[str]]:
    url = urllib.parse.urlsplit(broker_list.strip())
    if not url.hostname:
        raise ConfigurationError(
            f"broker_list {broker_list!r}: expected grpc://host:port[?data_sources=A,B]"
        )
    try:
        port = url.port or 13579
    except ValueError as exc:
        raise ConfigurationError(f"broker_list {broker_list!r}: {exc}") from exc
    host = f"[{url.hostname}]" if ":" in url.hostname else url.hostname
    query = urllib.parse.parse_qs(url.query)
    unknown = sorted(set(query) - {"data_sources"})
    if unknown:
        raise ConfigurationError(
            f"broker_list {broker_list!r}: unknown option(s) {', '.join(unknown)}; "
            "the only one is data_sources=A,B"
        )
    sources = [s for value in query.get("data_sources", []) for s in value.split(",") if s]
    return f"{host}:{port}", url.scheme.lower() == "grpcs", sources


class _TokenAuth(grpc.AuthMetadataPlugin):  # type: ignore[misc]
    def __init__(self, token: str) -> None:
        self._metadata = (("authorization", f"Bearer {token}"),)

    def __call__(self, context: Any, callback: Any) -> None:
        callback(self._metadata, None)


class RemoteContext:
    """The channel to a Stream API server and its stubs, for the remote services.

    ``grpc://`` is plain text; ``grpcs://`` is TLS, the server's certificate checked against the
    system roots or the PEM file of the ``ssl.ca.location`` property, with the token of
    ``MA_STREAMING_GRPC_TOKEN`` (if set) sent as ``authorization: Bearer <token>``.

    The Stream API lists sessions per data source only, so ``data_sources`` is what the library
    lists: those named in the address (``?data_sources=A,B``, else ``Default``), and each one the
    program has used since. ``flush_writes`` makes every write queued by this library's writers
    reach the server, so that a session ends after its last packet.
    """

    def __init__(self, configuration: StreamingApiConfiguration, broker_list: str) -> None:
        self.configuration = configuration
        self.timeout_s = configuration.timeout_seconds
        self.target, secure, named = _parse(broker_list)
        self._data_sources = dict.fromkeys(named or [DEFAULT_DATA_SOURCE])
        self.location = f"{'grpcs' if secure else 'grpc'}://{self.target}"
        self.channel = self._channel(secure, configuration.additional_properties)
        try:
            grpc.channel_ready_future(self.channel).result(timeout=self.timeout_s)
        except grpc.FutureTimeoutError as exc:
            self.channel.close()
            raise TransportError(
                f"no Stream API server answered at {self.location} within {self.timeout_s} s",
                retriable=True,
            ) from exc
        self.sessions = api_pb2_grpc.SessionManagementServiceStub(self.channel)
        self.formats = api_pb2_grpc.DataFormatManagerServiceStub(self.channel)
        self.connections = api_pb2_grpc.ConnectionManagerServiceStub(self.channel)
        self.reader = api_pb2_grpc.PacketReaderServiceStub(self.channel)
        self.writer = api_pb2_grpc.PacketWriterServiceStub(self.channel)
        self.data_formats = RemoteFormats(self)
        self._flushers: list[Callable[[], object]] = []
        #: sessions this library ended: its writers refuse them from then on
        self.ended_sessions: set[str] = set()
        self._lock = threading.Lock()

    def _channel(self, secure: bool, properties: dict[str, str]) -> Any:
        token = os.environ.get(TOKEN_ENVIRONMENT_VARIABLE, "")
        if not secure:
            if token:
                logger.warning(
                    "%s is set but %s is plain text: the token is not sent; use grpcs://",
                    TOKEN_ENVIRONMENT_VARIABLE,
                    self.location,
                )
            return grpc.insecure_channel(self.target)
        ca_file = properties.get("ssl.ca.location")
        try:
            roots = open(ca_file, "rb").read() if ca_file else None  # noqa: SIM115
        except OSError as exc:
            raise ConfigurationError(f"ssl.ca.location {ca_file!r}: {exc}") from exc
        credentials = grpc.ssl_channel_credentials(root_certificates=roots)
        if token:
            credentials = grpc.composite_channel_credentials(
                credentials, grpc.metadata_call_credentials(_TokenAuth(token))
            )
        return grpc.secure_channel(self.target, credentials)

    @property
    def data_sources(self) -> list[str]:
        with self._lock:
            return list(self._data_sources)

    def use_data_source(self, data_source: str) -> None:
        with self._lock:
            self._data_sources.setdefault(data_source)

    def add_flusher(self, flush: Callable[[], object]) -> None:
        with self._lock:
            self._flushers.append(flush)

    def remove_flusher(self, flush: Callable[[], object]) -> None:
        with self._lock:
            if flush in self._flushers:
                self._flushers.remove(flush)

    def flush_writes(self) -> None:
        with self._lock:
            flushers = list(self._flushers)
        for flush in flushers:
            flush()

    def close(self) -> None:
        self.channel.close()
