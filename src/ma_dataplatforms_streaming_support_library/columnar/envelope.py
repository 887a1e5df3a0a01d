"""Read and write ``Packet`` envelopes in bulk: type and content out, or contents wrapped in."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from google.protobuf.message import DecodeError

from ..errors import PacketDecodeError
from ..protos import open_data_pb2 as pb
from ._wire import (
    PAD,
    WIRE_LEN,
    WIRE_VARINT,
    ContentBatch,
    ContentsLike,
    I64Array,
    as_content_batch,
    scan_fields,
)
from .decode import default_impl
from .model import DecodeStats, Impl

__all__ = ["PacketEnvelopes", "read_envelopes", "wrap_packets"]

logger = logging.getLogger(__name__)

_EXPECTED_WIRE = {1: WIRE_LEN, 2: WIRE_LEN, 3: WIRE_VARINT, 4: WIRE_LEN, 5: WIRE_VARINT}
_DISTINCT_STRINGS = 8
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True, eq=False)
class PacketEnvelopes:
    """The fields of many ``Packet`` envelopes. ``contents`` are spans of the input buffer."""

    types: tuple[str, ...]
    session_keys: tuple[str, ...]
    is_essential: npt.NDArray[np.bool_]
    ids: npt.NDArray[np.uint64]
    contents: ContentBatch

    def __len__(self) -> int:
        return len(self.types)

    def indices_of(self, type_name: str) -> I64Array:
        """Positions of the packets whose ``type`` is ``type_name`` (exact, case-sensitive)."""
        return np.flatnonzero(np.fromiter((t == type_name for t in self.types), bool, len(self)))

    def contents_of(self, type_name: str) -> ContentBatch:
        """The contents of the packets of one type, ready for the decode functions."""
        return self.contents.take(self.indices_of(type_name))


def _strings(data: bytes, starts: I64Array, ends: I64Array, declined: BoolArray) -> list[str]:
    """The UTF-8 strings ``data[starts[i]:ends[i]]``; packets with invalid UTF-8 are declined.

    A batch holds few distinct types and session keys, so each distinct value is matched
    against all packets with one vectorised byte comparison per character instead of one
    slice and decode per packet; past a few distinct values the rest is decoded one by one.
    """
    n = starts.size
    out: list[str] = [""] * n
    buf = np.frombuffer(data, dtype=np.uint8)
    lengths = ends - starts
    pending = np.flatnonzero(lengths > 0)
    for _ in range(_DISTINCT_STRINGS):
        if pending.size == 0:
            return out
        first = int(pending[0])
        raw = data[starts[first] : ends[first]]
        same = pending[lengths[pending] == len(raw)]
        for offset, byte in enumerate(raw):
            same = same[buf[starts[same] + offset] == byte]
        try:
            text = raw.decode("utf-8")  # strict, as protobuf is for proto3 strings
        except UnicodeDecodeError:
            declined[same] = True
            text = ""
        for i in same.tolist():
            out[i] = text
        pending = pending[np.isin(pending, same, assume_unique=True, invert=True)]
    for i in pending.tolist():
        try:
            out[i] = data[starts[i] : ends[i]].decode("utf-8")
        except UnicodeDecodeError:
            declined[i] = True
    return out


def read_envelopes(
    packets: ContentsLike, *, impl: Impl | None = None, stats: DecodeStats | None = None
) -> PacketEnvelopes:
    """Split serialized ``Packet`` messages into type, session key, flags, id and content.

    Raises ``PacketDecodeError`` naming the first packet protobuf rejects.
    """
    batch = as_content_batch(packets)
    chosen = impl if impl is not None else default_impl()
    if stats is not None:
        stats.packets += len(batch)
    if chosen == "reference":
        return _read_reference(batch, np.arange(len(batch)))
    data = batch.buffer
    n = len(batch)
    table = scan_fields(data, batch.starts, batch.ends)
    declined = table.malformed.copy()
    for number, wire in _EXPECTED_WIRE.items():
        rows = table.number == number
        declined[table.message[rows & (table.wire_type != wire)]] = True
        declined[np.bincount(table.message[rows], minlength=n) > 1] = True
    fields: dict[int, tuple[I64Array, I64Array, npt.NDArray[np.uint64]]] = {}
    for number in _EXPECTED_WIRE:
        rows = np.flatnonzero(table.number == number)
        start = np.zeros(n, np.int64)
        end = np.zeros(n, np.int64)
        value = np.zeros(n, np.uint64)
        start[table.message[rows]] = table.start[rows]
        end[table.message[rows]] = table.end[rows]
        value[table.message[rows]] = table.varint[rows]
        fields[number] = (start, end, value)
    types = _strings(data, fields[1][0], fields[1][1], declined)
    keys = _strings(data, fields[2][0], fields[2][1], declined)
    envelopes = PacketEnvelopes(
        tuple(types),
        tuple(keys),
        fields[3][2] != 0,
        fields[5][2],
        ContentBatch(data, fields[4][0], fields[4][1]),
    )
    fallback = np.flatnonzero(declined)
    if fallback.size == 0:
        if stats is not None:
            stats.fast_packets += n
        return envelopes
    if stats is not None:
        stats.fast_packets += n - fallback.size
        stats.fallback_packets += int(fallback.size)
        stats.fallback_reasons["envelope"] += int(fallback.size)
    logger.debug("%d envelope(s) read by the reference path", fallback.size)
    return _patch(envelopes, _read_reference(batch.take(fallback), fallback), fallback)


def _read_reference(batch: ContentBatch, numbers: I64Array) -> PacketEnvelopes:
    """Envelopes parsed by protobuf; contents copied into a new buffer."""
    parsed = []
    for i in range(len(batch)):
        try:
            parsed.append(pb.Packet.FromString(batch.message(i)))
        except DecodeError as exc:
            raise PacketDecodeError(int(numbers[i]), f"not a valid Packet: {exc}") from exc
    return PacketEnvelopes(
        tuple(p.type for p in parsed),
        tuple(p.session_key for p in parsed),
        np.array([p.is_essential for p in parsed], dtype=bool),
        np.array([p.id for p in parsed], dtype=np.uint64),
        ContentBatch.from_messages([p.content for p in parsed]),
    )


def _patch(fast: PacketEnvelopes, slow: PacketEnvelopes, at: I64Array) -> PacketEnvelopes:
    """``fast`` with the packets at positions ``at`` replaced by ``slow``'s."""
    types, keys = list(fast.types), list(fast.session_keys)
    for j, i in enumerate(at.tolist()):
        types[i], keys[i] = slow.types[j], slow.session_keys[j]
    essential, ids = fast.is_essential.copy(), fast.ids.copy()
    essential[at], ids[at] = slow.is_essential, slow.ids
    # The slow contents live in their own buffer: append it to ours so one batch holds all.
    base = len(fast.contents.buffer) - PAD
    data = fast.contents.buffer[:base] + slow.contents.buffer
    starts, ends = fast.contents.starts.copy(), fast.contents.ends.copy()
    starts[at] = slow.contents.starts + base
    ends[at] = slow.contents.ends + base
    contents = ContentBatch(data, starts, ends)
    return PacketEnvelopes(tuple(types), tuple(keys), essential, ids, contents)


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def wrap_packets(
    contents: Sequence[bytes],
    type_name: str,
    *,
    session_key: str = "",
    is_essential: bool = False,
    ids: Sequence[int] | npt.NDArray[np.integer] | None = None,
) -> list[bytes]:
    """Serialized ``Packet`` envelopes around each content, byte-identical to protobuf's.

    ``type_name`` is the ``Packet.type`` string (e.g. ``"PeriodicData"``); ``ids`` gives each
    packet its ``id`` (0, the default, is left off the wire).
    """
    prefix = b""
    if type_name:
        raw = type_name.encode("utf-8")
        prefix += b"\x0a" + _varint(len(raw)) + raw
    if session_key:
        raw = session_key.encode("utf-8")
        prefix += b"\x12" + _varint(len(raw)) + raw
    if is_essential:
        prefix += b"\x18\x01"
    if ids is not None and len(ids) != len(contents):
        raise ValueError(f"got {len(ids)} ids for {len(contents)} contents")
    id_list = [int(i) for i in ids] if ids is not None else [0] * len(contents)
    out: list[bytes] = []
    for content, packet_id in zip(contents, id_list, strict=True):
        if not 0 <= packet_id < 1 << 64:
            raise ValueError(f"packet id {packet_id} is not a uint64")
        parts = [prefix]
        if content:
            parts += [b"\x22", _varint(len(content)), content]
        if packet_id:
            parts += [b"\x28", _varint(packet_id)]
        out.append(b"".join(parts))
    return out
