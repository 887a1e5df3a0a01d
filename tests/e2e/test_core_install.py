"""A core install (no rich, pandas, pyarrow, matplotlib): --help works, and a missing extra is one
line naming the pip command, in the CLI and in the API."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

# Runs argv[2:] as the CLI, or with argv[1] == "api" a read and a to_pandas, after hiding the
# optional dependencies from the import system.
BLOCKED = """
import sys
from importlib.abc import MetaPathFinder

class Hide(MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {"rich", "pandas", "pyarrow", "matplotlib"}:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, Hide())
if sys.argv[1] == "api":
    from ma_dataplatforms_streaming_support_library import read_session
    from ma_dataplatforms_streaming_support_library.errors import MissingDependencyError
    data = read_session(sys.argv[3], sys.argv[2])
    for call in (data.to_pandas, data.parameter("vCar:Chassis").to_series,
                 lambda: data.to_parquet(sys.argv[4])):
        try:
            call()
        except MissingDependencyError as exc:
            print(exc)
    sys.exit(0)
from ma_dataplatforms_streaming_support_library.cli.main import main
sys.exit(main(sys.argv[2:]))
"""


def run(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", BLOCKED, *arguments],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_help_works_and_says_what_the_cli_extra_adds() -> None:
    result = run("cli", "--help")
    assert result.returncode == 0, result.stderr
    text = " ".join(result.stdout.split())
    assert 'pip install "ma-streaming[cli]"' in text and "matplotlib" in text
    assert "sessions" in text and "export" in text


def test_a_command_without_the_cli_extra_is_one_line(tmp_path: Path) -> None:
    result = run("cli", "sessions", "--broker", str(tmp_path / "x.db"))
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        'error: the ma-streaming command needs rich, which is not installed: pip install "ma-streaming[cli]"'
    ]


@pytest.mark.slow
def test_the_api_names_the_extra_it_needs(tmp_path: Path) -> None:
    from ma_dataplatforms_streaming_support_library import open_session_writer

    broker = f"embedded:{tmp_path / 's.db'}"
    with open_session_writer(broker) as writer:
        writer.write_periodic("vCar:Chassis", 1_700_000_000_000_000_000, 1_000_000, [1.0, 2.0])
    result = run("api", broker, writer.session_key, str(tmp_path / "s.parquet"))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 3, result.stdout
    assert all('pip install "ma-streaming[pandas]"' in line for line in lines)
    assert not (tmp_path / "s.parquet").exists()
