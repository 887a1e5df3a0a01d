"""EmbeddedConsumer: reads the embedded store's partitions in offset order, woken by commits."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterable, Mapping
from pathlib import Path

from .base import Consumer, Record, TopicPartition, TransportError, fetch_fairly
from .sqlite_log import StoreCatalog, commit_signal, connect, id_range

__all__ = ["EmbeddedConsumer"]


class EmbeddedConsumer(Consumer):
    """Polls the SQLite log; wakes on commits from this process and on data_version changes."""

    def __init__(self, path: Path, timeout_s: float) -> None:
        self._location = f"embedded:{path}"
        self._connection = connect(path, timeout_s)
        self._catalog = StoreCatalog(self._connection, self._location)
        self._positions: dict[TopicPartition, tuple[int, int]] = {}
        self._next_turn = 0
        self._closed = False

    def assign(self, positions: Mapping[TopicPartition, int]) -> None:
        for (topic, partition), offset in positions.items():
            if self._catalog.count(topic) is None:
                raise TransportError(
                    f"cannot read topic {topic!r}: it does not exist in {self._location}",
                    code="UNKNOWN_TOPIC",
                )
            pid = self._catalog.pid(topic, partition)
            self._positions[(topic, partition)] = (pid, max(0, int(offset)))

    def unassign(self, partitions: Iterable[TopicPartition]) -> None:
        for where in partitions:
            self._positions.pop(where, None)

    def poll(self, max_records: int, timeout_s: float) -> list[Record]:
        deadline = time.monotonic() + max(0.0, timeout_s)
        pause = 0.0005
        while True:
            version = self._connection.execute("PRAGMA data_version").fetchone()[0]
            records = self._fetch(max_records)
            if records or self._closed:
                return records
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return records
            with commit_signal:
                commit_signal.wait(min(pause, remaining))
            pause = min(pause * 2, 0.005)
            if self._connection.execute("PRAGMA data_version").fetchone()[0] != version:
                pause = 0.0005

    def _fetch(self, max_records: int) -> list[Record]:
        self._next_turn += 1
        return fetch_fairly(
            list(self._positions), self._next_turn - 1, max_records, self._fetch_partition
        )

    def _fetch_partition(self, where: TopicPartition, room: int, records: list[Record]) -> None:
        topic, partition = where
        pid, offset = self._positions[where]
        low, high = id_range(pid)
        # SQLite lays out each row as a Record's fields; tuple.__new__ then makes the Records
        # in C (a Python loop building them costs as much as the query).
        rows = self._connection.execute(
            "SELECT ?, ?, id - ?, key, value, timestamp_ms FROM records "
            "WHERE id >= ? AND id < ? ORDER BY id LIMIT ?",
            (topic, partition, low, low + offset, high, room),
        ).fetchall()
        if rows:
            records.extend(map(tuple.__new__, itertools.repeat(Record), rows))
            self._positions[where] = (pid, rows[-1][2] + 1)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._connection.close()
