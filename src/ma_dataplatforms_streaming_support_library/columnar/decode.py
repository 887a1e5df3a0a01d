"""Decode batches of Periodic/Synchro/Row data packets into NumPy blocks, fast or reference."""

from __future__ import annotations

import logging
import os
from collections import Counter
from typing import Literal, cast

import numpy as np

from ..errors import PacketDecodeError
from ._assemble import format_batches, packet_arrays
from ._parsed import PacketKind, ParsedPackets
from ._shape import Shapes, derive_shapes
from ._wire import ContentsLike, I64Array, as_content_batch
from .fast import Decline, parse_fast
from .model import (
    DecodeStats,
    FormatBatch,
    Impl,
    PeriodicPacketArrays,
    RowPacketArrays,
    SynchroPacketArrays,
)
from .reference import parse_reference

__all__ = [
    "IMPL_ENVIRONMENT_VARIABLE",
    "decode_periodic",
    "decode_periodic_batch",
    "decode_row",
    "decode_row_batch",
    "decode_synchro",
    "decode_synchro_batch",
    "default_impl",
]

logger = logging.getLogger(__name__)

# Set to "reference" to run every decode through protobuf objects (as AIOKAFKA_NO_EXTENSIONS
# does for aiokafka), e.g. to rule the fast path out when chasing a bug.
IMPL_ENVIRONMENT_VARIABLE = "MA_STREAMING_COLUMNAR_IMPL"

OnError = Literal["raise", "skip"]


def default_impl() -> Impl:
    value = os.environ.get(IMPL_ENVIRONMENT_VARIABLE, "fast").strip().lower()
    if value == "reference":
        return "reference"
    if value not in ("", "fast"):
        logger.warning(
            "ignoring %s=%r (expected fast or reference)", IMPL_ENVIRONMENT_VARIABLE, value
        )
    return "fast"


def _parse(
    contents: ContentsLike, kind: PacketKind, impl: Impl | None, stats: DecodeStats
) -> tuple[ParsedPackets, dict[int, str]]:
    batch = as_content_batch(contents)
    chosen = impl if impl is not None else default_impl()
    if chosen not in ("fast", "reference"):
        raise ValueError(f"impl must be 'fast' or 'reference', not {chosen!r}")
    stats.packets += len(batch)
    if chosen == "reference":
        return parse_reference(batch, kind)
    parsed, reasons = parse_fast(batch, kind)
    declined = np.flatnonzero(reasons)
    stats.fast_packets += len(batch) - declined.size
    if declined.size == 0:
        return parsed, {}
    codes, counts = np.unique(reasons[declined], return_counts=True)
    stats.record_fallbacks(
        Counter({Decline(int(c)).name.lower(): int(k) for c, k in zip(codes, counts, strict=True)})
    )
    again, failures = parse_reference(batch.take(declined), kind)
    good = np.flatnonzero(reasons == 0)
    merged = ParsedPackets.merge(parsed.take(good), good, again)
    return merged, {int(declined[i]): reason for i, reason in failures.items()}


def _decode(
    contents: ContentsLike,
    kind: PacketKind,
    impl: Impl | None,
    on_error: OnError,
    stats: DecodeStats | None,
) -> tuple[ParsedPackets, Shapes, I64Array]:
    """Parsed packets, their shapes and the packets to report (all, or those without error)."""
    counters = stats if stats is not None else DecodeStats()
    parsed, failures = _parse(contents, kind, impl, counters)
    shapes, errors = derive_shapes(parsed, kind)
    errors.update(failures)
    keep = np.arange(len(parsed), dtype=np.int64)
    if errors:
        found = [PacketDecodeError(p, errors[p]) for p in sorted(errors)]
        if on_error == "raise":
            raise found[0]
        counters.skipped_packets += len(found)
        counters.errors.extend(found)
        logger.debug("skipped %d undecodable packet(s), first: %s", len(found), found[0])
        keep = np.setdiff1d(keep, [e.packet_index for e in found])
    counters.samples += int((shapes.params[keep] * shapes.points[keep]).sum())
    return parsed, shapes, keep


def decode_periodic(
    contents: ContentsLike, *, impl: Impl | None = None, stats: DecodeStats | None = None
) -> list[PeriodicPacketArrays]:
    """One parameters x time block per ``PeriodicDataPacket`` content; raises
    ``PacketDecodeError`` (naming the packet index) for a packet that cannot be decoded."""
    parsed, shapes, keep = _decode(contents, PacketKind.PERIODIC, impl, "raise", stats)
    return cast(
        list[PeriodicPacketArrays], packet_arrays(parsed, shapes, PacketKind.PERIODIC, keep)
    )


def decode_synchro(
    contents: ContentsLike, *, impl: Impl | None = None, stats: DecodeStats | None = None
) -> list[SynchroPacketArrays]:
    """One block per ``SynchroDataPacket`` content (times from start_time and intervals)."""
    parsed, shapes, keep = _decode(contents, PacketKind.SYNCHRO, impl, "raise", stats)
    return cast(list[SynchroPacketArrays], packet_arrays(parsed, shapes, PacketKind.SYNCHRO, keep))


def decode_row(
    contents: ContentsLike, *, impl: Impl | None = None, stats: DecodeStats | None = None
) -> list[RowPacketArrays]:
    """One block per ``RowDataPacket`` content, rows transposed to parameters x time."""
    parsed, shapes, keep = _decode(contents, PacketKind.ROW, impl, "raise", stats)
    return cast(list[RowPacketArrays], packet_arrays(parsed, shapes, PacketKind.ROW, keep))


def decode_periodic_batch(
    contents: ContentsLike,
    *,
    impl: Impl | None = None,
    errors: OnError = "raise",
    stats: DecodeStats | None = None,
) -> list[FormatBatch]:
    """``PeriodicDataPacket`` contents grouped by data format: one contiguous timestamps /
    values / status series per parameter. ``errors="skip"`` leaves undecodable packets out
    (see ``FormatBatch.packet_indices`` and ``stats.errors``) instead of raising."""
    parsed, shapes, keep = _decode(contents, PacketKind.PERIODIC, impl, errors, stats)
    return format_batches(parsed, shapes, PacketKind.PERIODIC, keep)


def decode_synchro_batch(
    contents: ContentsLike,
    *,
    impl: Impl | None = None,
    errors: OnError = "raise",
    stats: DecodeStats | None = None,
) -> list[FormatBatch]:
    """``SynchroDataPacket`` contents grouped by data format (see decode_periodic_batch)."""
    parsed, shapes, keep = _decode(contents, PacketKind.SYNCHRO, impl, errors, stats)
    return format_batches(parsed, shapes, PacketKind.SYNCHRO, keep)


def decode_row_batch(
    contents: ContentsLike,
    *,
    impl: Impl | None = None,
    errors: OnError = "raise",
    stats: DecodeStats | None = None,
) -> list[FormatBatch]:
    """``RowDataPacket`` contents grouped by data format (see decode_periodic_batch)."""
    parsed, shapes, keep = _decode(contents, PacketKind.ROW, impl, errors, stats)
    return format_batches(parsed, shapes, PacketKind.ROW, keep)
