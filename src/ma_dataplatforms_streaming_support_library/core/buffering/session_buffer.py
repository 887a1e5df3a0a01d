"""SessionBuffer: one session's reordering window; releases slices the watermark has passed."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable

import numpy as np

from ...contracts.buffering.merge_strategy import MergeStrategy
from .merge import merge_blocks
from .merged_block import ExtraItem, MergedBlock
from .sample_block import SampleBlock

__all__ = ["SessionBuffer"]

logger = logging.getLogger(__name__)


class SessionBuffer:
    """Buffers one session's samples and releases them in time order.

    * ``W`` = window, ``S`` = slide (ns). Slices are ``[anchor + j·S, anchor + (j+1)·S)`` where
      the anchor is the earliest buffered timestamp when the first release happens.
    * The watermark is the smallest latest-timestamp over the *watermark streams*: the streams
      that have delivered samples of subscribed parameters to this session and have not
      completed (a stream's latest timestamp counts every timestamped packet). Streams that
      never carried such samples (the main stream's metadata, for instance) do not hold
      releases back. When every watermark stream has completed, all buffered data is final.
    * A slice is released once ``watermark >= slice start + W``; all slices releasable at once
      leave as one ``MergedBlock``. ``finish`` (end of session) releases everything.
    * Stream discovery: nothing is released during the first ``discovery_grace_s`` seconds (on
      ``clock``; the sample reader's clock leaves out its own processing time) after the
      session's first packet, nor while a stream declared with ``expect_streams`` has not
      delivered a timestamped packet. A reader that delivers a session's streams one after the
      other (a historic read goes through them in chunks) would otherwise have every stream but
      the first one released late.
    * A sample older than the released range is late: it is not delivered (the range is already
      out), but counted per stream (``late_sample_count``) and logged — a warning the first time
      per stream and at ``finish``, debug otherwise.

    ``READING_MERGE`` stores packets as they come and merges at release; ``WRITING_MERGE`` keeps
    the buffer merged at every insertion. The output is identical. Not thread-safe.
    """

    def __init__(
        self,
        window_ns: int,
        slide_ns: int,
        merge_strategy: MergeStrategy = MergeStrategy.READING_MERGE,
        name: str = "",
        discovery_grace_s: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if window_ns <= 0:
            raise ValueError(f"window_ns must be > 0, got {window_ns!r}")
        if slide_ns <= 0:
            raise ValueError(f"slide_ns must be > 0, got {slide_ns!r}")
        self.window_ns = int(window_ns)
        self.slide_ns = int(slide_ns)
        self.merge_strategy = MergeStrategy(merge_strategy)
        self.name = name
        self._pending: list[SampleBlock] = []
        self._extras: list[tuple[int, int, str, object]] = []
        self._extra_sequence = 0
        self._cursor: int | None = None
        self._origin: int | None = None
        self._latest: dict[str, int] = {}
        self._watermark_streams: set[str] = set()
        self._awaited_streams: set[str] = set()
        self._grace_s = float(discovery_grace_s)
        self._clock = clock
        self._hold_until: float | None = None
        self._completed_streams: set[str] = set()
        self._late_by_stream: dict[str, int] = {}
        self.finished = False

    # ----------------------------------------------------------------- input

    def add(self, stream: str, block: SampleBlock) -> MergedBlock | None:
        """Buffer one packet's samples from ``stream``; the release it enables, if any."""
        self.note_time(stream, int(block.timestamps[-1]))
        self._watermark_streams.add(stream)
        self._completed_streams.discard(stream)
        if self.finished:
            self._count_late(stream, block.sample_count, int(block.timestamps[0]))
            return None
        if self._cursor is not None:
            late, block_or_none = block.split(self._cursor)
            if late is not None:
                self._count_late(stream, late.sample_count, int(late.timestamps[0]))
            if block_or_none is None:
                return self._release_ready()
            block = block_or_none
        if self.merge_strategy is MergeStrategy.WRITING_MERGE:
            self._pending = merge_blocks([*self._pending, block])
        else:
            self._pending.append(block)
        return self._release_ready()

    def add_extra(
        self, stream: str, timestamp_ns: int, identifier: str, value: object
    ) -> MergedBlock | None:
        """Buffer one marker/event/error/CAN item; it never holds the watermark back."""
        self.note_time(stream, timestamp_ns)
        if self.finished or (self._cursor is not None and timestamp_ns < self._cursor):
            self._count_late(stream, 1, timestamp_ns)
            return None
        self._extras.append((timestamp_ns, self._extra_sequence, identifier, value))
        self._extra_sequence += 1
        return self._release_ready()

    def expect_streams(self, streams: Iterable[str]) -> None:
        """Streams the session will have: releases wait until each has delivered a timestamped
        packet (or completed); from then on they count like any other stream."""
        self._awaited_streams.update(s for s in streams if s not in self._latest)

    def note_time(self, stream: str, timestamp_ns: int) -> None:
        """Record that ``stream`` has delivered data stamped ``timestamp_ns``."""
        if self._hold_until is None:
            self._hold_until = self._clock() + self._grace_s
        self._awaited_streams.discard(stream)
        previous = self._latest.get(stream)
        if previous is None or timestamp_ns > previous:
            self._latest[stream] = int(timestamp_ns)

    def touch(self, stream: str, timestamp_ns: int) -> MergedBlock | None:
        """``note_time`` for a packet without buffered samples; the release it enables, if any."""
        self.note_time(stream, timestamp_ns)
        return self._release_ready()

    def complete_stream(self, stream: str) -> MergedBlock | None:
        """``stream`` will deliver nothing more: it stops holding the watermark back."""
        self._completed_streams.add(stream)
        self._awaited_streams.discard(stream)
        return self._release_ready()

    def finish(self) -> MergedBlock | None:
        """End of session: release everything buffered, as the session's final block."""
        if self.finished:
            return None
        self.finished = True
        anchor = self._anchor()
        total_late = self.late_sample_count
        if total_late:
            logger.warning(
                "session %s: %d late sample(s) were not delivered (per stream: %s); "
                "a longer buffering_window_length would have kept them",
                self.name,
                total_late,
                self._late_by_stream,
            )
        if anchor is None:
            return None
        end = self._covering_end(anchor)
        return self._release(anchor, end, final=True)

    def drop_parameters(self, parameters: Iterable[int]) -> None:
        """Discard the buffered samples of unsubscribed parameters."""
        dropped = np.fromiter(parameters, dtype=np.int32)
        if dropped.size == 0:
            return
        kept: list[SampleBlock] = []
        for block in self._pending:
            rest = block.take_rows(~np.isin(block.parameters, dropped))
            if rest is not None:
                kept.append(rest)
        self._pending = kept

    # ----------------------------------------------------------------- queries

    @property
    def late_sample_count(self) -> int:
        return sum(self._late_by_stream.values())

    @property
    def late_samples_by_stream(self) -> dict[str, int]:
        return dict(self._late_by_stream)

    def last_time_info(self) -> list[tuple[str, int]]:
        """``(stream, latest timestamp)`` for every stream that delivered timestamped data."""
        return sorted(self._latest.items())

    @property
    def origin(self) -> int | None:
        """Start of the first released slice (``None`` before the first release)."""
        return self._origin

    @property
    def cursor(self) -> int | None:
        """End of the released range (every sample before it has been released)."""
        return self._cursor

    def watermark(self) -> float | None:
        """The merged watermark; ``inf`` when every watermark stream has completed; ``None``
        while an expected stream has not delivered yet."""
        if self._awaited_streams:
            return None
        active = self._watermark_streams - self._completed_streams
        if active:
            return min(self._latest[stream] for stream in active)
        if self._watermark_streams:
            return float("inf")
        return None

    # ----------------------------------------------------------------- release

    def _count_late(self, stream: str, count: int, earliest_ns: int) -> None:
        first = stream not in self._late_by_stream
        self._late_by_stream[stream] = self._late_by_stream.get(stream, 0) + count
        log = logger.warning if first else logger.debug
        log(
            "session %s stream %r: %d sample(s) at %d ns arrived after their slice was released "
            "(released up to %s ns); counted, not delivered",
            self.name,
            stream,
            count,
            earliest_ns,
            self._cursor,
        )

    def _anchor(self) -> int | None:
        if self._cursor is not None:
            return self._cursor
        starts = [int(block.timestamps[0]) for block in self._pending]
        starts.extend(item[0] for item in self._extras)
        return min(starts) if starts else None

    def _covering_end(self, anchor: int) -> int:
        ends = [int(block.timestamps[-1]) for block in self._pending]
        ends.extend(item[0] for item in self._extras)
        if not ends:
            return anchor
        span = max(ends) + 1 - anchor
        return anchor + -(-span // self.slide_ns) * self.slide_ns

    def _release_ready(self) -> MergedBlock | None:
        watermark = self.watermark()
        if watermark is None or self.finished:
            return None
        if self._grace_s > 0 and (self._hold_until is None or self._clock() < self._hold_until):
            return None
        anchor = self._anchor()
        if anchor is None:
            return None
        if watermark == float("inf"):
            end = self._covering_end(anchor)
        else:
            lead = int(watermark) - self.window_ns - anchor
            if lead < 0:
                return None
            end = anchor + (lead // self.slide_ns + 1) * self.slide_ns
        if end <= anchor:
            return None
        return self._release(anchor, end, final=False)

    def _release(self, start: int, end: int, *, final: bool) -> MergedBlock:
        released: list[SampleBlock] = []
        kept: list[SampleBlock] = []
        for block in self._pending:
            head, tail = block.split(end)
            if head is not None:
                released.append(head)
            if tail is not None:
                kept.append(tail)
        self._pending = kept
        if self.merge_strategy is MergeStrategy.WRITING_MERGE:
            groups = released
        else:
            groups = merge_blocks(released)
        extras: list[ExtraItem] = []
        if self._extras:
            due = sorted(item for item in self._extras if item[0] < end)
            self._extras = [item for item in self._extras if item[0] >= end]
            extras = [(stamp, identifier, value) for stamp, _, identifier, value in due]
        self._cursor = end
        first = self._origin is None
        if first:
            self._origin = start
        return MergedBlock(start, end, self.slide_ns, groups, extras, final, first)
