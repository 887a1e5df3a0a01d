"""Stream API messages encoded and decoded by hand where a packet only passes through.

A ``PacketResponse`` or ``DataPacketDetails`` carries an Open Data ``Packet`` as a nested message,
which on the wire is just its serialized bytes behind a tag and a length. The server builds read
responses from stored record bytes and the remote client builds write requests from the bytes
the user passed, without parsing the packet into a message and serialising it again; the remote
reader takes each packet's bytes out of a response the same way. The encodings are the ones
protobuf itself produces (proto3: empty strings and zero numbers are left out).
"""

from __future__ import annotations

from collections.abc import Iterable

from ...columnar.envelope import varint

__all__ = [
    "data_packets_request",
    "decode_packet_responses",
    "response_head",
    "stream_field_bytes",
    "submit_time_field",
    "timestamp_bytes",
]

#: tag bytes: (field number << 3) | wire type (0 varint, 2 length-delimited)
_FIELD_1 = b"\x0a"
_FIELD_2 = b"\x12"
_FIELD_3 = b"\x1a"
_FIELD_4 = b"\x22"


def _field(tag: bytes, payload: bytes) -> bytes:
    return tag + varint(len(payload)) + payload


def timestamp_bytes(timestamp_ms: int) -> bytes:
    """A ``google.protobuf.Timestamp`` of ``timestamp_ms`` (ms since the Unix epoch, >= 0)."""
    seconds, millis = divmod(timestamp_ms, 1000)
    out = b"\x08" + varint(seconds) if seconds else b""
    return out + (b"\x10" + varint(millis * 1_000_000) if millis else b"")


def stream_field_bytes(stream: str) -> bytes:
    """The encoded ``stream`` field of a ``PacketResponse`` (nothing for the main stream)."""
    return _field(_FIELD_2, stream.encode()) if stream else b""


def submit_time_field(timestamp_ms: int) -> bytes:
    """The encoded ``submit_time`` field of a ``PacketResponse``."""
    return _field(_FIELD_3, timestamp_bytes(timestamp_ms))


def response_head(packet_size: int, tail_size: int) -> bytes:
    """What comes before a packet's bytes in one ``PacketResponse`` as an item of a read response
    (field 1), when ``tail_size`` bytes of encoded stream and submit time fields follow them.
    Head, packet bytes and tail joined are the item: the packet's bytes are copied once, by the
    join, and a head serves every packet of the same size and tail size."""
    length = varint(packet_size)
    inner = 1 + len(length) + packet_size + tail_size
    return _FIELD_1 + varint(inner) + _FIELD_1 + length


def data_packets_request(details: Iterable[tuple[bytes, str, str, str]]) -> bytes:
    """A ``WriteDataPacketsRequest`` of (packet bytes, data source, stream, session key)."""
    parts: list[bytes] = []
    for packet, data_source, stream, session_key in details:
        detail = _field(_FIELD_1, packet) + _field(_FIELD_2, data_source.encode())
        if stream:
            detail += _field(_FIELD_3, stream.encode())
        if session_key:
            detail += _field(_FIELD_4, session_key.encode())
        parts.append(_field(_FIELD_1, detail))
    return b"".join(parts)


def _read_varint(data: bytes, position: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        byte = data[position]
        position += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, position
        shift += 7


def _skip(data: bytes, position: int, wire_type: int) -> int:
    if wire_type == 0:
        return _read_varint(data, position)[1]
    if wire_type == 2:
        length, position = _read_varint(data, position)
        return position + length
    if wire_type == 1:
        return position + 8
    if wire_type == 5:
        return position + 4
    raise ValueError(f"unsupported protobuf wire type {wire_type}")


def _timestamp_ns(data: bytes, start: int, end: int) -> int:
    seconds = nanos = 0
    position = start
    while position < end:
        tag, position = _read_varint(data, position)
        if tag == 0x08:
            seconds, position = _read_varint(data, position)
        elif tag == 0x10:
            nanos, position = _read_varint(data, position)
        else:
            position = _skip(data, position, tag & 7)
    return seconds * 1_000_000_000 + nanos


def decode_packet_responses(data: bytes) -> list[tuple[bytes, str, int]]:
    """(packet bytes, stream, submit time in ns) of each ``PacketResponse`` in a read response.

    Raises ``ValueError`` on bytes that are not such a response.
    """
    items: list[tuple[bytes, str, int]] = []
    position, size = 0, len(data)
    try:
        while position < size:
            tag, position = _read_varint(data, position)
            if tag != 0x0A:
                position = _skip(data, position, tag & 7)
                continue
            length, position = _read_varint(data, position)
            end = position + length
            packet, stream, submit_ns = b"", "", 0
            while position < end:
                tag, position = _read_varint(data, position)
                if tag & 7 != 2:
                    position = _skip(data, position, tag & 7)
                    continue
                length, position = _read_varint(data, position)
                field_end = position + length
                if tag == 0x0A:
                    packet = data[position:field_end]
                elif tag == 0x12:
                    stream = data[position:field_end].decode()
                elif tag == 0x1A:
                    submit_ns = _timestamp_ns(data, position, field_end)
                position = field_end
            if position != end:
                raise ValueError("a PacketResponse overruns its length")
            items.append((packet, stream, submit_ns))
    except (IndexError, UnicodeDecodeError) as exc:
        raise ValueError(f"not a read response: {exc}") from exc
    if position != size:
        raise ValueError("a read response overruns its length")
    return items
