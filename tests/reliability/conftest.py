"""Helpers of the fault suite: libraries built through the official API, numbered packets, and
what a log really holds (read back through a transport of its own, not the code under test).

Faults come from outside, as an operator would cause them: a broker stopped (SIGTERM) or killed
(SIGKILL) and restarted on its port and data directory, processes killed with SIGKILL, a store on
a full file system. ``MA_STREAMING_RELIABILITY_LONG=1`` (``make reliability-long``) turns on the
long forms: the 60 s outage, 100 kill -9 rounds instead of 20.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import pytest

from ma_dataplatforms_streaming_support_library.contracts.packet_reading.packet_reading_configuration import (
    PacketReadingConfiguration,
)
from ma_dataplatforms_streaming_support_library.contracts.packet_reading.packet_reading_type import (
    PacketReadingType,
)
from ma_dataplatforms_streaming_support_library.contracts.packet_reading.received_packet_dto import (
    ReceivedPacketDto,
)
from ma_dataplatforms_streaming_support_library.contracts.packet_writing.packet_bytes import (
    PacketBytes,
)
from ma_dataplatforms_streaming_support_library.contracts.session_management.session_creation_info import (
    SessionCreationInfo,
)
from ma_dataplatforms_streaming_support_library.contracts.shared.retry_mode import RetryMode
from ma_dataplatforms_streaming_support_library.contracts.shared.retry_policy import RetryPolicy
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
from ma_dataplatforms_streaming_support_library.protos import open_data_pb2
from ma_dataplatforms_streaming_support_library.transport import (
    BROKER_ENVIRONMENT_VARIABLE,
    open_transport,
)

LONG = os.environ.get("MA_STREAMING_RELIABILITY_LONG") == "1"
#: rides out any outage: what a program that must not stop reading configures
FOREVER = RetryPolicy(0, datetime.timedelta(seconds=0.5), RetryMode.INFINITE)


PROCS = Path(__file__).resolve().parent / "procs"
SRC = Path(__file__).resolve().parents[2] / "src"


class Proc:
    """A helper process of procs/ whose JSON stdout lines a thread collects as they come."""

    def __init__(
        self, script: str, *arguments: str, preexec_fn: Callable[[], None] | None = None
    ) -> None:
        env = {k: v for k, v in os.environ.items() if k != BROKER_ENVIRONMENT_VARIABLE}
        env["PYTHONPATH"] = str(SRC)
        #: what the process printed to stderr, shown when it does not answer as expected
        self._stderr = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 - lives as long as the process
        self.process = subprocess.Popen(
            [sys.executable, str(PROCS / script), *arguments],
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
            env=env,
            preexec_fn=preexec_fn,
        )
        self.lines: queue.Queue[dict[str, Any]] = queue.Queue()
        assert self.process.stdout is not None
        self._pump_thread = threading.Thread(
            target=self._pump, args=(self.process.stdout,), daemon=True
        )
        self._pump_thread.start()

    def _pump(self, stream: IO[str]) -> None:
        for line in stream:
            if line.startswith("{"):
                self.lines.put(json.loads(line))

    def next_with(self, key: str, timeout: float = 60) -> dict[str, Any]:
        """The next line holding ``key`` (lines before it are dropped)."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or (self.process.poll() is not None and self.lines.empty()):
                raise AssertionError(
                    f"{self.process.args[1]}: no {key!r} line; its stderr ends:\n{self.stderr_tail()}"
                )
            try:
                line = self.lines.get(timeout=min(remaining, 0.5))
            except queue.Empty:
                continue
            if key in line:
                return line

    def stderr_tail(self, lines: int = 20) -> str:
        self._stderr.seek(0)
        return "".join(self._stderr.readlines()[-lines:])

    def kill9(self) -> list[dict[str, Any]]:
        """SIGKILL, then every line it printed before dying that was not taken yet."""
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(30)
        self._pump_thread.join(10)
        return self.rest()

    def rest(self) -> list[dict[str, Any]]:
        taken = []
        while not self.lines.empty():
            taken.append(self.lines.get())
        return taken

    def wait(self, timeout: float) -> list[dict[str, Any]]:
        """Wait for a normal exit (status 0); the lines not taken yet."""
        status = self.process.wait(timeout)
        assert status == 0, f"{self.process.args[1]} failed ({status}):\n{self.stderr_tail()}"
        self._pump_thread.join(10)
        return self.rest()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/reliability/" in str(item.path).replace(os.sep, "/"):
            item.add_marker(pytest.mark.reliability)


