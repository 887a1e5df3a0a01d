"""The hand-encoded Stream API messages are byte for byte what protobuf encodes, and decode back."""

from __future__ import annotations

import pytest
from google.protobuf import timestamp_pb2

from ma_dataplatforms_streaming_support_library.core.remote import wire
from ma_dataplatforms_streaming_support_library.protos import api_pb2, open_data_pb2

PACKET = open_data_pb2.Packet(type="PeriodicData", session_key="k", content=b"x" * 300)


@pytest.mark.parametrize("timestamp_ms", [0, 5, 1000, 1_234_567_890_123])
@pytest.mark.parametrize("stream", ["", "Stream1"])
@pytest.mark.parametrize("size", [0, 100, 20_000])
def test_read_responses_match_protobuf(timestamp_ms: int, stream: str, size: int) -> None:
    packet = open_data_pb2.Packet(type="T", content=b"y" * size)
    data = packet.SerializeToString()
    submit = timestamp_pb2.Timestamp(
        seconds=timestamp_ms // 1000, nanos=timestamp_ms % 1000 * 1_000_000
    )
    item = api_pb2.PacketResponse(packet=packet, stream=stream, submit_time=submit)
    expected = api_pb2.ReadPacketsResponse(response=[item, item]).SerializeToString()
    tail = wire.stream_field_bytes(stream) + wire.submit_time_field(timestamp_ms)
    item_bytes = wire.response_head(len(data), len(tail)) + data + tail
    assert item_bytes * 2 == expected
    assert wire.decode_packet_responses(expected) == [(data, stream, timestamp_ms * 1_000_000)] * 2


def test_write_requests_match_protobuf() -> None:
    details = [
        api_pb2.DataPacketDetails(message=PACKET, data_source="D", stream=s, session_key=k)
        for s, k in (("", "k"), ("S", ""))
    ]
    expected = api_pb2.WriteDataPacketsRequest(details=details).SerializeToString()
    data = PACKET.SerializeToString()
    assert wire.data_packets_request([(data, "D", "", "k"), (data, "D", "S", "")]) == expected


@pytest.mark.parametrize("junk", [b"\x0a\x05ab", b"\x0a\x02\x0a\x09", b"\x0b", b"\x0a\xff"])
def test_malformed_read_responses_are_refused(junk: bytes) -> None:
    with pytest.raises(ValueError):
        wire.decode_packet_responses(junk)
