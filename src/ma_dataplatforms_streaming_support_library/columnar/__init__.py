"""NumPy codecs for Open Data sample packets: many packets to arrays, and arrays to packets.

Every decode function takes the ``content`` bytes of many packets (a sequence of ``bytes`` or a
``ContentBatch``, e.g. ``read_envelopes(packets).contents_of("PeriodicData")``) and an ``impl``:
``"fast"`` (vectorised wire decoding, the default) or ``"reference"`` (protobuf objects). Both
return the same arrays; the fast path hands any packet it cannot prove it reads exactly to the
reference path and counts it in ``DecodeStats``.
"""

from __future__ import annotations

from ..errors import PacketDecodeError
from ._wire import ContentBatch, ContentsLike
from .decode import (
    IMPL_ENVIRONMENT_VARIABLE,
    decode_periodic,
    decode_periodic_batch,
    decode_row,
    decode_row_batch,
    decode_synchro,
    decode_synchro_batch,
)
from .encode import encode_periodic, encode_periodic_batch, encode_periodic_packets
from .envelope import PacketEnvelopes, read_envelopes, wrap_packets
from .events import EventArrays, EventFormatKey, MarkerArrays, decode_events, decode_markers
from .model import (
    ColumnKind,
    DataFormatKey,
    DecodeStats,
    FormatBatch,
    Impl,
    PeriodicPacketArrays,
    RowPacketArrays,
    SynchroPacketArrays,
    ValuesArray,
)

__all__ = [
    "IMPL_ENVIRONMENT_VARIABLE",
    "ColumnKind",
    "ContentBatch",
    "ContentsLike",
    "DataFormatKey",
    "DecodeStats",
    "EventArrays",
    "EventFormatKey",
    "FormatBatch",
    "Impl",
    "MarkerArrays",
    "PacketDecodeError",
    "PacketEnvelopes",
    "PeriodicPacketArrays",
    "RowPacketArrays",
    "SynchroPacketArrays",
    "ValuesArray",
    "decode_events",
    "decode_markers",
    "decode_periodic",
    "decode_periodic_batch",
    "decode_row",
    "decode_row_batch",
    "decode_synchro",
    "decode_synchro_batch",
    "encode_periodic",
    "encode_periodic_batch",
    "encode_periodic_packets",
    "read_envelopes",
    "wrap_packets",
]