@pytest.fixture(autouse=True)
def _no_broker_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(BROKER_ENVIRONMENT_VARIABLE, raising=False)


def wait_until(predicate: Callable[[], Any], timeout: float, message: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {message}")
        time.sleep(0.05)


def start_library(
    broker_list: str, *, timeout_s: float = 5, retry_policy: RetryPolicy | None = FOREVER
) -> Any:
    configuration = StreamingApiConfiguration(
        broker_list,
        StreamCreationStrategy.TOPIC_BASE,
        [],
        timeout_s,
        retry_policy=retry_policy,
    )
    library = SupportLibraryBootstrapper.bootstrap(configuration, Logger()).create()
    library.initialise()
    library.start()
    return library


def started(result: Any) -> Any:
    assert result.success and result.data is not None, result.error_message
    result.data.initialise()
    result.data.start()
    return result.data


def numbered(session_key: str, number: int, size: int = 64) -> PacketBytes:
    """A Marker packet whose envelope id is ``number``: what the checks count and order by."""
    envelope = open_data_pb2.Packet(
        type="Marker", session_key=session_key, id=number, content=b"x" * size
    )
    return PacketBytes(envelope.SerializeToString())


def number_of(data: bytes) -> int:
    return int(open_data_pb2.Packet.FromString(data).id)


@dataclass
class Writing:
    """A writer service on its own library, with one live session of a fresh data source."""

    library: Any
    sessions: Any
    writer: Any
    data_source: str
    session_key: str
    written: int = 0

    @classmethod
    def open(cls, broker_list: str, **library_options: Any) -> Writing:
        library = start_library(broker_list, **library_options)
        data_source = f"ds_{uuid.uuid4().hex[:10]}"
        sessions = started(library.get_session_manager_api().create_service())
        created = sessions.create_new_session(
            SessionCreationInfo(data_source, "faults", "Session", 1, None, [], [])
        )
        assert created.success, created.error_message
        writer = started(library.get_writing_packet_api().create_service())
        return cls(library, sessions, writer, data_source, created.data.session_key)

    def write(self, count: int) -> list[str]:
        """Write the next ``count`` numbered packets; the failure messages met on the way."""
        failures = []
        for _ in range(count):
            self.written += 1
            result = self.writer.write_data(
                self.data_source, "", self.session_key, numbered(self.session_key, self.written)
            )
            if not result.success:
                failures.append(result.error_message)
        return failures


@dataclass
class Collector:
    """A packet handler keeping the numbers delivered, plus the reader's failure events."""

    numbers: list[int] = field(default_factory=list)
    failures: list[Exception] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def handle(self, packet: ReceivedPacketDto) -> None:
        with self.lock:
            self.numbers.append(number_of(packet.packet_bytes.data))

    def on_failed(self, _sender: object, error: Exception) -> None:
        self.failures.append(error)


def live_reader(library: Any, data_source: str, collector: Collector, idle_s: float = 120) -> Any:
    configuration = PacketReadingConfiguration(
        "", idle_s, False, data_source, "*", PacketReadingType.LIVE, []
    )
    result = library.get_reading_packet_api().create_service_with_config(configuration)
    assert result.success, result.error_message
    reader = result.data
    reader.initialise()
    reader.reading_failed.subscribe(collector.on_failed)
    reader.start()
    reader.set_handler(collector)
    return reader


def numbers_by_session(broker_list: str, topic: str) -> dict[str, list[int]]:
    """The numbers of each session's packets in partition 0 of ``topic``, in log order."""
    with open_transport(broker_list, properties={}, timeout_s=10) as transport:
        end = transport.end_offsets(topic).get(0, 0)
        records = transport.read_range(topic, 0, 0, end, timeout_s=120)
    found: dict[str, list[int]] = {}
    for record in records:
        found.setdefault((record.key or b"").decode(), []).append(number_of(record.value))
    return found


def log_numbers(broker_list: str, topic: str, session_key: str) -> list[int]:
    """The numbers of ``session_key``'s packets in partition 0 of ``topic``, in log order."""
    return numbers_by_session(broker_list, topic).get(session_key, [])


@pytest.fixture
def closing() -> Iterator[list[Any]]:
    """Libraries to stop after the test, whatever a broker fault left them in."""
    libraries: list[Any] = []
    yield libraries
    for library in reversed(libraries):
        # A library on a killed broker may fail to flush on the way out.
        with contextlib.suppress(Exception):
            library.stop()
