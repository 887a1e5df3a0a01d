"""The retry policy on reconnects, and the start-up replay's idle limit, on both transports.

A lost connection is injected at the transport seam: ``FlakyTransport`` hands out the real
transport's consumers, made to fail their next poll(s) with a ``TransportError``.
"""

from __future__ import annotations

import datetime
import threading
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

import pytest

from ma_dataplatforms_streaming_support_library.contracts.packet_reading.packet_reading_configuration import (
    PacketReadingConfiguration,
)
from ma_dataplatforms_streaming_support_library.contracts.packet_reading.packet_reading_type import (
    PacketReadingType,
)
from ma_dataplatforms_streaming_support_library.contracts.shared.retry_mode import RetryMode
from ma_dataplatforms_streaming_support_library.contracts.shared.retry_policy import RetryPolicy
from ma_dataplatforms_streaming_support_library.contracts.shared.stream_api_configuration import (
    StreamingApiConfiguration,
)
from ma_dataplatforms_streaming_support_library.core.base.retry import with_retries
from ma_dataplatforms_streaming_support_library.core.library.context import LibraryContext
from ma_dataplatforms_streaming_support_library.core.packet_reading.packet_reader_service import (
    PacketReaderService,
)
from ma_dataplatforms_streaming_support_library.core.session_management.registry import (
    SessionRegistry,
)
from ma_dataplatforms_streaming_support_library.errors import TransportError
from ma_dataplatforms_streaming_support_library.protos import open_data_pb2
from ma_dataplatforms_streaming_support_library.transport import (
    BROKER_ENVIRONMENT_VARIABLE,
    Record,
    TopicPartition,
    Transport,
)

from .conftest import TOPIC_BASE, EventRecorder, LibraryFactory, wait_for, write_session

QUICK = RetryPolicy(5, datetime.timedelta(milliseconds=20), RetryMode.FINITE)


class FlakyConsumer:
    """A real consumer whose polls fail while its transport has failures to hand out."""

    def __init__(self, inner: Any, owner: FlakyTransport) -> None:
        self._inner = inner
        self._owner = owner

    def assign(self, positions: Mapping[TopicPartition, int]) -> None:
        self._inner.assign(positions)

    def unassign(self, partitions: Iterable[TopicPartition]) -> None:
        self._inner.unassign(partitions)

    def poll(self, max_records: int, timeout_s: float) -> list[Record]:
        if self._owner.take_failure():
            raise TransportError("connection lost (injected)", retriable=True)
        if self._owner.stalled:
            return []
        records: list[Record] = self._inner.poll(max_records, timeout_s)
        return records

    def wake(self) -> None:
        self._inner.wake()

    def close(self) -> None:
        self._inner.close()


class FlakyTransport:
    """The real transport, but ``failures`` polls fail from the moment ``fail_next`` is called."""

    def __init__(self, inner: Transport) -> None:
        self._inner = inner
        self._failures = 0
        self._lock = threading.Lock()
        self.stalled = False

    def fail_next(self, failures: int) -> None:
        with self._lock:
            self._failures = failures

    def failures_left(self) -> int:
        with self._lock:
            return self._failures

    def take_failure(self) -> bool:
        with self._lock:
            if self._failures <= 0:
                return False
            self._failures -= 1
            return True

    def consumer(self) -> FlakyConsumer:
        return FlakyConsumer(self._inner.consumer(), self)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def _new_session(transport: Transport, data_source: str) -> str:
    key = str(uuid.uuid4())
    content = open_data_pb2.NewSessionPacket(data_source=data_source).SerializeToString()
    value = open_data_pb2.Packet(type="NewSession", session_key=key, content=content)
    transport.create_topics({"SessionInfo": 1})
    transport.produce("SessionInfo", None, key.encode(), value.SerializeToString())
    transport.flush(10)
    return key


# the policy helper ----------------------------------------------------------------------------
def _failing(times: int) -> tuple[list[int], Any]:
    calls: list[int] = []

    def operation() -> str:
        calls.append(1)
        if len(calls) <= times:
            raise TransportError(f"attempt {len(calls)} failed")
        return "connected"

    return calls, operation


