"""Buffering and interpolation throughput on 50M samples over 20 parameters, against pandas.

Run: ``python benchmarks/interpolation.py [--samples N]``. The data are periodic 1 kHz
parameters, written as the live path would receive them (packets of 500 samples x 20
parameters on one stream), merged by the session buffer (3000 ms window, 5 % slide) and
resampled at 10 Hz (100 ms cells) by the grid accumulator. pandas computes the same statistics
(first/last/min/max/mean/count of the VALID samples per 100 ms cell) with
``resample().agg([...])`` on the same arrays: once per parameter (the same per-parameter layout
the library works on) and once as one wide frame (its best case: every parameter shares one
time index).
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from ma_dataplatforms_streaming_support_library.contracts.interpolation import (
    BatchResult,
    IBatchResultHandler,
)
from ma_dataplatforms_streaming_support_library.core.buffering.merged_block import (
    MergedBlock,
)
from ma_dataplatforms_streaming_support_library.core.buffering.sample_block import (
    SampleBlock,
)
from ma_dataplatforms_streaming_support_library.core.buffering.session_buffer import (
    SessionBuffer,
)
from ma_dataplatforms_streaming_support_library.core.interpolation.bucket_statistics import (
    BucketStatistics,
)
from ma_dataplatforms_streaming_support_library.core.interpolation.cell_results import (
    default_results,
)
from ma_dataplatforms_streaming_support_library.core.interpolation.subscription import (
    Subscription,
)

PARAMETERS = 20
INTERVAL_NS = 1_000_000  # 1 kHz
PACKET_SAMPLES = 500
CELL_NS = 100_000_000  # 10 Hz
START_NS = 1_700_000_000_000_000_000
MS = 1_000_000


def generate(per_parameter: int, missing_rate: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(42)
    timestamps = START_NS + np.arange(per_parameter, dtype=np.int64) * INTERVAL_NS
    values = rng.standard_normal((PARAMETERS, per_parameter))
    status = np.ones((PARAMETERS, per_parameter), dtype=np.int8)
    if missing_rate:
        hits = rng.random((PARAMETERS, per_parameter)) < missing_rate
        status[hits] = 2
    return timestamps, values, status


def run_buffering(timestamps, values, status) -> tuple[float, list[MergedBlock]]:
    buffer = SessionBuffer(3000 * MS, 150 * MS, name="bench")
    parameters = np.arange(PARAMETERS, dtype=np.int32)
    blocks: list[MergedBlock] = []
    began = time.perf_counter()
    for lo in range(0, timestamps.size, PACKET_SAMPLES):
        hi = lo + PACKET_SAMPLES
        block = SampleBlock.build(parameters, timestamps[lo:hi], values[:, lo:hi], status[:, lo:hi])
        assert block is not None
        released = buffer.add("", block)
        if released is not None:
            blocks.append(released)
    final = buffer.finish()
    if final is not None:
        blocks.append(final)
    return time.perf_counter() - began, blocks


class _Collector(IBatchResultHandler):
    """Keeps the batches; touches no result, so no result object is built during the timing."""

    def __init__(self) -> None:
        self.batches: list[BatchResult] = []

    def handle(self, result: BatchResult) -> None:
        self.batches.append(result)


def run_interpolation(blocks: list[MergedBlock]) -> tuple[float, BucketStatistics, int]:
    """The data reader's path: a subscription at 10 Hz, delivered at the default 10 Hz."""
    collector = _Collector()
    subscription = Subscription(
        "bench", [f"p{i}" for i in range(PARAMETERS)], range(PARAMETERS), CELL_NS, 0.1, collector
    )
    began = time.perf_counter()
    for block in blocks:
        subscription.on_block("Default", "bench", block)
    elapsed = time.perf_counter() - began
    chunks = [batch._builder.__closure__[0].cell_contents for batch in collector.batches]  # type: ignore[union-attr]
    return elapsed, BucketStatistics.concatenate(chunks), len(collector.batches)


