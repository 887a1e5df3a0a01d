"""Read responses of the Stream API encoded from stored records, without building messages.

``ReadPacketsResponse``, ``ReadEssentialsResponse`` and ``ReadDataPacketsResponse`` have the same
encoding (field 1: repeated ``PacketResponse``), so one encoder serves the three read RPCs.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Final

from ..core.remote import wire
from ..protos import open_data_pb2
from ..protos.packets import parse_packet
from ..transport.base import Record

__all__ = ["MAX_BATCH_BYTES", "MAX_BATCH_PACKETS", "ResponseEncoder", "responses"]

logger = logging.getLogger(__name__)

#: the C# server's batch size: at most this many packets in one batched response
MAX_BATCH_PACKETS: Final = 15_000
#: a batched response is cut before it passes this size (a lone packet may be larger), well
#: under the 4 MiB a gRPC client accepts by default
MAX_BATCH_BYTES: Final = 1 << 20
#: heads are kept per (packet size, tail size); past this many distinct ones they start over
_MAX_HEADS: Final = 4096


class ResponseEncoder:
    """Encodes the items of read responses from stored records: the packet bytes pass through as
    stored (checked to be an Open Data Packet, never re-serialised); the bytes around them are
    made once per stream and millisecond (stream and submit time fields) and once per packet
    size (the lengths), so a record costs a parse check and a few lookups."""

    def __init__(self) -> None:
        #: the stream of each item of the last ``parts()`` answer
        self.streams_of_last_items: list[str] = []
        #: the size in bytes of the items of the last ``parts()`` answer
        self.size_of_last_items = 0
        self._stream_fields: dict[str, bytes] = {}
        self._tails: dict[str, bytes] = {}
        self._heads: dict[tuple[int, int], bytes] = {}
        self._last_ms = -1

    def parts(
        self,
        batch: list[tuple[Record, str]],
        keep: Callable[[open_data_pb2.Packet], bool] | None,
    ) -> list[bytes]:
        """Three parts per kept record, in order: joined three by three, each is one
        ``PacketResponse`` item; joined together, they are one response of every item.
        A record that is not an Open Data Packet is skipped with a warning."""
        parts: list[bytes] = []
        kept: list[str] = []
        size = 0
        heads = self._heads
        tails = self._tails
        for record, stream in batch:
            value = record.value
            packet = parse_packet(value)
            if packet is None:
                logger.warning(
                    "skipping a record that is not an Open Data Packet at %s:%d offset %d",
                    record.topic,
                    record.partition,
                    record.offset,
                )
                continue
            if keep is not None and not keep(packet):
                continue
            if record.timestamp_ms != self._last_ms:
                self._last_ms = record.timestamp_ms
                tails.clear()
            tail = tails.get(stream)
            if tail is None:
                tail = tails[stream] = self._tail(stream)
            shape = (len(value), len(tail))
            head = heads.get(shape)
            if head is None:
                if len(heads) >= _MAX_HEADS:
                    heads.clear()
                head = heads[shape] = wire.response_head(*shape)
            parts += (head, value, tail)
            kept.append(stream)
            size += len(head) + shape[0] + shape[1]
        self.streams_of_last_items = kept
        self.size_of_last_items = size
        return parts

    def _tail(self, stream: str) -> bytes:
        field = self._stream_fields.get(stream)
        if field is None:
            field = self._stream_fields[stream] = wire.stream_field_bytes(stream)
        return field + wire.submit_time_field(self._last_ms)


def responses(parts: list[bytes], size: int, *, batching: bool) -> Iterator[bytes]:
    """Encoded responses of the items in ``parts`` (see ``ResponseEncoder.parts``), ``size``
    bytes in all: one item each, or with ``batching`` as few responses as the batch limits
    (``MAX_BATCH_PACKETS``, ``MAX_BATCH_BYTES``) allow."""
    if not batching:
        for start in range(0, len(parts), 3):
            yield b"".join(parts[start : start + 3])
        return
    if size <= MAX_BATCH_BYTES and len(parts) <= 3 * MAX_BATCH_PACKETS:
        yield b"".join(parts)
        return
    start = 0
    taken = 0
    for index in range(0, len(parts), 3):
        item = len(parts[index]) + len(parts[index + 1]) + len(parts[index + 2])
        if index > start and (
            taken + item > MAX_BATCH_BYTES or index - start >= 3 * MAX_BATCH_PACKETS
        ):
            yield b"".join(parts[start:index])
            start = index
            taken = 0
        taken += item
    yield b"".join(parts[start:])
