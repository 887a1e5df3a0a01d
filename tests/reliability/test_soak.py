"""The soak (soak.py) for ``MA_STREAMING_SOAK_SECONDS`` (default 60; ``make soak``: 600 s)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from .soak import soak

SECONDS = float(os.environ.get("MA_STREAMING_SOAK_SECONDS", "60"))


@pytest.mark.slow
def test_8_writers_and_8_live_readers_see_every_packet_once_in_order(tmp_path: Path) -> None:
    figures = soak(f"embedded:{tmp_path / 'soak.db'}", SECONDS, writers=8, readers=8)

    print(f"soak {SECONDS:g} s: {figures}")
    assert figures.written > 0
    assert figures.read == figures.written * 8
    assert (figures.lost, figures.duplicated, figures.out_of_order) == (0, 0, 0)
