"""EmbeddedTransport: the partitioned log in one SQLite file (WAL), shared by every process on the machine."""

from __future__ import annotations

import logging
import os
import sqlite3
import sys
import threading
import time
import zlib
from collections.abc import Iterable, Mapping
from pathlib import Path

from .base import Consumer, DeliveryFailure, Record, TopicPartition, Transport, TransportError

__all__ = ["EmbeddedTransport", "default_store_path"]

logger = logging.getLogger(__name__)

#: same limit as librdkafka's default ``message.max.bytes``, so every session stays copyable to Kafka
MAX_RECORD_BYTES = 1_000_000
_BATCH_RECORDS = 2_000
_LINGER_S = 0.005

_SCHEMA = """
CREATE TABLE IF NOT EXISTS topics (
    name TEXT PRIMARY KEY,
    partitions INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS records (
    topic TEXT NOT NULL,
    partition INTEGER NOT NULL,
    offset INTEGER NOT NULL,
    key BLOB,
    value BLOB NOT NULL,
    timestamp_ms INTEGER NOT NULL,
    PRIMARY KEY (topic, partition, offset)
) WITHOUT ROWID;
"""

# Commits by this process wake its own consumers at once; other processes are seen by polling
# PRAGMA data_version, which changes whenever another connection commits.
_commit_signal = threading.Condition()


def default_store_path() -> Path:
    """The per-user store used for ``embedded:`` and an empty broker list."""
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local"))
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share"))
    return base / "ma-streaming" / "sessions.db"


def _connect(path: Path, timeout_s: float) -> sqlite3.Connection:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(
            str(path), timeout=timeout_s, isolation_level=None, check_same_thread=False
        )
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        connection.executescript(_SCHEMA)
    except (OSError, sqlite3.Error) as exc:
        raise TransportError(
            f"cannot open the embedded store at {path}: {exc}. "
            "Check that the directory exists and is writable, or pass another path as "
            "broker_list='embedded:PATH'.",
            code=type(exc).__name__,
        ) from exc
    return connection


