"""SessionBuffer: release rules, merge, duplicates and late samples, against a reference."""

from __future__ import annotations

import logging
from itertools import pairwise

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ma_dataplatforms_streaming_support_library.contracts.buffering import MergeStrategy
from ma_dataplatforms_streaming_support_library.core.buffering.merged_block import MergedBlock
from ma_dataplatforms_streaming_support_library.core.buffering.sample_block import SampleBlock
from ma_dataplatforms_streaming_support_library.core.buffering.session_buffer import SessionBuffer

MS = 1_000_000

Packet = tuple[str, list[int], list[int], list[list[float]], list[list[int]]]


@st.composite
def packet_streams(draw: st.DrawFn) -> list[Packet]:
    """Packets of 1-3 streams, each stream roughly in time order, interleaved at random."""
    streams = draw(st.integers(1, 3))
    per_stream: list[list[Packet]] = []
    for s in range(streams):
        name = f"S{s}"
        clock = draw(st.integers(0, 50))
        packets = []
        for _ in range(draw(st.integers(1, 8))):
            parameters = draw(st.lists(st.integers(0, 3), min_size=1, max_size=3, unique=True))
            width = draw(st.integers(1, 6))
            backwards = draw(st.sampled_from([0, 0, 0, 5, 30]))  # occasional step back in time
            start = max(0, clock - backwards)
            gaps = draw(st.lists(st.integers(0, 4), min_size=width, max_size=width))
            stamps = list(np.cumsum(gaps) + start)
            clock = max(clock, int(stamps[-1])) + draw(st.integers(0, 10))
            values = [[float(draw(st.integers(0, 99))) for _ in stamps] for _ in parameters]
            status = [[draw(st.sampled_from([1, 1, 2])) for _ in stamps] for _ in parameters]
            packets.append((name, parameters, [int(t) for t in stamps], values, status))
        per_stream.append(packets)
    order = draw(st.permutations([i for i, p in enumerate(per_stream) for _ in p]))
    cursors = [0] * streams
    result = []
    for s in order:
        result.append(per_stream[s][cursors[s]])
        cursors[s] += 1
    return result


def _feed(
    packets: list[Packet], window: int, slide: int, strategy: MergeStrategy
) -> tuple[SessionBuffer, list[MergedBlock], dict[tuple[int, int], tuple[float, int]], int]:
    """Run the buffer; return it, its blocks, the expected delivered samples and late count."""
    buffer = SessionBuffer(window, slide, strategy, name="t")
    blocks: list[MergedBlock] = []
    expected: dict[tuple[int, int], tuple[float, int]] = {}
    late = 0
    for stream, parameters, stamps, values, status in packets:
        cursor = buffer.cursor
        block = SampleBlock.build(parameters, stamps, values, status)
        assert block is not None
        # The reference: within a packet the last occurrence of a timestamp wins.
        rows = {}
        for i, p in enumerate(parameters):
            for j, t in enumerate(stamps):
                rows[(p, t)] = (values[i][j], status[i][j])
        for key, sample in rows.items():
            if cursor is not None and key[1] < cursor:
                late += 1
            else:
                expected[key] = sample
        released = buffer.add(stream, block)
        watermark = buffer.watermark()
        if released is not None:
            blocks.append(released)
            assert watermark is not None
            assert released.end - slide + window <= watermark  # last slice was releasable
        if watermark is not None and watermark != float("inf") and buffer.cursor is not None:
            assert buffer.cursor + window > watermark  # nothing releasable was kept back
    final = buffer.finish()
    if final is not None:
        blocks.append(final)
    return buffer, blocks, expected, late


def _delivered(blocks: list[MergedBlock]) -> dict[tuple[int, int], tuple[float, int]]:
    out: dict[tuple[int, int], tuple[float, int]] = {}
    last_seen: dict[int, int] = {}
    for block in blocks:
        seen_here = set()
        for parameter, stamps, values, status in block.series():
            assert parameter not in seen_here, "a parameter appears twice in one block"
            seen_here.add(parameter)
            assert np.all(np.diff(stamps) > 0)
            assert block.start <= stamps[0] and stamps[-1] < block.end
            assert last_seen.get(parameter, -1) < stamps[0]
            last_seen[parameter] = int(stamps[-1])
            for t, v, s in zip(stamps.tolist(), values.tolist(), status.tolist(), strict=True):
                out[(parameter, t)] = (v, s)
    return out


