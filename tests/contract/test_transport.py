"""The Transport contract: one suite, run on the embedded store, the memory log and Kafka
(``transport``).

Tests marked ``kafka`` at the bottom need no embedded twin: an unreachable broker, librdkafka
properties, Kafka's topic-name rules, and a broker restart.
"""

from __future__ import annotations

import logging
import random
import sqlite3
import threading
import time
import zlib
from pathlib import Path

import pytest
from kafka_broker import BrokerProcess, free_port

from ma_dataplatforms_streaming_support_library.transport import (
    Consumer,
    Record,
    Transport,
    TransportError,
)
from ma_dataplatforms_streaming_support_library.transport.embedded import EmbeddedTransport
from ma_dataplatforms_streaming_support_library.transport.kafka.transport import KafkaTransport
from ma_dataplatforms_streaming_support_library.transport.sqlite_log import PAGE_SIZE

FOLLOW_TIMEOUT_S = 20.0


def collect(consumer: Consumer, count: int, timeout_s: float = FOLLOW_TIMEOUT_S) -> list[Record]:
    """Poll until ``count`` records arrived (or the deadline passed), then return them all."""
    records: list[Record] = []
    deadline = time.monotonic() + timeout_s
    while len(records) < count and time.monotonic() < deadline:
        records.extend(consumer.poll(1000, 0.2))
    return records


def produce_values(
    transport: Transport, topic: str, partition: int | None, values: list[bytes]
) -> None:
    for value in values:
        transport.produce(topic, partition, b"key", value)


def values_of(records: list[Record]) -> list[bytes]:
    return [record.value for record in records]


def numbered(prefix: str, count: int) -> list[bytes]:
    return [f"{prefix}-{i}".encode() for i in range(count)]


# topics ---------------------------------------------------------------------------------------
def test_create_topics_lists_them_with_their_partition_counts(
    transport: Transport, data_source: str
) -> None:
    one, three = f"{data_source}_one", f"{data_source}_three"
    transport.create_topics({one: 1, three: 3})

    topics = transport.list_topics()

    assert topics[one] == 1
    assert topics[three] == 3


def test_create_topics_is_idempotent_and_leaves_existing_topics_alone(
    transport: Transport, data_source: str
) -> None:
    topic = f"{data_source}_main"
    transport.create_topics({topic: 2})
    transport.produce(topic, 1, b"k", b"kept")
    transport.flush(10)

    transport.create_topics({topic: 2})
    transport.create_topics({topic: 5, f"{data_source}_other": 1})

    topics = transport.list_topics()
    assert topics[topic] == 2
    assert topics[f"{data_source}_other"] == 1
    assert transport.end_offsets(topic) == {0: 0, 1: 1}


def test_create_topics_rejects_a_partition_count_below_one(
    transport: Transport, data_source: str
) -> None:
    with pytest.raises(TransportError):
        transport.create_topics({data_source: 0})
    assert data_source not in transport.list_topics()


# produce and read back ------------------------------------------------------------------------
def test_produced_records_read_back_by_range(transport: Transport, data_source: str) -> None:
    transport.create_topics({data_source: 1})
    values = numbered("v", 10)
    produce_values(transport, data_source, 0, values)
    transport.flush(10)

    everything = transport.read_range(data_source, 0, 0, 10)
    middle = transport.read_range(data_source, 0, 3, 7)
    past_the_end = transport.read_range(data_source, 0, 8, 1000)

    assert values_of(everything) == values
    assert [r.offset for r in everything] == list(range(10))
    assert all(r.topic == data_source and r.partition == 0 and r.key == b"key" for r in everything)
    assert [r.offset for r in middle] == [3, 4, 5, 6]
    assert values_of(past_the_end) == values[8:]
    assert transport.read_range(data_source, 0, 5, 5) == []
    assert transport.take_delivery_failures() == []


def test_records_carry_the_producer_clock_as_timestamp(
    transport: Transport, data_source: str
) -> None:
    transport.create_topics({data_source: 1})
    before_ms = int(time.time() * 1000)
    transport.produce(data_source, 0, None, b"x")
    transport.flush(10)
    after_ms = int(time.time() * 1000)

    (record,) = transport.read_range(data_source, 0, 0, 1)

    assert before_ms - 1 <= record.timestamp_ms <= after_ms + 1


