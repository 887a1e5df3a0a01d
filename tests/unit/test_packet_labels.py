"""Packet labels read from record heads: the compiled reader and the NumPy one agree on any
bytes, and a label they give is what protobuf reads from the packet."""

from __future__ import annotations

import pytest
from google.protobuf.message import DecodeError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ma_dataplatforms_streaming_support_library.columnar import (
    IMPL_ENVIRONMENT_VARIABLE,
    available_implementations,
    wrap_packets,
)
from ma_dataplatforms_streaming_support_library.columnar.heads import (
    DATA_TYPES,
    HEAD_BYTES,
    packet_labels,
    read_heads,
)
from ma_dataplatforms_streaming_support_library.protos import open_data_pb2 as pb

_CONTENTS = {
    "PeriodicData": pb.PeriodicDataPacket,
    "RowData": pb.RowDataPacket,
    "SynchroData": pb.SynchroDataPacket,
}
_TYPES = [*_CONTENTS, "Marker", "Event", "Periodic"]


@st.composite
def packets(draw: st.DrawFn) -> bytes:
    """A Packet of a random type, session key and flags, whose content opens with a data format
    by id (any uint64) or by names; then, often, cut short or with bytes changed."""
    packet_type = draw(st.sampled_from(_TYPES))
    if draw(st.booleans()):
        data_format = pb.SampleDataFormat(data_format_identifier=draw(st.integers(0, 2**64 - 1)))
    else:
        names = pb.ParameterList(parameter_identifiers=draw(st.lists(st.text(max_size=5))))
        data_format = pb.SampleDataFormat(parameter_identifiers=names)
    content = _CONTENTS.get(packet_type, pb.PeriodicDataPacket)(data_format=data_format)
    (packet,) = wrap_packets(
        [content.SerializeToString()],
        packet_type,
        session_key=draw(st.text(max_size=80)),
        is_essential=draw(st.booleans()),
    )
    mutation = draw(st.sampled_from(["none", "cut", "flip", "junk"]))
    if mutation == "cut":
        packet = packet[: draw(st.integers(0, len(packet)))]
    elif mutation == "flip":
        at = draw(st.integers(0, len(packet) - 1))
        packet = packet[:at] + bytes([draw(st.integers(0, 255))]) + packet[at + 1 :]
    elif mutation == "junk":
        packet = draw(st.binary(max_size=200))
    return packet


def _protobuf_label(packet: bytes) -> tuple[str, int] | None:
    """The type and data format id protobuf reads, or None where it reads no such packet."""
    try:
        envelope = pb.Packet.FromString(packet)
        content = _CONTENTS[envelope.type].FromString(envelope.content)
    except (DecodeError, KeyError):
        return None
    if content.data_format.WhichOneof("format") != "data_format_identifier":
        return None
    return envelope.type, content.data_format.data_format_identifier


def test_a_head_that_ends_with_the_content_tag_is_not_labelled() -> None:
    # the content's length would start at the first byte past the head
    key, other = b"\x12\x7e" + b"k" * 126, b"\x2a\x0f" + b"o" * 15  # fields of 128 and 17 bytes
    head = b"\x0a\x0cPeriodicData" + key + other + b"\x22"
    assert len(head) == HEAD_BYTES
    for packet in (head, head + b"\x05\x0a\x02\x08\x07"):
        heads = read_heads([packet[:HEAD_BYTES]])
        assert (int(heads.kinds[0]), int(heads.format_ids[0])) == (-1, 0)
        labels = packet_labels([packet])
        assert (int(labels.kinds[0]), int(labels.format_ids[0])) == (-1, 0)


@pytest.mark.parametrize("impl", available_implementations())
# the implementation set is the same for every example: the fixture need not be reset
@settings(
    max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(batch=st.lists(packets(), min_size=1, max_size=8))
def test_labels_are_the_same_by_every_reader_and_what_protobuf_reads(
    impl: str, batch: list[bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(IMPL_ENVIRONMENT_VARIABLE, impl)
    labels = packet_labels(batch)
    one_by_one = [read_heads([packet[:HEAD_BYTES]]) for packet in batch]
    for index, packet in enumerate(batch):
        kind, format_id = int(labels.kinds[index]), int(labels.format_ids[index])
        assert (kind, format_id) == (
            int(one_by_one[index].kinds[0]),
            int(one_by_one[index].format_ids[0]),
        )
        if kind >= 0:
            read = _protobuf_label(packet)
            assert read is None or read == (DATA_TYPES[kind], format_id)
        else:
            assert format_id == 0
