"""Kafka path, side by side in one run against a local Kafka-protocol broker (noida-db) or --broker:

1. writer service packets/s vs a raw confluent-kafka producer sending the same bytes (same
   producer settings: zstd, acks=all, idempotence) — goal >= 0.8x;
2. historic reader packets/s (packet reader service) vs a raw confluent-kafka consumer reading the
   same records — goal >= 0.8x;
3. live end-to-end latency (write_data → handler) at 1,000 packets/s, p50/p99 — goal p99 <= 20 ms;
4. NumPy arrays (100 channels) through the session writer (``write_periodic``: encode, split,
   write, flush) vs the raw producer sending the same encoded packets — goal >= 0.8x.
The idempotent producer's first-delivery wait (~0.5 s) is excluded: the clients are warmed first.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from ma_dataplatforms_streaming_support_library import open_session_writer
from ma_dataplatforms_streaming_support_library.contracts.packet_reading.packet_reading_configuration import (
    PacketReadingConfiguration,
)
from ma_dataplatforms_streaming_support_library.contracts.packet_reading.packet_reading_type import (
    PacketReadingType,
)
from ma_dataplatforms_streaming_support_library.contracts.packet_reading.received_packet_dto import (
    ReceivedPacketDto,
)
from ma_dataplatforms_streaming_support_library.contracts.packet_writing.packet_bytes import (
    PacketBytes,
)
from ma_dataplatforms_streaming_support_library.contracts.session_management.session_creation_info import (
    SessionCreationInfo,
)
from ma_dataplatforms_streaming_support_library.contracts.shared.i_handler import IHandler
from ma_dataplatforms_streaming_support_library.contracts.shared.stream_api_configuration import (
    StreamingApiConfiguration,
)
from ma_dataplatforms_streaming_support_library.contracts.shared.stream_creation_strategy import (
    StreamCreationStrategy,
)
from ma_dataplatforms_streaming_support_library.core.base.logger import Logger
from ma_dataplatforms_streaming_support_library.core.base.support_library_bootstrapper import (
    SupportLibraryBootstrapper,
)
from ma_dataplatforms_streaming_support_library.protos import open_data_pb2 as od

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from write_embedded import encoded_packets  # the same packets as that benchmark's baseline

from tests.kafka_broker import BrokerProcess

PRODUCER_SETTINGS = {"compression.type": "zstd", "acks": "all", "enable.idempotence": True}
CHANNELS = 100
T0 = 1_700_000_000_000_000_000


def periodic_packet(session_key: str, index: int, sent_ns: int = 0) -> bytes:
    content = od.PeriodicDataPacket(
        data_format=od.SampleDataFormat(data_format_identifier=1),
        start_time=sent_ns or 1_700_000_000_000_000_000 + index * 1_000_000_000,
        interval=10_000_000,
    )
    samples = content.columns.add().double_samples.samples
    for sample in range(100):
        samples.add(value=index + sample * 0.01 + 0.5, status=od.DATA_STATUS_VALID)
    return od.Packet(
        type="PeriodicData", session_key=session_key, content=content.SerializeToString()
    ).SerializeToString()


class Counter(IHandler[ReceivedPacketDto]):
    def __init__(self, expected: int) -> None:
        self.expected = expected
        self.count = 0
        self.first = 0.0
        self.done = threading.Event()
        self.latencies_ns: list[int] = []

    def handle(self, obj: ReceivedPacketDto) -> None:
        if not self.count:
            self.first = time.perf_counter()
        self.count += 1
        if self.count >= self.expected:
            self.done.set()


class LatencyProbe(Counter):
    def handle(self, obj: ReceivedPacketDto) -> None:
        envelope = od.Packet.FromString(obj.packet_bytes.data)
        if envelope.type == "PeriodicData":
            sent = od.PeriodicDataPacket.FromString(envelope.content).start_time
            self.latencies_ns.append(time.time_ns() - sent)
        super().handle(obj)


def raw_produce(bootstrap: str, topic: str, key: bytes, packets: list[bytes]) -> float:
    producer = Producer({"bootstrap.servers": bootstrap, **PRODUCER_SETTINGS})
    producer.produce(topic, value=b"warm-up", key=key, partition=0)
    producer.flush(30)
    failures: list[Any] = []

    def delivered(error: Any, _message: Any) -> None:
        if error is not None:
            failures.append(error)

    started = time.perf_counter()
    for value in packets:
        while True:
            try:
                producer.produce(topic, value=value, key=key, partition=0, on_delivery=delivered)
                break
            except BufferError:
                producer.poll(0.01)
        producer.poll(0)
    producer.flush(60)
    elapsed = time.perf_counter() - started
    assert not failures, failures[:3]
    return elapsed


class ReadTiming(NamedTuple):
    """Seconds from start to the last record, and from start to the first one."""

    total_s: float
    first_s: float


def streaming_rate(count: int, timing: ReadTiming) -> float:
    """Records per second after the first one arrived."""
    return (count - 1) / max(timing.total_s - timing.first_s, 1e-9)


def raw_consume(bootstrap: str, topic: str, key: bytes, count: int) -> ReadTiming:
    """The records of ``key``, as a competent raw consumer reads them: batches of 500 (at 1,000,
    each batch's Message objects set off the garbage collector, and in this process's heap its
    full collections cost 30-60 ms of a ~200 ms read), with the session-key check the library
    makes too."""
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"bench-{uuid.uuid4().hex}",
            "enable.auto.commit": False,
        }
    )
    started = time.perf_counter()
    consumer.assign([TopicPartition(topic, 0, 1)])
    seen = 0
    first = 0.0
    while seen < count:
        for message in consumer.consume(500, 1.0):
            if message.error() is None and message.key() == key:
                seen += 1
                first = first or time.perf_counter()
    elapsed = time.perf_counter() - started
    consumer.close()
    return ReadTiming(elapsed, first - started)


def library(bootstrap: str) -> Any:
    configuration = StreamingApiConfiguration(bootstrap, StreamCreationStrategy.TOPIC_BASE, [], 30)
    lib = SupportLibraryBootstrapper.bootstrap(configuration, Logger()).create()
    lib.start()
    return lib


def service(module_api: Any) -> Any:
    created = module_api.create_service().data
    created.start()
    return created


def writer_and_reader(bootstrap: str, packets: int) -> tuple[float, ReadTiming]:
    lib = library(bootstrap)
    sessions = service(lib.get_session_manager_api())
    writer = service(lib.get_writing_packet_api())
    key = sessions.create_new_session(
        SessionCreationInfo("BenchKafka", "throughput")
    ).data.session_key
    payloads = [PacketBytes(periodic_packet(key, i)) for i in range(packets)]
    warm = writer.write_data("BenchKafka", "Car", key, payloads[0])
    assert warm.success and writer.flush().success
    started = time.perf_counter()
    for payload in payloads[1:]:
        result = writer.write_data("BenchKafka", "Car", key, payload)
        if not result.success:
            raise RuntimeError(result.error_message)
    assert writer.flush().success
    write_s = time.perf_counter() - started
    assert sessions.end_session("BenchKafka", key).success

    reader = lib.get_reading_packet_api().create_service("BenchKafka", key).data
    counter = Counter(packets)
    completed = threading.Event()
    # Events wired before set_handler: the reader starts at once (no pause for late subscribers).
    reader.session_reading_completed.subscribe(lambda _sender, _info: completed.set())
    reader.start()
    started = time.perf_counter()
    reader.set_handler(counter)
    if not completed.wait(300) or counter.count != packets:
        raise RuntimeError(f"reader delivered {counter.count} of {packets} packets")
    read = ReadTiming(time.perf_counter() - started, counter.first - started)
    reader.stop()
    lib.stop()
    return write_s * packets / (packets - 1), read


def new_topic(bootstrap: str, prefix: str) -> str:
    topic = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = AdminClient({"bootstrap.servers": bootstrap})
    for future in admin.create_topics([NewTopic(topic, 1, -1)]).values():
        future.result(30)
    return topic


def session_writer(bootstrap: str, values: np.ndarray) -> float:
    """Seconds to write ``values`` (channels, samples) through the session writer and flush,
    after a first write and flush that warm the idempotent producer up."""
    names = [f"p{i}:Bench" for i in range(values.shape[0])]
    with open_session_writer(bootstrap, data_source="BenchKafka", identifier="numpy") as writer:
        writer.marker("warm-up", T0)
        writer.flush()
        started = time.perf_counter()
        writer.write_periodic(names, T0, 1_000_000, values)
        writer.flush()
        return time.perf_counter() - started


def session_writer_line(bootstrap: str, samples_per_channel: int, rounds: int) -> None:
    values = np.random.default_rng(0).normal(size=(CHANNELS, samples_per_channel))
    packets = encoded_packets(values)
    best_raw = best_writer = float("inf")
    for _ in range(rounds):
        topic = new_topic(bootstrap, "bench_numpy")
        best_raw = min(best_raw, raw_produce(bootstrap, topic, b"k" * 36, packets))
        best_writer = min(best_writer, session_writer(bootstrap, values))
    samples = values.size
    print(
        f"{CHANNELS} channels x {samples_per_channel:,} doubles from NumPy ({len(packets)} packets "
        f"of ~{len(packets[0]) // 1000} kB), best of {rounds}"
    )
    print(f"  raw producer of the encoded packets : {samples / best_raw:>13,.0f} samples/s")
    print(
        f"  session writer (encode+write+flush) : {samples / best_writer:>13,.0f} samples/s   "
        f"ratio {best_raw / best_writer:.2f}x (goal >= 0.80x)"
    )


def live_latency(bootstrap: str, rate_hz: int, seconds: float) -> list[float]:
    lib = library(bootstrap)
    sessions = service(lib.get_session_manager_api())
    writer = service(lib.get_writing_packet_api())
    config = PacketReadingConfiguration("", 10, False, "BenchLive", "*", PacketReadingType.LIVE, [])
    reader = lib.get_reading_packet_api().create_service_with_config(config).data
    total = int(rate_hz * seconds)
    probe = LatencyProbe(total)
    reader.start()
    reader.set_handler(probe)
    time.sleep(0.5)
    key = sessions.create_new_session(SessionCreationInfo("BenchLive", "latency")).data.session_key
    writer.write_data("BenchLive", "Car", key, PacketBytes(periodic_packet(key, 0, time.time_ns())))
    writer.flush()
    time.sleep(1.0)
    probe.latencies_ns.clear()
    probe.count = 0
    period = 1.0 / rate_hz
    next_send = time.perf_counter()
    for index in range(total):
        next_send += period
        writer.write_data(
            "BenchLive", "Car", key, PacketBytes(periodic_packet(key, index, time.time_ns()))
        )
        pause = next_send - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
    probe.done.wait(30)
    reader.stop()
    lib.stop()
    return [latency / 1e6 for latency in probe.latencies_ns]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--broker", default="", help="an existing cluster (default: start noida-db)"
    )
    parser.add_argument("--packets", type=int, default=50_000)
    parser.add_argument("--seconds", type=float, default=5.0, help="live latency run length")
    parser.add_argument("--rounds", type=int, default=2, help="alternating raw/library rounds")
    parser.add_argument(
        "--samples", type=int, default=100_000, help="per channel, session writer line"
    )
    args = parser.parse_args()
    broker = None
    bootstrap = args.broker
    if not bootstrap:
        broker = BrokerProcess("noida", Path(tempfile.mkdtemp(prefix="bench-kafka-")))
        broker.start()
        bootstrap = broker.bootstrap
    try:
        key = str(uuid.uuid4())
        packets = [periodic_packet(key, i) for i in range(args.packets)]
        raw_write_s = write_s = float("inf")
        raw_read = read = ReadTiming(float("inf"), 0.0)
        # Rounds alternate raw and library runs and keep the best of each: the machine is shared.
        for _ in range(args.rounds):
            topic = new_topic(bootstrap, "bench_raw")
            raw_write_s = min(raw_write_s, raw_produce(bootstrap, topic, key.encode(), packets))
            raw_read = min(raw_read, raw_consume(bootstrap, topic, key.encode(), args.packets))
            round_write_s, round_read = writer_and_reader(bootstrap, args.packets)
            write_s, read = min(write_s, round_write_s), min(read, round_read)
        latencies = live_latency(bootstrap, 1000, args.seconds)
        session_writer_line(bootstrap, args.samples, args.rounds)
    finally:
        if broker is not None:
            broker.stop()
    n = args.packets
    print(
        f"{n} PeriodicData packets x 100 doubles ({len(packets[0])} bytes), broker {bootstrap}, "
        f"best of {args.rounds} alternating rounds"
    )
    print(f"  raw producer        : {n / raw_write_s:>9,.0f} packets/s")
    print(
        f"  writer service      : {n / write_s:>9,.0f} packets/s   ratio {raw_write_s / write_s:.2f}x (goal >= 0.80x)"
    )
    print(f"  raw consumer        : {n / raw_read.total_s:>9,.0f} packets/s")
    print(
        f"  historic reader     : {n / read.total_s:>9,.0f} packets/s   ratio {raw_read.total_s / read.total_s:.2f}x (goal >= 0.80x)"
    )
    print(
        f"    first record after {1000 * read.first_s:.0f} ms (raw {1000 * raw_read.first_s:.0f} ms: "
        f"the broker's first fetch), then {streaming_rate(n, read):,.0f} packets/s "
        f"(raw {streaming_rate(n, raw_read):,.0f})"
    )
    if latencies:
        ordered = sorted(latencies)
        p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
        print(
            f"  live latency @1 kHz : p50 {statistics.median(ordered):.2f} ms, p99 {p99:.2f} ms, "
            f"max {ordered[-1]:.2f} ms over {len(ordered)} packets (goal p99 <= 20 ms)"
        )


if __name__ == "__main__":
    main()
