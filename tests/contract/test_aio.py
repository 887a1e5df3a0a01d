"""asyncio and plain iteration over readers, on both transports, with a writer in another process.

The writer is ``tests/e2e/procs/writer.py session`` (official API only): NewSession on three
streams, a configuration packet, 60 periodic packets, EndOfSession on each stream — 67 packets —
and it prints every packet it wrote. Every test runs its event loop with ``asyncio.run``.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from ma_dataplatforms_streaming_support_library import aio
from ma_dataplatforms_streaming_support_library.contracts.buffering.buffering_configuration import (
    BufferingConfiguration,
)
from ma_dataplatforms_streaming_support_library.contracts.buffering.end_sample_data import (
    EndSampleData,
)
from ma_dataplatforms_streaming_support_library.contracts.buffering.end_timestamp_data import (
    EndTimestampData,
)
from ma_dataplatforms_streaming_support_library.contracts.buffering.sample_data import SampleData
from ma_dataplatforms_streaming_support_library.contracts.buffering.start_sample_data import (
    StartSampleData,
)
from ma_dataplatforms_streaming_support_library.contracts.buffering.start_timestamp_data import (
    StartTimestampData,
)
from ma_dataplatforms_streaming_support_library.contracts.packet_reading.received_packet_dto import (
    ReceivedPacketDto,
)
from ma_dataplatforms_streaming_support_library.core.packet_reading.iteration import (
    iterate_windows,
)
from ma_dataplatforms_streaming_support_library.errors import ReaderTimeoutError

from .conftest import (
    MAPPINGS,
    TOPIC_BASE,
    Library,
    LibraryFactory,
    create_session,
    envelope,
    historic_configuration,
    live_configuration,
    new_session_packet,
    wait_for,
    write_session,
)

pytestmark = pytest.mark.cross_process

ROOT = Path(__file__).resolve().parents[2]
PROCS = ROOT / "tests" / "e2e" / "procs"
STREAMS = ["", "stream1", "stream2"]
WRITTEN_PACKETS = 67
RUN_S = 120.0


def environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "MA_STREAMING_BROKER"}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), str(PROCS)])
    return env


async def write_in_another_process(broker_list: str, data_source: str) -> dict[str, Any]:
    """Run the writer process to its end without blocking the loop; what it says it wrote."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(PROCS / "writer.py"),
        broker_list,
        "topic",
        data_source,
        "session",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=environment(),
    )
    out, err = await asyncio.wait_for(process.communicate(), RUN_S)
    assert process.returncode == 0, err.decode()
    (line,) = [json.loads(text) for text in out.decode().splitlines() if text.startswith("{")]
    return line


def by_stream(dtos: list[ReceivedPacketDto], session_key: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for dto in dtos:
        if dto.session_key == session_key:
            found.setdefault(dto.stream, []).append(
                base64.b64encode(dto.packet_bytes.data).decode()
            )
    return found


def ended_streams(dtos: list[ReceivedPacketDto]) -> set[str]:
    return {dto.stream for dto in dtos if envelope(dto).type == "EndOfSession"}


def reader_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("ma-streaming-reader-")]


def library_for(library_factory: LibraryFactory, **kw: Any) -> Library:
    return library_factory(TOPIC_BASE, partition_mappings=MAPPINGS, **kw)


# asyncio: live ----------------------------------------------------------------------------------
def test_async_live_reading_gets_every_packet_of_another_process_once_in_order(
    library_factory: LibraryFactory, data_source: str, broker_list: str
) -> None:
    reader = library_for(library_factory).reader(live_configuration(data_source))

    async def main() -> tuple[list[ReceivedPacketDto], dict[str, Any]]:
        received: list[ReceivedPacketDto] = []
        async with aio.packets(reader, max_queued=16) as packets:
            writing = asyncio.create_task(write_in_another_process(broker_list, data_source))
            async for dto in packets:
                received.append(dto)
                if ended_streams(received) == set(STREAMS):
                    break
            written = await writing
        return received, written

    received, written = asyncio.run(main())

    assert by_stream(received, written["session_key"]) == written["packets"]
    assert not reader.is_started  # started by the iterator, so stopped by it
    assert not reader_threads()


