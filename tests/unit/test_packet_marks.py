"""Packet readers' record marks: the compiled walk never vouches for what protobuf rejects.

``mark_of`` (protobuf) is the truth; the native ``packet_marks`` may leave a value
``UNDECIDED`` but must otherwise give ``mark_of``'s answer, on real envelopes, on non-ASCII
text, on unknown fields, and on the same bytes truncated or with bytes changed.
"""

from __future__ import annotations

import gc
import itertools
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ma_dataplatforms_streaming_support_library.columnar import available_implementations
from ma_dataplatforms_streaming_support_library.columnar.parsers import IMPL_ENVIRONMENT_VARIABLE
from ma_dataplatforms_streaming_support_library.core.packet_reading import marks
from ma_dataplatforms_streaming_support_library.core.packet_reading.packet_reader_service import (
    _poll_records,
)
from ma_dataplatforms_streaming_support_library.protos import open_data_pb2 as pb
from ma_dataplatforms_streaming_support_library.transport.base import Record

NATIVE = "native" in available_implementations()
needs_native = pytest.mark.skipif(not NATIVE, reason="the native columnar codec is not built")
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TYPES = ["PeriodicData", "EndOfSession", "CoverageCursorInfo", "Marker", "Ünïcode", ""]


def envelope(
    type_name: str = "PeriodicData",
    session_key: str = "0f8fad5b-d9cb-469f-a165-70867728950e",
    content: bytes = b"\x08\x01",
    essential: bool = False,
    packet_id: int = 0,
) -> bytes:
    return pb.Packet(
        type=type_name,
        session_key=session_key,
        content=content,
        is_essential=essential,
        id=packet_id,
    ).SerializeToString()


def record(value: bytes) -> Record:
    return Record("t", 0, 0, b"k", value, 0)


def native_marks(values: list[bytes]) -> list[int]:
    from ma_dataplatforms_streaming_support_library.columnar._native._codec import packet_marks

    return list(packet_marks(values))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (envelope(), marks.PACKET),
        (envelope("EndOfSession"), marks.END_OF_SESSION),
        (envelope("CoverageCursorInfo"), marks.COVERAGE_CURSOR),
        (envelope("Ünïcode"), marks.PACKET),
        (envelope(""), marks.CORRUPT),
        (b"", marks.CORRUPT),
        (b"not a packet at all", marks.CORRUPT),
        (envelope()[:-1], marks.CORRUPT),
        (b"\x0a\x02\xff\xfe", marks.CORRUPT),
    ],
    ids=["data", "end", "coverage", "unicode", "untyped", "empty", "text", "cut", "bad-utf8"],
)
def test_mark_of(value: bytes, expected: int) -> None:
    assert marks.mark_of(value) == expected


def test_mark_of_reads_the_end_of_a_session_by_its_leading_type_field() -> None:
    # As before the marks: a type written after other fields is delivered, not acted on.
    late_type = pb.Packet(session_key="k").SerializeToString() + b"\x0a\x0cEndOfSession"
    assert marks.mark_of(late_type) == marks.PACKET


@needs_native
def test_native_marks_decide_well_formed_envelopes_themselves() -> None:
    values = [
        envelope(),
        envelope("EndOfSession"),
        envelope("CoverageCursorInfo", essential=True, packet_id=7),
        envelope("Marker", session_key="", content=b""),
    ]
    assert native_marks(values) == [
        marks.PACKET,
        marks.END_OF_SESSION,
        marks.COVERAGE_CURSOR,
        marks.PACKET,
    ]