def test_a_record_keeps_the_timestamp_it_was_produced_with(
    transport: Transport, data_source: str
) -> None:
    transport.create_topics({data_source: 2})
    transport.produce(data_source, 1, b"k", b"given", timestamp_ms=1_600_000_000_123)
    transport.produce(data_source, None, b"k", b"keyed", timestamp_ms=1_600_000_000_456)
    transport.flush(10)

    records = [
        record
        for partition in (0, 1)
        for record in transport.read_range(
            data_source, partition, 0, transport.end_offsets(data_source)[partition]
        )
    ]

    assert {r.value: r.timestamp_ms for r in records} == {
        b"given": 1_600_000_000_123,
        b"keyed": 1_600_000_000_456,
    }


def test_null_key_empty_key_and_empty_value_are_preserved(
    transport: Transport, data_source: str
) -> None:
    transport.create_topics({data_source: 1})
    transport.produce(data_source, 0, None, b"null key")
    transport.produce(data_source, 0, b"", b"empty key")
    transport.produce(data_source, 0, b"k", b"")
    transport.flush(10)

    records = transport.read_range(data_source, 0, 0, 3)

    assert [(r.key, r.value) for r in records] == [
        (None, b"null key"),
        (b"", b"empty key"),
        (b"k", b""),
    ]


def test_end_offsets_are_exact_after_multi_record_batches(
    transport: Transport, data_source: str
) -> None:
    transport.create_topics({data_source: 3})
    # No flush between records, so the producer batches them: tansu's ListOffsets counts a stored
    # batch as one record (its broker-quirks profile corrects that).
    produce_values(transport, data_source, 0, numbered("a", 50))
    transport.flush(10)
    assert transport.end_offsets(data_source) == {0: 50, 1: 0, 2: 0}

    produce_values(transport, data_source, 2, numbered("b", 30))
    produce_values(transport, data_source, 0, numbered("c", 7))
    transport.flush(10)
    assert transport.end_offsets(data_source) == {0: 57, 1: 0, 2: 30}
    assert [r.offset for r in transport.read_range(data_source, 2, 0, 1000)] == list(range(30))


def test_offsets_of_a_missing_topic_are_empty(transport: Transport, data_source: str) -> None:
    assert transport.end_offsets(f"{data_source}_missing") == {}
    assert transport.beginning_offsets(f"{data_source}_missing") == {}


def test_beginning_offsets_start_at_zero(transport: Transport, data_source: str) -> None:
    transport.create_topics({data_source: 2})
    produce_values(transport, data_source, 1, numbered("v", 5))
    transport.flush(10)

    assert transport.beginning_offsets(data_source) == {0: 0, 1: 0}


def test_offset_for_time_finds_the_first_record_at_or_after_a_time(
    transport: Transport, data_source: str
) -> None:
    transport.create_topics({data_source: 1})
    produce_values(transport, data_source, 0, numbered("early", 5))
    transport.flush(10)
    time.sleep(0.05)
    between_ms = int(time.time() * 1000) + 1
    time.sleep(0.05)
    produce_values(transport, data_source, 0, numbered("late", 4))
    transport.flush(10)
    early = transport.read_range(data_source, 0, 0, 5)
    late = transport.read_range(data_source, 0, 5, 9)
    assert max(r.timestamp_ms for r in early) < between_ms <= min(r.timestamp_ms for r in late)

    assert transport.offset_for_time(data_source, 0, between_ms) == 5
    assert transport.offset_for_time(data_source, 0, 0) == 0
    assert transport.offset_for_time(data_source, 0, late[-1].timestamp_ms) == 5 + next(
        i for i, r in enumerate(late) if r.timestamp_ms == late[-1].timestamp_ms
    )
    assert transport.offset_for_time(data_source, 0, int(time.time() * 1000) + 3_600_000) == 9


def test_partition_none_places_records_by_crc32_of_the_key(
    transport: Transport, data_source: str
) -> None:
    transport.create_topics({data_source: 4})
    keys = [f"session-{i}".encode() for i in range(24)]
    for key in keys * 2:
        transport.produce(data_source, None, key, key)
    transport.flush(10)

    partition_of: dict[bytes, set[int]] = {}
    for partition in range(4):
        for record in transport.read_range(data_source, partition, 0, 1000):
            assert record.key == record.value
            partition_of.setdefault(record.value, set()).add(partition)

    assert sorted(partition_of) == sorted(keys)
    # librdkafka's default partitioner (consistent_random) hashes non-empty keys with CRC32.
    assert partition_of == {key: {zlib.crc32(key) % 4} for key in keys}
    assert len({p for ps in partition_of.values() for p in ps}) > 1