def test_back_pressure_keeps_the_queue_within_its_bound_while_the_consumer_is_slow(
    library_factory: LibraryFactory, data_source: str, broker_list: str
) -> None:
    reader = library_for(library_factory).reader(live_configuration(data_source))
    bound = 4

    async def main() -> tuple[list[ReceivedPacketDto], dict[str, Any], list[int], int]:
        received: list[ReceivedPacketDto] = []
        sizes: list[int] = []
        async with aio.packets(reader, max_queued=bound) as packets:
            written = await write_in_another_process(broker_list, data_source)
            # The writer process has finished: all 67 packets are in the log, but the reader
            # waits for the consumer, so no more than the bound is waiting in memory.
            behind_when_written = 0
            async for dto in packets:
                if not received:
                    behind_when_written = WRITTEN_PACKETS - packets.queued
                received.append(dto)
                sizes.append(packets.queued)
                await asyncio.sleep(0.01)
                if ended_streams(received) == set(STREAMS):
                    break
            assert packets.high_water <= bound
        return received, written, sizes, behind_when_written

    received, written, sizes, behind = asyncio.run(main())

    assert by_stream(received, written["session_key"]) == written["packets"]
    assert max(sizes) <= bound
    assert behind >= WRITTEN_PACKETS - bound


def test_cancelling_the_consumer_stops_the_reader_and_joins_its_thread(
    library_factory: LibraryFactory, data_source: str, broker_list: str
) -> None:
    reader = library_for(library_factory).reader(live_configuration(data_source))
    threads_before = set(threading.enumerate())

    async def consume(stream: aio.AsyncItemStream[ReceivedPacketDto], got: list[Any]) -> None:
        async with stream:
            async for dto in stream:
                got.append(dto)
                await asyncio.sleep(3600)  # a consumer stuck on its first packet

    async def main() -> tuple[int, float]:
        stream = aio.packets(reader, max_queued=2)
        got: list[Any] = []
        task = asyncio.create_task(consume(stream, got))
        await write_in_another_process(broker_list, data_source)
        while stream.queued < 2:  # the reader now waits for room on its thread
            await asyncio.sleep(0.05)
        began = time.monotonic()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return len(got), time.monotonic() - began

    consumed, cancel_s = asyncio.run(main())

    assert consumed == 1
    assert not reader.is_started
    assert reader.finished.is_set()
    assert not reader_threads()
    # The library's session follower belongs to the library, started with the first reader;
    # asyncio's child watcher threads belong to this test's writer process and may outlive it
    # by a moment after reaping it.
    leftover = {
        t.name
        for t in threading.enumerate()
        if t not in threads_before and t.is_alive() and not t.name.startswith("asyncio-waitpid")
    }
    assert leftover <= {"ma-streaming-sessions"}
    print(f"cancelled with the reader blocked on a full queue: stopped in {cancel_s:.3f} s")


# asyncio: historic ------------------------------------------------------------------------------
def test_async_historic_iteration_ends_after_the_last_packet(
    library_factory: LibraryFactory, data_source: str, broker_list: str
) -> None:
    written = asyncio.run(write_in_another_process(broker_list, data_source))
    library = library_for(library_factory)
    created = library.api.get_reading_packet_api().create_service(
        data_source, written["session_key"]
    )
    reader = created.data

    async def main() -> list[ReceivedPacketDto]:
        return [dto async for dto in aio.packets(reader, max_queued=8)]

    received = asyncio.run(main())

    assert by_stream(received, written["session_key"]) == written["packets"]
    assert len(received) == WRITTEN_PACKETS
    assert reader.finished.is_set() and not reader.is_started


def test_async_windows_of_a_historic_session_end_with_the_reader(
    library_factory: LibraryFactory, data_source: str, broker_list: str
) -> None:
    written = asyncio.run(write_in_another_process(broker_list, data_source))
    library = library_for(library_factory)
    reader = library.reader(historic_configuration(data_source, session_key=written["session_key"]))
    sample_reader = (
        library.api.get_sample_reader_api().create_service(BufferingConfiguration(["Sin:E2E"])).data
    )
    sample_reader.set_reader_service(reader)

    async def main() -> list[Any]:
        async with aio.windows(sample_reader, reader, max_queued=2) as windows:
            return [window async for window in windows]

    items = asyncio.run(main())

    assert isinstance(items[0], StartTimestampData)
    assert isinstance(items[-1], EndTimestampData)
    values = [
        value.cast(float)
        for window in items[1:-1]
        for column in window.time_columns
        for value in column.sample_values
    ]
    assert sorted(values) == sorted(float(i) for i in range(30) for _ in range(2))
    assert not sample_reader.is_started and not reader.is_started


