"""The compiled delivery loop of packet readers (``_codec.PacketDelivery``).

It builds the ``ReceivedPacketDto`` objects without running their constructors, so every test
compares what it delivers with what the constructors build, and checks where a run ends: the
reader's Python loop handles everything the compiled one hands back.
"""

from __future__ import annotations

import datetime
import gc
import sys
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ma_dataplatforms_streaming_support_library.columnar import available_implementations
from ma_dataplatforms_streaming_support_library.columnar.parsers import (
    IMPL_ENVIRONMENT_VARIABLE,
    native_packet_delivery,
)
from ma_dataplatforms_streaming_support_library.contracts.packet_reading.received_packet_dto import (
    ReceivedPacketDto,
)
from ma_dataplatforms_streaming_support_library.contracts.packet_writing.packet_bytes import (
    PacketBytes,
)
from ma_dataplatforms_streaming_support_library.core.packet_reading import packet_reader_service
from ma_dataplatforms_streaming_support_library.transport.base import Record

pytestmark = pytest.mark.skipif(
    "native" not in available_implementations(), reason="the native columnar codec is not built"
)

FIELDS = ("data_source", "session_key", "stream", "packet_bytes", "submit_time")
KEY = b"0f8fad5b-d9cb-469f-a165-70867728950e"


def delivery() -> Any:
    from ma_dataplatforms_streaming_support_library.columnar._native._codec import (
        PacketDelivery,
    )

    return PacketDelivery(ReceivedPacketDto, FIELDS, PacketBytes, "_data").deliver


utc = packet_reader_service._utc


class Collect:
    def __init__(self) -> None:
        self.seen: list[ReceivedPacketDto] = []

    def handle(self, obj: ReceivedPacketDto) -> None:
        self.seen.append(obj)


def run(records: list[Record], *, start: int = 0, marks: bytes | None = None) -> tuple[Any, ...]:
    """Deliver ``records`` to one collecting handler; (index, last_ms, submit_time, seen)."""
    handler = Collect()
    index, last_ms, submit_time = delivery()(
        records,
        bytes(len(records)) if marks is None else marks,
        start,
        "Source",
        KEY.decode(),
        "Car",
        (handler,),
        lambda: False,
        -1,
        utc(0),
        utc,
        pytest.fail,
    )
    return index, last_ms, submit_time, handler.seen


def records_of(values: list[bytes], timestamps: list[int] | None = None) -> list[Record]:
    times = timestamps or [1_700_000_000_000] * len(values)
    return [
        Record("Source.Car", 0, 10 + i, KEY, v, t)
        for i, (v, t) in enumerate(zip(values, times, strict=True))
    ]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.binary(max_size=64), st.integers(-(2**63), 2**63 - 1)), min_size=1, max_size=40
    )
)
def test_it_delivers_what_the_constructors_build(items: list[tuple[bytes, int]]) -> None:
    values = [value for value, _ in items]
    stamps = sorted(stamp for _, stamp in items)
    index, last_ms, submit_time, seen = run(records_of(values, stamps))
    assert index == len(values)
    assert seen == [
        ReceivedPacketDto("Source", KEY.decode(), "Car", PacketBytes(v), utc(t))
        for v, t in zip(values, stamps, strict=True)
    ]
    assert all(type(dto) is ReceivedPacketDto for dto in seen)
    assert all(type(dto.packet_bytes) is PacketBytes for dto in seen)
    assert all(dto.packet_bytes.data is value for dto, value in zip(seen, values, strict=True))
    assert (last_ms, submit_time) == (stamps[-1], utc(stamps[-1]))


def test_it_asks_for_a_submit_time_only_when_the_timestamp_changes() -> None:
    asked: list[int] = []

    def submit_time_of(timestamp_ms: int) -> datetime.datetime:
        asked.append(timestamp_ms)
        return utc(timestamp_ms)

    records = records_of([b"a", b"b", b"c", b"d"], [5, 5, 7, 7])
    handler = Collect()
    carried = utc(5)
    index, last_ms, submit_time = delivery()(
        records, bytes(4), 0, "S", "k", "", (handler,), lambda: False, 5, carried,
        submit_time_of, pytest.fail,
    )  # fmt: skip
    assert (index, last_ms, submit_time, asked) == (4, 7, utc(7), [7])
    assert handler.seen[0].submit_time is carried


@pytest.mark.parametrize(
    ("changed", "why"),
    [
        (lambda r: r._replace(partition=1), "another partition"),
        (lambda r: r._replace(key=b"other"), "another session key"),
        (lambda r: r._replace(topic="Source.Pit"), "another topic"),
        (lambda r: r._replace(value=bytearray(r.value)), "a value that is not exact bytes"),
        (lambda r: r._replace(offset=5), "a falling offset"),
        (lambda r: tuple(r)[:5], "a record of 5 fields"),
        (lambda r: list(r), "a record that is no tuple"),
    ],
)
def test_a_run_ends_where_the_python_loop_must_take_over(changed: Any, why: str) -> None:
    records: list[Any] = records_of([b"a", b"b", b"c", b"d"])
    records[2] = changed(records[2])
    index, _, _, seen = run(records)
    assert index == 2, why
    assert [dto.packet_bytes.data for dto in seen] == [b"a", b"b"]


