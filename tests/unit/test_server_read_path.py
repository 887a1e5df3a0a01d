"""The Stream API server's read path: responses encoded from stored records are what protobuf
encodes, batches keep to their limits, and the producer thread stays a bounded way ahead."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import pytest
from google.protobuf import timestamp_pb2

from ma_dataplatforms_streaming_support_library.core.base.ahead import made_ahead
from ma_dataplatforms_streaming_support_library.protos import api_pb2, open_data_pb2
from ma_dataplatforms_streaming_support_library.server import encoding
from ma_dataplatforms_streaming_support_library.server.encoding import ResponseEncoder, responses
from ma_dataplatforms_streaming_support_library.transport.base import Record


def _packet(index: int, size: int = 10) -> open_data_pb2.Packet:
    return open_data_pb2.Packet(type="Marker", session_key="k", id=index, content=b"c" * size)


def _record(index: int, timestamp_ms: int, value: bytes | None = None) -> Record:
    data = _packet(index, 10 + index % 7).SerializeToString() if value is None else value
    return Record("t", 0, index, b"k", data, timestamp_ms)


def _expected(batch: list[tuple[Record, str]]) -> list[api_pb2.PacketResponse]:
    return [
        api_pb2.PacketResponse(
            packet=open_data_pb2.Packet.FromString(record.value),
            stream=stream,
            submit_time=timestamp_pb2.Timestamp(
                seconds=record.timestamp_ms // 1000, nanos=record.timestamp_ms % 1000 * 1_000_000
            ),
        )
        for record, stream in batch
    ]


def _encode(
    batch: list[tuple[Record, str]],
    *,
    batching: bool,
    keep: Callable[[open_data_pb2.Packet], bool] | None = None,
) -> list[bytes]:
    encoder = ResponseEncoder()
    parts = encoder.parts(batch, keep)
    return list(responses(parts, encoder.size_of_last_items, batching=batching))


# encoding -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("batching", [False, True])
def test_responses_are_byte_for_byte_what_protobuf_encodes(batching: bool) -> None:
    # Several streams and submit times, including 0 ms and whole seconds (fields left out).
    batch = [
        (_record(index, (0, 1000, 1_700_000_000_123)[index % 3]), ("", "S1", "Stream2")[index % 3])
        for index in range(30)
    ]
    encoded = _encode(batch, batching=batching)
    items = _expected(batch)
    if batching:
        assert encoded == [api_pb2.ReadPacketsResponse(response=items).SerializeToString()]
    else:
        assert encoded == [
            api_pb2.ReadPacketsResponse(response=[item]).SerializeToString() for item in items
        ]


def test_the_three_read_responses_decode_the_same_bytes() -> None:
    batch = [(_record(index, 5), "") for index in range(3)]
    (data,) = _encode(batch, batching=True)
    for response in (
        api_pb2.ReadPacketsResponse,
        api_pb2.ReadEssentialsResponse,
        api_pb2.ReadDataPacketsResponse,
    ):
        assert list(response.FromString(data).response) == _expected(batch)


def test_records_that_are_not_packets_or_not_kept_are_left_out() -> None:
    batch = [
        (_record(0, 5), ""),
        (_record(1, 5, value=b"\xff\xff\xff"), ""),
        (_record(2, 5), "S"),
        (_record(3, 5), ""),
    ]
    encoder = ResponseEncoder()
    parts = encoder.parts(batch, lambda packet: packet.id != 3)
    assert encoder.streams_of_last_items == ["", "S"]
    assert encoder.size_of_last_items == sum(len(part) for part in parts)
    (data,) = responses(parts, encoder.size_of_last_items, batching=True)
    assert list(api_pb2.ReadPacketsResponse.FromString(data).response) == _expected(
        [batch[0], batch[2]]
    )


def test_batches_are_cut_at_the_byte_limit_and_keep_every_packet_in_order() -> None:
    size = encoding.MAX_BATCH_BYTES // 3
    batch = [
        (_record(index, 5, _packet(index, size).SerializeToString()), "") for index in range(7)
    ]
    # one packet past the limit goes alone
    batch.append((_record(7, 5, _packet(7, 2 * encoding.MAX_BATCH_BYTES).SerializeToString()), ""))
    encoded = _encode(batch, batching=True)
    decoded = [api_pb2.ReadPacketsResponse.FromString(data).response for data in encoded]
    assert [item.packet.id for items in decoded for item in items] == list(range(8))
    assert [len(items) for items in decoded] == [2, 2, 2, 1, 1]
    assert all(len(data) <= encoding.MAX_BATCH_BYTES for data in encoded[:-1])


def test_batches_hold_at_most_the_csharp_batch_size() -> None:
    count = encoding.MAX_BATCH_PACKETS + 3
    record = _record(1, 5, open_data_pb2.Packet(type="T").SerializeToString())
    encoded = _encode([(record, "")] * count, batching=True)
    sizes = [len(api_pb2.ReadPacketsResponse.FromString(data).response) for data in encoded]
    assert sizes == [encoding.MAX_BATCH_PACKETS, 3]


# made ahead -----------------------------------------------------------------------------------------
def test_made_ahead_yields_every_item_in_order_from_another_thread() -> None:
    threads: set[str] = set()

    def produce(stop: Callable[[], bool]) -> Iterator[int]:
        for index in range(100):
            threads.add(threading.current_thread().name)
            yield index

    assert list(made_ahead(produce, lambda: False, name="producer")) == list(range(100))
    assert threads == {"producer"}


def test_the_producer_stays_a_bounded_number_of_items_ahead() -> None:
    made: list[int] = []

    def produce(stop: Callable[[], bool]) -> Iterator[int]:
        index = 0
        while not stop():
            made.append(index)
            yield index
            index += 1

    items = made_ahead(produce, lambda: False, depth=2)
    assert next(items) == 0
    time.sleep(0.3)
    # the one taken, two queued, one made and waiting for room
    assert len(made) <= 4
    items.close()


def test_closing_the_consumer_ends_the_producer_before_close_returns() -> None:
    ended = threading.Event()

    def produce(stop: Callable[[], bool]) -> Iterator[int]:
        try:
            while not stop():
                yield 1
        finally:
            ended.set()

    items = made_ahead(produce, lambda: False)
    next(items)
    items.close()
    assert ended.is_set()


def test_the_stop_condition_ends_producer_and_consumer() -> None:
    stopping = threading.Event()

    def produce(stop: Callable[[], bool]) -> Iterator[int]:
        while not stop():
            time.sleep(0.01)
        yield from ()

    thread = threading.Timer(0.2, stopping.set)
    thread.start()
    assert list(made_ahead(produce, stopping.is_set)) == []
    thread.join()


def test_a_producer_failure_is_raised_to_the_consumer_after_its_items() -> None:
    def produce(stop: Callable[[], bool]) -> Iterator[int]:
        yield 1
        raise OSError("store gone")

    items = made_ahead(produce, lambda: False)
    assert next(items) == 1
    with pytest.raises(OSError, match="store gone"):
        next(items)
