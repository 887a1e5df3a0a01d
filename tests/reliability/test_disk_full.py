"""The embedded store on a full file system: a clear error, nothing acknowledged lost, and the
store still opens.

Two ways to run out of room, both real: a 2 MB tmpfs (needs root and ``mount``; skipped
otherwise) and a file-size limit (``RLIMIT_FSIZE``) on the writer process, which makes every
write past it fail with EFBIG. A writer process fills the store, flushing after every batch;
what it saw flushed must all be there afterwards.
"""

from __future__ import annotations

import os
import resource
import shutil
import signal
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from .conftest import Proc, log_numbers

#: what SQLite says when a write fails for want of room (ENOSPC) or past the size limit (EFBIG)
CLEAR_REASONS = ("database or disk is full", "disk I/O error")


@pytest.fixture(params=["tmpfs", "rlimit"])
def capped(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[Path, Callable[[], None] | None]]:
    """A folder for the store, and what the writer process runs first to cap its room."""
    folder = tmp_path / "capped"
    folder.mkdir()
    if request.param == "rlimit":
        limit = 2 * 1024 * 1024

        def cap() -> None:
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of a kill
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

        yield folder, cap
        return
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("a tmpfs needs root and mount(8)")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(folder)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield folder, None
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def test_a_full_disk_is_a_clear_error_and_loses_nothing_acknowledged(
    capped: tuple[Path, Callable[[], None] | None],
) -> None:
    folder, cap = capped
    store = folder / "store.db"
    broker_list = f"embedded:{store}"
    writer = Proc("store_writer.py", broker_list, "full", "100", preexec_fn=cap)
    session = writer.next_with("session", timeout=60)["session"]
    flushed = 0
    failures: list[str] = []
    while len(failures) < 3:
        line = writer.next_with("number", timeout=120)
        if "flushed" in line:
            assert not failures, "a flush succeeded after the disk was full"
            flushed = line["flushed"]
        else:
            failures.append(line["failed"])
    writer.kill9()

    assert any(reason in failures[0] for reason in CLEAR_REASONS), failures[0]
    assert "cannot rollback" not in failures[0]
    assert flushed > 0
    with sqlite3.connect(store) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    in_store = log_numbers(broker_list, "full", session)  # the store still opens
    assert in_store[:flushed] == list(range(1, flushed + 1)), "an acknowledged packet was lost"
    assert in_store == list(range(1, len(in_store) + 1))
