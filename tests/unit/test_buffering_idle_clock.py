"""IdleClock, and a stream-discovery grace that slow packet processing does not use up."""

from __future__ import annotations

import threading
import time

from streaming_fakes import ScriptedReader, periodic_packet

from ma_dataplatforms_streaming_support_library.contracts.buffering import BufferingConfiguration
from ma_dataplatforms_streaming_support_library.contracts.session_management.session_info import (
    SessionInfo,
)
from ma_dataplatforms_streaming_support_library.core.buffering.columnar_decoding import (
    decode_sample_packet,
)
from ma_dataplatforms_streaming_support_library.core.buffering.idle_clock import IdleClock
from ma_dataplatforms_streaming_support_library.core.buffering.sample_reader_service import (
    SampleReaderService,
)

MS = 1_000_000
SESSION = SessionInfo("key-1", "Default", "run")


class FakeClock:
    def __init__(self) -> None:
        self.now = 10.0

    def __call__(self) -> float:
        return self.now


def test_idle_clock_stands_still_while_busy() -> None:
    wall = FakeClock()
    clock = IdleClock(wall)
    assert clock() == 10.0
    wall.now = 11.0
    assert clock() == 11.0
    with clock.busy():
        wall.now = 15.0
        assert clock() == 11.0  # frozen where the section began
    assert clock() == 11.0  # the 4 busy seconds never count
    wall.now = 16.5
    assert clock() == 12.5


def test_overlapping_busy_sections_count_once() -> None:
    wall = FakeClock()
    clock = IdleClock(wall)
    with clock.busy():
        wall.now = 12.0
        with clock.busy():  # a second thread, say
            wall.now = 13.0
        wall.now = 14.0
    wall.now = 15.0
    assert clock() == 11.0


def test_idle_clock_is_thread_safe() -> None:
    clock = IdleClock()

    def work() -> None:
        for _ in range(2000):
            with clock.busy():
                pass

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert clock() <= time.monotonic()


def test_grace_is_not_used_up_by_slow_processing() -> None:
    """One stream's backlog takes longer to process than the grace; the other stream, delivered
    right after it, still shows up in time and none of its samples is late."""

    def slow_decoder(packet_type: str, content: bytes):  # type: ignore[no-untyped-def]
        time.sleep(0.01)
        return decode_sample_packet(packet_type, content)

    service = SampleReaderService(
        BufferingConfiguration(None, 100, 10), slow_decoder, stream_discovery_grace_s=0.1
    )
    reader = ScriptedReader()
    service.set_reader_service(reader)
    service.start()
    reader.start_session(SESSION)
    for i in range(30):  # 0.3 s of processing, 3 s of data
        reader.send(SESSION, "A", periodic_packet(["a"], i * 100 * MS, 10 * MS, [[1.0] * 10]))
    for i in range(30):
        reader.send(SESSION, "B", periodic_packet(["b"], i * 100 * MS, 10 * MS, [[2.0] * 10]))
    assert service.get_late_sample_count("Default", "key-1") == 0
    reader.complete_session(SESSION)
    assert service.get_late_sample_count("Default", "key-1") == 0
    service.stop()
