"""The log followers (session registry, data format catalog) never wait out a poll.

Their threads wait in long polls and are woken when there is something to do, so a catch-up
costs the records it reads and a stop ends at once, whatever the poll timeout. These tests make
every follower poll an hour long: a catch-up or a stop that waited for a poll to end would not
finish within the tests' bounds. On the embedded store and the memory log only (a Kafka poll in
progress cannot be woken; there the poll timeout bounds the wait).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from ma_dataplatforms_streaming_support_library.contracts.data_format_management.data_format_info_type import (
    DataFormatInfoType,
)
from ma_dataplatforms_streaming_support_library.contracts.shared.stream_api_configuration import (
    StreamingApiConfiguration,
)
from ma_dataplatforms_streaming_support_library.core.base import log_follower
from ma_dataplatforms_streaming_support_library.core.data_format_management.catalog import (
    DataFormatCatalog,
)
from ma_dataplatforms_streaming_support_library.core.library.context import LibraryContext
from ma_dataplatforms_streaming_support_library.core.session_management.registry import (
    SessionRegistry,
)
from ma_dataplatforms_streaming_support_library.layout import essential_topic
from ma_dataplatforms_streaming_support_library.protos import open_data_pb2
from ma_dataplatforms_streaming_support_library.sessions import read_session
from ma_dataplatforms_streaming_support_library.sessions.write import open_session_writer
from ma_dataplatforms_streaming_support_library.transport import (
    BROKER_ENVIRONMENT_VARIABLE,
    Transport,
    open_transport,
)

from .conftest import TOPIC_BASE

#: each wait of a follower (catch-up, stop) is bounded by this
TIMEOUT_S = 10.0
PARAMETERS = DataFormatInfoType.PARAMETERS


@pytest.fixture(params=["embedded", "memory"])
def store(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A broker list of a local store, with every follower poll an hour long."""
    monkeypatch.delenv(BROKER_ENVIRONMENT_VARIABLE, raising=False)
    monkeypatch.setattr(log_follower, "_POLL_TIMEOUT_S", 3600.0)
    if request.param == "embedded":
        return f"embedded:{tmp_path / 'store.db'}"
    return f"memory:{uuid.uuid4().hex}"


@pytest.fixture
def transport(store: str) -> Iterator[Transport]:
    opened = open_transport(store, timeout_s=TIMEOUT_S)
    try:
        yield opened
    finally:
        opened.close()


def new_threads(before: set[threading.Thread]) -> list[str]:
    return [t.name for t in threading.enumerate() if t not in before and t.is_alive()]


def define(transport: Transport, data_source: str, identifiers: list[str]) -> int:
    """Write a parameter data format definition to the data source's essentials topic."""
    definition = open_data_pb2.DataFormatDefinitionPacket(
        identifier=int(uuid.uuid4().int % 2**62), type=open_data_pb2.DATA_FORMAT_TYPE_PARAMETER
    )
    definition.parameter_identifiers.parameter_identifiers.extend(identifiers)
    packet = open_data_pb2.Packet(
        type="DataFormatDefinition", is_essential=True, content=definition.SerializeToString()
    )
    topic = essential_topic(data_source)
    transport.create_topics({topic: 1})
    transport.produce(topic, 0, b"", packet.SerializeToString())
    transport.flush(TIMEOUT_S)
    return definition.identifier


def new_session(transport: Transport, data_source: str) -> str:
    key = str(uuid.uuid4())
    content = open_data_pb2.NewSessionPacket(data_source=data_source).SerializeToString()
    value = open_data_pb2.Packet(type="NewSession", session_key=key, content=content)
    transport.create_topics({"SessionInfo": 1})
    transport.produce("SessionInfo", None, key.encode(), value.SerializeToString())
    transport.flush(TIMEOUT_S)
    return key


def test_a_data_format_catch_up_applies_what_was_written_before_it(
    transport: Transport, data_source: str
) -> None:
    before = set(threading.enumerate())
    first = define(transport, data_source, ["a:x"])
    catalog = DataFormatCatalog(transport, TIMEOUT_S)
    try:
        catalog.catch_up(data_source)  # the start-up replay
        assert catalog.find_by_id(data_source, PARAMETERS, first) == ["a:x"]

        second = define(transport, data_source, ["b:x"])
        catalog.catch_up(data_source)
        assert catalog.find_by_id(data_source, PARAMETERS, second) == ["b:x"]

        later = f"{data_source}_later"  # its topic appears after the follower started
        third = define(transport, later, ["c:x"])
        catalog.catch_up(later)
        assert catalog.find_by_id(later, PARAMETERS, third) == ["c:x"]
    finally:
        catalog.stop()

    assert new_threads(before) == []


def test_a_session_catch_up_applies_what_was_written_before_it(
    transport: Transport, data_source: str
) -> None:
    before = set(threading.enumerate())
    first = new_session(transport, data_source)
    registry = SessionRegistry(transport, TIMEOUT_S)
    try:
        registry.catch_up()
        assert registry.get(first) is not None

        second = new_session(transport, data_source)
        registry.catch_up()
        assert registry.get(second) is not None
    finally:
        registry.stop()

    assert new_threads(before) == []


def test_closing_a_library_context_ends_its_followers(store: str, data_source: str) -> None:
    before = set(threading.enumerate())
    context = LibraryContext(StreamingApiConfiguration(store, TOPIC_BASE, [], TIMEOUT_S))
    context.sessions.catch_up()
    context.data_formats.catch_up(data_source)
    assert new_threads(before)  # both followers run

    context.close()

    assert new_threads(before) == []


def test_read_session_reads_a_small_session_without_waiting_out_a_poll(store: str) -> None:
    before = set(threading.enumerate())
    with open_session_writer(store, timeout_s=TIMEOUT_S) as writer:
        writer.write_periodic("vCar:Chassis", 1_000_000_000, 1_000_000, np.arange(10.0))

    data = read_session(writer.session_key, store, timeout_s=TIMEOUT_S)

    assert data.parameter("vCar:Chassis").values.tolist() == list(np.arange(10.0))
    assert new_threads(before) == []
