"""Byte-level behaviour of the generated protobuf classes.

* Every test vector of the protocol reference (section 4.8, produced there with the
  official Python runtime, upb backend) is rebuilt with our generated classes,
  serialised and compared byte for byte, then parsed back.
* A few decoder rules of section 4.8 (unpacked input for packed fields, open enums,
  unknown fields).
* Property tests: Packet / PeriodicDataPacket / RowDataPacket / SynchroDataPacket
  round-trip exactly with random contents, including 0.0, -0.0, NaN, +/-inf and every
  DataStatus.
"""

from __future__ import annotations

import math
import pickle
import struct
import subprocess
import sys
from collections.abc import Callable
from typing import Any, cast

import pytest
from google.protobuf import any_pb2
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.internal import api_implementation
from google.protobuf.message import Message
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ma_dataplatforms_streaming_support_library.protos import (
    api_pb2,
    key_generator_pb2,
    open_data_pb2,
)

od = open_data_pb2

# ---- reference test vectors of the Open Data wire format ----


def _periodic_vector() -> od.PeriodicDataPacket:
    return od.PeriodicDataPacket(
        data_format=od.SampleDataFormat(data_format_identifier=5),
        start_time=1700000000000000000,
        interval=10000000,
        columns=[
            od.SampleColumn(
                double_samples=od.DoubleSampleList(
                    samples=[
                        od.DoubleSample(value=1.5, status=od.DATA_STATUS_VALID),
                        od.DoubleSample(value=0.0, status=od.DATA_STATUS_MISSING),
                    ]
                )
            )
        ],
    )


PERIODIC_HEX = (
    "0A 02 08 05 11 00 00 2A 36 FE 9C 97 17 18 80 AD E2 04 22 13 0A 11 0A 0B 09 00 00 00 00 00 00"
    " F8 3F 10 01 0A 02 10 02"
)


def _metadata_vector() -> od.MetadataPacket:
    packed = any_pb2.Any()
    packed.Pack(od.MarkerPacket(label="x"))
    msg = od.MetadataPacket()
    msg.metadata["k"].CopyFrom(packed)
    return msg


VECTORS: list[tuple[str, Callable[[], Message], str]] = [
    ("PeriodicDataPacket", _periodic_vector, PERIODIC_HEX),
    (
        "Packet",
        lambda: od.Packet(
            type="PeriodicData",
            session_key="k",
            is_essential=False,
            content=_periodic_vector().SerializeToString(),
            id=1,
        ),
        "0A 0C 50 65 72 69 6F 64 69 63 44 61 74 61 12 01 6B 22 27 " + PERIODIC_HEX + " 28 01",
    ),
    (
        "SampleDataFormat-id0",
        lambda: od.SampleDataFormat(data_format_identifier=0),
        "08 00",
    ),
    (
        "RowDataPacket",
        lambda: od.RowDataPacket(
            data_format=od.SampleDataFormat(
                parameter_identifiers=od.ParameterList(parameter_identifiers=["a:b"])
            ),
            timestamps=[1, 2],
            rows=[
                od.SampleRow(
                    int32_samples=od.Int32SampleList(
                        samples=[od.Int32Sample(value=-1, status=od.DATA_STATUS_VALID)]
                    )
                )
            ],
        ),
        "0A 07 12 05 0A 03 61 3A 62 12 10 01 00 00 00 00 00 00 00 02 00 00 00 00 00 00 00 1A 11 12"
        " 0F 0A 0D 08 FF FF FF FF FF FF FF FF FF 01 10 01",
    ),
    (
        "SynchroDataPacket-intervals",
        lambda: od.SynchroDataPacket(intervals=[1, 300]),
        "1A 03 01 AC 02",
    ),
    (
        "BoolSampleList-default-element",
        lambda: od.BoolSampleList(samples=[od.BoolSample()]),
        "0A 00",
    ),
    (
        "NewSessionPacket",
        lambda: od.NewSessionPacket(
            data_source="ds",
            topic_partition_offsets={"ds:0": 5},
            utc_offset={"seconds": 3600},
            session_info=od.SessionInfoPacket(),
        ),
        "0A 02 64 73 12 08 0A 04 64 73 3A 30 10 05 1A 03 08 90 1C 22 00",
    ),
    (
        "NewSessionPacket-default-map-entry",
        lambda: od.NewSessionPacket(topic_partition_offsets={"": 0}),
        "12 04 0A 00 10 00",
    ),
    (
        "EventPacket",
        lambda: od.EventPacket(
            data_format=od.EventDataFormat(event_identifier="E"),
            timestamp=2,
            raw_values=[1.0],
        ),
        "0A 03 12 01 45 11 02 00 00 00 00 00 00 00 1A 08 00 00 00 00 00 00 F0 3F",
    ),
    (
        "DataFormatDefinitionPacket",
        lambda: od.DataFormatDefinitionPacket(
            identifier=7,
            type=od.DATA_FORMAT_TYPE_PARAMETER,
            parameter_identifiers=od.ParameterList(parameter_identifiers=["x"]),
        ),
        "08 07 10 01 1A 03 0A 01 78",
    ),
    (
        "MarkerPacket",
        lambda: od.MarkerPacket(timestamp=1, label="Out Lap", type="Lap Trigger", value=1),
        "09 01 00 00 00 00 00 00 00 1A 07 4F 75 74 20 4C 61 70 22 0B 4C 61 70 20 54 72 69 67 67 65"
        " 72 38 01",
    ),
    (
        "ParameterDefinition-two-byte-tags",
        lambda: od.ParameterDefinition(
            conversion=od.TextConversionDefinition(), formula=od.FormulaDefinition()
        ),
        "82 01 00 8A 01 00",
    ),
    (
        "MetadataPacket-any",
        _metadata_vector,
        "0A 46 0A 01 6B 12 41 0A 3A 74 79 70 65 2E 67 6F 6F 67 6C 65 61 70 69 73 2E 63 6F 6D 2F 6D"
        " 61 2E 73 74 72 65 61 6D 69 6E 67 2E 6F 70 65 6E 5F 64 61 74 61 2E 76 31 2E 4D 61 72 6B 65"
        " 72 50 61 63 6B 65 74 12 03 1A 01 78",
    ),
    (
        "ConnectionDetails",
        lambda: api_pb2.ConnectionDetails(streams=["s1", "s2"], stream_offsets=[-1, 0]),
        "1A 02 73 31 1A 02 73 32 22 0B FF FF FF FF FF FF FF FF FF 01 00",
    ),
    (
        "GenerateUniqueKeyResponse-ulong0",
        lambda: key_generator_pb2.GenerateUniqueKeyResponse(ulong_key=0),
        "10 00",
    ),
    ("WriteDataPacketResponse-empty", lambda: api_pb2.WriteDataPacketResponse(), ""),
]


