"""NumPy codecs for Open Data sample packets: many packets to arrays, and arrays to packets.

Every decode function takes the ``content`` bytes of many packets (a sequence of ``bytes`` or a
``ContentBatch``, e.g. ``read_envelopes(packets).contents_of("PeriodicData")``) and an ``impl``:
``"native"`` (the compiled extension, when built), ``"numpy"`` (vectorised, always available) or
``"reference"`` (protobuf objects); None, the default, runs the first available of those, or
the one ``MA_STREAMING_COLUMNAR`` names. All return the same arrays; an accelerated parser
hands any packet it cannot prove it reads exactly to the reference path and counts it in
``DecodeStats``. ``active_implementation()`` names the parser in use.
"""

from __future__ import annotations

from ..errors import PacketDecodeError
from ._batch import ContentBatch, ContentsLike
from .decode import (
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
from .headers import PacketHeaders, peek_headers
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
from .parsers import (
    IMPL_ENVIRONMENT_VARIABLE,
    IMPLEMENTATIONS,
    SampleParser,
    active_implementation,
    available_implementations,
    get_parser,
)

__all__ = [
    "IMPLEMENTATIONS",
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
    "PacketHeaders",
    "PeriodicPacketArrays",
    "RowPacketArrays",
    "SampleParser",
    "SynchroPacketArrays",
    "ValuesArray",
    "active_implementation",
    "available_implementations",
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
    "get_parser",
    "peek_headers",
    "read_envelopes",
    "wrap_packets",
]
