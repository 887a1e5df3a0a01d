"""Finish an accelerated parse: the packets it declined go through the protobuf reference path.

The native and NumPy parsers both read what they can prove they read exactly as protobuf would,
mark every other packet with a ``Decline`` reason, and hand those here.
"""

from __future__ import annotations

import enum
import logging
from collections import Counter

import numpy as np
import numpy.typing as npt

from ..arrays import U8Array
from ._batch import PAD, ContentBatch
from ._parsed import PacketEnvelopes, PacketKind, ParsedPackets, ParseOutcome
from .reference import parse_envelopes, parse_samples

__all__ = ["Decline", "envelopes_with_fallback", "samples_with_fallback"]

logger = logging.getLogger(__name__)


class Decline(enum.IntEnum):
    """Why an accelerated parser handed a packet to the reference path (0: it did not)."""

    NONE = 0
    MALFORMED = 1  # fields cannot be walked (truncated, bad varint, group or reserved wire type)
    WIRE_TYPE = 2  # a known field arrived with another wire type (protobuf keeps it as unknown)
    DUPLICATE = 3  # a singular field repeated (protobuf: last one wins, messages merge)
    ONEOF = 4  # a oneof member repeated or two members set
    UNPACKED = 5  # repeated times unpacked or split over several fields
    SAMPLES = 6  # a sample record not in one of the canonical layouts
    TEXT = 7  # a string or parameter list protobuf must check (UTF-8)
    ENVELOPE = 8  # a Packet envelope the accelerated path does not read


def _counted(reasons: U8Array, declined: npt.NDArray[np.int64]) -> Counter[str]:
    codes, counts = np.unique(reasons[declined], return_counts=True)
    found = Counter(
        {Decline(int(c)).name.lower(): int(k) for c, k in zip(codes, counts, strict=True)}
    )
    logger.debug("%d packet(s) read by the reference path: %s", declined.size, dict(found))
    return found


def samples_with_fallback(
    batch: ContentBatch, kind: PacketKind, parsed: ParsedPackets, reasons: U8Array
) -> ParseOutcome[ParsedPackets]:
    """``parsed`` (every packet, the declined ones empty) completed by the reference path for
    the packets with a nonzero reason."""
    declined = np.flatnonzero(reasons)
    fast = len(batch) - int(declined.size)
    if declined.size == 0:
        return ParseOutcome(parsed, {}, fast)
    fallbacks = _counted(reasons, declined)
    again = parse_samples(batch.take(declined), kind)
    good = np.flatnonzero(reasons == 0)
    merged = ParsedPackets.merge(parsed.take(good), good, again.result)
    failures = {int(declined[i]): reason for i, reason in again.failures.items()}
    return ParseOutcome(merged, failures, fast, fallbacks)


def envelopes_with_fallback(
    batch: ContentBatch, envelopes: PacketEnvelopes, reasons: U8Array
) -> ParseOutcome[PacketEnvelopes]:
    """The same for envelopes: declined ones are replaced by protobuf's reading."""
    declined = np.flatnonzero(reasons)
    fast = len(batch) - int(declined.size)
    if declined.size == 0:
        return ParseOutcome(envelopes, {}, fast)
    fallbacks = _counted(reasons, declined)
    again = parse_envelopes(batch.take(declined))
    failures = {int(declined[i]): reason for i, reason in again.failures.items()}
    return ParseOutcome(_patch(envelopes, again.result, declined), failures, fast, fallbacks)


def _patch(
    fast: PacketEnvelopes, slow: PacketEnvelopes, at: npt.NDArray[np.int64]
) -> PacketEnvelopes:
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
    return PacketEnvelopes(
        tuple(types), tuple(keys), essential, ids, ContentBatch(data, starts, ends)
    )
