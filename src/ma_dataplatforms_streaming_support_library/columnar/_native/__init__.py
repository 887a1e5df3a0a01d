"""The native parser: the compiled ``_codec`` extension behind the parser protocol.

Importing this package raises ImportError when the extension is not built (no C compiler at
install time) or cannot be used here; the registry then falls back to the NumPy parser.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence

import numpy as np
import numpy.typing as npt

from .._batch import ContentBatch
from .._fallback import envelopes_with_fallback, samples_with_fallback
from .._parsed import PacketEnvelopes, PacketKind, ParsedPackets, ParseOutcome, offsets_of
from ._codec import (
    PacketDelivery,
    encode_periodic,
    envelope_facts,
    packet_labels,
    packet_marks,
    parse_envelopes,
    parse_samples,
)

__all__ = ["NativeParser"]

# The codec copies little-endian wire values straight into native-endian arrays.
if sys.byteorder != "little":
    raise ImportError("the native columnar codec supports little-endian machines only")

_KIND_CODES = {PacketKind.PERIODIC: 0, PacketKind.SYNCHRO: 1, PacketKind.ROW: 2}


class NativeParser:
    """Compiled Cython decoding and encoding (see ``columnar.parsers``)."""

    name = "native"

    def parse_samples(self, batch: ContentBatch, kind: PacketKind) -> ParseOutcome[ParsedPackets]:
        reasons, packets, lists, samples, texts = parse_samples(
            batch.buffer, batch.starts, batch.ends, _KIND_CODES[kind]
        )
        format_kinds, format_ids, formats, start_ns, interval_ns, time_counts, list_counts = packets
        list_kinds, list_samples = lists
        times, values, status = samples
        parsed = ParsedPackets(
            format_kinds=format_kinds,
            format_ids=format_ids,
            format_lists=formats,
            start_ns=start_ns,
            interval_ns=interval_ns,
            time_offsets=offsets_of(time_counts),
            times=times,
            list_offsets=offsets_of(list_counts),
            list_kinds=list_kinds,
            sample_offsets=offsets_of(list_samples),
            values=values,
            status=status,
            strings=texts,
        )
        return samples_with_fallback(batch, kind, parsed, reasons)

    def parse_envelopes(self, batch: ContentBatch) -> ParseOutcome[PacketEnvelopes]:
        reasons, types, keys, essential, ids, starts, ends = parse_envelopes(
            batch.buffer, batch.starts, batch.ends
        )
        contents = ContentBatch(batch.buffer, starts, ends)
        envelopes = PacketEnvelopes(tuple(types), tuple(keys), essential, ids, contents)
        return envelopes_with_fallback(batch, envelopes, reasons)

    def encode_periodic(
        self,
        vals: npt.NDArray[np.float64],
        stat: npt.NDArray[np.uint8],
        starts: npt.NDArray[np.uint64],
        intervals: npt.NDArray[np.int64],
        ids: npt.NDArray[np.uint64] | None,
        fmt_bytes: bytes,
        head: bytes | None = None,
        packet_ids: npt.NDArray[np.uint64] | None = None,
    ) -> list[bytes]:
        """PeriodicDataPacket bytes (see ``numpy.encode.encode_columns`` for the arguments),
        each in its Packet envelope when ``head`` is given (see ``_codec.encode_periodic``).
        ``vals`` and ``stat`` may be strided views."""
        return encode_periodic(vals, stat, starts, intervals, ids, fmt_bytes, head, packet_ids)

    def packet_marks(self, values: Iterable[bytes]) -> bytes:
        """What each record value is to a packet reader (see ``_codec.packet_marks``)."""
        return packet_marks(values)

    #: the session key and essential flag of a ``Packet`` envelope, or None where protobuf must
    #: read it (``_codec.envelope_facts``; called per write, so not wrapped)
    envelope_facts = staticmethod(envelope_facts)

    def packet_labels(
        self, values: Sequence[bytes], head_bytes: int
    ) -> tuple[npt.NDArray[np.int8], npt.NDArray[np.uint64]]:
        """The packet kind and data format id of each value's head (see
        ``_codec.packet_labels``)."""
        return packet_labels(list(values), head_bytes)

    def packet_delivery(
        self, dto_type: type, dto_fields: tuple[str, ...], bytes_type: type, bytes_field: str
    ) -> PacketDelivery:
        """A packet reader's compiled delivery loop (see ``_codec.PacketDelivery``)."""
        return PacketDelivery(dto_type, dto_fields, bytes_type, bytes_field)
