"""examples/read_async.py run as a user runs it, against sessions examples/writer.py writes."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WRITER = ROOT / "examples" / "writer.py"
EXAMPLE = ROOT / "examples" / "read_async.py"
WROTE = re.compile(r"wrote session ([0-9a-f-]{36}) .*: (\d+) packets")
SUMMARY = re.compile(r"summary: (\d+) packets .* in [\d.]+ s, (\d+) heartbeats")
TIMEOUT_S = 120


def environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "MA_STREAMING_BROKER"}
    env["PYTHONPATH"] = str(ROOT / "src")
    return env


def write(broker: str, packets: int) -> tuple[str, int]:
    done = subprocess.run(
        [sys.executable, str(WRITER), "--fast", "--packets", str(packets), "--broker", broker],
        capture_output=True,
        text=True,
        env=environment(),
        timeout=TIMEOUT_S,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    found = WROTE.search(done.stdout)
    assert found, done.stdout
    return found.group(1), int(found.group(2))


def summary(output: str) -> tuple[int, int]:
    found = SUMMARY.search(output)
    assert found, output
    return int(found.group(1)), int(found.group(2))


def test_historic_async_read_gets_every_packet_and_ends_by_itself(tmp_path: Path) -> None:
    broker = f"embedded:{tmp_path / 'store.db'}"
    write(broker, 20)
    key, packets = write(broker, 60)

    done = subprocess.run(
        [sys.executable, str(EXAMPLE), "--historic", "--broker", broker, "--session", key],
        capture_output=True,
        text=True,
        env=environment(),
        timeout=TIMEOUT_S,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    read, heartbeats = summary(done.stdout)
    assert read == packets
    assert done.stdout.count(f"session {key}: stream") == 2  # both streams ended
    assert heartbeats >= 1


def test_live_async_read_follows_a_writer_process_and_stops_at_its_deadline(
    tmp_path: Path,
) -> None:
    broker = f"embedded:{tmp_path / 'store.db'}"
    reader = subprocess.Popen(
        [sys.executable, str(EXAMPLE), "--live", "--duration", "8", "--broker", broker],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environment(),
    )
    try:
        assert reader.stdout is not None
        before = ""
        while not before.endswith("reading\n"):  # the reader is attached: start writing
            line = reader.stdout.readline()
            assert line, "the example ended before reading"
            before += line
        key, packets = write(broker, 40)
        out, err = reader.communicate(timeout=TIMEOUT_S)
        out = before + out
    finally:
        if reader.poll() is None:
            reader.kill()
    assert reader.returncode == 0, err
    read, _ = summary(out)
    assert read == packets
    assert out.count(f"session {key}: stream") == 2