def run_pandas_per_parameter(timestamps, values, status) -> tuple[float, pd.DataFrame]:
    index = pd.DatetimeIndex(timestamps)
    began = time.perf_counter()
    frames = []
    for row in range(PARAMETERS):
        series = pd.Series(np.where(status[row] == 1, values[row], np.nan), index=index)
        frames.append(
            series.resample("100ms").agg(["first", "last", "min", "max", "mean", "count"])
        )
    return time.perf_counter() - began, frames[-1]


def run_pandas_wide(timestamps, values, status) -> float:
    index = pd.DatetimeIndex(timestamps)
    began = time.perf_counter()
    frame = pd.DataFrame(np.where(status == 1, values, np.nan).T, index=index)
    frame.resample("100ms").agg(["first", "last", "min", "max", "mean", "count"])
    return time.perf_counter() - began


def check(stats: BucketStatistics, reference: pd.DataFrame) -> None:
    """The last parameter's statistics must equal pandas' (cells with samples)."""
    row = PARAMETERS - 1
    count = stats.count[row]
    expected = reference["count"].to_numpy()
    assert np.array_equal(count, expected), "count differs from pandas"
    for name in ("first", "last", "min", "max"):
        ours = getattr(stats, name)[row][count > 0]
        theirs = reference[name].to_numpy()[count > 0]
        assert np.array_equal(ours, theirs), f"{name} differs from pandas"
    assert np.allclose(stats.mean[row][count > 0], reference["mean"].to_numpy()[count > 0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=50_000_000)
    parser.add_argument("--missing-rate", type=float, default=0.0)
    args = parser.parse_args()
    per_parameter = args.samples // PARAMETERS
    total = per_parameter * PARAMETERS
    timestamps, values, status = generate(per_parameter, args.missing_rate)
    print(
        f"{total:,} samples: {PARAMETERS} parameters x {per_parameter:,} at 1 kHz, "
        f"packets of {PACKET_SAMPLES} samples, window 3000 ms / slide 150 ms, cells 100 ms, "
        f"MISSING rate {args.missing_rate}"
    )
    gc.collect()
    # Each phase runs twice and the faster run counts: the first run of a phase also pays for the
    # first touch of freshly mapped memory, which on a VM can cost more than the work itself.
    buffering_s, blocks = run_buffering(timestamps, values, status)
    del blocks
    again_s, blocks = run_buffering(timestamps, values, status)
    buffering_s = min(buffering_s, again_s)
    print(
        f"buffering      {buffering_s:7.3f} s  {total / buffering_s / 1e6:8.1f} M samples/s "
        f"({len(blocks):,} releases)"
    )
    interpolation_s, stats, batches = run_interpolation(blocks)
    interpolation_s = min(interpolation_s, run_interpolation(blocks)[0])
    print(
        f"interpolation  {interpolation_s:7.3f} s  {total / interpolation_s / 1e6:8.1f} M samples/s "
        f"({stats.cell_count:,} cells x {PARAMETERS} parameters in {batches} batches)"
    )
    del blocks
    began = time.perf_counter()
    results = default_results(stats, [f"p{i}" for i in range(PARAMETERS)])
    objects_s = time.perf_counter() - began
    print(
        f"DefaultResult objects {objects_s:7.3f} s  {len(results) / objects_s / 1e6:6.2f} M results/s"
    )
    del results
    pandas_s, reference = run_pandas_per_parameter(timestamps, values, status)
    pandas_s = min(pandas_s, run_pandas_per_parameter(timestamps, values, status)[0])
    check(stats, reference)
    wide_s = min(run_pandas_wide(timestamps, values, status) for _ in range(2))
    print(f"pandas per parameter {pandas_s:7.3f} s  {total / pandas_s / 1e6:8.1f} M samples/s")
    print(f"pandas wide frame    {wide_s:7.3f} s  {total / wide_s / 1e6:8.1f} M samples/s")
    print(f"ratio interpolation / pandas per parameter: {pandas_s / interpolation_s:5.2f}x")
    print(f"ratio interpolation / pandas wide frame:    {wide_s / interpolation_s:5.2f}x")
    pipeline_s = buffering_s + interpolation_s
    print(f"ratio buffering+interpolation / pandas per parameter: {pandas_s / pipeline_s:5.2f}x")


if __name__ == "__main__":
    main()
