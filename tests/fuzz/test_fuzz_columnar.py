"""A short run of the columnar fuzz loop in the test suite (``make fuzz`` runs the long one)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from ma_dataplatforms_streaming_support_library.columnar import available_implementations

pytestmark = pytest.mark.skipif(
    "native" not in available_implementations(), reason="native extension not built"
)


def test_short_fuzz_run_finds_no_crash_and_no_disagreement() -> None:
    path = Path(__file__).with_name("fuzz_columnar.py")
    spec = importlib.util.spec_from_file_location("fuzz_columnar", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.run_loop(packets=20_000, seconds=60.0, seed=7) >= 20_000
