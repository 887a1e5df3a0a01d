"""Buffering and interpolation throughput on 50M samples over 20 parameters, against pandas.

Run: ``python benchmarks/interpolation.py [--samples N] [--missing-rate R]``. The data are
periodic 1 kHz parameters, fed as the live path receives them (packets of 500 samples x 20
parameters on one stream) to the session buffer (3000 ms window, 5 % slide), whose releases go
to a data reader subscription at 10 Hz (100 ms cells) delivered every 25 releases. pandas
computes the same statistics (first/last/min/max/mean/count of the VALID samples per 100 ms
cell) with ``resample().agg([...])`` on the same arrays: once per parameter (the per-parameter
layout the library works on) and once as one wide frame (its best case: every parameter shares
one time index). Both results are checked against each other for the last parameter.
"""

from __future__ import annotations

import argparse
import gc
import time

import numpy as np
import numpy.typing as npt
import pandas as pd

from ma_dataplatforms_streaming_support_library.contracts.interpolation import (
    BatchResult,
    DefaultResult,
    IBatchResultHandler,
    IProcessResult,
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
from ma_dataplatforms_streaming_support_library.core.interpolation.subscription import (
    Subscription,
)

PARAMETERS = 20
INTERVAL_NS = 1_000_000  # 1 kHz
PACKET_SAMPLES = 500
CELL_NS = 100_000_000  # 10 Hz
START_NS = 1_700_000_000_000_000_000
MS = 1_000_000

Arrays = tuple[npt.NDArray[np.int64], npt.NDArray[np.float64], npt.NDArray[np.int8]]


def generate(per_parameter: int, missing_rate: float) -> Arrays:
    rng = np.random.default_rng(42)
    timestamps = START_NS + np.arange(per_parameter, dtype=np.int64) * INTERVAL_NS
    values = rng.standard_normal((PARAMETERS, per_parameter))
    status = np.ones((PARAMETERS, per_parameter), dtype=np.int8)
    if missing_rate:
        status[rng.random((PARAMETERS, per_parameter)) < missing_rate] = 2
    return timestamps, values, status


def run_buffering(arrays: Arrays) -> tuple[float, list[MergedBlock]]:
    timestamps, values, status = arrays
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
    """Keeps the batches; reads no result, so no result object is built while timing."""

    def __init__(self) -> None:
        self.batches: list[BatchResult] = []

    def handle(self, result: BatchResult) -> None:
        self.batches.append(result)


def run_interpolation(
    blocks: list[MergedBlock], blocks_per_delivery: int
) -> tuple[float, list[BatchResult]]:
    """Deliveries are forced every ``blocks_per_delivery`` releases, as the 10 Hz delivery clock
    would do for a reader that releases that many blocks per 100 ms (the default 10 Hz)."""
    collector = _Collector()
    names = [f"p{i}" for i in range(PARAMETERS)]
    subscription = Subscription("bench", names, range(PARAMETERS), CELL_NS, 3600 * 10**9, collector)
    began = time.perf_counter()
    for index, block in enumerate(blocks, 1):
        subscription.on_block("Default", "bench", block)
        if index % blocks_per_delivery == 0:
            subscription.deliver(force=True)
    return time.perf_counter() - began, collector.batches


def run_pandas_per_parameter(arrays: Arrays) -> tuple[float, pd.DataFrame]:
    timestamps, values, status = arrays
    index = pd.DatetimeIndex(timestamps)
    began = time.perf_counter()
    frames = []
    for row in range(PARAMETERS):
        series = pd.Series(np.where(status[row] == 1, values[row], np.nan), index=index)
        frames.append(
            series.resample("100ms").agg(["first", "last", "min", "max", "mean", "count"])
        )
    return time.perf_counter() - began, frames[-1]


def run_pandas_wide(arrays: Arrays) -> float:
    timestamps, values, status = arrays
    began = time.perf_counter()
    frame = pd.DataFrame(
        np.where(status == 1, values, np.nan).T, index=pd.DatetimeIndex(timestamps)
    )
    frame.resample("100ms").agg(["first", "last", "min", "max", "mean", "count"])
    return time.perf_counter() - began


def check(results: list[IProcessResult], reference: pd.DataFrame) -> None:
    """The last parameter's results must equal pandas' statistics, cell by cell."""
    mine = [r for r in results if r.identifier == f"p{PARAMETERS - 1}"]
    assert len(mine) == len(reference), "cell count differs from pandas"
    columns = {name: reference[name].to_numpy() for name in reference.columns}
    for index, result in enumerate(mine):
        assert isinstance(result, DefaultResult)
        assert result.count == columns["count"][index], "count differs from pandas"
        if result.count:
            for name in ("first", "last", "min", "max"):
                assert getattr(result, name) == columns[name][index], f"{name} differs"
            assert result.mean is not None and abs(result.mean - columns["mean"][index]) < 1e-9


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--samples", type=int, default=50_000_000)
    parser.add_argument("--missing-rate", type=float, default=0.0)
    parser.add_argument(
        "--blocks-per-delivery",
        type=int,
        default=25,
        help="releases between two deliveries (25 x 450 ms of data x 20 parameters = 225k samples)",
    )
    args = parser.parse_args()
    per_parameter = args.samples // PARAMETERS
    total = per_parameter * PARAMETERS
    arrays = generate(per_parameter, args.missing_rate)
    print(
        f"{total:,} samples: {PARAMETERS} parameters x {per_parameter:,} at 1 kHz, packets of "
        f"{PACKET_SAMPLES} samples, window 3000 ms / slide 150 ms, 100 ms cells, "
        f"MISSING rate {args.missing_rate}"
    )
    gc.collect()
    # Each phase runs three times and the fastest run counts: a first run also pays for the first
    # touch of freshly mapped memory (costly on a VM), and the machine is shared.
    buffering_s = float("inf")
    for _ in range(3):
        blocks: list[MergedBlock] = []
        seconds, blocks = run_buffering(arrays)
        buffering_s = min(buffering_s, seconds)
    interpolation_s = float("inf")
    for _ in range(3):
        seconds, batches = run_interpolation(blocks, args.blocks_per_delivery)
        interpolation_s = min(interpolation_s, seconds)
    releases = len(blocks)
    del blocks
    began = time.perf_counter()
    results = [r for batch in batches for r in batch.results]
    objects_s = time.perf_counter() - began
    pandas_s, reference = run_pandas_per_parameter(arrays)
    pandas_s = min(pandas_s, *(run_pandas_per_parameter(arrays)[0] for _ in range(2)))
    wide_s = min(run_pandas_wide(arrays) for _ in range(3))
    check(results, reference)

    def rate(seconds: float) -> str:
        return f"{seconds:7.3f} s {total / seconds / 1e6:8.1f} M samples/s"

    print(f"buffering              {rate(buffering_s)}  ({releases:,} releases)")
    print(f"interpolation          {rate(interpolation_s)}  ({len(batches)} batches)")
    print(f"buffering+interpolation{rate(buffering_s + interpolation_s)}")
    print(f"pandas per parameter   {rate(pandas_s)}")
    print(f"pandas wide frame      {rate(wide_s)}")
    print(
        f"DefaultResult objects  {objects_s:7.3f} s {len(results) / objects_s / 1e6:8.2f} M "
        f"results/s ({len(results):,}, built on first access)"
    )
    print(f"interpolation vs pandas per parameter: {pandas_s / interpolation_s:5.2f}x")
    print(f"interpolation vs pandas wide frame:    {wide_s / interpolation_s:5.2f}x")
    pipeline_s = buffering_s + interpolation_s
    print(f"buffering+interpolation vs pandas per parameter: {pandas_s / pipeline_s:5.2f}x")


if __name__ == "__main__":
    main()
