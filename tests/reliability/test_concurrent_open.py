"""Processes that open a new embedded store at the same instant (a soak's eight readers, a
fleet of loggers started together) all get it: none is told "database is locked"."""

from __future__ import annotations

import multiprocessing
import multiprocessing.synchronize
from pathlib import Path

from ma_dataplatforms_streaming_support_library.transport.sqlite_log import connect

OPENERS = 8
#: before the fix, one round in four or five had an opener refused
ROUNDS = 30


def _open_at_once(
    path: Path, start: multiprocessing.synchronize.Barrier, answers: multiprocessing.Queue[str]
) -> None:
    start.wait()
    try:
        connect(path, 10.0).close()
    except Exception as exc:
        answers.put(f"{type(exc).__name__}: {exc}")
    else:
        answers.put("")


def test_processes_opening_a_new_store_at_once_all_get_it(tmp_path: Path) -> None:
    context = multiprocessing.get_context("fork")
    failures: list[str] = []
    for round_number in range(ROUNDS):
        path = tmp_path / f"round{round_number}" / "store.db"
        start = context.Barrier(OPENERS)
        answers: multiprocessing.Queue[str] = context.Queue()
        openers = [
            context.Process(target=_open_at_once, args=(path, start, answers))
            for _ in range(OPENERS)
        ]
        for opener in openers:
            opener.start()
        failures += [answer for answer in (answers.get(timeout=60) for _ in openers) if answer]
        for opener in openers:
            opener.join(30)
    assert failures == []