def test_a_run_ends_at_a_record_the_reader_acts_on() -> None:
    index, _, _, seen = run(records_of([b"a", b"b", b"c"]), marks=bytes([0, 2, 0]))
    assert (index, len(seen)) == (1, 1)
    index, _, _, seen = run(records_of([b"a", b"b", b"c"]), start=2, marks=bytes([0, 2, 0]))
    assert (index, [dto.packet_bytes.data for dto in seen]) == (3, [b"c"])
    assert run(records_of([b"a"]), marks=b"")[0] == 0, "marks shorter than the records"


def test_it_stops_before_the_next_record_once_stopping() -> None:
    calls = 0

    def is_stopping() -> bool:
        return calls >= 2

    class Counting:
        def handle(self, obj: ReceivedPacketDto) -> None:
            nonlocal calls
            calls += 1

    index, _, _ = delivery()(
        records_of([b"a", b"b", b"c", b"d"]), bytes(4), 0, "S", "k", "", (Counting(),),
        is_stopping, -1, utc(0), utc, pytest.fail,
    )  # fmt: skip
    assert (index, calls) == (2, 2)


def test_a_raising_handler_is_reported_and_the_others_go_on() -> None:
    reported: list[tuple[Any, Record, BaseException | None]] = []

    class Raising:
        def handle(self, obj: ReceivedPacketDto) -> None:
            raise RuntimeError(obj.packet_bytes.data.decode())

    raising, collecting = Raising(), Collect()
    records = records_of([b"a", b"b"])
    index, _, _ = delivery()(
        records, bytes(2), 0, "S", "k", "", (raising, collecting), lambda: False, -1, utc(0),
        utc, lambda handler, record: reported.append((handler, record, sys.exc_info()[1])),
    )  # fmt: skip
    assert index == 2
    assert [dto.packet_bytes.data for dto in collecting.seen] == [b"a", b"b"]
    assert [(h, r) for h, r, _ in reported] == [(raising, records[0]), (raising, records[1])]
    assert [str(error) for _, _, error in reported] == ["a", "b"]


def test_a_base_exception_of_a_handler_propagates() -> None:
    class Interrupting:
        def handle(self, obj: ReceivedPacketDto) -> None:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        delivery()(
            records_of([b"a"]), bytes(1), 0, "S", "k", "", (Interrupting(),), lambda: False,
            -1, utc(0), utc, pytest.fail,
        )  # fmt: skip


def test_delivered_objects_hold_their_references_and_are_freed() -> None:
    values = [bytes([i]) * 100 for i in range(50)]
    before = [sys.getrefcount(v) for v in values]
    source = "Source-" + "x" * 20
    source_refs = sys.getrefcount(source)
    kept = Collect()
    delivery()(
        records_of(values), bytes(50), 0, source, "k", "", (kept,), lambda: False, -1, utc(0),
        utc, pytest.fail,
    )  # fmt: skip
    gc.collect()
    assert all(dto.packet_bytes.data == v for dto, v in zip(kept.seen, values, strict=True))
    assert all(dto.data_source is source for dto in kept.seen)
    kept.seen.clear()
    gc.collect()
    assert [sys.getrefcount(v) for v in values] == before
    assert sys.getrefcount(source) == source_refs


@pytest.mark.parametrize(
    ("dto_type", "fields", "bytes_field", "message"),
    [
        (ReceivedPacketDto, FIELDS[:4], "_data", "must name 5 slots"),
        (ReceivedPacketDto, (*FIELDS[:4], "missing"), "_data", "is not a slot"),
        (ReceivedPacketDto, FIELDS, "data", "is not a slot"),
        (type("Plain", (), {}), FIELDS, "_data", "is not a slot"),
    ],
)
def test_types_it_cannot_fill_are_refused(
    dto_type: type, fields: tuple[str, ...], bytes_field: str, message: str
) -> None:
    from ma_dataplatforms_streaming_support_library.columnar._native._codec import (
        PacketDelivery,
    )

    with pytest.raises(ValueError, match=message):
        PacketDelivery(dto_type, fields, PacketBytes, bytes_field)
    assert native_packet_delivery(dto_type, fields, PacketBytes, bytes_field) is None


def test_a_read_only_slot_is_refused() -> None:
    from ma_dataplatforms_streaming_support_library.columnar._native._codec import (
        PacketDelivery,
    )

    with pytest.raises(ValueError, match="writable object slot"):
        PacketDelivery(datetime.timedelta, ("days",) * 5, PacketBytes, "_data")


@pytest.mark.parametrize(("implementation", "compiled"), [("native", True), ("numpy", False)])
def test_readers_take_the_compiled_loop_only_with_the_native_implementation(
    monkeypatch: pytest.MonkeyPatch, implementation: str, compiled: bool
) -> None:
    monkeypatch.setenv(IMPL_ENVIRONMENT_VARIABLE, implementation)
    found = native_packet_delivery(
        ReceivedPacketDto, packet_reader_service._DTO_FIELDS, PacketBytes, "_data"
    )
    assert (found is not None) is compiled


def test_a_submit_time_past_what_datetime_holds_is_its_nearest_instant() -> None:
    assert utc(2**63 - 1) == datetime.datetime.max.replace(tzinfo=datetime.timezone.utc)
    assert utc(-(2**63)) == datetime.datetime.min.replace(tzinfo=datetime.timezone.utc)
    assert utc(-1) == datetime.datetime(1969, 12, 31, 23, 59, 59, 999000, datetime.timezone.utc)