class EmbeddedTransport(Transport):
    """A log on one SQLite file. Produce is queued and committed in batches (after ``_LINGER_S``)."""

    def __init__(self, path: str | os.PathLike[str] | None = None, timeout_s: float = 10.0) -> None:
        self.path = Path(path).expanduser() if path else default_store_path()
        self.location = f"embedded:{self.path}"
        self.timeout_s = timeout_s
        self._connection = _connect(self.path, timeout_s)
        self._lock = threading.RLock()
        self._queue: list[tuple[str, int, bytes | None, bytes, int]] = []
        self._partitions: dict[str, int] = {}
        self._failures: list[DeliveryFailure] = []
        self._closed = False
        self._wake = threading.Event()
        self._flusher = threading.Thread(
            target=self._flush_loop, name=f"ma-streaming-embedded-flush:{self.path.name}", daemon=True
        )
        self._flusher.start()

    # topics ---------------------------------------------------------------------------------
    def create_topics(self, partitions_by_topic: Mapping[str, int]) -> None:
        self._check_open()
        for topic, partitions in partitions_by_topic.items():
            if not isinstance(partitions, int) or partitions < 1:
                raise TransportError(f"topic {topic!r}: partition count must be >= 1, got {partitions}")
        with self._lock:
            self._execute_write(
                "INSERT OR IGNORE INTO topics (name, partitions) VALUES (?, ?)",
                list(partitions_by_topic.items()),
            )
            self._partitions.update(self._read_topics())

    def list_topics(self) -> dict[str, int]:
        self._check_open()
        with self._lock:
            topics = self._read_topics()
            self._partitions.update(topics)
            return topics

    def _read_topics(self) -> dict[str, int]:
        return dict(self._connection.execute("SELECT name, partitions FROM topics").fetchall())

    def _partition_count(self, topic: str) -> int:
        count = self._partitions.get(topic)
        if count is None:
            row = self._connection.execute(
                "SELECT partitions FROM topics WHERE name = ?", (topic,)
            ).fetchone()
            if row is None:
                raise TransportError(
                    f"topic {topic!r} does not exist in {self.location}", code="UNKNOWN_TOPIC"
                )
            count = self._partitions[topic] = int(row[0])
        return count

    # produce --------------------------------------------------------------------------------
    def produce(self, topic: str, partition: int | None, key: bytes | None, value: bytes) -> None:
        self._check_open()
        size = len(value) + (len(key) if key else 0)
        if size > MAX_RECORD_BYTES:
            raise TransportError(
                f"record for {topic!r} is {size} bytes, over the {MAX_RECORD_BYTES}-byte limit "
                "(Kafka's default message.max.bytes); split the packet",
                code="MSG_SIZE_TOO_LARGE",
            )
        with self._lock:
            count = self._partition_count(topic)
            if partition is None:
                partition = zlib.crc32(key) % count if key else 0
            elif not 0 <= partition < count:
                raise TransportError(
                    f"partition {partition} does not exist: topic {topic!r} has {count}",
                    code="UNKNOWN_PARTITION",
                )
            self._queue.append((topic, partition, key, value, int(time.time() * 1000)))
            if len(self._queue) >= _BATCH_RECORDS:
                self._commit_queue()
            else:
                self._wake.set()

    def _flush_loop(self) -> None:
        while not self._closed:
            self._wake.wait()
            if self._closed:
                return
            time.sleep(_LINGER_S)
            self._wake.clear()
            with self._lock:
                try:
                    self._commit_queue()
                except TransportError:
                    logger.exception("background commit to %s failed", self.location)

    def _commit_queue(self) -> None:
        """Append the queued records in one transaction; on failure they become delivery failures."""
        if not self._queue:
            return
        batch, self._queue = self._queue, []
        try:
            self._connection.execute("BEGIN IMMEDIATE")
            try:
                next_offsets: dict[TopicPartition, int] = {}
                rows = []
                for topic, partition, key, value, timestamp_ms in batch:
                    where = (topic, partition)
                    offset = next_offsets.get(where)
                    if offset is None:
                        offset = self._connection.execute(
                            "SELECT COALESCE(MAX(offset) + 1, 0) FROM records "
                            "WHERE topic = ? AND partition = ?",
                            where,
                        ).fetchone()[0]
                    rows.append((topic, partition, offset, key, value, timestamp_ms))
                    next_offsets[where] = offset + 1
                self._connection.executemany(
                    "INSERT INTO records VALUES (?, ?, ?, ?, ?, ?)", rows
                )
                self._connection.execute("COMMIT")
            except BaseException:
                self._connection.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            reason = f"commit to {self.location} failed: {exc}"
            logger.error("%s (%d records)", reason, len(batch))
            self._failures.extend(
                DeliveryFailure(topic, partition, key, reason, retriable=True)
                for topic, partition, key, _, _ in batch
            )
            return
        with _commit_signal:
            _commit_signal.notify_all()

    def flush(self, timeout_s: float) -> None:
        self._check_open()
        with self._lock:
            self._commit_queue()
            failures = self.take_delivery_failures()
        if failures:
            first = failures[0]
            raise TransportError(
                f"{len(failures)} record(s) were not stored; first: topic {first.topic!r} "
                f"partition {first.partition}: {first.reason}",
                retriable=first.retriable,
            )

    def take_delivery_failures(self) -> list[DeliveryFailure]:
        with self._lock:
            failures, self._failures = self._failures, []
            return failures

    def _execute_write(self, sql: str, rows: Iterable[tuple[object, ...]]) -> None:
        try:
            self._connection.execute("BEGIN IMMEDIATE")
            self._connection.executemany(sql, rows)
            self._connection.execute("COMMIT")
        except sqlite3.Error as exc:
            if self._connection.in_transaction:
                self._connection.execute("ROLLBACK")
            raise TransportError(f"write to {self.location} failed: {exc}") from exc

    # offsets --------------------------------------------------------------------------------
    def end_offsets(self, topic: str) -> dict[int, int]:
        return self._partition_offsets(topic, "COALESCE(MAX(offset) + 1, 0)", 0)

    def beginning_offsets(self, topic: str) -> dict[int, int]:
        return self._partition_offsets(topic, "MIN(offset)", 0)

    def _partition_offsets(self, topic: str, aggregate: str, empty: int) -> dict[int, int]:
        self._check_open()
        with self._lock:
            try:
                count = self._partition_count(topic)
            except TransportError:
                return {}
            rows = self._connection.execute(
                f"SELECT partition, {aggregate} FROM records WHERE topic = ? GROUP BY partition",
                (topic,),
            ).fetchall()
        found = {int(partition): int(value) for partition, value in rows}
        return {partition: found.get(partition, empty) for partition in range(count)}

    def offset_for_time(self, topic: str, partition: int, timestamp_ms: int) -> int:
        self._check_open()
        with self._lock:
            row = self._connection.execute(
                "SELECT MIN(offset) FROM records WHERE topic = ? AND partition = ? "
                "AND timestamp_ms >= ?",
                (topic, partition, timestamp_ms),
            ).fetchone()
        if row[0] is not None:
            return int(row[0])
        return self.end_offsets(topic).get(partition, 0)

    # consume --------------------------------------------------------------------------------
    def consumer(self) -> Consumer:
        self._check_open()
        return EmbeddedConsumer(self.path, self.timeout_s)

    def close(self) -> None:
        if self._closed:
            return
        try:
            with self._lock:
                self._commit_queue()
                failures = self.take_delivery_failures()
            if failures:
                logger.error(
                    "%d record(s) could not be stored in %s on close", len(failures), self.location
                )
        finally:
            self._closed = True
            self._wake.set()
            self._flusher.join(timeout=self.timeout_s)
            self._connection.close()

    def _check_open(self) -> None:
        if self._closed:
            raise TransportError(f"{self.location} is closed")


