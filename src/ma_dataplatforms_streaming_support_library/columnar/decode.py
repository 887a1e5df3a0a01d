"""Decode batches of Periodic/Synchro/Row data packets into NumPy blocks, with any parser."""

from __future__ import annotations

import logging
from typing import Literal, cast

import numpy as np

from ..arrays import I64Array
from ..errors import PacketDecodeError
from ._assemble import format_batches, packet_arrays
from ._batch import ContentsLike, as_content_batch
from ._parsed import PacketKind, ParsedPackets
from ._shape import Shapes, derive_shapes
from .model import (
    DecodeStats,
    FormatBatch,
    Impl,
    PeriodicPacketArrays,
    RowPacketArrays,
    SynchroPacketArrays,
)
from .parsers import get_parser

__all__ = [
    "decode_periodic",
    "decode_periodic_batch",
    "decode_row",
    "decode_row_batch",
    "decode_synchro",
    "decode_synchro_batch",
]

logger = logging.getLogger(__name__)

OnError = Literal["raise", "skip"]


def _parse(
    contents: ContentsLike, kind: PacketKind, impl: Impl | None, stats: DecodeStats
) -> tuple[ParsedPackets, dict[int, str]]:
    parser = get_parser(impl)
    batch = as_content_batch(contents)
    outcome = parser.parse_samples(batch, kind)
    stats.record(len(batch), outcome)
    return outcome.result, outcome.failures


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
