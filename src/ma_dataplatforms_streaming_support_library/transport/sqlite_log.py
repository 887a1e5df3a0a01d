"""The SQLite layout of the embedded store, shared by its transport and its consumers.

One file (WAL mode) holds topics, partitions and records. Opening a store creates missing
folders (0700) and the file (0600) — telemetry is confidential.

Beside the records, ``record_labels`` (see ``labels``) keeps their packet labels.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

from .base import TopicPartition, TransportError
from .labels import LABELS_SCHEMA, add_labels

__all__ = [
    "OFFSET_BITS",
    "PAGE_SIZE",
    "StoreCatalog",
    "commit_signal",
    "commits",
    "connect",
    "id_range",
    "insert_records",
    "note_commit",
    "store_name",
]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS topics (
    name TEXT PRIMARY KEY,
    partitions INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS partitions (
    pid INTEGER PRIMARY KEY,
    topic TEXT NOT NULL,
    partition INTEGER NOT NULL,
    UNIQUE (topic, partition)
);
CREATE TABLE IF NOT EXISTS records (
    id INTEGER PRIMARY KEY,
    key BLOB,
    value BLOB NOT NULL,
    timestamp_ms INTEGER NOT NULL
);
"""

#: Page size of a new store. Telemetry records are packets of up to ~1 MB, stored in chains of
#: overflow pages: 64 KiB pages make those chains 16 times shorter, which about doubles bulk
#: write throughput and makes reading a session's records several times faster than SQLite's
#: 4 KiB default (benchmarks/write_embedded.py prints both). An existing store keeps its own.
PAGE_SIZE = 65_536

_ROWS_PER_INSERT = 64
_MULTI_ROW_INSERT = "INSERT INTO records VALUES " + ", ".join(["(?, ?, ?, ?)"] * _ROWS_PER_INSERT)

# A record's rowid is (partition id << 40) + offset: one integer B-tree holds every partition's
# records in offset order, so appends and range scans cost what a plain rowid table costs.
OFFSET_BITS = 40

# Commits by this process wake its own consumers at once; other processes are seen by polling
# PRAGMA data_version, which changes whenever another connection commits. Under the signal's
# lock, ``commits`` counts this process's commits per store and per (store, partition id), so
# that a consumer woken by a commit to other partitions need not read its own again.
commit_signal = threading.Condition()
commits: Counter[str | tuple[str, int]] = Counter()


def store_name(path: Path) -> str:
    """The name ``commits`` knows a store by: its absolute path, links resolved."""
    return str(path.resolve())


def note_commit(store: str, pids: Iterable[int]) -> None:
    """Count a commit of this process to the partitions ``pids`` of ``store`` and wake the
    process's consumers."""
    with commit_signal:
        commits[store] += 1
        for pid in pids:
            commits[(store, pid)] += 1
        commit_signal.notify_all()