@settings(max_examples=150, deadline=None)
@given(
    packet_streams(),
    st.integers(1, 40),
    st.sampled_from([5, 10, 25, 50, 100]),
)
def test_release_matches_reference(packets: list[Packet], window: int, percentage: int) -> None:
    slide = max(1, window * percentage // 100)
    outputs = []
    for strategy in (MergeStrategy.READING_MERGE, MergeStrategy.WRITING_MERGE):
        buffer, blocks, expected, late = _feed(packets, window, slide, strategy)
        assert buffer.late_sample_count == late
        delivered = _delivered(blocks)
        assert delivered == expected
        for earlier, later in pairwise(blocks):
            assert earlier.end == later.start
        for block in blocks:
            assert (block.start - blocks[0].start) % slide == 0
            assert (block.end - block.start) % slide == 0
        assert blocks == [] or blocks[-1].final
        outputs.append((delivered, [(b.start, b.end) for b in blocks]))
    assert outputs[0] == outputs[1]


def _single(buffer: SessionBuffer, stream: str, parameter: int, stamp: int, value: float = 1.0):
    block = SampleBlock.build([parameter], [stamp], [[value]], [[1]])
    assert block is not None
    return buffer.add(stream, block)


def test_worked_example_release_timing_and_late_sample(caplog: pytest.LogCaptureFixture) -> None:
    buffer = SessionBuffer(3000 * MS, 150 * MS, name="worked")
    assert _single(buffer, "A", 0, 10_000 * MS) is None
    assert _single(buffer, "A", 0, 12_999 * MS) is None
    released = _single(buffer, "A", 0, 13_000 * MS)
    assert released is not None
    assert (released.start, released.end) == (10_000 * MS, 10_150 * MS)
    released = _single(buffer, "A", 0, 13_150 * MS)
    assert released is not None and (released.start, released.end) == (10_150 * MS, 10_300 * MS)
    with caplog.at_level(logging.WARNING):
        assert _single(buffer, "A", 0, 10_100 * MS) is None
    assert buffer.late_sample_count == 1
    assert "arrived after their slice was released" in caplog.text
    with caplog.at_level(logging.WARNING):
        final = buffer.finish()
    assert "1 late sample(s) were not delivered" in caplog.text
    assert final is not None and final.final
    stamps = [int(t) for _, ts, _, _ in final.series() for t in ts]
    assert 10_100 * MS not in stamps


def test_watermark_is_the_slowest_stream_and_completion_lifts_it() -> None:
    buffer = SessionBuffer(100, 10)
    _single(buffer, "fast", 0, 0)
    _single(buffer, "slow", 1, 0)
    assert _single(buffer, "fast", 0, 500) is None  # slow stream still at 0
    released = _single(buffer, "slow", 1, 105)
    assert released is not None and (released.start, released.end) == (0, 10)
    released = buffer.complete_stream("slow")
    assert released is not None and released.end == 410  # now only "fast" (at 500) counts
    released = buffer.complete_stream("fast")
    assert released is not None and released.end == 510  # everything buffered is final


def test_expected_stream_holds_releases_until_it_delivers() -> None:
    buffer = SessionBuffer(100, 10)
    buffer.expect_streams(["A", "B"])
    _single(buffer, "A", 0, 0)
    assert _single(buffer, "A", 0, 1000) is None
    released = _single(buffer, "B", 1, 5)
    assert released is None  # B at 5: nothing is 100 ns old for B yet
    released = _single(buffer, "B", 1, 200)
    assert released is not None and released.end == 110
    delivered = _delivered([released])
    assert set(delivered) == {(0, 0), (1, 5)}


def test_expected_stream_stops_holding_once_it_has_a_timestamp() -> None:
    buffer = SessionBuffer(100, 10)
    buffer.expect_streams(["A", ""])
    _single(buffer, "A", 0, 0)
    assert _single(buffer, "A", 0, 1000) is None  # the main stream has not shown up
    buffer.note_time("", 3)  # a marker, say: the main stream carries no samples
    released = _single(buffer, "A", 0, 1001)
    assert released is not None and released.end == 910


def test_discovery_grace_holds_releases_then_the_watermark_rules() -> None:
    now = [100.0]
    buffer = SessionBuffer(100, 10, discovery_grace_s=1.0, clock=lambda: now[0])
    _single(buffer, "A", 0, 0)
    assert _single(buffer, "A", 0, 1000) is None  # within the grace: nothing leaves
    _single(buffer, "B", 1, 0)  # B shows up late, its samples are not late
    now[0] = 101.0
    released = _single(buffer, "B", 1, 500)
    assert released is not None and released.end == 410
    assert buffer.late_sample_count == 0
    assert {p for p, *_ in released.series()} == {0, 1}


def test_merge_example_of_two_streams() -> None:
    buffer = SessionBuffer(3000 * MS, 150 * MS)
    periodic = SampleBlock.build(
        [0, 1], [1000 * MS, 1010 * MS, 1020 * MS], [[1, 2, 3], [4, 5, 6]], [[1] * 3] * 2
    )
    rows = SampleBlock.build([2], [1000 * MS, 1015 * MS], [[7, 8]], [[1, 1]])
    assert periodic is not None and rows is not None
    buffer.add("A", periodic)
    buffer.add("B", rows)
    block = buffer.finish()
    assert block is not None
    stamps = sorted({(t, p) for p, ts, _, _ in block.series() for t in ts.tolist()})
    by_time: dict[int, list[int]] = {}
    for t, p in stamps:
        by_time.setdefault(t, []).append(p)
    assert by_time == {
        1000 * MS: [0, 1, 2],
        1010 * MS: [0, 1],
        1015 * MS: [2],
        1020 * MS: [0, 1],
    }
    assert block.slice_bounds() == [(1000 * MS, 1150 * MS)]


def test_duplicate_timestamp_keeps_the_later_arrival_across_streams() -> None:
    buffer = SessionBuffer(100, 10)
    _single(buffer, "A", 0, 5, value=1.0)
    _single(buffer, "B", 0, 5, value=2.0)
    block = buffer.finish()
    assert block is not None
    assert _delivered([block]) == {(0, 5): (2.0, 1)}


def test_packet_with_backwards_and_repeated_timestamps_is_normalised() -> None:
    block = SampleBlock.build(
        [3, 1, 3], [30, 10, 30, 20], [[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12]], [[1] * 4] * 3
    )
    assert block is not None
    assert block.parameters.tolist() == [1, 3]
    assert block.timestamps.tolist() == [10, 20, 30]
    assert block.values.tolist() == [[6, 8, 7], [10, 12, 11]]


def test_empty_packet_is_ignored() -> None:
    assert SampleBlock.build([], [1, 2], np.zeros((0, 2)), np.zeros((0, 2))) is None
    assert SampleBlock.build([1], [], np.zeros((1, 0)), np.zeros((1, 0))) is None


def test_unsubscribed_parameters_are_dropped_from_the_buffer() -> None:
    buffer = SessionBuffer(100, 10)
    block = SampleBlock.build([0, 1], [1, 2], [[1, 2], [3, 4]], [[1, 1], [1, 1]])
    assert block is not None
    buffer.add("A", block)
    buffer.drop_parameters([1])
    final = buffer.finish()
    assert final is not None
    assert [p for p, *_ in final.series()] == [0]


def test_samples_after_the_end_of_the_session_are_late() -> None:
    buffer = SessionBuffer(100, 10)
    _single(buffer, "A", 0, 5)
    assert buffer.finish() is not None
    assert _single(buffer, "A", 0, 1000) is None
    assert buffer.late_sample_count == 1


def test_last_time_info_per_stream() -> None:
    buffer = SessionBuffer(100, 10)
    _single(buffer, "A", 0, 5)
    _single(buffer, "B", 1, 7)
    buffer.note_time("", 3)
    assert buffer.last_time_info() == [("", 3), ("A", 5), ("B", 7)]


@pytest.mark.parametrize("window, slide", [(0, 1), (-5, 1), (10, 0)])
def test_invalid_window_or_slide(window: int, slide: int) -> None:
    with pytest.raises(ValueError, match="must be > 0"):
        SessionBuffer(window, slide)
