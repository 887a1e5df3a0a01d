"""MemoryTransport: the partitioned log in this process's memory, for tests (like httpx's MockTransport).

- ``memory:NAME`` names a log shared by every transport opened on it in this process (two support
  libraries on ``memory:shared`` see each other's sessions, as two on one embedded file do). A
  named log lives until the process exits, like a file outlives the programs that write it.
- ``memory:`` alone is a fresh log private to one transport (one support library) and its
  consumers; it goes when they go.

Semantics are the embedded store's: partitions numbered from 0, offsets from 0 without gaps,
``partition=None`` → CRC32 of the key, a record's timestamp is the one given or the time now,
records over ``MAX_RECORD_BYTES`` refused at once. A produced record is durable at once (the
queue is always empty), so ``flush`` only checks that the transport is open and nothing ever
fails delivery. Nothing leaves the process: several processes never share a log.
"""

from __future__ import annotations

import itertools
import threading
import time
import zlib
from collections.abc import Iterable, Mapping

from .base import (
    Consumer,
    DeliveryFailure,
    Record,
    TopicPartition,
    Transport,
    TransportError,
    check_record_size,
    fetch_fairly,
)

__all__ = ["MemoryConsumer", "MemoryTransport"]

_private_numbers = itertools.count(1)


class _Log:
    """Topics of partitions of records; one lock guards it all, and ``changed`` wakes consumers."""

    def __init__(self, location: str) -> None:
        self.location = location
        self.changed = threading.Condition()
        self.partitions: dict[str, list[list[Record]]] = {}

    def records(self, topic: str, partition: int) -> list[Record]:
        """The records of one partition (call holding ``changed``); unknown → TransportError."""
        partitions = self.partitions.get(topic)
        if partitions is None:
            raise TransportError(
                f"topic {topic!r} does not exist in {self.location}", code="UNKNOWN_TOPIC"
            )
        if not 0 <= partition < len(partitions):
            raise TransportError(
                f"partition {partition} does not exist: topic {topic!r} has {len(partitions)}",
                code="UNKNOWN_PARTITION",
            )
        return partitions[partition]


_named_logs: dict[str, _Log] = {}
_named_logs_lock = threading.Lock()


def _log_named(name: str | None) -> _Log:
    if not name:
        return _Log(f"memory:<private {next(_private_numbers)}>")
    with _named_logs_lock:
        log = _named_logs.get(name)
        if log is None:
            log = _named_logs[name] = _Log(f"memory:{name}")
        return log


class MemoryTransport(Transport):
    """A log in memory: ``MemoryTransport("name")`` shares the named log, ``MemoryTransport()``
    gets a private one."""

    def __init__(self, name: str | None = None) -> None:
        self._log = _log_named(name)
        self.location = self._log.location
        self._closed = False

    # topics ---------------------------------------------------------------------------------
    def create_topics(self, partitions_by_topic: Mapping[str, int]) -> None:
        self._check_open()
        for topic, partitions in partitions_by_topic.items():
            if not isinstance(partitions, int) or partitions < 1:
                raise TransportError(
                    f"topic {topic!r}: partition count must be >= 1, got {partitions}"
                )
        with self._log.changed:
            for topic, partitions in partitions_by_topic.items():
                self._log.partitions.setdefault(topic, [[] for _ in range(partitions)])

    def list_topics(self) -> dict[str, int]:
        self._check_open()
        with self._log.changed:
            return {topic: len(partitions) for topic, partitions in self._log.partitions.items()}

    # produce --------------------------------------------------------------------------------
    def produce(
        self,
        topic: str,
        partition: int | None,
        key: bytes | None,
        value: bytes,
        timestamp_ms: int | None = None,
    ) -> None:
        self._check_open()
        check_record_size(topic, key, value)
        stamp = int(time.time() * 1000) if timestamp_ms is None else timestamp_ms
        with self._log.changed:
            if partition is None:
                count = len(self._log.partitions.get(topic) or [[]])
                partition = zlib.crc32(key) % count if key else 0
            records = self._log.records(topic, partition)
            records.append(Record(topic, partition, len(records), key, bytes(value), stamp))
            self._log.changed.notify_all()

    def flush(self, timeout_s: float) -> None:
        self._check_open()

    def take_delivery_failures(self) -> list[DeliveryFailure]:
        return []

    # offsets --------------------------------------------------------------------------------
    def end_offsets(self, topic: str) -> dict[int, int]:
        self._check_open()
        with self._log.changed:
            partitions = self._log.partitions.get(topic, [])
            return {partition: len(records) for partition, records in enumerate(partitions)}

    def beginning_offsets(self, topic: str) -> dict[int, int]:
        self._check_open()
        with self._log.changed:
            return dict.fromkeys(range(len(self._log.partitions.get(topic, []))), 0)

    def offset_for_time(self, topic: str, partition: int, timestamp_ms: int) -> int:
        self._check_open()
        with self._log.changed:
            records = self._log.records(topic, partition)
            # Timestamps need not grow with the offset (a producer may give any), so scan.
            return next(
                (record.offset for record in records if record.timestamp_ms >= timestamp_ms),
                len(records),
            )

    # consume --------------------------------------------------------------------------------
    def consumer(self) -> Consumer:
        self._check_open()
        return MemoryConsumer(self._log)

    def close(self) -> None:
        self._closed = True

    def _check_open(self) -> None:
        if self._closed:
            raise TransportError(f"{self.location} is closed")


class MemoryConsumer(Consumer):
    """Reads a memory log; wakes as soon as a record is produced to it."""

    def __init__(self, log: _Log) -> None:
        self._log = log
        self._positions: dict[TopicPartition, int] = {}
        self._next_turn = 0
        self._closed = False
        #: set by ``wake`` (under ``changed``), cleared by the poll it ends
        self._woken = False

    def assign(self, positions: Mapping[TopicPartition, int]) -> None:
        with self._log.changed:
            for (topic, partition), offset in positions.items():
                if topic not in self._log.partitions:
                    raise TransportError(
                        f"cannot read topic {topic!r}: it does not exist in {self._log.location}",
                        code="UNKNOWN_TOPIC",
                    )
                self._log.records(topic, partition)
                self._positions[(topic, partition)] = max(0, int(offset))

    def unassign(self, partitions: Iterable[TopicPartition]) -> None:
        with self._log.changed:
            for where in partitions:
                self._positions.pop(where, None)

    def poll(self, max_records: int, timeout_s: float) -> list[Record]:
        deadline = time.monotonic() + max(0.0, timeout_s)
        with self._log.changed:
            while True:
                records = self._fetch(max_records)
                remaining = deadline - time.monotonic()
                if records or self._closed or self._woken or remaining <= 0:
                    self._woken = False
                    return records
                self._log.changed.wait(remaining)

    def _fetch(self, max_records: int) -> list[Record]:
        self._next_turn += 1
        return fetch_fairly(
            list(self._positions), self._next_turn - 1, max_records, self._fetch_partition
        )

    def _fetch_partition(self, where: TopicPartition, room: int, records: list[Record]) -> None:
        offset = self._positions[where]
        taken = self._log.partitions[where[0]][where[1]][offset : offset + room]
        records.extend(taken)
        self._positions[where] = offset + len(taken)

    def wake(self) -> None:
        with self._log.changed:
            self._woken = True
            self._log.changed.notify_all()

    def close(self) -> None:
        with self._log.changed:
            self._closed = True
            self._log.changed.notify_all()
