"""EmbeddedConsumer: reads the embedded store's partitions in offset order, woken by commits."""

from __future__ import annotations

import itertools
import operator
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np

from .base import (
    Consumer,
    KeyedReader,
    KeyedValues,
    PacketLabels,
    Record,
    RecordHeads,
    TopicPartition,
    TransportError,
    fetch_fairly,
)
from .labels import labels_in
from .sqlite_log import StoreCatalog, commit_signal, commits, connect, id_range, store_name

__all__ = ["EmbeddedConsumer", "EmbeddedKeyedReader"]

# A waiting poll looks for other processes' commits (PRAGMA data_version) after this long, then
# twice as long each time up to _LAST_PAUSE_S. While this process commits to other partitions,
# data_version cannot tell whether another process committed too: the poll then reads its
# partitions again at most every _LAST_PAUSE_S.
_FIRST_PAUSE_S = 0.0005
_LAST_PAUSE_S = 0.005


# Whole records are fetched by runs of consecutive offsets; runs shorter than this go by offset
# lists of _LISTED_OFFSETS (a range query per short run would cost more than the rows).
_SHORTEST_RUN = 16
_LISTED_OFFSETS = 250
_BY_OFFSETS = (
    "SELECT id - ?, value FROM records WHERE id IN (" + ", ".join(["?"] * _LISTED_OFFSETS) + ")"
)
_ROW_OFFSET = operator.itemgetter(0)
_BY_RANGE = "SELECT id - ?, value FROM records WHERE id >= ? AND id < ? ORDER BY id"


class EmbeddedConsumer(Consumer):
    """Polls the SQLite log; wakes on commits from this process to its partitions and on
    data_version changes (commits by other processes)."""

    def __init__(self, path: Path, timeout_s: float) -> None:
        self._location = f"embedded:{path}"
        self._store = store_name(path)
        self._connection = connect(path, timeout_s)
        self._catalog = StoreCatalog(self._connection, self._location)
        self._positions: dict[TopicPartition, tuple[int, int]] = {}
        self._next_turn = 0
        self._closed = False
        #: set by ``wake`` (under ``commit_signal``), cleared by the poll it ends
        self._woken = False

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
        pause = _FIRST_PAUSE_S
        while True:
            version = self._data_version()
            marks = self._commit_marks()
            records = self._fetch(max_records)
            fetched = time.monotonic()
            while True:  # until something may be new to this consumer
                remaining = deadline - time.monotonic()
                with commit_signal:
                    if records or self._closed or self._woken or remaining <= 0:
                        self._woken = False
                        return records
                    commit_signal.wait(min(pause, remaining))
                    latest = self._commit_marks()
                pause = min(pause * 2, _LAST_PAUSE_S)
                if latest[1] != marks[1]:
                    break  # this process committed to this consumer's partitions
                if self._data_version() == version:
                    continue  # no other connection committed: nothing is new
                if latest[0] == marks[0] or time.monotonic() - fetched >= _LAST_PAUSE_S:
                    pause = _FIRST_PAUSE_S
                    break  # another process committed (or may have, besides this one)

    def _data_version(self) -> int:
        version: int = self._connection.execute("PRAGMA data_version").fetchone()[0]
        return version

    def _commit_marks(self) -> tuple[int, int]:
        """This process's commits to the store, and to this consumer's partitions."""
        store = self._store
        return commits[store], sum(commits[(store, pid)] for pid, _ in self._positions.values())

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

    def wake(self) -> None:
        with commit_signal:
            self._woken = True
            commit_signal.notify_all()

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._connection.close()


class EmbeddedKeyedReader(KeyedReader):
    """Filters keys in SQL and cuts heads there (``substr``), so only the bytes asked for leave
    SQLite, as plain (offset, bytes) rows rather than whole Records.
    """

    def __init__(self, path: Path, timeout_s: float) -> None:
        super().__init__()
        self._location = f"embedded:{path}"
        self._connection = connect(path, timeout_s)
        self._catalog = StoreCatalog(self._connection, self._location)

    def heads(
        self,
        where: TopicPartition,
        start: int,
        end: int,
        key: bytes,
        head_bytes: int,
        max_records: int,
    ) -> RecordHeads:
        low, _ = id_range(self._catalog.pid(*where))
        rows = self._connection.execute(
            "SELECT id - ?, length(value), substr(value, 1, ?) FROM records "
            "WHERE id >= ? AND id < ? AND key = ? ORDER BY id LIMIT ?",
            (low, head_bytes, low + max(0, start), low + end, key, max_records),
        ).fetchall()
        if not rows:
            return RecordHeads((), (), ())
        offsets, sizes, heads = zip(*rows, strict=True)
        return RecordHeads(offsets, sizes, heads)

    def packet_labels(
        self, where: TopicPartition, start: int, end: int, key: bytes
    ) -> PacketLabels | None:
        return labels_in(self._connection, self._catalog.pid(*where), max(0, start), end, key)

    def values(
        self, where: TopicPartition, start: int, end: int, key: bytes, max_records: int
    ) -> KeyedValues:
        low, _ = id_range(self._catalog.pid(*where))
        rows = self._connection.execute(
            "SELECT id - ?, value FROM records "
            "WHERE id >= ? AND id < ? AND key = ? ORDER BY id LIMIT ?",
            (low, low + max(0, start), low + end, key, max_records),
        ).fetchall()
        return self._counted(rows)

    def chosen(self, where: TopicPartition, offsets: Sequence[int]) -> KeyedValues:
        low, _ = id_range(self._catalog.pid(*where))
        wanted = np.asarray(offsets, np.int64) + low
        if not wanted.size:
            return KeyedValues((), ())
        breaks = np.flatnonzero(np.diff(wanted) != 1) + 1
        firsts = np.concatenate(([0], breaks))
        lasts = np.concatenate((breaks, [wanted.size]))
        short = lasts - firsts < _SHORTEST_RUN
        execute = self._connection.execute
        rows: list[tuple[int, bytes]] = []
        for first, last in zip(firsts[~short].tolist(), lasts[~short].tolist(), strict=True):
            span = (int(wanted[first]), int(wanted[last - 1]) + 1)
            rows += execute(_BY_RANGE, (low, *span)).fetchall()
        listed = np.concatenate(
            [wanted[a:b] for a, b in zip(firsts[short], lasts[short], strict=True)] or [wanted[:0]]
        ).tolist()
        for first in range(0, len(listed), _LISTED_OFFSETS):
            chunk = listed[first : first + _LISTED_OFFSETS]
            chunk += [-1] * (_LISTED_OFFSETS - len(chunk))  # -1 is no record's id
            rows += execute(_BY_OFFSETS, (low, *chunk)).fetchall()
        if listed:
            rows.sort(key=_ROW_OFFSET)
        return self._counted(rows)

    def _counted(self, rows: list[tuple[int, bytes]]) -> KeyedValues:
        if not rows:
            return KeyedValues((), ())
        offsets, values = zip(*rows, strict=True)
        self.whole_records += len(values)
        self.whole_bytes += sum(map(len, values))
        return KeyedValues(offsets, values)

    def close(self) -> None:
        self._connection.close()
