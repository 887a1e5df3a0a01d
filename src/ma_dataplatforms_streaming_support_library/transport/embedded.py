"""EmbeddedTransport: the partitioned log in one SQLite file (WAL), shared by every process on the machine."""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
import zlib
from collections.abc import Mapping, Sequence
from pathlib import Path

from .base import (
    Consumer,
    DeliveryFailure,
    KeyedReader,
    Outgoing,
    TopicPartition,
    Transport,
    TransportError,
    check_record_size,
)
from .embedded_consumer import EmbeddedConsumer, EmbeddedKeyedReader
from .sqlite_log import StoreCatalog, connect, id_range, insert_records, note_commit, store_name

__all__ = ["EmbeddedConsumer", "EmbeddedTransport", "default_store_path"]

logger = logging.getLogger(__name__)

# The flusher thread commits while producers go on queueing (SQLite releases the GIL); a producer
# finding this many records, or this many bytes of values, queued waits until the flusher takes
# them (back-pressure: a queue of large packets stays bounded in memory too).
_MAX_QUEUED_RECORDS = 20_000
_MAX_QUEUED_BYTES = 128 << 20
# A few records wait this long for company, so that a trickle is committed in batches; a backlog
# of at least _LINGER_RECORDS is committed at once (the producer keeps queueing meanwhile).
_LINGER_S = 0.002
_LINGER_RECORDS = 256
# While a commit runs, a producer yields the GIL every this many records.
_YIELD_EVERY = 8
# ``produce_many`` takes the queue's lock, and yields, once every this many records: a commit
# statement takes _ROWS_PER_INSERT records, so the committing thread still keeps up.
_YIELD_EVERY_MANY = 32

#: a queued record: key, value, timestamp (ms); queued per partition id, in produce order
_Queued = tuple[bytes | None, bytes, int]


def default_store_path() -> Path:
    """The per-user store used for ``embedded:`` and an empty broker list: ``sessions.db`` in the
    platform's user data folder (``$XDG_DATA_HOME/ma-streaming`` on Linux, where an unset or empty
    ``XDG_DATA_HOME`` means ``~/.local/share``; ``~/Library/Application Support/ma-streaming`` on
    macOS; ``%LOCALAPPDATA%\\ma-streaming`` on Windows)."""
    import platformdirs

    return platformdirs.user_data_path("ma-streaming", appauthor=False) / "sessions.db"