def test_the_readers_timeout_error_surfaces_in_the_async_iterator(
    library_factory: LibraryFactory, data_source: str
) -> None:
    library = library_for(library_factory)
    written = write_session(
        library.session_service(), library.writer_service(), data_source, count=3, end=False
    )
    reader = library.reader(
        historic_configuration(
            data_source,
            session_key=written.session_key,
            timeout_seconds=1,
            raise_exception_on_timeout=True,
        )
    )

    async def main() -> list[ReceivedPacketDto]:
        received: list[ReceivedPacketDto] = []
        with pytest.raises(TimeoutError, match=written.session_key):
            async for dto in aio.packets(reader):
                received.append(dto)
        return received

    received = asyncio.run(main())

    assert len(received) == 4  # NewSession and three markers, then the timeout
    assert not reader.is_started


def test_an_item_timeout_raises_reader_timeout_error_and_stops_the_reader(
    library_factory: LibraryFactory, data_source: str
) -> None:
    reader = library_for(library_factory).reader(live_configuration(data_source))

    async def main() -> None:
        with pytest.raises(ReaderTimeoutError, match=r"0\.3 s"):
            async for _ in aio.packets(reader, timeout=0.3):
                pass

    asyncio.run(main())

    assert not reader.is_started


# asyncio: writer and library --------------------------------------------------------------------
def test_async_writer_keeps_call_order_and_a_reader_gets_it_all(
    library_factory: LibraryFactory, data_source: str
) -> None:
    library = library_for(library_factory)
    api = library.api
    key = create_session(library.session_service(), data_source).session_key
    packets = [new_session_packet(data_source, key, packet_id=i) for i in range(200)]

    async def main() -> list[Any]:
        await api.initialise_async()
        writer = api.get_writing_packet_api().create_service().data
        async with aio.AsyncPacketWriter(writer, max_pending=8) as out:
            results = await asyncio.gather(*(out.write(data_source, "", key, p) for p in packets))
            assert (await out.flush()).success
        assert not writer.is_started
        return list(results)

    results = asyncio.run(main())

    assert all(result.success for result in results)
    reader = library.reader(live_configuration(data_source))
    with reader.packets(timeout=20) as iterator:
        received = []
        for dto in iterator:
            received.append(dto.packet_bytes.data)
            if len(received) == len(packets):
                break
    assert received == [p.data for p in packets]


# plain iterators --------------------------------------------------------------------------------
def test_plain_iteration_of_a_historic_session_ends_and_stops_the_reader(
    library_factory: LibraryFactory, data_source: str, broker_list: str
) -> None:
    written = asyncio.run(write_in_another_process(broker_list, data_source))
    library = library_for(library_factory)
    reader = (
        library.api.get_reading_packet_api()
        .create_service(data_source, written["session_key"])
        .data
    )

    received = list(reader.packets(max_queued=3))

    assert by_stream(received, written["session_key"]) == written["packets"]
    assert not reader.is_started and not reader_threads()


def test_plain_iteration_break_closes_and_leaves_a_started_reader_running(
    library_factory: LibraryFactory, data_source: str, broker_list: str
) -> None:
    written = asyncio.run(write_in_another_process(broker_list, data_source))
    library = library_for(library_factory)
    reader = library.reader(historic_configuration(data_source, session_key=written["session_key"]))
    reader.start()  # the user's reader: iteration must not stop it

    iterator = reader.packets(max_queued=2)
    for count, _ in enumerate(iterator, 1):
        if count == 5:
            break
    wait_for(lambda: reader.finished.is_set(), message="the reader, released, reads to the end")

    assert reader.is_started
    assert iterator.high_water <= 2
    reader.stop()


def test_plain_windows_of_a_historic_session_as_sample_data(
    library_factory: LibraryFactory, data_source: str, broker_list: str
) -> None:
    written = asyncio.run(write_in_another_process(broker_list, data_source))
    library = library_for(library_factory)
    reader = library.reader(historic_configuration(data_source, session_key=written["session_key"]))
    sample_reader = (
        library.api.get_sample_reader_api().create_service(BufferingConfiguration(["Sin:E2E"])).data
    )
    sample_reader.set_reader_service(reader)

    with iterate_windows(sample_reader, reader, data_type=SampleData, max_queued=2) as windows:
        items = list(windows)

    assert isinstance(items[0], StartSampleData) and isinstance(items[-1], EndSampleData)
    values = [value.cast(float) for window in items[1:-1] for value in window.values]
    assert sorted(values) == sorted(float(i) for i in range(30) for _ in range(2))
    assert {window.identifier for window in items[1:-1]} == {"Sin:E2E"}
    assert windows.high_water <= 2