# rejected records -----------------------------------------------------------------------------
def test_producing_to_a_missing_topic_or_partition_is_rejected(
    transport: Transport, data_source: str
) -> None:
    transport.create_topics({data_source: 2})

    with pytest.raises(TransportError, match=f"{data_source}_missing"):
        transport.produce(f"{data_source}_missing", 0, b"k", b"v")
    with pytest.raises(TransportError, match="partition"):
        transport.produce(data_source, 2, b"k", b"v")
    transport.flush(10)
    assert transport.end_offsets(data_source) == {0: 0, 1: 0}


def test_an_oversized_record_fails_loudly_naming_its_topic(
    transport: Transport, data_source: str
) -> None:
    transport.create_topics({data_source: 1})
    with pytest.raises(TransportError, match=data_source):
        transport.produce(data_source, 0, b"k", b"x" * 2_000_000)
        transport.flush(10)
    transport.produce(data_source, 0, b"k", b"small")
    transport.flush(10)

    assert values_of(transport.read_range(data_source, 0, 0, 10)) == [b"small"]


# consumers ------------------------------------------------------------------------------------
def test_a_consumer_follows_records_produced_after_assign(
    transport: Transport, data_source: str
) -> None:
    transport.create_topics({data_source: 1})
    values = numbered("live", 40)
    with transport.consumer() as consumer:
        consumer.assign({(data_source, 0): 0})
        assert consumer.poll(100, 0.2) == []
        produce_values(transport, data_source, 0, values[:15])
        transport.flush(10)
        first = collect(consumer, 15)
        produce_values(transport, data_source, 0, values[15:])
        transport.flush(10)
        second = collect(consumer, 25)
        extra = consumer.poll(100, 0.5)

    records = first + second
    assert values_of(records) == values
    assert [r.offset for r in records] == list(range(40))
    assert extra == []


def test_a_consumer_assigned_mid_partition_starts_there(
    transport: Transport, data_source: str
) -> None:
    transport.create_topics({data_source: 1})
    values = numbered("v", 10)
    produce_values(transport, data_source, 0, values)
    transport.flush(10)

    with transport.consumer() as consumer:
        consumer.assign({(data_source, 0): 4})
        records = collect(consumer, 6)
        consumer.assign({(data_source, 0): 8})
        again = collect(consumer, 2)
        extra = consumer.poll(100, 0.3)

    assert [r.offset for r in records] == [4, 5, 6, 7, 8, 9]
    assert values_of(records) == values[4:]
    assert [r.offset for r in again] == [8, 9]
    assert extra == []


def test_a_consumer_reads_several_partitions_each_in_order(
    transport: Transport, data_source: str
) -> None:
    transport.create_topics({data_source: 3})
    for partition in range(3):
        produce_values(transport, data_source, partition, numbered(f"p{partition}", 20))
    transport.flush(10)

    with transport.consumer() as consumer:
        consumer.assign({(data_source, 0): 0, (data_source, 1): 5})
        consumer.assign({(data_source, 2): 10})
        records = collect(consumer, 20 + 15 + 10)
        consumer.unassign([(data_source, 0), (data_source, 1), (data_source, 7)])
        produce_values(transport, data_source, 0, numbered("after", 3))
        produce_values(transport, data_source, 2, numbered("after", 3))
        transport.flush(10)
        after = collect(consumer, 3)
        extra = consumer.poll(100, 0.3)

    by_partition = {p: [r for r in records if r.partition == p] for p in range(3)}
    assert [r.offset for r in by_partition[0]] == list(range(20))
    assert [r.offset for r in by_partition[1]] == list(range(5, 20))
    assert [r.offset for r in by_partition[2]] == list(range(10, 20))
    assert values_of(by_partition[1]) == numbered("p1", 20)[5:]
    assert [(r.partition, r.offset) for r in after] == [(2, 20), (2, 21), (2, 22)]
    assert extra == []


