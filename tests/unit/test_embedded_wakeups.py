"""When a waiting consumer of the embedded store reads its partitions again: after commits to
them, by this process or another, and not while nothing was committed."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest

from ma_dataplatforms_streaming_support_library.transport.base import Consumer, Record
from ma_dataplatforms_streaming_support_library.transport.embedded import EmbeddedTransport


@pytest.fixture
def store(tmp_path: Path) -> EmbeddedTransport:
    transport = EmbeddedTransport(tmp_path / "store.db")
    transport.create_topics({"mine": 1, "other": 1})
    return transport


def _counting_reads(consumer: Consumer, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Each read of the consumer's partitions appends to the list returned."""
    reads: list[int] = []
    fetch = consumer._fetch  # type: ignore[attr-defined]

    def counted(max_records: int) -> list[Record]:
        reads.append(max_records)
        return fetch(max_records)  # type: ignore[no-any-return]

    monkeypatch.setattr(consumer, "_fetch", counted)
    return reads


def test_a_waiting_consumer_reads_once_while_nothing_is_committed(
    store: EmbeddedTransport, monkeypatch: pytest.MonkeyPatch
) -> None:
    with store, store.consumer() as consumer:
        consumer.assign({("mine", 0): 0})
        reads = _counting_reads(consumer, monkeypatch)
        assert consumer.poll(10, 0.3) == []
    assert len(reads) == 1  # it looked for other processes' commits, which change no data


def test_a_commit_to_its_partition_by_this_process_ends_its_wait(
    store: EmbeddedTransport,
) -> None:
    with store, store.consumer() as consumer:
        consumer.assign({("mine", 0): 0})
        got: list[Record] = []
        waiting = threading.Thread(target=lambda: got.extend(consumer.poll(10, 30.0)))
        waiting.start()
        store.produce("other", 0, b"k", b"elsewhere")
        store.flush(5)
        store.produce("mine", 0, b"k", b"here")
        store.flush(5)
        waiting.join(30)
    assert [record.value for record in got] == [b"here"]


_WRITER = """
import sys
from ma_dataplatforms_streaming_support_library.transport.embedded import EmbeddedTransport
with EmbeddedTransport(sys.argv[1]) as store:
    store.produce("mine", 0, b"k", b"from another process")
    store.flush(5)
"""


def test_another_process_commit_is_read_while_this_one_commits_elsewhere(
    store: EmbeddedTransport,
) -> None:
    stop = threading.Event()

    def commit_elsewhere() -> None:
        while not stop.is_set():
            store.produce("other", 0, b"k", b"elsewhere")
            store.flush(5)

    with store, store.consumer() as consumer:
        consumer.assign({("mine", 0): 0})
        busy = threading.Thread(target=commit_elsewhere)
        busy.start()
        try:
            subprocess.run([sys.executable, "-c", _WRITER, str(store.path)], check=True)
            got = consumer.poll(10, 30.0)
        finally:
            stop.set()
            busy.join(30)
    assert [record.value for record in got] == [b"from another process"]
