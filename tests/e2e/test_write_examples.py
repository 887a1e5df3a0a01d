"""The session-writer examples run as a user runs them, on a fresh embedded store."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("example", "expected"),
    [
        ("write_numpy.py", ["nEngine:Engine    10000 samples", "km/h", "1 marker, 1 event"]),
        ("write_pandas.py", ["throttle:Driver", "2000 samples"]),
    ],
)
def test_example_writes_and_reads_back(tmp_path: Path, example: str, expected: list[str]) -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / example), "--broker", f"embedded:{tmp_path}/s.db"],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    for text in expected:
        assert text in result.stdout
