"""The official samples, unmodified, against `ma-streaming serve` with MA_STREAMING_BROKER=grpc://.

The server runs on an embedded store in its own process; the writer, reader and buffering
examples reach it only over gRPC. The session they write is then read from the store directly.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from ma_dataplatforms_streaming_support_library import list_sessions, read_session

REPO = Path(__file__).resolve().parents[2]
WAIT_S = 60


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """(grpc:// address, store) of a server on free ports."""
    store = f"embedded:{tmp_path / 'store.db'}"
    env = {k: v for k, v in os.environ.items() if k != "MA_STREAMING_BROKER"}
    env["PYTHONPATH"] = str(REPO / "src")
    env["PYTHONUNBUFFERED"] = "1"
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ma_dataplatforms_streaming_support_library.cli.main",
            "--broker",
            store,
            "serve",
            "--port",
            "0",
            "--key-generator-port",
            "0",
            "--host",
            "127.0.0.1",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert server.stdout is not None
        line = server.stdout.readline()
        found = re.search(r"Stream API on port (\d+)", line)
        assert found, (line, server.stderr.read() if server.poll() is not None else "")
        yield f"grpc://127.0.0.1:{found.group(1)}", store
        server.send_signal(signal.SIGTERM)
        server.wait(WAIT_S)
        assert server.returncode == 0
    finally:
        if server.poll() is None:
            server.kill()
        server.communicate()


def _example(name: str, address: str, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = str(REPO / "src")
    env["MA_STREAMING_BROKER"] = address
    result = subprocess.run(
        [sys.executable, str(REPO / "examples" / name), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=WAIT_S,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_official_samples_over_grpc(served: tuple[str, str]) -> None:
    address, store = served
    written = _example("writer.py", address, "--fast", "--packets", "20")
    session_key = re.search(r"wrote session (\S+)", written)
    assert session_key, written

    read = _example("reader.py", address, "--historic")
    assert "read 46 packets, 2000 samples of Sin:MyApp, 1 session(s) completed" in read
    buffered = _example("buffering_interpolation.py", address, "--historic", "--quiet")
    assert "samples per parameter: Sin:MyApp 2000, Cos:MyApp 2000" in buffered

    [info] = list_sessions(store)
    assert info.session_key == session_key.group(1)
    data = read_session(info.session_key, store)
    assert len(data.parameter("Sin:MyApp").values) == 2000
    assert data.complete