@pytest.mark.parametrize(
    ("policy", "failures", "attempts", "succeeds"),
    [
        (None, 1, 1, False),
        (RetryPolicy(2, datetime.timedelta(0), RetryMode.FINITE), 2, 3, True),
        (RetryPolicy(2, datetime.timedelta(0), RetryMode.FINITE), 3, 3, False),
        (RetryPolicy(0, datetime.timedelta(0), RetryMode.INFINITE), 7, 8, True),
    ],
    ids=["no-policy", "finite-enough", "finite-exhausted", "infinite"],
)
def test_with_retries_follows_the_policy(
    policy: RetryPolicy | None, failures: int, attempts: int, succeeds: bool
) -> None:
    calls, operation = _failing(failures)

    if succeeds:
        assert with_retries(operation, policy, "test") == "connected"
    else:
        with pytest.raises(TransportError):
            with_retries(operation, policy, "test")

    assert len(calls) == attempts


def test_with_retries_gives_up_when_stopping() -> None:
    calls, operation = _failing(1_000)
    stopping = threading.Event()
    policy = RetryPolicy(0, datetime.timedelta(seconds=30), RetryMode.INFINITE)
    threading.Timer(0.2, stopping.set).start()

    with pytest.raises(TransportError):
        with_retries(operation, policy, "test", stopping)

    assert len(calls) == 1


# reconnecting followers and readers -----------------------------------------------------------
def test_the_session_registry_reconnects_and_resumes(
    transport: Transport, data_source: str
) -> None:
    flaky = FlakyTransport(transport)
    registry = SessionRegistry(flaky, 10, QUICK)  # type: ignore[arg-type]
    try:
        before = _new_session(transport, data_source)
        registry.catch_up()
        flaky.fail_next(3)
        after = _new_session(transport, data_source)
        registry.catch_up()

        assert registry.get(before) is not None and registry.get(after) is not None
    finally:
        registry.stop()


def test_without_a_retry_policy_a_lost_connection_is_reported(
    transport: Transport, data_source: str
) -> None:
    flaky = FlakyTransport(transport)
    registry = SessionRegistry(flaky, 10)  # type: ignore[arg-type]
    try:
        _new_session(transport, data_source)
        registry.catch_up()
        flaky.fail_next(1)
        wait_for(lambda: not flaky.failures_left(), message="the injected failure")
        _new_session(transport, data_source)

        with pytest.raises(TransportError, match="connection lost"):
            registry.catch_up()
    finally:
        registry.stop()


def test_a_packet_reader_reconnects_and_delivers_every_packet_once(
    library_factory: LibraryFactory,
    broker_list: str,
    data_source: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(BROKER_ENVIRONMENT_VARIABLE, raising=False)
    writing = library_factory()
    sessions, writer = writing.session_service(), writing.writer_service()
    configuration = StreamingApiConfiguration(broker_list, TOPIC_BASE, [], 10, retry_policy=QUICK)
    context = LibraryContext(configuration)
    flaky = FlakyTransport(context.transport)
    context.transport = flaky  # type: ignore[assignment]
    reader = PacketReaderService(
        context,
        PacketReadingConfiguration("", 10, False, data_source, "*", PacketReadingType.LIVE, []),
    )
    recorder = EventRecorder().attach(reader)
    try:
        reader.start()
        reader.set_handler(recorder)
        first = write_session(sessions, writer, data_source, count=5)
        recorder.wait_completed(first.session_key)
        flaky.fail_next(2)
        second = write_session(sessions, writer, data_source, count=5)
        recorder.wait_completed(second.session_key)
    finally:
        reader.stop()
        context.close()

    for written in (first, second):
        delivered = [dto.packet_bytes for dto in recorder.packets(written.session_key)]
        assert delivered == written.packets[""]


# the start-up replay's idle limit -------------------------------------------------------------
def test_a_start_up_replay_that_goes_idle_counts_as_finished_but_later_reads_do_not(
    transport: Transport, data_source: str
) -> None:
    flaky = FlakyTransport(transport)
    flaky.stalled = True  # the consumer connects but never delivers
    _new_session(transport, data_source)
    registry = SessionRegistry(flaky, 1.0, replay_idle_s=0.2)  # type: ignore[arg-type]
    try:
        registry.catch_up()  # the start-up replay: ends once idle, with a warning

        with pytest.raises(TransportError, match="in time"):
            registry.catch_up()  # read-your-writes: waits for the end offsets
    finally:
        registry.stop()
