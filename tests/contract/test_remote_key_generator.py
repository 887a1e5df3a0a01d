"""use_remote_key_generator: session keys and data format ids come from a key generator service."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator
from concurrent import futures
from pathlib import Path

import grpc
import pytest

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
from ma_dataplatforms_streaming_support_library.protos import (
    key_generator_pb2,
    key_generator_pb2_grpc,
)


class CountingKeys(key_generator_pb2_grpc.UniqueKeyGeneratorServiceServicer):
    """A key generator service that hands out recognisable keys and counts the calls."""

    def __init__(self) -> None:
        self.numbers = itertools.count(7_000_000_000_000)
        self.calls: list[int] = []

    def GenerateUniqueKey(
        self, request: key_generator_pb2.GenerateUniqueKeyRequest, context: object
    ) -> key_generator_pb2.GenerateUniqueKeyResponse:
        self.calls.append(request.type)
        if request.type == key_generator_pb2.KEY_TYPE_STRING:
            return key_generator_pb2.GenerateUniqueKeyResponse(
                string_key=str(uuid.UUID(int=len(self.calls), version=4))
            )
        return key_generator_pb2.GenerateUniqueKeyResponse(ulong_key=next(self.numbers))


@pytest.fixture
def key_service() -> Iterator[tuple[str, CountingKeys]]:
    keys = CountingKeys()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    key_generator_pb2_grpc.add_UniqueKeyGeneratorServiceServicer_to_server(keys, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        yield f"127.0.0.1:{port}", keys
    finally:
        server.stop(None)


def _library(tmp_path: Path, address: str, timeout_s: float = 5) -> object:
    configuration = StreamingApiConfiguration(
        f"embedded:{tmp_path}/keys.db", StreamCreationStrategy.TOPIC_BASE, [], timeout_s
    )
    configuration.use_remote_key_generator = True
    configuration.remote_key_generator_service_address = address
    library = SupportLibraryBootstrapper.bootstrap(configuration, Logger()).create()
    library.initialise()
    library.start()
    return library


def test_session_keys_and_format_ids_come_from_the_service(
    tmp_path: Path, key_service: tuple[str, CountingKeys]
) -> None:
    address, keys = key_service
    library = _library(tmp_path, address)
    try:
        sessions = library.get_session_manager_api().create_service().data  # type: ignore[attr-defined]
        formats = library.get_data_format_manager_api().create_service().data  # type: ignore[attr-defined]
        sessions.start()
        formats.start()
        created = sessions.create_new_session(SessionCreationInfo("Default", "remote keys"))
        assert created.success, created.error_message
        assert created.data.session_key == str(uuid.UUID(int=1, version=4))
        format_id = formats.get_parameter_data_format_id("Default", ["vCar:Chassis"])
        assert format_id.success, format_id.error_message
        assert format_id.data.data_format_id == 7_000_000_000_000
        assert keys.calls == [key_generator_pb2.KEY_TYPE_STRING, key_generator_pb2.KEY_TYPE_ULONG]
    finally:
        library.stop()  # type: ignore[attr-defined]


def test_an_unreachable_key_generator_fails_the_call_naming_it(tmp_path: Path) -> None:
    library = _library(tmp_path, "127.0.0.1:1", timeout_s=1)
    try:
        sessions = library.get_session_manager_api().create_service().data  # type: ignore[attr-defined]
        sessions.start()
        created = sessions.create_new_session(SessionCreationInfo("Default", "no keys"))
        assert not created.success
        assert "key generator at 127.0.0.1:1" in created.error_message
    finally:
        library.stop()  # type: ignore[attr-defined]
