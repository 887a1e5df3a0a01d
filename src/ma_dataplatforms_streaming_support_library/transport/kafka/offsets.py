"""OffsetProbe: partition ends and record timestamps as a fetch sees them, to check what a broker's
offset APIs (ListOffsets, offsets_for_times) report.

tansu gets both wrong: ListOffsets LATEST is the base offset of its newest stored batch + 1
however many records that batch holds, and offsets_for_times answers from its own write time (and
0 for "after the end"). Its Fetch responses, though, carry the true high watermark and the records'
own timestamps. Used only when the broker-quirks profile asks for it (quirks.py).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING

import confluent_kafka

from ..base import Record, TopicPartition, TransportError
from .config import KafkaClientConfig
from .consumer import kafka_partitions, new_consumer, record_of, transport_error

if TYPE_CHECKING:
    from .consumer import Message

__all__ = ["OffsetProbe"]

logger = logging.getLogger(__name__)

_EOF = confluent_kafka.KafkaError._PARTITION_EOF


class OffsetProbe:
    """A consumer that reads a few records, or reads up to a partition's end. Not thread-safe."""

    _SETTINGS: Mapping[str, str] = {
        "enable.partition.eof": "true",
        # Answer at once at the end of a partition. Not 0: tansu then never returns records.
        "fetch.wait.max.ms": "10",
        # The end is the high watermark, as ListOffsets LATEST means it.
        "isolation.level": "read_uncommitted",
        # Little data is needed. noida-db ignores fetch sizes (it answers with the whole rest of the
        # partition), so its answers overfill the small queue; retry the next fetch in 1 ms, not
        # after the default 1 s.
        "fetch.max.bytes": "1048576",
        "max.partition.fetch.bytes": "262144",
        "queued.max.messages.kbytes": "4096",
        "fetch.queue.backoff.ms": "1",
    }

    def __init__(self, config: KafkaClientConfig, timeout_s: float) -> None:
        self._config = config
        self._timeout_s = timeout_s
        self._consumer = new_consumer(config, self._SETTINGS, self._on_client_error)
        self._known_topics: set[str] = set()

    def true_ends(self, topic: str, reported: Mapping[int, int]) -> dict[int, int] | None:
        """End offsets of ``topic`` as fetches see them (``None`` if that takes over the timeout).

        Each partition is read from its reported end: at the true end the fetch is empty and
        librdkafka signals end-of-partition at once; below it, the rest of the batch comes first.
        """
        ends: dict[int, int] = {}
        deadline = time.monotonic() + self._timeout_s
        with self._assigned({(topic, p): offset for p, offset in reported.items()}):
            while len(ends) < len(reported):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                for message in self._events(remaining):
                    failure = message.error()
                    if failure is None:
                        continue
                    partition, offset = message.partition(), message.offset()
                    if failure.code() == _EOF and partition is not None and offset is not None:
                        ends[partition] = offset
                    elif message.topic() is not None:
                        raise transport_error(
                            f"reading the end of {topic}:{partition}", failure, self._config
                        )
        return ends

    def read(self, topic: str, partition: int, offset: int, count: int) -> list[Record]:
        """Up to ``count`` records of one partition from ``offset`` (fewer at its end)."""
        records: list[Record] = []
        deadline = time.monotonic() + self._timeout_s
        with self._assigned({(topic, partition): offset}):
            while len(records) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TransportError(
                        f"reading {topic}:{partition} at offset {offset} took over "
                        f"{self._timeout_s} s",
                        code="_TIMED_OUT",
                        retriable=True,
                    )
                for message in self._events(remaining):
                    failure = message.error()
                    if failure is not None and failure.code() == _EOF:
                        return records
                    if failure is not None:
                        raise transport_error(f"reading {topic}:{partition}", failure, self._config)
                    record = record_of(message)
                    if record.offset >= offset and len(records) < count:
                        records.append(record)
        return records

    def first_offset_at_or_after(
        self, topic: str, partition: int, timestamp_ms: int, answer: int, begin: int, end: int
    ) -> int:
        """The first offset stamped at or after ``timestamp_ms``, given the broker's ``answer``.

        ``answer`` (-1 for "none") is kept when the records around it confirm it; otherwise a
        binary search over record timestamps replaces it (exact when timestamps do not decrease
        with the offset, as the producer's clock stamps them).
        """
        candidate = end if answer < 0 else min(max(answer, begin), end)
        if self._confirms(topic, partition, candidate, timestamp_ms, begin, end):
            return candidate
        logger.warning(
            "kafka:%s answered offsets_for_times(%s:%d, %d) with %d, which its records "
            "contradict; searching by record timestamps instead",
            self._config.bootstrap_servers,
            topic,
            partition,
            timestamp_ms,
            answer,
        )
        low, high = begin, end
        while low < high:
            middle = (low + high) // 2
            found = self.read(topic, partition, middle, 1)
            if not found or found[0].timestamp_ms >= timestamp_ms:
                high = middle
            else:
                low = found[0].offset + 1
        found = self.read(topic, partition, low, 1) if low < end else []
        return found[0].offset if found else end

    def _confirms(
        self, topic: str, partition: int, candidate: int, timestamp_ms: int, begin: int, end: int
    ) -> bool:
        """Whether the record before ``candidate`` is earlier and the one at it is not."""
        if begin >= end:
            return True
        records = self.read(topic, partition, max(candidate - 1, begin), 2)
        before = [r for r in records if r.offset < candidate]
        at = [r for r in records if r.offset >= candidate]
        if before and before[-1].timestamp_ms >= timestamp_ms:
            return False
        return candidate >= end or (bool(at) and at[0].timestamp_ms >= timestamp_ms)

    def _events(self, timeout_s: float) -> list[Message]:
        """What has arrived, waiting at most ``timeout_s`` for the first event (not for a batch)."""
        first = self._consumer.poll(timeout_s)
        if first is None:
            return []
        return [first, *self._consumer.consume(1000, 0)]

    @contextmanager
    def _assigned(self, positions: Mapping[TopicPartition, int]) -> Iterator[None]:
        """Partitions assigned for a ``with`` block; each assignment re-arms end-of-partition."""
        try:
            # librdkafka looks up the metadata of a topic new to this client only on its 1 s
            # timer, so the first fetch of each topic would wait that long: ask for it now.
            for topic in {t for t, _ in positions} - self._known_topics:
                self._consumer.list_topics(topic, self._timeout_s)
                self._known_topics.add(topic)
            self._consumer.incremental_assign(
                [confluent_kafka.TopicPartition(t, p, o) for (t, p), o in positions.items()]
            )
        except confluent_kafka.KafkaException as exc:
            raise transport_error(f"cannot assign {sorted(positions)}", exc, self._config) from exc
        try:
            yield
        finally:
            self._consumer.incremental_unassign(kafka_partitions(positions))

    def _on_client_error(self, error: confluent_kafka.KafkaError) -> None:
        logger.warning("Kafka offset probe of %s: %s", self._config.bootstrap_servers, error.str())

    def close(self) -> None:
        try:
            self._consumer.close()
        except (confluent_kafka.KafkaException, RuntimeError) as exc:
            logger.warning(
                "closing the offset probe of %s: %s", self._config.bootstrap_servers, exc
            )
