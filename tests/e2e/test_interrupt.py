"""Ctrl-C and SIGTERM during a long export: the command stops promptly and leaves no file."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from ma_dataplatforms_streaming_support_library import open_session_writer

CLI = [sys.executable, "-m", "ma_dataplatforms_streaming_support_library.cli.main"]
PARAMETERS = 6
SAMPLES = 1_000_000
#: generous: the command must act within about a second; a loaded CI machine gets slack
STOP_BOUND_S = 5.0
#: ... and on a machine so loaded that a whole export takes longer, a quarter of that export
LOADED_SHARE = 0.25


@pytest.fixture(scope="module")
def big_session(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    broker = f"embedded:{tmp_path_factory.mktemp('big') / 'big.db'}"
    values = np.random.default_rng(7).random((PARAMETERS, SAMPLES))
    names = [f"p{i}:Big" for i in range(PARAMETERS)]
    with open_session_writer(broker, identifier="big") as writer:
        writer.write_periodic(names, 1_700_000_000_000_000_000, 1_000_000, values)
    return broker, writer.session_key


@pytest.fixture(scope="module")
def stop_bound_s(big_session: tuple[str, str], tmp_path_factory: pytest.TempPathFactory) -> float:
    """How soon a signal must stop the export: ``STOP_BOUND_S``, or a quarter of what the whole
    CSV export (the slower format) takes on this machine now, if that is longer."""
    broker, key = big_session
    target = tmp_path_factory.mktemp("whole") / "run.csv"
    started = time.monotonic()
    subprocess.run(
        [*CLI, "export", key, "--out", str(target), "--broker", broker], check=True, timeout=600
    )
    return max(STOP_BOUND_S, LOADED_SHARE * (time.monotonic() - started))


@pytest.mark.slow
@pytest.mark.parametrize(
    ("sent", "code", "suffix"),
    [(signal.SIGINT, 130, "parquet"), (signal.SIGINT, 130, "csv"), (signal.SIGTERM, 143, "csv")],
)
def test_an_interrupted_export_stops_promptly_and_leaves_nothing(
    big_session: tuple[str, str],
    stop_bound_s: float,
    tmp_path: Path,
    sent: signal.Signals,
    code: int,
    suffix: str,
) -> None:
    broker, key = big_session
    out = tmp_path / "out"
    out.mkdir()
    target = out / f"run.{suffix}"
    command = subprocess.Popen(
        [*CLI, "export", key, "--out", str(target), "--broker", broker],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while not any(out.iterdir()):  # the partial file: the export is writing
            assert command.poll() is None, command.communicate()
            assert time.monotonic() < deadline, "the export never started writing"
            time.sleep(0.01)
        sent_at = time.monotonic()
        command.send_signal(sent)
        _, stderr = command.communicate(timeout=60)
        stopped_s = time.monotonic() - sent_at
    finally:
        if command.poll() is None:
            command.kill()
    assert command.returncode == code, stderr
    assert "Traceback" not in stderr
    assert stopped_s < stop_bound_s, f"stopped {stopped_s:.1f} s after the signal"
    assert list(out.iterdir()) == []
