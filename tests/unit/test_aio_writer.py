"""AsyncPacketWriter: calls off the event loop, in call order, bounded, and closed cleanly.

A recording writer service stands in for the real one here; tests/contract/test_aio.py writes
through the real service on both transports and reads the packets back.
"""

from __future__ import annotations

import asyncio
import threading

import pytest

from ma_dataplatforms_streaming_support_library import aio
from ma_dataplatforms_streaming_support_library.contracts.packet_writing.i_packet_writer_service import (
    IPacketWriterService,
)
from ma_dataplatforms_streaming_support_library.contracts.packet_writing.info_type import InfoType
from ma_dataplatforms_streaming_support_library.contracts.packet_writing.packet_bytes import (
    PacketBytes,
)
from ma_dataplatforms_streaming_support_library.contracts.shared.api_result import ApiResult
from ma_dataplatforms_streaming_support_library.core.base.service import ServiceBase
from ma_dataplatforms_streaming_support_library.errors import ConfigurationError, StreamingError


class RecordingWriter(ServiceBase, IPacketWriterService):
    """Records each call and the thread it ran on; ``gate`` holds calls back until set."""

    def __init__(self, flush_ok: bool = True) -> None:
        super().__init__()
        self.calls: list[tuple[str, bytes, str]] = []
        self.gate = threading.Event()
        self.gate.set()
        self.flush_ok = flush_ok

    def write_data(
        self, data_source: str, stream: str, session_key: str, packet_bytes: PacketBytes
    ) -> ApiResult[bool]:
        self.gate.wait(5)
        self.calls.append(("data", packet_bytes.data, threading.current_thread().name))
        return ApiResult.ok(True)

    def write_info(
        self, packet_bytes: PacketBytes, info_type: InfoType = InfoType.SESSION_INFO
    ) -> ApiResult[bool]:
        self.calls.append(("info", packet_bytes.data, threading.current_thread().name))
        return ApiResult.ok(True)

    def flush(self) -> ApiResult[bool]:
        self.calls.append(("flush", b"", threading.current_thread().name))
        return ApiResult.ok(True) if self.flush_ok else ApiResult.fail("flush: broker gone")


def test_calls_run_on_the_worker_thread_in_call_order_and_close_stops_what_it_started() -> None:
    service = RecordingWriter()

    async def main() -> None:
        async with aio.AsyncPacketWriter(service, max_pending=3) as out:
            assert service.is_started
            writes = [out.write("ds", "", "key", PacketBytes(bytes([i]))) for i in range(50)]
            results = await asyncio.gather(*writes, out.write_info(PacketBytes(b"i")))
            assert all(result.success for result in results)
            assert (await out.flush()).success
        with pytest.raises(StreamingError, match="closed"):
            await out.write("ds", "", "key", PacketBytes(b"late"))

    asyncio.run(main())

    assert [data for kind, data, _ in service.calls if kind == "data"] == [
        bytes([i]) for i in range(50)
    ]
    assert {thread for _, _, thread in service.calls} == {"ma-streaming-aio-writer_0"}
    assert not service.is_started
    assert not [t for t in threading.enumerate() if t.name.startswith("ma-streaming-aio-writer")]


def test_a_slow_service_holds_callers_back_instead_of_queueing_without_bound() -> None:
    service = RecordingWriter()
    service.start()
    service.gate.clear()

    async def main() -> tuple[int, int]:
        out = aio.AsyncPacketWriter(service, max_pending=2)
        tasks = [
            asyncio.create_task(out.write("ds", "", "key", PacketBytes(bytes([i]))))
            for i in range(10)
        ]
        await asyncio.sleep(0.2)
        unfinished, pending = sum(1 for task in tasks if not task.done()), out.pending
        service.gate.set()
        await asyncio.gather(*tasks)
        await out.aclose()
        return unfinished, pending

    assert asyncio.run(main()) == (10, 2)  # two handed to the worker, eight waiting for room
    assert service.is_started  # the caller's service: flushed, not stopped
    assert service.calls[-1][0] == "flush"


def test_a_cancelled_write_is_still_written_in_order() -> None:
    service = RecordingWriter()
    service.start()
    service.gate.clear()

    async def main() -> None:
        async with aio.AsyncPacketWriter(service) as out:
            first = asyncio.create_task(out.write("ds", "", "key", PacketBytes(b"1")))
            await asyncio.sleep(0.05)
            first.cancel()
            service.gate.set()
            assert (await out.write("ds", "", "key", PacketBytes(b"2"))).success

    asyncio.run(main())
    assert [data for kind, data, _ in service.calls if kind == "data"] == [b"1", b"2"]


def test_a_failed_flush_at_close_raises_and_bad_bounds_are_refused() -> None:
    service = RecordingWriter(flush_ok=False)
    service.start()

    async def main() -> None:
        with pytest.raises(StreamingError, match="broker gone"):
            async with aio.AsyncPacketWriter(service):
                pass

    asyncio.run(main())
    with pytest.raises(ConfigurationError, match="max_pending"):
        aio.AsyncPacketWriter(service, max_pending=0)