@needs_native
@pytest.mark.parametrize(
    ("value", "facts"),
    [
        (envelope(essential=True), ("0f8fad5b-d9cb-469f-a165-70867728950e", True)),
        (envelope(session_key=""), ("", False)),
        (b"\x0a\x01x\x18\x02", ("", True)),  # a bool written as 2 is true, as protobuf reads it
        (b"\x18\x01\x12\x01k\x0a\x01x", ("k", True)),  # fields in any order
        (envelope("Ünïcode"), None),
        (envelope(""), None),
        (envelope() + b"\x12\x01k", None),  # a second session key
        (b"\x0a\x01x\x1a\x01\x01", None),  # is_essential length-delimited
    ],
    ids=[
        "essential",
        "keyless",
        "bool-2",
        "any-order",
        "unicode",
        "untyped",
        "dup-key",
        "mistyped",
    ],
)
def test_native_envelope_facts(value: bytes, facts: tuple[str, bool] | None) -> None:
    from ma_dataplatforms_streaming_support_library.columnar._native._codec import envelope_facts

    assert envelope_facts(value) == facts
    if facts is not None:
        packet = pb.Packet.FromString(value)
        assert (packet.session_key, packet.is_essential) == facts


@needs_native
def test_native_marks_leave_what_they_cannot_vouch_for_to_protobuf() -> None:
    duplicated = envelope() + b"\x0a\x03abc"
    grouped = envelope() + b"\x33\x34"  # a group (field 6), which this walk does not read
    values = [envelope("Ünïcode"), envelope(""), b"", b"\xff", duplicated, grouped, "text"]
    assert native_marks(values) == [marks.UNDECIDED] * len(values)  # type: ignore[arg-type]


def _agree(value: bytes) -> None:
    from ma_dataplatforms_streaming_support_library.columnar._native._codec import envelope_facts

    (native,) = native_marks([value])
    facts = envelope_facts(value)
    assert (facts is None) == (native == marks.UNDECIDED), value
    if native != marks.UNDECIDED:
        assert native == marks.mark_of(value), value
        packet = pb.Packet.FromString(value)
        assert facts == (packet.session_key, packet.is_essential), value


@needs_native
@SETTINGS
@given(
    type_name=st.one_of(st.sampled_from(TYPES), st.text(max_size=20)),
    session_key=st.text(max_size=40),
    content=st.binary(max_size=64),
    essential=st.booleans(),
    packet_id=st.integers(0, 2**64 - 1),
    unknown=st.binary(max_size=8),
    seed=st.integers(0, 2**32),
)
def test_native_marks_agree_with_protobuf_on_envelopes_and_their_damage(
    type_name: str,
    session_key: str,
    content: bytes,
    essential: bool,
    packet_id: int,
    unknown: bytes,
    seed: int,
) -> None:
    value = envelope(type_name, session_key, content, essential, packet_id)
    ascii_text = type_name.isascii() and session_key.isascii()
    if ascii_text and type_name:
        (native,) = native_marks([value])
        assert native == marks.mark_of(value) != marks.UNDECIDED
    _agree(value)
    # an unknown field (number 9, length-delimited) is skipped by both
    _agree(value + b"\x4a" + bytes([len(unknown)]) + unknown)
    rng = random.Random(seed)
    for cut in {0, 1, len(value) // 2, max(0, len(value) - 1)}:
        _agree(value[:cut])
    for _ in range(4):
        damaged = bytearray(value)
        if damaged:
            damaged[rng.randrange(len(damaged))] = rng.randrange(256)
        _agree(bytes(damaged))


@needs_native
def test_poll_marker_uses_the_native_walk_where_it_is_active(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(IMPL_ENVIRONMENT_VARIABLE, "native")
    marker = marks.poll_marker()
    values = [envelope(), envelope("EndOfSession")]
    assert list(marker([record(v) for v in values])) == [marks.PACKET, marks.END_OF_SESSION]


def test_without_the_native_walk_every_record_is_left_to_protobuf(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(IMPL_ENVIRONMENT_VARIABLE, "numpy")
    marker = marks.poll_marker()
    got = list(itertools.islice(marker([record(envelope())] * 3), 3))
    assert got == [marks.UNDECIDED] * 3


def test_polls_stay_under_a_third_of_the_collectors_first_threshold() -> None:
    before = gc.get_threshold()
    try:
        gc.set_threshold(700, *before[1:])
        assert _poll_records() == 233
        gc.set_threshold(60, *before[1:])
        assert _poll_records() == 50
        gc.set_threshold(0, *before[1:])  # collection off: the largest polls
        assert _poll_records() == 500
    finally:
        gc.set_threshold(*before)
