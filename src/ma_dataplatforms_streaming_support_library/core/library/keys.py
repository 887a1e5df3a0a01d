"""Where session keys and data format ids come from: minted here, or by a key generator service.

With ``use_remote_key_generator`` the library asks the Stream API's ``UniqueKeyGeneratorService``
at ``remote_key_generator_service_address`` (``host:port``) for every new session key (a string
key) and data format id (a ulong key), as the C# library does; otherwise it mints them itself —
UUID4 strings and .NET-tick ids, the same forms. The remote one needs the ``grpc`` extra.
"""

from __future__ import annotations

import uuid
from typing import Any, Protocol

from ...contracts.shared.stream_api_configuration import StreamingApiConfiguration
from ...errors import MissingDependencyError, TransportError
from ...protos import key_generator_pb2
from ..data_format_management.catalog import next_format_id

__all__ = ["KeyGenerator", "LocalKeys", "RemoteKeys", "key_generator_for"]


class KeyGenerator(Protocol):
    """Mints the unique keys a library writes."""

    def session_key(self) -> str: ...

    def format_id(self) -> int: ...

    def close(self) -> None: ...


class LocalKeys:
    """UUID4 session keys and .NET-tick data format ids, strictly increasing per process."""

    def session_key(self) -> str:
        return str(uuid.uuid4())

    def format_id(self) -> int:
        return next_format_id()

    def close(self) -> None:
        """Nothing to release."""


class RemoteKeys:
    """Keys from a ``UniqueKeyGeneratorService`` over gRPC; every failure is a ``TransportError``
    naming the address (``retriable`` when the service was unavailable or slow)."""

    def __init__(self, address: str, timeout_s: float) -> None:
        try:
            import grpc

            from ...protos import key_generator_pb2_grpc
        except ImportError as exc:
            raise MissingDependencyError("grpcio", "grpc", "use_remote_key_generator") from exc
        self._grpc: Any = grpc
        self._address = address
        self._timeout_s = timeout_s
        self._channel = grpc.insecure_channel(address)
        self._stub = key_generator_pb2_grpc.UniqueKeyGeneratorServiceStub(self._channel)

    def _generate(self, key_type: int) -> key_generator_pb2.GenerateUniqueKeyResponse:
        request = key_generator_pb2.GenerateUniqueKeyRequest(type=key_type)  # type: ignore[arg-type]
        try:
            response: key_generator_pb2.GenerateUniqueKeyResponse = self._stub.GenerateUniqueKey(
                request, timeout=self._timeout_s
            )
        except self._grpc.RpcError as exc:
            code = exc.code()
            raise TransportError(
                f"key generator at {self._address}: {code.name}: {exc.details()}",
                code=code.name,
                retriable=code
                in (self._grpc.StatusCode.UNAVAILABLE, self._grpc.StatusCode.DEADLINE_EXCEEDED),
            ) from exc
        return response

    def session_key(self) -> str:
        response = self._generate(key_generator_pb2.KEY_TYPE_STRING)
        if response.WhichOneof("key") != "string_key" or not response.string_key:
            raise TransportError(f"key generator at {self._address} returned no string key")
        return response.string_key

    def format_id(self) -> int:
        response = self._generate(key_generator_pb2.KEY_TYPE_ULONG)
        if response.WhichOneof("key") != "ulong_key":
            raise TransportError(f"key generator at {self._address} returned no ulong key")
        return int(response.ulong_key)

    def close(self) -> None:
        self._channel.close()


def key_generator_for(configuration: StreamingApiConfiguration) -> KeyGenerator:
    """The key generator a configuration asks for."""
    if configuration.use_remote_key_generator:
        return RemoteKeys(
            configuration.remote_key_generator_service_address, configuration.timeout_seconds
        )
    return LocalKeys()
