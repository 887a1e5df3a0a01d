"""The buffering/interpolation example and `ma-streaming resample`, run as a user runs them."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from ma_dataplatforms_streaming_support_library import read_session

ROOT = Path(__file__).resolve().parents[2]
WRITER = ROOT / "examples" / "writer.py"
EXAMPLE = ROOT / "examples" / "buffering_interpolation.py"
CLI = [sys.executable, "-m", "ma_dataplatforms_streaming_support_library.cli.main"]
PARAMETERS = ["Sin:MyApp", "Cos:MyApp"]
SUMMARY = re.compile(
    r"summary: (\d+) windows, (\d+) samples buffered, (\d+) results delivered in (\d+) batches, "
    r"(\d+) session\(s\) completed, (\d+) out of order"
)
TIMEOUT_S = 180


def environment() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "MA_STREAMING_BROKER"}


def run(command: Sequence[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        list(command),
        capture_output=True,
        text=True,
        env=environment(),
        cwd=ROOT,
        timeout=TIMEOUT_S,
        check=False,
    )


def write_session(broker: str, packets: int = 100) -> str:
    done = run(
        [sys.executable, str(WRITER), "--fast", "--packets", str(packets), "--broker", broker]
    )
    assert done.returncode == 0, done.stderr
    found = re.search(r"wrote session ([0-9a-f-]{36})", done.stdout)
    assert found, done.stdout
    return found.group(1)


def cells(broker: str, key: str, hz: float) -> tuple[int, int]:
    """First and last cell index at ``hz`` over the written samples of both parameters."""
    data = read_session(key, broker)
    cell = round(1e9 / hz)
    stamps = np.concatenate([data.parameter(p).timestamps for p in PARAMETERS])
    return int(stamps.min() // cell), int(stamps.max() // cell)


@pytest.fixture
def store(tmp_path: Path) -> str:
    return f"embedded:{tmp_path / 'store.db'}"


def summary(stdout: str) -> tuple[int, ...]:
    found = SUMMARY.search(stdout)
    assert found, stdout[-2000:]
    return tuple(int(group) for group in found.groups())


def test_historic_example_buffers_every_sample_and_interpolates(store: str) -> None:
    key = write_session(store)
    done = run([sys.executable, str(EXAMPLE), "--historic", key, "--broker", store, "--linear"])
    assert done.returncode == 0, done.stderr
    windows, samples, results, batches, sessions, out_of_order = summary(done.stdout)
    first, last = cells(store, key, 10)
    assert samples == 2 * 100 * 100  # 100 packets of 100 samples per parameter
    assert results == (last - first + 1) * len(PARAMETERS)
    assert windows >= 1 and batches >= 1
    assert (sessions, out_of_order) == (1, 0)
    assert "samples per parameter: Sin:MyApp 10000, Cos:MyApp 10000" in done.stdout
    # Linear interpolation every 2 ms between consecutive 10 ms samples, both ends included.
    assert f"linear interpolation: {len(PARAMETERS) * 9_999 * 6} points" in done.stdout
    filled = run(
        [sys.executable, str(EXAMPLE), "--historic", key, "--broker", store, "--fill", "linear"]
    )
    assert filled.returncode == 0, filled.stderr
    assert summary(filled.stdout)[2] == results  # the same cells, every one delivered


def test_historic_example_reads_the_newest_session_by_default(store: str) -> None:
    write_session(store, packets=3)
    newest = write_session(store, packets=5)
    done = run([sys.executable, str(EXAMPLE), "--historic", "--broker", store, "--quiet"])
    assert done.returncode == 0, done.stderr
    assert f"reading session {newest}" in done.stdout
    assert summary(done.stdout)[1] == 2 * 5 * 100


def test_live_example_follows_a_session_written_while_it_runs(store: str) -> None:
    run([sys.executable, str(WRITER), "--fast", "--packets", "1", "--broker", store])
    with subprocess.Popen(
        [sys.executable, str(EXAMPLE), "--broker", store, "--sessions", "1", "--duration", "120"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environment(),
        cwd=ROOT,
    ) as example:
        assert example.stdout is not None
        lines = iter(example.stdout.readline, "")
        assert any(line.startswith("following live sessions") for line in lines)
        key = write_session(store, packets=20)
        stdout, stderr = example.communicate(timeout=TIMEOUT_S)
    assert example.returncode == 0, stderr
    assert f"merging completed: {key}" in stdout
    windows, samples, results, _, sessions, out_of_order = summary(stdout)
    assert windows >= 1
    first, last = cells(store, key, 10)
    assert (samples, sessions, out_of_order) == (2 * 20 * 100, 1, 0)
    assert results == (last - first + 1) * len(PARAMETERS)


def expected_rows(broker: str, key: str, hz: float) -> dict[str, dict[str, np.ndarray]]:
    """Per parameter, the statistics of each cell, computed straight from the written samples."""
    data = read_session(key, broker)
    first, last = cells(broker, key, hz)
    cell = round(1e9 / hz)
    rows = {}
    for name in PARAMETERS:
        series = data.parameter(name)
        assert (series.status == 1).all()
        index = series.timestamps // cell - first
        count = np.bincount(index, minlength=last - first + 1)
        starts = np.concatenate([[0], np.cumsum(count)[:-1]])
        occupied = count > 0
        stats = {
            "count": count,
            "first": series.values[starts[occupied]],
            "last": series.values[starts[occupied] + count[occupied] - 1],
            "min": np.minimum.reduceat(series.values, starts[occupied]),
            "max": np.maximum.reduceat(series.values, starts[occupied]),
            "mean": np.add.reduceat(series.values, starts[occupied]) / count[occupied],
            "bucket_start_ns": (first + np.arange(last - first + 1)) * cell,
            "occupied": occupied,
        }
        rows[name] = stats
    return rows


@pytest.mark.parametrize(("hz", "suffix"), [(10.0, ".parquet"), (3.0, ".csv")])
def test_resample_writes_exact_bucket_statistics(
    store: str, tmp_path: Path, hz: float, suffix: str
) -> None:
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    key = write_session(store)
    out = tmp_path / f"resampled{suffix}"
    done = run(
        [*CLI, "--broker", store, "resample", key, *PARAMETERS, "--hz", str(hz), "--out", str(out)]
    )
    assert done.returncode == 0, done.stderr
    table = (pq.read_table(out) if suffix == ".parquet" else pacsv.read_csv(out)).to_pydict()
    expected = expected_rows(store, key, hz)
    buckets = len(expected[PARAMETERS[0]]["count"])
    assert len(table["parameter"]) == buckets * len(PARAMETERS)
    assert f"wrote {buckets * len(PARAMETERS):,} rows" in done.stdout
    for position, name in enumerate(PARAMETERS):
        rows = slice(position * buckets, (position + 1) * buckets)
        assert table["parameter"][rows] == [name] * buckets
        want = expected[name]
        assert table["bucket_start_ns"][rows] == want["bucket_start_ns"].tolist()
        assert table["count"][rows] == want["count"].tolist()
        assert table["missing_count"][rows] == [0] * buckets
        assert table["error_count"][rows] == [0] * buckets
        occupied = want["occupied"]
        assert not occupied.all() or not any(table["super_sampled"][rows])
        for field in ("first", "last", "min", "max"):
            got = np.array(table[field][rows], dtype=float)[occupied]
            assert got.tolist() == want[field].tolist(), field
        got_mean = np.array(table["mean"][rows], dtype=float)[occupied]
        np.testing.assert_allclose(got_mean, want["mean"], rtol=1e-12, atol=1e-12)


def test_resample_errors_are_clear(store: str, tmp_path: Path) -> None:
    key = write_session(store, packets=3)
    out = str(tmp_path / "out.parquet")

    def resample(*arguments: str) -> subprocess.CompletedProcess[str]:
        return run([*CLI, "--broker", store, "resample", *arguments, "--out", out])

    unknown_key = resample("00000000-0000-4000-8000-000000000000", "Sin:MyApp")
    assert unknown_key.returncode == 2
    assert "not found" in unknown_key.stderr and "ma-streaming sessions" in unknown_key.stderr
    unknown_parameter = resample(key, "Sin:MyApp", "Nope:Nothing")
    assert unknown_parameter.returncode == 2
    assert (
        "Nope:Nothing" in unknown_parameter.stderr and "Sin:MyApp" not in unknown_parameter.stderr
    )
    for hz in ("0", "-5", "nan", "inf", "1e-12", "2e9"):
        bad = resample(key, "Sin:MyApp", "--hz", hz)
        assert bad.returncode == 2, (hz, bad.stderr)
        assert "--hz" in bad.stderr and "Traceback" not in bad.stderr
        assert len(bad.stderr.strip().splitlines()) == 1, bad.stderr
    assert not Path(out).exists()
