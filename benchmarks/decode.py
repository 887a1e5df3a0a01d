"""Decode throughput of PeriodicData samples: protobuf objects versus the columnar fast path.

Prints samples/s, best of a few repeats, for 100-sample and 10,000-sample packets of realistic
data (5% zeros, 2% MISSING statuses), and the ratios of the fast path to the baselines:

  (a) protobuf objects, reading every value and status in Python (what a plain reader does);
  (b) upb parsing alone (ParseFromString, no sample read);
  (c) columnar fast path, batch form (one contiguous series per parameter), from bytes;
  (d) columnar fast path, one block object per packet;
  (e) columnar fast path from whole Packet envelopes (read_envelopes + batch decode).

Run: python benchmarks/decode.py [--quick]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np

from ma_dataplatforms_streaming_support_library.columnar import (
    DecodeStats,
    decode_periodic,
    decode_periodic_batch,
    encode_periodic_batch,
    read_envelopes,
    wrap_packets,
)
from ma_dataplatforms_streaming_support_library.protos import open_data_pb2 as pb

TOTAL_SAMPLES = 1_000_000


def make_contents(packets: int, samples: int, seed: int = 1) -> list[bytes]:
    rng = np.random.default_rng(seed)
    values = rng.normal(50.0, 20.0, size=(packets, 1, samples))
    values[rng.random(values.shape) < 0.05] = 0.0
    status = np.where(rng.random(values.shape) < 0.02, 2, 1).astype(np.uint8)
    starts = 1_700_000_000_000_000_000 + np.arange(packets, dtype=np.uint64) * samples * 10_000_000
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
    contents = make_contents(packets, samples_per_packet)
    envelopes = wrap_packets(contents, "PeriodicData", session_key="bench")
    n = packets * samples_per_packet
    stats = DecodeStats()
    (batch,) = decode_periodic_batch(contents, stats=stats)
    assert batch.values.size == n and stats.fallback_packets == 0

    timings = {
        "(a) protobuf objects, every value+status": best_of(
            slow_repeats, lambda: protobuf_objects(contents)
        ),
        "(b) upb ParseFromString only": best_of(slow_repeats, lambda: upb_parse(contents)),
        "(c) fast path, batch form": best_of(
            repeats, lambda: decode_periodic_batch(contents, impl="numpy")
        ),
        "(d) fast path, per-packet blocks": best_of(
            repeats, lambda: decode_periodic(contents, impl="numpy")
        ),
        "(e) fast path from Packet envelopes": best_of(
            repeats,
            lambda: decode_periodic_batch(read_envelopes(envelopes).contents_of("PeriodicData")),
        ),
    }
    print(f"\n{packets} packets x {samples_per_packet} samples ({n:,} samples, 1 double column)")
    for name, seconds in timings.items():
        print(f"  {name:42s} {n / seconds / 1e6:9.1f} M samples/s   ({seconds * 1e3:8.1f} ms)")
    fast = timings["(c) fast path, batch form"]
    print(
        f"  ratio (c)/(a) = {timings['(a) protobuf objects, every value+status'] / fast:6.1f}x"
        f"   (c)/(b) = {timings['(b) upb ParseFromString only'] / fast:6.1f}x"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer samples and repeats")
    args = parser.parse_args()
    total = TOTAL_SAMPLES // 10 if args.quick else TOTAL_SAMPLES
    repeats, slow_repeats = (2, 1) if args.quick else (7, 3)
    began = time.perf_counter()
    print(f"numpy {np.__version__}; best of {repeats} (fast) / {slow_repeats} (protobuf) runs")
    run_case(100, repeats, slow_repeats, total)
    run_case(10_000, repeats, slow_repeats, total)
    print(f"\ntotal wall time {time.perf_counter() - began:.1f} s")


if __name__ == "__main__":
    main()
