"""The Transport seam: an append-only, partitioned, offset-addressed log (the only broker-aware layer)."""

from __future__ import annotations

import abc
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from ..arrays import I64Array, U64Array
from ..errors import TransportError

__all__ = [
    "MAX_RECORD_BYTES",
    "Consumer",
    "DeliveryFailure",
    "KeyedReader",
    "KeyedValues",
    "Outgoing",
    "PacketLabels",
    "Record",
    "RecordHeads",
    "TopicPartition",
    "Transport",
    "TransportError",
    "check_record_size",
    "fetch_fairly",
]

TopicPartition = tuple[str, int]

#: a record to queue, as ``Transport.produce`` takes it: topic, partition (None: the key
#: chooses), key, value
Outgoing = tuple[str, int | None, bytes | None, bytes]

#: largest record (key + value bytes) a transport accepts: librdkafka's default
#: ``message.max.bytes``, so that every session stays copyable to Kafka
MAX_RECORD_BYTES = 1_000_000


class Record(NamedTuple):
    """One log record as stored: key/value bytes at an offset of a topic partition.

    A named tuple rather than a dataclass: readers build one per record, and tuples build fastest.
    """

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    timestamp_ms: int


@dataclass(frozen=True, slots=True)
class DeliveryFailure:
    """A record the transport accepted into its queue but could not make durable."""

    topic: str
    partition: int | None
    key: bytes | None
    reason: str
    retriable: bool = False


class Consumer(abc.ABC):
    """Reads records from an explicit set of (topic, partition) positions, in offset order per partition."""

    @abc.abstractmethod
    def assign(self, positions: Mapping[TopicPartition, int]) -> None:
        """Start (or restart) reading each partition at the given offset; other assignments stay.

        Raises ``TransportError`` if a topic or partition does not exist.
        """

    @abc.abstractmethod
    def unassign(self, partitions: Iterable[TopicPartition]) -> None:
        """Stop reading the given partitions; unknown ones are ignored."""

    @abc.abstractmethod
    def poll(self, max_records: int, timeout_s: float) -> list[Record]:
        """Return up to ``max_records`` new records, waiting at most ``timeout_s`` for the first one.

        Records of one partition come in offset order and each exactly once. An empty list means
        nothing arrived in time.
        """

    @abc.abstractmethod
    def close(self) -> None:
        """Release the consumer; idempotent."""

    @abc.abstractmethod
    def wake(self) -> None:
        """Make the poll in progress return soon with what it has (maybe nothing), or else the
        next poll; callable from any thread, also after ``close``. A thread that follows a log
        with long polls is woken this way to take a new assignment or to stop."""

    def __enter__(self) -> Consumer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass(frozen=True, slots=True)
class RecordHeads:
    """Some records of one partition, in offset order: each one's offset, the size of its value
    and the first bytes of it (all of a value shorter than the bytes asked for)."""

    offsets: tuple[int, ...]
    sizes: tuple[int, ...]
    heads: tuple[bytes, ...]


@dataclass(frozen=True, slots=True)
class KeyedValues:
    """Some records of one partition, in offset order: each one's offset and value."""

    offsets: tuple[int, ...]
    values: tuple[bytes, ...]


@dataclass(frozen=True, slots=True)
class PacketLabels:
    """The packet labels of some records of one partition, in offset order: each one's offset,
    its packet's sample kind (index into ``columnar.heads.DATA_TYPES``; -1 for a record that is
    no sample packet with a data format id), data format id, and value size."""

    offsets: I64Array
    kinds: I64Array
    format_ids: U64Array
    sizes: I64Array

    @classmethod
    def empty(cls) -> PacketLabels:
        none = np.zeros(0, np.int64)
        return cls(none, none, np.zeros(0, np.uint64), none)