def test_a_consumer_assigned_past_the_end_returns_records_from_that_offset_only(
    transport: Transport, data_source: str
) -> None:
    transport.create_topics({data_source: 1})
    produce_values(transport, data_source, 0, numbered("before", 3))
    transport.flush(10)

    with transport.consumer() as consumer:
        consumer.assign({(data_source, 0): 5})
        early = consumer.poll(100, 0.5)
        produce_values(transport, data_source, 0, numbered("after", 4))  # offsets 3..6
        transport.flush(10)
        records = collect(consumer, 2)
        extra = consumer.poll(100, 0.3)

    assert early == []
    assert [(r.offset, r.value) for r in records] == [(5, b"after-2"), (6, b"after-3")]
    assert extra == []


def test_poll_returns_at_most_max_records(transport: Transport, data_source: str) -> None:
    transport.create_topics({data_source: 1})
    produce_values(transport, data_source, 0, numbered("v", 30))
    transport.flush(10)

    with transport.consumer() as consumer:
        consumer.assign({(data_source, 0): 0})
        batches: list[list[Record]] = []
        deadline = time.monotonic() + FOLLOW_TIMEOUT_S
        while sum(map(len, batches)) < 30 and time.monotonic() < deadline:
            batches.append(consumer.poll(7, 0.2))

    assert all(len(batch) <= 7 for batch in batches)
    assert [r.offset for batch in batches for r in batch] == list(range(30))


def test_two_producing_threads_and_one_following_consumer(
    transport: Transport, data_source: str
) -> None:
    transport.create_topics({data_source: 2})
    per_thread = 400
    errors: list[BaseException] = []

    def produce_to(partition: int) -> None:
        try:
            for i in range(per_thread):
                transport.produce(data_source, partition, b"k", f"{partition}:{i}".encode())
                if i % 100 == 99:
                    time.sleep(0.01)
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    with transport.consumer() as consumer:
        consumer.assign({(data_source, 0): 0, (data_source, 1): 0})
        threads = [threading.Thread(target=produce_to, args=(p,)) for p in (0, 1)]
        for thread in threads:
            thread.start()
        records = collect(consumer, 0)  # nothing yet is fine; start following while producing
        flusher = threading.Thread(target=lambda: [t.join() for t in threads] and None)
        flusher.start()
        flusher.join()
        transport.flush(10)
        records += collect(consumer, 2 * per_thread - len(records))
        extra = consumer.poll(1000, 0.5)

    assert errors == []
    for partition in (0, 1):
        mine = [r for r in records if r.partition == partition]
        assert [r.offset for r in mine] == list(range(per_thread))
        assert values_of(mine) == [f"{partition}:{i}".encode() for i in range(per_thread)]
    assert extra == []


def test_a_consumer_idle_between_bursts_misses_and_repeats_nothing(
    transport: Transport, data_source: str
) -> None:
    """Records trickle in with quiet spells shorter and longer than an idle partition's pause."""
    transport.create_topics({data_source: 2})
    rng = random.Random(7)
    expected: dict[int, list[bytes]] = {0: [], 1: []}
    received: list[Record] = []
    with transport.consumer() as consumer:
        consumer.assign({(data_source, 0): 0, (data_source, 1): 0})
        for burst in range(40):
            partition = burst % 2
            for i in range(rng.randint(1, 4)):
                value = f"{burst}:{i}".encode()
                transport.produce(data_source, partition, b"k", value)
                expected[partition].append(value)
            transport.flush(10)
            quiet_until = time.monotonic() + rng.uniform(0.0, 0.04)
            while time.monotonic() < quiet_until:
                received += consumer.poll(100, 0.005)
        received += collect(consumer, sum(map(len, expected.values())) - len(received))
        extra = consumer.poll(100, 0.3)

    for partition in (0, 1):
        mine = [r for r in received if r.partition == partition]
        assert [r.offset for r in mine] == list(range(len(expected[partition])))
        assert values_of(mine) == expected[partition]
    assert extra == []


def test_an_idle_partition_can_be_assigned_again_or_unassigned(
    transport: Transport, data_source: str
) -> None:
    transport.create_topics({data_source: 2})
    produce_values(transport, data_source, 0, numbered("a", 5))
    produce_values(transport, data_source, 1, numbered("b", 5))
    transport.flush(10)
    with transport.consumer() as consumer:
        consumer.assign({(data_source, 0): 0, (data_source, 1): 0})
        assert len(collect(consumer, 10)) == 10
        assert consumer.poll(100, 0.2) == []  # both partitions idle at their end
        consumer.assign({(data_source, 0): 3})
        consumer.unassign([(data_source, 1)])
        produce_values(transport, data_source, 1, numbered("late", 2))
        transport.flush(10)
        again = collect(consumer, 2)
        extra = consumer.poll(100, 0.3)

    assert [(r.partition, r.offset) for r in again] == [(0, 3), (0, 4)]
    assert extra == []


