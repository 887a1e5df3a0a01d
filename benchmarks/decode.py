"""Decode throughput of PeriodicData samples: native and NumPy parsers versus protobuf, side by side.

Prints samples/s, best of a few repeats, for 100-sample and 10,000-sample packets of realistic
data (5% zeros, 2% MISSING statuses), and the ratios of each columnar parser to upb parsing:

  (a) protobuf objects, reading every value and status in Python (what a plain reader does);
  (b) upb parsing alone (ParseFromString, no sample read);
  (c) columnar batch form (one contiguous series per parameter), from bytes;
  (d) columnar, one block object per packet;
  (e) columnar from whole Packet envelopes (read_envelopes + batch decode);
  (f) columnar encode of the same packets (encode_periodic_batch).

(c) to (f) run once per implementation this installation has: native (the compiled extension,
when built) and numpy.

Run: python benchmarks/decode.py [--quick]
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable

import numpy as np

from ma_dataplatforms_streaming_support_library.columnar import (
    IMPL_ENVIRONMENT_VARIABLE,
    DecodeStats,
    available_implementations,
    decode_periodic,
    decode_periodic_batch,
    encode_periodic_batch,
    read_envelopes,
    wrap_packets,
)
from ma_dataplatforms_streaming_support_library.protos import open_data_pb2 as pb

TOTAL_SAMPLES = 1_000_000


def make_arrays(
    packets: int, samples: int, seed: int = 1
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    values = rng.normal(50.0, 20.0, size=(packets, 1, samples))
    values[rng.random(values.shape) < 0.05] = 0.0
    status = np.where(rng.random(values.shape) < 0.02, 2, 1).astype(np.uint8)
    starts = 1_700_000_000_000_000_000 + np.arange(packets, dtype=np.uint64) * samples * 10_000_000
    return values, status, starts


def make_contents(packets: int, samples: int, seed: int = 1) -> list[bytes]:
    values, status, starts = make_arrays(packets, samples, seed)
    return encode_periodic_batch(
        values, status, start_times_ns=starts, interval_ns=10_000_000, data_format=17
    )


def best_of(repeats: int, fn: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(repeats):
        began = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - began)
    return best


def protobuf_objects(contents: list[bytes]) -> None:
    values: list[float] = []
    status: list[int] = []
    for raw in contents:
        packet = pb.PeriodicDataPacket.FromString(raw)
        for column in packet.columns:
            for sample in column.double_samples.samples:
                values.append(sample.value)
                status.append(sample.status)
    np.array(values)
    np.array(status, dtype=np.int8)


def upb_parse(contents: list[bytes]) -> None:
    message = pb.PeriodicDataPacket()
    for raw in contents:
        message.ParseFromString(raw)


def run_case(samples_per_packet: int, repeats: int, slow_repeats: int, total: int) -> None:
    packets = total // samples_per_packet
    values, status, starts = make_arrays(packets, samples_per_packet)
    contents = make_contents(packets, samples_per_packet)
    envelopes = wrap_packets(contents, "PeriodicData", session_key="bench")
    n = packets * samples_per_packet
    timings = {
        "(a) protobuf objects, every value+status": best_of(
            slow_repeats, lambda: protobuf_objects(contents)
        ),
        "(b) upb ParseFromString only": best_of(slow_repeats, lambda: upb_parse(contents)),
    }
    for impl in [name for name in available_implementations() if name != "reference"]:
        stats = DecodeStats()
        (batch,) = decode_periodic_batch(contents, impl=impl, stats=stats)  # type: ignore[arg-type]
        assert batch.values.size == n and stats.fallback_packets == 0
        timings[f"(c) {impl}, batch form"] = best_of(
            repeats,
            lambda impl=impl: decode_periodic_batch(contents, impl=impl),  # type: ignore[misc]
        )
        timings[f"(d) {impl}, per-packet blocks"] = best_of(
            repeats,
            lambda impl=impl: decode_periodic(contents, impl=impl),  # type: ignore[misc]
        )
        timings[f"(e) {impl}, from Packet envelopes"] = best_of(
            repeats,
            lambda impl=impl: decode_periodic_batch(  # type: ignore[misc]
                read_envelopes(envelopes, impl=impl).contents_of("PeriodicData"), impl=impl
            ),
        )
        timings[f"(f) {impl}, encode"] = best_of(
            repeats, lambda impl=impl: encode(impl, values, status, starts)
        )  # type: ignore[misc]
    print(f"\n{packets} packets x {samples_per_packet} samples ({n:,} samples, 1 double column)")
    upb = timings["(b) upb ParseFromString only"]
    for name, seconds in timings.items():
        print(
            f"  {name:42s} {n / seconds / 1e6:9.1f} M samples/s   ({seconds * 1e3:8.1f} ms)"
            f"   {upb / seconds:5.2f}x upb"
        )


def encode(impl: str, values: np.ndarray, status: np.ndarray, starts: np.ndarray) -> None:
    """encode_periodic_batch with ``impl`` active (the encoder follows the active parser)."""
    previous = os.environ.get(IMPL_ENVIRONMENT_VARIABLE)
    os.environ[IMPL_ENVIRONMENT_VARIABLE] = impl
    try:
        encode_periodic_batch(
            values, status, start_times_ns=starts, interval_ns=10_000_000, data_format=17
        )
    finally:
        if previous is None:
            del os.environ[IMPL_ENVIRONMENT_VARIABLE]
        else:
            os.environ[IMPL_ENVIRONMENT_VARIABLE] = previous


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer samples and repeats")
    args = parser.parse_args()
    total = TOTAL_SAMPLES // 10 if args.quick else TOTAL_SAMPLES
    repeats, slow_repeats = (2, 1) if args.quick else (7, 3)
    began = time.perf_counter()
    print(
        f"numpy {np.__version__}; implementations {', '.join(available_implementations())}; "
        f"best of {repeats} (columnar) / {slow_repeats} (protobuf) runs"
    )
    run_case(100, repeats, slow_repeats, total)
    run_case(10_000, repeats, slow_repeats, total)
    print(f"\ntotal wall time {time.perf_counter() - began:.1f} s")


if __name__ == "__main__":
    main()