class KeyedReader(abc.ABC):
    """Reads the records of one key in a partition's offset range, for less than a consumer
    costs: only their values, only the first bytes of them (heads), or whole values chosen by
    offset, so that a reader that needs few records skips the others. A transport offers one
    where that pays (the embedded store filters keys and cuts values where they are stored).

    ``whole_records`` and ``whole_bytes`` count the values read whole so far (for logs).
    """

    def __init__(self) -> None:
        self.whole_records = 0
        self.whole_bytes = 0

    @abc.abstractmethod
    def heads(
        self,
        where: TopicPartition,
        start: int,
        end: int,
        key: bytes,
        head_bytes: int,
        max_records: int,
    ) -> RecordHeads:
        """The heads (first ``head_bytes`` bytes of the value) of the records keyed ``key`` with
        ``start <= offset < end``, at most ``max_records`` of them, from the lowest offset.

        Fewer than ``max_records`` means none of the range is left after them. Raises
        ``TransportError`` if the partition does not exist."""

    @abc.abstractmethod
    def values(
        self, where: TopicPartition, start: int, end: int, key: bytes, max_records: int
    ) -> KeyedValues:
        """The values of the records keyed ``key`` with ``start <= offset < end``, at most
        ``max_records`` of them, as ``heads`` chooses them."""

    @abc.abstractmethod
    def chosen(self, where: TopicPartition, offsets: Sequence[int]) -> KeyedValues:
        """The values of the records at ``offsets`` (ascending); offsets with no record are
        left out."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release the reader; idempotent."""

    def packet_labels(
        self, where: TopicPartition, start: int, end: int, key: bytes
    ) -> PacketLabels | None:
        """The packet labels of the records keyed ``key`` with ``start <= offset < end``, which
        a store may keep for each record it commits; None where it has none for some record of
        the range (committed by a writer that does not label), or keeps none at all."""
        return None

    def __enter__(self) -> KeyedReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Transport(abc.ABC):
    """A partitioned log of topics. Produce is queued; ``flush`` returns only when queued records are durable."""

    #: a human-readable location ("embedded:/path/file.db", "kafka:host:port")
    location: str

    @abc.abstractmethod
    def create_topics(self, partitions_by_topic: Mapping[str, int]) -> None:
        """Create missing topics with the given partition counts; existing topics are left alone."""

    @abc.abstractmethod
    def list_topics(self) -> dict[str, int]:
        """Every topic with its partition count."""

    @abc.abstractmethod
    def produce(
        self,
        topic: str,
        partition: int | None,
        key: bytes | None,
        value: bytes,
        timestamp_ms: int | None = None,
    ) -> None:
        """Queue one record. ``partition=None`` lets the key choose (CRC32 of the key, as librdkafka).
        The record's timestamp is ``timestamp_ms`` (ms since the Unix epoch), else the time now.

        Raises ``TransportError`` when the record is rejected at once (unknown topic or partition,
        too large, queue full past the timeout). Later failures surface from ``flush`` or
        ``take_delivery_failures``.
        """

    def produce_many(self, records: Sequence[Outgoing]) -> dict[int, TransportError]:
        """Queue ``records`` in order, each as ``produce`` does (stamped with the time now): the
        records rejected at once, by index; the others are queued. A transport overrides this
        where a batch costs less than one ``produce`` per record."""
        rejected: dict[int, TransportError] = {}
        for index, (topic, partition, key, value) in enumerate(records):
            try:
                self.produce(topic, partition, key, value)
            except TransportError as exc:
                rejected[index] = exc
        return rejected

    @abc.abstractmethod
    def flush(self, timeout_s: float) -> None:
        """Block until every queued record is durable.

        Raises ``TransportError`` if records are still queued after ``timeout_s`` or if any queued
        record failed (the failures are then consumed, so a later flush does not report them again).
        """

    @abc.abstractmethod
    def take_delivery_failures(self) -> list[DeliveryFailure]:
        """Failures seen since the last call (without blocking); the list is then cleared."""

    @abc.abstractmethod
    def end_offsets(self, topic: str) -> dict[int, int]:
        """For each partition of ``topic``, the offset the next record will get (0 for an empty one).

        A topic that does not exist yields an empty dict.
        """

    @abc.abstractmethod
    def beginning_offsets(self, topic: str) -> dict[int, int]:
        """For each partition of ``topic``, the first offset still stored."""

    @abc.abstractmethod
    def offset_for_time(self, topic: str, partition: int, timestamp_ms: int) -> int:
        """The first offset whose record timestamp is >= ``timestamp_ms``; the end offset if none."""

    @abc.abstractmethod
    def consumer(self) -> Consumer:
        """A new independent consumer with no assignments."""

    def keyed_reader(self) -> KeyedReader | None:
        """A new reader of one key's records where this transport reads them for less than a
        consumer does; None (the default) where it does not, and readers then use consumers."""
        return None

    def read_range(
        self, topic: str, partition: int, start: int, end: int, timeout_s: float = 10.0
    ) -> list[Record]:
        """Records with ``start <= offset < end`` of one partition, ``end`` capped at the end offset.

        Raises ``TransportError`` if the range cannot be read within ``timeout_s``.
        """
        end = min(end, self.end_offsets(topic).get(partition, 0))
        records: list[Record] = []
        if end <= start:
            return records
        deadline = time.monotonic() + timeout_s
        with self.consumer() as consumer:
            consumer.assign({(topic, partition): start})
            while time.monotonic() < deadline:
                for record in consumer.poll(10_000, 0.1):
                    if record.offset >= end:
                        return records
                    records.append(record)
                    if record.offset == end - 1:
                        return records
        raise TransportError(
            f"reading {topic}:{partition} offsets [{start}, {end}) did not finish in {timeout_s} s",
            retriable=True,
        )

    @abc.abstractmethod
    def close(self) -> None:
        """Flush what can be flushed and release every resource; idempotent."""

    def __enter__(self) -> Transport:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def fetch_fairly(
    partitions: Sequence[TopicPartition],
    turn: int,
    max_records: int,
    fetch_partition: Callable[[TopicPartition, int, list[Record]], None],
) -> list[Record]:
    """Up to ``max_records`` from ``partitions``: each gets an even share first, so that streams
    advance together (buffering merges them by time), then the room left over. ``turn`` (a
    counter the consumer advances per poll) rotates which partition goes first.
    ``fetch_partition(partition, room, records)`` appends at most ``room`` records."""
    records: list[Record] = []
    if not partitions:
        return records
    start = turn % len(partitions)
    order = [*partitions[start:], *partitions[:start]]
    share = max(1, max_records // len(order))
    for limit in (share, max_records):
        for where in order:
            room = min(limit, max_records - len(records))
            if room <= 0:
                return records
            fetch_partition(where, room, records)
    return records


def check_record_size(topic: str, key: bytes | None, value: bytes) -> None:
    """Raises ``TransportError`` (``MSG_SIZE_TOO_LARGE``) for a record over ``MAX_RECORD_BYTES``,
    the limit every transport keeps so that a session fits any of them."""
    size = len(value) + (len(key) if key else 0)
    if size > MAX_RECORD_BYTES:
        raise TransportError(
            f"record for {topic!r} is {size} bytes, over the {MAX_RECORD_BYTES}-byte limit "
            "(Kafka's default message.max.bytes); split the packet",
            code="MSG_SIZE_TOO_LARGE",
        )