#: a poll timeout no test waits out: a poll that ends did so because it was woken or fed
HOUR_S = 3600.0


def polling(consumer: Consumer) -> tuple[threading.Thread, list[list[Record]]]:
    """A thread running one hour-long poll of ``consumer``, and where its result goes."""
    results: list[list[Record]] = []
    thread = threading.Thread(target=lambda: results.append(consumer.poll(100, HOUR_S)))
    thread.start()
    return thread, results


def test_a_wake_before_a_poll_ends_that_poll_with_what_it_has(
    transport: Transport, data_source: str
) -> None:
    transport.create_topics({data_source: 1})
    with transport.consumer() as consumer:
        consumer.assign({(data_source, 0): 0})
        consumer.wake()
        thread, results = polling(consumer)
        thread.join(FOLLOW_TIMEOUT_S)
        alive = thread.is_alive()
        consumer.wake()  # lets the thread end when the assertion failed
        thread.join(FOLLOW_TIMEOUT_S)

        assert not alive and results == [[]]
        produce_values(transport, data_source, 0, numbered("after", 3))
        transport.flush(10)
        assert values_of(collect(consumer, 3)) == numbered("after", 3)  # the wake is spent


def test_a_wake_ends_a_poll_in_progress(transport: Transport, data_source: str) -> None:
    if isinstance(transport, KafkaTransport):
        pytest.skip("librdkafka's poll cannot be interrupted from another thread")
    transport.create_topics({data_source: 1})
    with transport.consumer() as consumer:
        consumer.assign({(data_source, 0): 0})
        thread, results = polling(consumer)
        thread.join(0.2)  # most likely waiting in its poll by now (a wake before also ends it)
        consumer.wake()
        thread.join(FOLLOW_TIMEOUT_S)

        assert not thread.is_alive() and results == [[]]


def test_reading_a_missing_topic_raises(transport: Transport, data_source: str) -> None:
    transport.create_topics({data_source: 1})
    with transport.consumer() as consumer:
        with pytest.raises(TransportError, match=f"{data_source}_missing"):
            consumer.assign({(f"{data_source}_missing", 0): 0})
            consumer.poll(10, 1.0)
        with pytest.raises(TransportError, match=data_source):
            consumer.assign({(data_source, 3): 0})
            consumer.poll(10, 1.0)


def test_close_is_idempotent_and_later_calls_fail(transport: Transport, data_source: str) -> None:
    transport.create_topics({data_source: 1})
    transport.produce(data_source, 0, b"k", b"v")

    transport.close()
    transport.close()

    with pytest.raises(TransportError):
        transport.produce(data_source, 0, b"k", b"v")


# Kafka only -----------------------------------------------------------------------------------
@pytest.mark.kafka
def test_an_unreachable_broker_fails_within_the_timeout() -> None:
    port = free_port()  # nothing listens there
    started = time.monotonic()
    with pytest.raises(
        TransportError, match=f"could not reach Kafka at 127.0.0.1:{port} within 2 s"
    ):
        KafkaTransport(f"127.0.0.1:{port}", {}, timeout_s=2)
    assert time.monotonic() - started < 15


@pytest.mark.kafka
def test_an_unknown_property_is_named_in_the_error(kafka_bootstrap: str) -> None:
    with pytest.raises(TransportError, match=r"no\.such\.property"):
        KafkaTransport(kafka_bootstrap, {"no.such.property": "1"}, timeout_s=5)