def test_upb_backend_in_use() -> None:
    """The reference vectors were produced with upb; so must ours be."""
    assert api_implementation.Type() == "upb"


def test_generated_modules_import_cleanly() -> None:
    """Gencode/runtime version checks pass without any warning (``-W error``)."""
    code = (
        "from ma_dataplatforms_streaming_support_library.protos import"
        " api_pb2, key_generator_pb2, open_data_pb2"
    )
    result = subprocess.run(
        [sys.executable, "-W", "error", "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_messages_pickle() -> None:
    """Classes are registered under the package module path, so pickling works."""
    packet = od.Packet(type="Marker", content=od.MarkerPacket(label="L").SerializeToString())
    assert pickle.loads(pickle.dumps(packet)) == packet
    response = api_pb2.GetSessionInfoResponse(details={"a": "b"})
    assert pickle.loads(pickle.dumps(response)) == response


@pytest.mark.parametrize(
    ("build", "expected_hex"),
    [pytest.param(build, hex_, id=name) for name, build, hex_ in VECTORS],
)
def test_reference_vector(build: Callable[[], Message], expected_hex: str) -> None:
    msg = build()
    expected = bytes.fromhex(expected_hex)
    assert msg.SerializeToString().hex(" ").upper() == expected.hex(" ").upper()
    assert msg.SerializeToString(deterministic=True) == expected
    parsed = type(msg).FromString(expected)
    assert parsed == msg
    assert parsed.SerializeToString() == expected


def test_vector_details_after_parsing() -> None:
    """Presence and oneof state survive decoding as the reference describes."""
    packet = od.Packet.FromString(
        bytes.fromhex(next(h for n, _, h in VECTORS if n == "Packet").replace(" ", ""))
    )
    inner = od.PeriodicDataPacket.FromString(packet.content)
    assert inner == _periodic_vector()
    assert inner.columns[0].WhichOneof("list") == "double_samples"
    fmt = od.SampleDataFormat.FromString(b"\x08\x00")
    assert fmt.WhichOneof("format") == "data_format_identifier"
    assert fmt.data_format_identifier == 0
    session = od.NewSessionPacket.FromString(bytes.fromhex("22 00"))
    assert session.HasField("session_info")
    assert not od.NewSessionPacket().HasField("session_info")
    key = key_generator_pb2.GenerateUniqueKeyResponse.FromString(b"\x10\x00")
    assert key.WhichOneof("key") == "ulong_key"
    metadata = od.MetadataPacket.FromString(_metadata_vector().SerializeToString())
    marker = od.MarkerPacket()
    assert metadata.metadata["k"].Unpack(marker)
    assert marker.label == "x"
    assert metadata.metadata["k"].type_url == (
        "type.googleapis.com/ma.streaming.open_data.v1.MarkerPacket"
    )


# ---- decoder rules ----


def test_packed_fields_accept_unpacked_input() -> None:
    # intervals (field 3, uint32) as two separate VARINT records instead of one LEN record
    msg = od.SynchroDataPacket.FromString(bytes.fromhex("18 01 18 AC 02"))
    assert list(msg.intervals) == [1, 300]
    assert msg.SerializeToString() == bytes.fromhex("1A 03 01 AC 02")


def test_open_enums_keep_unknown_numbers() -> None:
    sample = od.DoubleSample.FromString(bytes.fromhex("10 07"))
    assert sample.status == 7
    assert sample.SerializeToString() == bytes.fromhex("10 07")


def test_unknown_fields_are_skipped_and_kept() -> None:
    # Packet with an unknown field 99 (VARINT 1) before the known field 1.
    data = bytes.fromhex("98 06 01 0A 01 61")
    packet = od.Packet.FromString(data)
    assert packet.type == "a"
    assert od.Packet.FromString(packet.SerializeToString()).type == "a"


def test_negative_zero_double_is_written() -> None:
    assert od.DoubleSample(value=-0.0).SerializeToString() == bytes.fromhex(
        "09 00 00 00 00 00 00 00 80"
    )
    assert od.DoubleSample(value=0.0).SerializeToString() == b""


def test_synchro_columns_field_name() -> None:
    """Field 4 of SynchroDataPacket is ``columns`` (renamed from ``column`` in Jan 2026)."""
    msg = od.SynchroDataPacket()
    msg.columns.add().string_samples.samples.add(value="v")
    assert msg.SerializeToString().startswith(b"\x22")


# ---- property tests ----

STATUSES = [value.number for value in od.DataStatus.DESCRIPTOR.values]
SPECIAL_DOUBLES = [0.0, -0.0, math.nan, math.inf, -math.inf, 5e-324, 1.7976931348623157e308]

statuses = st.sampled_from(STATUSES)
doubles = st.one_of(st.sampled_from(SPECIAL_DOUBLES), st.floats(allow_nan=True))
int32s = st.integers(min_value=-(2**31), max_value=2**31 - 1)
uint32s = st.integers(min_value=0, max_value=2**32 - 1)
uint64s = st.integers(min_value=0, max_value=2**64 - 1)
texts = st.text(st.characters(codec="utf-8"), max_size=12)
identifiers = st.lists(texts, max_size=4)


def _double_list(n: int) -> st.SearchStrategy[od.DoubleSampleList]:
    sample = st.builds(od.DoubleSample, value=doubles, status=statuses)
    return st.builds(od.DoubleSampleList, samples=st.lists(sample, min_size=n, max_size=n))


def _int32_list(n: int) -> st.SearchStrategy[od.Int32SampleList]:
    sample = st.builds(od.Int32Sample, value=int32s, status=statuses)
    return st.builds(od.Int32SampleList, samples=st.lists(sample, min_size=n, max_size=n))


def _bool_list(n: int) -> st.SearchStrategy[od.BoolSampleList]:
    sample = st.builds(od.BoolSample, value=st.booleans(), status=statuses)
    return st.builds(od.BoolSampleList, samples=st.lists(sample, min_size=n, max_size=n))


def _string_list(n: int) -> st.SearchStrategy[od.StringSampleList]:
    sample = st.builds(od.StringSample, value=texts, status=statuses)
    return st.builds(od.StringSampleList, samples=st.lists(sample, min_size=n, max_size=n))


def _column(n: int) -> st.SearchStrategy[od.SampleColumn]:
    return st.one_of(
        st.builds(od.SampleColumn, double_samples=_double_list(n)),
        st.builds(od.SampleColumn, int32_samples=_int32_list(n)),
        st.builds(od.SampleColumn, bool_samples=_bool_list(n)),
        st.builds(od.SampleColumn, string_samples=_string_list(n)),
    )


def _row(n: int) -> st.SearchStrategy[od.SampleRow]:
    return st.one_of(
        st.builds(od.SampleRow, double_samples=_double_list(n)),
        st.builds(od.SampleRow, int32_samples=_int32_list(n)),
        st.builds(od.SampleRow, bool_samples=_bool_list(n)),
        st.builds(od.SampleRow, string_samples=_string_list(n)),
    )


data_formats = st.one_of(
    st.builds(od.SampleDataFormat, data_format_identifier=uint64s),
    st.builds(
        od.SampleDataFormat,
        parameter_identifiers=st.builds(od.ParameterList, parameter_identifiers=identifiers),
    ),
)


@st.composite
def periodic_packets(draw: st.DrawFn) -> od.PeriodicDataPacket:
    n = draw(st.integers(min_value=0, max_value=6))
    return od.PeriodicDataPacket(
        data_format=draw(data_formats),
        start_time=draw(uint64s),
        interval=draw(uint32s),
        columns=draw(st.lists(_column(n), max_size=4)),
    )


@st.composite
def synchro_packets(draw: st.DrawFn) -> od.SynchroDataPacket:
    intervals = draw(st.lists(uint32s, max_size=6))
    return od.SynchroDataPacket(
        data_format=draw(data_formats),
        start_time=draw(uint64s),
        intervals=intervals,
        columns=draw(st.lists(_column(len(intervals) + 1), max_size=4)),
    )


@st.composite
def row_packets(draw: st.DrawFn) -> od.RowDataPacket:
    timestamps = draw(st.lists(uint64s, max_size=6))
    width = draw(st.integers(min_value=0, max_value=4))
    return od.RowDataPacket(
        data_format=draw(data_formats),
        timestamps=timestamps,
        rows=draw(st.lists(_row(width), min_size=len(timestamps), max_size=len(timestamps))),
    )


def canonical(msg: Message) -> Any:
    """A comparable view of a message; doubles by bit pattern so NaN and -0.0 compare exactly."""

    def value(field: FieldDescriptor, v: Any) -> Any:
        if field.message_type is not None:
            return canonical(v)
        if isinstance(v, float):
            return struct.pack("<d", v)
        return v

    out = []
    for field, v in msg.ListFields():
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            out.append((field.number, sorted((k, value(field, x)) for k, x in v.items())))
        elif field.is_repeated:
            out.append((field.number, [value(field, x) for x in v]))
        else:
            out.append((field.number, value(field, v)))
    return out


def _assert_round_trip(msg: Message) -> bytes:
    data = msg.SerializeToString()
    parsed = type(msg).FromString(data)
    assert canonical(parsed) == canonical(msg)
    assert parsed.SerializeToString() == data
    return data


PROPERTY_SETTINGS = settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@PROPERTY_SETTINGS
@given(periodic_packets())
def test_periodic_round_trip(msg: od.PeriodicDataPacket) -> None:
    _assert_round_trip(msg)


@PROPERTY_SETTINGS
@given(row_packets())
def test_row_round_trip(msg: od.RowDataPacket) -> None:
    _assert_round_trip(msg)


@PROPERTY_SETTINGS
@given(synchro_packets())
def test_synchro_round_trip(msg: od.SynchroDataPacket) -> None:
    _assert_round_trip(msg)


@PROPERTY_SETTINGS
@given(
    inner=st.one_of(
        st.tuples(st.just("PeriodicData"), periodic_packets()),
        st.tuples(st.just("RowData"), row_packets()),
        st.tuples(st.just("SynchroData"), synchro_packets()),
    ),
    session_key=texts,
    is_essential=st.booleans(),
    packet_id=uint64s,
)
def test_packet_envelope_round_trip(
    inner: tuple[str, Message], session_key: str, is_essential: bool, packet_id: int
) -> None:
    type_name, content = inner
    packet = od.Packet(
        type=type_name,
        session_key=session_key,
        is_essential=is_essential,
        content=content.SerializeToString(),
        id=packet_id,
    )
    data = _assert_round_trip(packet)
    parsed = od.Packet.FromString(data)
    decoded = type(content).FromString(parsed.content)
    assert canonical(decoded) == canonical(content)


@settings(max_examples=50, deadline=None)
@given(status=statuses, value=doubles)
def test_sample_status_and_special_values(status: int, value: float) -> None:
    sample = od.DoubleSample(value=value, status=cast("od.DataStatus", status))
    parsed = od.DoubleSample.FromString(sample.SerializeToString())
    assert parsed.status == status
    assert struct.pack("<d", parsed.value) == struct.pack("<d", value)