class EmbeddedConsumer(Consumer):
    """Polls the SQLite log; wakes on commits from this process and on data_version changes."""

    def __init__(self, path: Path, timeout_s: float) -> None:
        self._path = path
        self._connection = _connect(path, timeout_s)
        self._positions: dict[TopicPartition, int] = {}
        self._next_turn = 0
        self._closed = False

    def assign(self, positions: Mapping[TopicPartition, int]) -> None:
        for (topic, partition), offset in positions.items():
            row = self._connection.execute(
                "SELECT partitions FROM topics WHERE name = ?", (topic,)
            ).fetchone()
            if row is None:
                raise TransportError(
                    f"cannot read topic {topic!r}: it does not exist in embedded:{self._path}",
                    code="UNKNOWN_TOPIC",
                )
            if not 0 <= partition < int(row[0]):
                raise TransportError(
                    f"cannot read {topic}:{partition}: topic {topic!r} has {row[0]} partition(s)",
                    code="UNKNOWN_PARTITION",
                )
            self._positions[(topic, partition)] = max(0, int(offset))

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
            with _commit_signal:
                _commit_signal.wait(min(pause, remaining))
            pause = min(pause * 2, 0.005)
            if self._connection.execute("PRAGMA data_version").fetchone()[0] != version:
                pause = 0.0005

    def _fetch(self, max_records: int) -> list[Record]:
        records: list[Record] = []
        assigned = list(self._positions)
        if not assigned:
            return records
        start = self._next_turn % len(assigned)
        self._next_turn += 1
        for where in assigned[start:] + assigned[:start]:
            room = max_records - len(records)
            if room <= 0:
                break
            topic, partition = where
            rows = self._connection.execute(
                "SELECT offset, key, value, timestamp_ms FROM records "
                "WHERE topic = ? AND partition = ? AND offset >= ? ORDER BY offset LIMIT ?",
                (topic, partition, self._positions[where], room),
            ).fetchall()
            if rows:
                records.extend(
                    Record(topic, partition, offset, key, value, timestamp_ms)
                    for offset, key, value, timestamp_ms in rows
                )
                self._positions[where] = rows[-1][0] + 1
        return records

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._connection.close()