def _create_private(path: Path) -> None:
    """Create the folders (0700) and the store file (0600) that do not exist yet; telemetry is
    confidential. SQLite gives the -wal and -shm files the store file's mode, and an existing
    store or folder keeps the mode it has."""
    missing = [folder for folder in (path.parent, *path.parent.parents) if not folder.exists()]
    # Another process may create any of them first: then it is theirs, as it is.
    for folder in reversed(missing):
        with contextlib.suppress(FileExistsError):
            folder.mkdir(mode=0o700)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def connect(path: Path, timeout_s: float) -> sqlite3.Connection:
    """A connection to the store at ``path`` (created if missing), in WAL mode with the schema.

    Processes that open a new store at the same moment race to switch it to WAL, and SQLite
    answers the losers "database is locked" at once, without waiting: those opens are tried
    again, with backoff, until ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    delay_s = 0.005
    while True:
        try:
            _create_private(path)
            return _open(path, timeout_s)
        except sqlite3.OperationalError as exc:
            if _is_busy(exc) and time.monotonic() + delay_s < deadline:
                time.sleep(delay_s)
                delay_s = min(delay_s * 2, 0.25)
                continue
            raise _cannot_open(path, exc) from exc
        except (OSError, sqlite3.Error) as exc:
            raise _cannot_open(path, exc) from exc


def _open(path: Path, timeout_s: float) -> sqlite3.Connection:
    connection = sqlite3.connect(
        str(path), timeout=timeout_s, isolation_level=None, check_same_thread=False
    )
    try:
        # Takes effect only while the file is still empty (a new store); ignored otherwise.
        connection.execute(f"PRAGMA page_size={PAGE_SIZE}")
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        connection.executescript(_SCHEMA + LABELS_SCHEMA)
    except BaseException:
        connection.close()
        raise
    return connection


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    return getattr(exc, "sqlite_errorname", "").startswith("SQLITE_BUSY") or "locked" in str(exc)


def _cannot_open(path: Path, exc: Exception) -> TransportError:
    return TransportError(
        f"cannot open the embedded store at {path}: {exc}. "
        "Check that the directory exists and is writable, or pass another path as "
        "broker_list='embedded:PATH'.",
        code=type(exc).__name__,
    )


def insert_records(
    connection: sqlite3.Connection,
    pid: int,
    first_id: int,
    records: Sequence[tuple[bytes | None, bytes, int]],
) -> None:
    """Insert one partition's records (key, value, timestamp in ms) with ids from ``first_id``,
    and their packet labels, in the caller's transaction; _ROWS_PER_INSERT to a statement.

    sqlite3 releases the GIL around each statement, and a producer thread holding it in between
    would otherwise delay every row; the rows are laid out by C iterators, not a Python loop.
    """
    keys, values, timestamps = zip(*records, strict=True)
    add_labels(connection, pid, first_id - id_range(pid)[0], keys, values)
    rows = zip(itertools.count(first_id), keys, values, timestamps, strict=False)
    whole = len(records) - len(records) % _ROWS_PER_INSERT
    if whole:
        fields = itertools.chain.from_iterable(itertools.islice(rows, whole))
        # One iterator repeated: each statement takes the next 4 * _ROWS_PER_INSERT fields.
        statements = zip(*[fields] * (4 * _ROWS_PER_INSERT), strict=False)
        connection.executemany(_MULTI_ROW_INSERT, statements)
    if whole < len(records):
        connection.executemany("INSERT INTO records VALUES (?, ?, ?, ?)", rows)


def id_range(pid: int) -> tuple[int, int]:
    return pid << OFFSET_BITS, (pid + 1) << OFFSET_BITS


class StoreCatalog:
    """Topic → partition count and (topic, partition) → partition id, read through a connection."""

    def __init__(self, connection: sqlite3.Connection, location: str) -> None:
        self._connection = connection
        self._location = location
        self._pids: dict[TopicPartition, int] = {}
        self._counts: dict[str, int] = {}

    def refresh(self) -> dict[str, int]:
        self._counts = dict(self._connection.execute("SELECT name, partitions FROM topics"))
        for pid, topic, partition in self._connection.execute(
            "SELECT pid, topic, partition FROM partitions"
        ):
            self._pids[(topic, partition)] = pid
        return dict(self._counts)

    def count(self, topic: str) -> int | None:
        if topic not in self._counts:
            self.refresh()
        return self._counts.get(topic)

    def pid(self, topic: str, partition: int) -> int:
        count = self.count(topic)
        if count is None:
            raise TransportError(
                f"topic {topic!r} does not exist in {self._location}", code="UNKNOWN_TOPIC"
            )
        if not 0 <= partition < count:
            raise TransportError(
                f"partition {partition} does not exist: topic {topic!r} has {count}",
                code="UNKNOWN_PARTITION",
            )
        where = (topic, partition)
        if where not in self._pids:
            self.refresh()
        return self._pids[where]
