"""A whole car: 50,000 channels at 1.5 kHz written through the session writer and read back.

Channels are grouped into PeriodicData packets as a logger would (100 channels x 50 ms = 75
samples each); the session is written with ``open_session_writer`` and read back with
``read_session``, on the embedded store and on a Kafka-protocol broker (tansu, started here, or
``--broker``; noida-db, ``--kafka-broker noida``, answers a fetch with the whole partition,
ignoring fetch size limits, and librdkafka refuses the 1.2 GB answer a whole car makes). Prints samples/s each way, the ratio to real time (a car produces 75M samples/s),
bytes on disk per sample (embedded) and peak RSS. Goal: write and read >= 1.0x real time.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from ma_dataplatforms_streaming_support_library import open_session_writer, read_session

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.kafka_broker import BrokerProcess

CHANNELS_PER_PACKET = 100
RATE_HZ = 1_500
PACKET_MS = 50
T0 = 1_700_000_000_000_000_000


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def write_car(broker_list: str, channels: int, seconds: float) -> tuple[str, float, int]:
    """(session key, seconds to write, samples written)."""
    samples = int(RATE_HZ * seconds)
    interval_ns = 1_000_000_000 // RATE_HZ
    per_packet = RATE_HZ * PACKET_MS // 1000
    rng = np.random.default_rng(0)
    group = rng.normal(size=(CHANNELS_PER_PACKET, samples))
    started = time.perf_counter()
    groups = [
        [f"ch{c}:Car" for c in range(first, min(first + CHANNELS_PER_PACKET, channels))]
        for first in range(0, channels, CHANNELS_PER_PACKET)
    ]
    with open_session_writer(broker_list, data_source="Car", identifier="whole car") as writer:
        writer.declare(groups)  # every packet layout's data format id in one round trip
        for names in groups:
            writer.write_periodic(
                names, T0, interval_ns, group[: len(names)], samples_per_packet=per_packet
            )
    return writer.session_key, time.perf_counter() - started, channels * samples


def read_car(broker_list: str, session_key: str) -> tuple[float, int]:
    started = time.perf_counter()
    data = read_session(session_key, broker_list, timeout_s=60)
    return time.perf_counter() - started, data.sample_count


def report(where: str, written: int, write_s: float, read_s: float, read: int) -> None:
    car_rate = 75_000_000
    print(f"{where}:")
    print(
        f"  write : {written / write_s / 1e6:8.1f} M samples/s  "
        f"({written / write_s / car_rate:.2f}x real time)"
    )
    print(
        f"  read  : {read / read_s / 1e6:8.1f} M samples/s  "
        f"({read / read_s / car_rate:.2f}x real time)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--channels", type=int, default=50_000)
    parser.add_argument("--seconds", type=float, default=2.0, help="car time written")
    parser.add_argument(
        "--broker", default="", help="an existing Kafka cluster (default: one started here)"
    )
    parser.add_argument(
        "--kafka-broker",
        choices=("tansu", "noida"),
        default="tansu",
        help="started when no --broker",
    )
    parser.add_argument("--skip-kafka", action="store_true")
    args = parser.parse_args()
    total = args.channels * int(RATE_HZ * args.seconds)
    print(
        f"{args.channels:,} channels x {RATE_HZ} Hz x {args.seconds:g} s = {total / 1e6:.0f}M samples"
    )
    with tempfile.TemporaryDirectory() as directory:
        store = Path(directory) / "car.db"
        key, write_s, written = write_car(f"embedded:{store}", args.channels, args.seconds)
        on_disk = sum(p.stat().st_size for p in Path(directory).iterdir())
        read_s, read = read_car(f"embedded:{store}", key)
        report("embedded store", written, write_s, read_s, read)
        print(f"  disk  : {on_disk / written:.2f} bytes per sample")
    if not args.skip_kafka:
        broker = None
        bootstrap = args.broker
        if not bootstrap:
            broker = BrokerProcess(args.kafka_broker, Path(tempfile.mkdtemp(prefix="bench-car-")))
            broker.start()
            bootstrap = broker.bootstrap
        try:
            key, write_s, written = write_car(bootstrap, args.channels, args.seconds)
            read_s, read = read_car(bootstrap, key)
            report(f"Kafka ({bootstrap})", written, write_s, read_s, read)
        finally:
            if broker is not None:
                broker.stop()
    print(f"peak RSS: {peak_rss_mb():,.0f} MB")


if __name__ == "__main__":
    main()
