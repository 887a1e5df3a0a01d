"""Two processes share one store or broker: sessions, data formats and packets cross between them.

The helper programs under ``procs/`` use only the official API, like the official samples; the
broker list goes to them on the command line (``MA_STREAMING_BROKER`` is cleared so it cannot
redirect them).
"""

from __future__ import annotations

import base64
import json
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO, Any

import pytest

# Other processes share the store, so an in-process memory: log cannot serve these tests.
pytestmark = pytest.mark.cross_process

PROCS = Path(__file__).resolve().parent / "procs"
SRC = Path(__file__).resolve().parents[2] / "src"
STREAMS = ["", "stream1", "stream2"]
PROCESS_TIMEOUT_S = 90


def environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "MA_STREAMING_BROKER"}
    env["PYTHONPATH"] = os.pathsep.join([str(SRC), str(PROCS)])
    return env


def json_lines(text: str) -> list[dict[str, Any]]:
    """The helper's JSON lines (the default Logger may print its own lines in between)."""
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def run(script: str, *arguments: str) -> list[dict[str, Any]]:
    completed = subprocess.run(
        [sys.executable, str(PROCS / script), *arguments],
        capture_output=True,
        text=True,
        timeout=PROCESS_TIMEOUT_S,
        env=environment(),
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return json_lines(completed.stdout)


class Background:
    """A helper process whose stdout lines are collected by a thread as they arrive."""

    def __init__(self, script: str, *arguments: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(PROCS / script), *arguments],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=environment(),
        )
        self.lines: queue.Queue[dict[str, Any]] = queue.Queue()
        self.seen: list[dict[str, Any]] = []
        assert self.process.stdout is not None
        threading.Thread(target=self._pump, args=(self.process.stdout,), daemon=True).start()

    def _pump(self, stream: IO[str]) -> None:
        for line in stream:
            if line.startswith("{"):
                self.lines.put(json.loads(line))

    def wait_for(self, key: str, timeout: float = 60) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(
                    f"no {key!r} line within {timeout} s: {self.stderr()}"
                ) from None
            self.seen.append(line)
            if key in line:
                return line

    def finish(self) -> list[dict[str, Any]]:
        self.wait_for("finished", PROCESS_TIMEOUT_S)
        assert self.process.wait(30) == 0, self.stderr()
        return self.seen

    def stderr(self) -> str:
        if self.process.poll() is None:
            return "(still running)"
        assert self.process.stderr is not None
        return self.process.stderr.read()

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


@pytest.fixture
def background() -> Any:
    started: list[Background] = []

    def start(script: str, *arguments: str) -> Background:
        process = Background(script, *arguments)
        started.append(process)
        return process

    yield start
    for process in started:
        process.kill()


def check_reading(lines: list[dict[str, Any]], written: dict[str, Any]) -> None:
    """Every packet of every stream once and in order, events in the reader's documented order."""
    key = written["session_key"]
    events = [line for line in lines if line.get("session_key") == key]
    delivered: dict[str, list[str]] = {}
    for line in events:
        if line["event"] == "packet":
            delivered.setdefault(line["stream"], []).append(line["data"])
    assert delivered == written["packets"]
    kinds = [line["event"] for line in events]
    assert kinds[0] == "session_started" and kinds.count("session_started") == 1
    assert kinds[-1] == "session_completed" and kinds.count("session_completed") == 1
    assert events[-1]["historical"] is True
    for stream in STREAMS:
        of_stream = [line["event"] for line in events if line.get("stream") == stream]
        assert of_stream[0] == "stream_started" and of_stream.count("stream_started") == 1
        assert of_stream[-1] == "stream_completed" and of_stream.count("stream_completed") == 1
    first_packet = base64.b64decode(delivered[""][0])
    assert b"NewSession" in first_packet
    # The reader's handler resolved the writer's data format id on its delivery thread.
    resolved = [line["parameters"] for line in events if line.get("parameters") is not None]
    assert resolved == [["Sin:E2E"]] * 60


@pytest.mark.parametrize("strategy", ["topic", "partition"])
def test_another_process_lists_the_sessions_and_resolves_the_formats(
    broker_list: str, data_source: str, strategy: str
) -> None:
    (written,) = run("writer.py", broker_list, strategy, data_source, "catalog")

    (listed,) = run(
        "lister.py", broker_list, strategy, data_source, json.dumps(list(written["formats"]))
    )

    mine = {s["session_key"]: s for s in listed["sessions"] if s["data_source"] == data_source}
    assert set(mine) == set(written["sessions"])
    assert [mine[k]["identifier"] for k in written["sessions"]] == ["first", "second", "ended"]
    assert [mine[k]["historical"] for k in written["sessions"]] == [False, False, True]
    assert all(s["details"] == {"Creator": "writer"} for s in mine.values())
    assert listed["formats"] == written["formats"]


@pytest.mark.parametrize("strategy", ["topic", "partition"])
def test_live_reader_started_first_in_another_process_sees_every_packet_in_order(
    broker_list: str, data_source: str, strategy: str, background: Any
) -> None:
    reader = background("reader.py", broker_list, strategy, data_source, "live")
    reader.wait_for("ready")

    (written,) = run("writer.py", broker_list, strategy, data_source, "session")

    check_reading(reader.finish(), written)


def test_historic_reader_in_another_process_after_the_session_ended(
    broker_list: str, data_source: str, background: Any
) -> None:
    (written,) = run("writer.py", broker_list, "topic", data_source, "session")

    reader = background(
        "reader.py", broker_list, "topic", data_source, "historic", written["session_key"]
    )

    check_reading(reader.finish(), written)
