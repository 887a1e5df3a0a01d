"""The NumPy parser: vectorised wire decoding, always available (the fallback of the native one).

Packets it cannot prove it reads exactly as protobuf would go to the reference path.
"""

from __future__ import annotations

from .._batch import ContentBatch
from .._fallback import envelopes_with_fallback, samples_with_fallback
from .._parsed import PacketEnvelopes, PacketKind, ParsedPackets, ParseOutcome
from .envelope import scan_envelopes
from .samples import parse_fast

__all__ = ["NumpyParser"]


class NumpyParser:
    """Vectorised NumPy decoding behind the parser protocol (see ``columnar.parsers``)."""

    name = "numpy"

    def parse_samples(self, batch: ContentBatch, kind: PacketKind) -> ParseOutcome[ParsedPackets]:
        parsed, reasons = parse_fast(batch, kind)
        return samples_with_fallback(batch, kind, parsed, reasons)

    def parse_envelopes(self, batch: ContentBatch) -> ParseOutcome[PacketEnvelopes]:
        envelopes, reasons = scan_envelopes(batch)
        return envelopes_with_fallback(batch, envelopes, reasons)