class EmbeddedTransport(Transport):
    """A log on one SQLite file. Produce is queued and committed in batches by a flusher thread.

    Each partition's queued records are committed in produce order, all partitions of a batch in
    one transaction; a producer that gets ahead of the commits waits for room in the queue, which
    bounds memory (back-pressure, not growth).
    """

    def __init__(self, path: str | os.PathLike[str] | None = None, timeout_s: float = 10.0) -> None:
        self.path = Path(path).expanduser() if path else default_store_path()
        self.location = f"embedded:{self.path}"
        self._store = store_name(self.path)
        self.timeout_s = timeout_s
        self._writer = connect(self.path, timeout_s)
        self._reader = connect(self.path, timeout_s)
        self._catalog = StoreCatalog(self._reader, self.location)
        self._queue_lock = threading.Lock()
        self._queue_room = threading.Condition(self._queue_lock)
        self._commit_lock = threading.Lock()
        self._read_lock = threading.Lock()
        self._queue: dict[int, list[_Queued]] = {}
        self._queued = 0
        self._queued_bytes = 0
        self._committing = False
        self._partitions: dict[int, TopicPartition] = {}
        self._pids: dict[TopicPartition, int] = {}
        self._failures: list[DeliveryFailure] = []
        self._closed = False
        self._wake = threading.Event()
        self._flusher = threading.Thread(
            target=self._flush_loop, name=f"ma-streaming-embedded:{self.path.name}", daemon=True
        )
        self._flusher.start()

    # topics ---------------------------------------------------------------------------------
    def create_topics(self, partitions_by_topic: Mapping[str, int]) -> None:
        self._check_open()
        for topic, partitions in partitions_by_topic.items():
            if not isinstance(partitions, int) or partitions < 1:
                raise TransportError(
                    f"topic {topic!r}: partition count must be >= 1, got {partitions}"
                )
        with self._commit_lock:
            try:
                self._writer.execute("BEGIN IMMEDIATE")
                for topic, partitions in partitions_by_topic.items():
                    self._writer.execute(
                        "INSERT OR IGNORE INTO topics (name, partitions) VALUES (?, ?)",
                        (topic, partitions),
                    )
                    self._writer.executemany(
                        "INSERT OR IGNORE INTO partitions (topic, partition) VALUES (?, ?)",
                        [(topic, partition) for partition in range(partitions)],
                    )
                self._writer.execute("COMMIT")
            except sqlite3.Error as exc:
                if self._writer.in_transaction:
                    self._writer.execute("ROLLBACK")
                raise TransportError(f"creating topics in {self.location} failed: {exc}") from exc

    def list_topics(self) -> dict[str, int]:
        self._check_open()
        with self._read_lock:
            return self._catalog.refresh()

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
        pid = self._pids.get((topic, partition)) if partition is not None else None
        if pid is None:
            pid = self._new_pid(topic, partition, key)
        with self._queue_lock:
            self._enqueue(
                pid, key, value, int(time.time() * 1000) if timestamp_ms is None else timestamp_ms
            )
            queued = self._queued
        if not self._wake.is_set():
            self._wake.set()
        if self._committing and queued % _YIELD_EVERY == 0:
            # Let the committing thread take the GIL back between its statements now; it would
            # otherwise wait a whole switch interval (5 ms) for it while this thread produces.
            time.sleep(0)

    def produce_many(self, records: Sequence[Outgoing]) -> dict[int, TransportError]:
        """``produce`` of each record, taking the queue's lock and yielding to the committing
        thread once for the batch instead of per record. A record that waits for room past the
        timeout is rejected, and so are the ones after it, without waiting again."""
        self._check_open()
        rejected: dict[int, TransportError] = {}
        placed: list[tuple[int, int, bytes | None, bytes]] = []
        for index, (topic, partition, key, value) in enumerate(records):
            pid = self._pids.get((topic, partition)) if partition is not None else None
            try:
                check_record_size(topic, key, value)
                if pid is None:
                    pid = self._new_pid(topic, partition, key)
            except TransportError as exc:
                rejected[index] = exc
                continue
            placed.append((index, pid, key, value))
        timestamp_ms = int(time.time() * 1000)
        for start in range(0, len(placed), _YIELD_EVERY_MANY):
            with self._queue_lock:
                for position in range(start, min(start + _YIELD_EVERY_MANY, len(placed))):
                    _, pid, key, value = placed[position]
                    try:
                        self._enqueue(pid, key, value, timestamp_ms)
                    except TransportError as exc:
                        rejected.update((later[0], exc) for later in placed[position:])
                        return rejected
            self._wake.set()
            if self._committing:
                time.sleep(0)
        return rejected

    def _new_pid(self, topic: str, partition: int | None, key: bytes | None) -> int:
        """The store's id of the partition a record goes to (the key's where ``partition`` is
        None), looked up in the store and remembered."""
        with self._read_lock:
            if partition is None:
                count = self._catalog.count(topic) or 1
                partition = zlib.crc32(key) % count if key else 0
            pid = self._catalog.pid(topic, partition)
        self._pids[(topic, partition)] = pid
        self._partitions[pid] = (topic, partition)
        return pid

    def _enqueue(self, pid: int, key: bytes | None, value: bytes, timestamp_ms: int) -> None:
        """Queue one record (holding ``_queue_lock``), once there is room."""
        if self._queue_full():
            self._wait_for_room(pid)
        records = self._queue.get(pid)
        if records is None:
            records = self._queue[pid] = []
        records.append((key, value, timestamp_ms))
        self._queued += 1
        self._queued_bytes += len(value)

    def _queue_full(self) -> bool:
        return self._queued >= _MAX_QUEUED_RECORDS or self._queued_bytes >= _MAX_QUEUED_BYTES

    def _wait_for_room(self, pid: int) -> None:
        """Wait (holding ``_queue_lock``) until the flusher takes the queue; the record is not
        queued if that takes longer than the timeout."""
        self._wake.set()
        deadline = time.monotonic() + self.timeout_s
        where = self._partitions[pid]
        while self._queue_full():
            remaining = deadline - time.monotonic()
            if self._closed or remaining <= 0:
                raise TransportError(
                    f"{self._queued} records still waiting for a commit to {self.location} "
                    f"after {self.timeout_s} s; record for {where[0]}:{where[1]} not queued "
                    "(is another process holding the store's write lock?)",
                    code="_QUEUE_FULL",
                    retriable=True,
                )
            self._queue_room.wait(remaining)

    def _flush_loop(self) -> None:
        while not self._closed:
            self._wake.wait()
            if self._closed:
                return
            self._wake.clear()
            if self._queued < _LINGER_RECORDS:
                time.sleep(_LINGER_S)
            self._commit_pending()
            if self._queued:
                self._wake.set()

    def _commit_pending(self) -> None:
        """Commit everything queued so far, each partition in produce order (the commit lock is
        taken first)."""
        with self._commit_lock:
            with self._queue_lock:
                batch, self._queue, self._queued = self._queue, {}, 0
                self._queued_bytes = 0
                self._queue_room.notify_all()
            if batch:
                self._committing = True
                try:
                    self._commit(batch)
                finally:
                    self._committing = False

    def _commit(self, batch: dict[int, list[_Queued]]) -> None:
        connection = self._writer
        try:
            connection.execute("BEGIN IMMEDIATE")
            try:
                for pid, records in batch.items():
                    low, high = id_range(pid)
                    last = connection.execute(
                        "SELECT MAX(id) FROM records WHERE id >= ? AND id < ?", (low, high)
                    ).fetchone()[0]
                    insert_records(connection, pid, low if last is None else last + 1, records)
                connection.execute("COMMIT")
            except BaseException:
                # SQLite ends the transaction itself on some errors (a full disk: SQLITE_FULL);
                # a ROLLBACK then would replace the real reason with "no transaction is active".
                if connection.in_transaction:
                    connection.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            reason = f"commit to {self.location} failed: {exc}"
            lost = sum(map(len, batch.values()))
            logger.error("%s (%d records lost)", reason, lost)
            failures = [
                DeliveryFailure(*self._partitions[pid], key, reason, retriable=True)
                for pid, records in batch.items()
                for key, _, _ in records
            ]
            with self._queue_lock:
                self._failures.extend(failures)
            return
        note_commit(self._store, batch)

    def flush(self, timeout_s: float) -> None:
        self._check_open()
        self._commit_pending()
        failures = self.take_delivery_failures()
        if failures:
            first = failures[0]
            raise TransportError(
                f"{len(failures)} record(s) were not stored; first: topic {first.topic!r} "
                f"partition {first.partition}: {first.reason}",
                retriable=first.retriable,
            )

    def take_delivery_failures(self) -> list[DeliveryFailure]:
        if not self._failures:
            return []
        with self._queue_lock:
            failures, self._failures = self._failures, []
            return failures

    # offsets --------------------------------------------------------------------------------
    def end_offsets(self, topic: str) -> dict[int, int]:
        return self._partition_offsets(topic, "MAX(id)", 1)

    def beginning_offsets(self, topic: str) -> dict[int, int]:
        return self._partition_offsets(topic, "MIN(id)", 0)

    def _partition_offsets(self, topic: str, aggregate: str, past: int) -> dict[int, int]:
        self._check_open()
        result: dict[int, int] = {}
        with self._read_lock:
            count = self._catalog.count(topic)
            for partition in range(count or 0):
                low, high = id_range(self._catalog.pid(topic, partition))
                found = self._reader.execute(
                    f"SELECT {aggregate} FROM records WHERE id >= ? AND id < ?", (low, high)
                ).fetchone()[0]
                result[partition] = 0 if found is None else found - low + past
        return result

    def offset_for_time(self, topic: str, partition: int, timestamp_ms: int) -> int:
        self._check_open()
        with self._read_lock:
            low, high = id_range(self._catalog.pid(topic, partition))
            found = self._reader.execute(
                "SELECT MIN(id) FROM records WHERE id >= ? AND id < ? AND timestamp_ms >= ?",
                (low, high, timestamp_ms),
            ).fetchone()[0]
        if found is not None:
            return int(found) - low
        return self.end_offsets(topic).get(partition, 0)

    # consume --------------------------------------------------------------------------------
    def consumer(self) -> Consumer:
        self._check_open()
        return EmbeddedConsumer(self.path, self.timeout_s)

    def keyed_reader(self) -> KeyedReader:
        self._check_open()
        return EmbeddedKeyedReader(self.path, self.timeout_s)

    def close(self) -> None:
        if self._closed:
            return
        try:
            self._commit_pending()
            failures = self.take_delivery_failures()
            if failures:
                logger.error(
                    "%d record(s) could not be stored in %s on close", len(failures), self.location
                )
        finally:
            self._closed = True
            self._wake.set()
            self._flusher.join(timeout=self.timeout_s)
            with self._commit_lock:
                self._writer.close()
            with self._read_lock:
                self._reader.close()

    def _check_open(self) -> None:
        if self._closed:
            raise TransportError(f"{self.location} is closed")