@pytest.mark.kafka
def test_secrets_never_reach_the_log(
    kafka_bootstrap: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with KafkaTransport(kafka_bootstrap, {"sasl.password": "hunter2-secret-value"}, timeout_s=5):
        pass
    assert "sasl.password" in caplog.text
    assert "hunter2-secret-value" not in caplog.text


@pytest.mark.kafka
def test_properties_of_one_client_kind_do_not_warn_on_the_others(
    kafka_bootstrap: str, data_source: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    properties = {"auto.offset.reset": "earliest", "fetch.min.bytes": "1", "linger.ms": "5"}
    with KafkaTransport(kafka_bootstrap, properties, timeout_s=10) as transport:
        transport.create_topics({data_source: 1})
        with transport.consumer() as consumer:
            consumer.assign({(data_source, 0): 0})
            consumer.poll(10, 0.2)
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []


@pytest.mark.kafka
def test_a_consumer_error_raises_naming_the_partition(
    kafka_bootstrap: str,
    kafka_broker_kind: str,
    data_source: str,
    request: pytest.FixtureRequest,
) -> None:
    if kafka_broker_kind == "tansu":
        request.applymarker(
            pytest.mark.xfail(
                strict=True,
                reason="tansu answers a fetch past the end with no records, never with "
                "OFFSET_OUT_OF_RANGE, so there is no broker error to report",
            )
        )
    # With auto.offset.reset=error an out-of-range start offset is a real broker error.
    with KafkaTransport(kafka_bootstrap, {"auto.offset.reset": "error"}, timeout_s=10) as transport:
        transport.create_topics({data_source: 1})
        produce_values(transport, data_source, 0, numbered("v", 3))
        transport.flush(10)
        with transport.consumer() as consumer:
            consumer.assign({(data_source, 0): 10})
            with pytest.raises(TransportError, match=f"{data_source}:0") as raised:
                collect(consumer, 1, timeout_s=10)
    assert raised.value.code


@pytest.mark.kafka
def test_a_full_producer_queue_applies_back_pressure(
    kafka_bootstrap: str, data_source: str
) -> None:
    properties = {"queue.buffering.max.messages": "20", "linger.ms": "1"}
    with KafkaTransport(kafka_bootstrap, properties, timeout_s=10) as transport:
        transport.create_topics({data_source: 1})
        produce_values(transport, data_source, 0, numbered("v", 2000))
        transport.flush(10)
        assert transport.end_offsets(data_source) == {0: 2000}


@pytest.mark.kafka
def test_a_queue_full_past_the_timeout_raises_and_close_reports_the_loss(
    restartable_kafka: BrokerProcess, data_source: str
) -> None:
    properties = {"queue.buffering.max.messages": "5"}
    transport = KafkaTransport(restartable_kafka.bootstrap, properties, timeout_s=2)
    transport.create_topics({data_source: 1})
    restartable_kafka.stop()
    produce_values(transport, data_source, 0, numbered("queued", 5))

    started = time.monotonic()
    with pytest.raises(TransportError, match=f"still full after 2 s.*{data_source}:0") as raised:
        transport.produce(data_source, 0, b"k", b"one too many")
    assert raised.value.retriable
    assert 1.5 < time.monotonic() - started < 15

    with pytest.raises(TransportError, match=rf"5 record\(s\) were not delivered.*{data_source}:0"):
        transport.close()
    transport.close()  # idempotent, and the loss is reported only once


@pytest.mark.kafka
@pytest.mark.parametrize("name", ["has space", "ümlaut", "a/b", "x" * 250, ".", "..", ""])
def test_illegal_topic_names_are_rejected_before_anything_is_created(
    kafka_bootstrap: str, data_source: str, name: str
) -> None:
    with KafkaTransport(kafka_bootstrap, {}, timeout_s=10) as transport:
        with pytest.raises(TransportError, match="cannot create topic"):
            transport.create_topics({data_source: 1, name: 1})
        assert data_source not in transport.list_topics()
        transport.create_topics({"x" * 249: 1, f"{data_source}.a-b_C": 1})
        assert f"{data_source}.a-b_C" in transport.list_topics()


@pytest.mark.kafka
def test_a_failed_delivery_is_reported_by_flush(
    restartable_kafka: BrokerProcess, data_source: str
) -> None:
    with KafkaTransport(
        restartable_kafka.bootstrap, {"message.timeout.ms": "1500"}, timeout_s=10
    ) as transport:
        transport.create_topics({data_source: 2})
        restartable_kafka.stop()
        transport.produce(data_source, 1, b"k", b"lost")
        with pytest.raises(TransportError, match=f"{data_source}:1"):
            transport.flush(10)
        assert transport.take_delivery_failures() == []  # flush consumed (and reported) them

        transport.produce(data_source, 0, b"k", b"lost too")
        deadline = time.monotonic() + 10
        failures = []
        while not failures and time.monotonic() < deadline:
            failures = transport.take_delivery_failures()
            time.sleep(0.1)
        assert [(f.topic, f.partition, f.key) for f in failures] == [(data_source, 0, b"k")]
        transport.flush(10)  # nothing pending and nothing left to report


@pytest.mark.kafka
def test_a_broker_restart_mid_stream_loses_and_duplicates_nothing(
    restartable_kafka: BrokerProcess, data_source: str
) -> None:
    values = numbered("v", 600)
    with KafkaTransport(restartable_kafka.bootstrap, {}, timeout_s=10) as transport:
        transport.create_topics({data_source: 1})
        with transport.consumer() as consumer:
            consumer.assign({(data_source, 0): 0})
            produce_values(transport, data_source, 0, values[:200])
            transport.flush(10)
            before = collect(consumer, 200)

            restartable_kafka.stop()
            produce_values(transport, data_source, 0, values[200:400])  # queued while it is down
            time.sleep(1.0)
            restartable_kafka.start()
            produce_values(transport, data_source, 0, values[400:])
            transport.flush(30)
            after = collect(consumer, 400, timeout_s=40)
            extra = consumer.poll(1000, 0.5)

        records = before + after
        assert [r.offset for r in records] == list(range(600))
        assert values_of(records) == values
        assert extra == []
        assert transport.end_offsets(data_source) == {0: 600}


def test_records_an_embedded_store_cannot_commit_are_all_reported(tmp_path: Path) -> None:
    """Another connection holds the write lock while more records are produced than the queue
    holds: each record is either refused by produce or reported by flush, and none is stored."""
    path = tmp_path / "locked.db"
    store = EmbeddedTransport(path, timeout_s=0.3)
    store.create_topics({"t": 1})
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    refused = 0
    try:
        for i in range(25_000):
            try:
                store.produce("t", 0, b"k", b"%d" % i)
            except TransportError as exc:
                assert "not queued" in str(exc)
                refused += 1
        with pytest.raises(TransportError, match=r"record\(s\) were not stored") as failed:
            store.flush(5)
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    reported = int(str(failed.value).split()[0])
    assert refused + reported == 25_000
    assert store.end_offsets("t") == {0: 0}
    store.produce("t", 0, b"k", b"after")
    store.flush(5)
    assert values_of(store.read_range("t", 0, 0, 1)) == [b"after"]
    store.close()


def test_a_new_embedded_store_has_large_pages_and_an_old_one_keeps_its_own(
    tmp_path: Path,
) -> None:
    """Packets of up to ~1 MB live in overflow-page chains: a new store uses 64 KiB pages. A
    store created with SQLite's default 4 KiB pages (by an older version) reads and writes as
    before, with its own page size."""
    new, old = tmp_path / "new.db", tmp_path / "old.db"
    with sqlite3.connect(old) as connection:
        connection.execute("PRAGMA page_size=4096")
        connection.execute("PRAGMA journal_mode=WAL")
    big = random.Random(3).randbytes(900_000)
    for path in (new, old):
        store = EmbeddedTransport(path)
        store.create_topics({"t": 1})
        store.produce("t", 0, b"k", big)
        store.produce("t", 0, b"k", b"small")
        store.flush(5)
        assert values_of(store.read_range("t", 0, 0, 2)) == [big, b"small"]
        store.close()
    sizes = {
        p.name: sqlite3.connect(p).execute("PRAGMA page_size").fetchone()[0] for p in (new, old)
    }
    assert sizes == {"new.db": PAGE_SIZE, "old.db": 4096}


def test_an_embedded_store_bounds_its_queue_in_bytes(tmp_path: Path) -> None:
    """Large packets apply back-pressure long before the record count would: with the write
    lock held elsewhere, a producer of 900 kB records is refused after ~128 MiB are queued."""
    path = tmp_path / "bytes.db"
    store = EmbeddedTransport(path, timeout_s=0.3)
    store.create_topics({"t": 1})
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    value = bytes(900_000)
    queued = 0
    try:
        with pytest.raises(TransportError, match="not queued"):
            for _ in range(2000):  # far below the 20,000-record bound
                store.produce("t", 0, b"k", value)
                queued += 1
        with pytest.raises(TransportError, match=r"record\(s\) were not stored"):
            store.flush(5)
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    # The flusher takes the queue each time it tries a commit: a few rounds of ~150 records.
    assert queued < 1000
    store.produce("t", 0, b"k", b"after")
    store.flush(5)
    store.close()
