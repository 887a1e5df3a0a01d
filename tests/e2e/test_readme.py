"""Every code block of README.md runs as written, against a fresh embedded default store.

Blocks preceded by ``<!-- needs: WHAT -->`` (a Kafka cluster, a checkout to run make in) are
skipped. ``KEY`` and the example session key are replaced by a session the test writes with the
parameters and markers the README's examples use.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"
EXAMPLE_KEY = "0f8fad5b-d9cb-469f-a165-70867728950e"
_BLOCK = re.compile(
    r"(?:<!--\s*needs:\s*(?P<needs>[^>]*?)\s*-->\s*\n)?```(?P<lang>\w+)\n(?P<code>.*?)```", re.S
)
WRITE = """
import numpy as np
from ma_dataplatforms_streaming_support_library import Parameter, open_session_writer
t0 = 1_700_000_000_000_000_000
with open_session_writer("", identifier="README run", parameters={
        "vCar:Chassis": Parameter(units="km/h"), "gLat:Chassis": Parameter(units="g")}) as w:
    w.write_periodic(["vCar:Chassis", "gLat:Chassis"], t0, 10_000_000,
                     np.vstack([np.linspace(80, 300, 1000), np.sin(np.arange(1000) / 50)]))
    w.marker("Lap 2", t0 + 4_000_000_000, type="Lap Trigger")
print(w.session_key)
"""


def blocks() -> list[tuple[str, str, str]]:
    """(language, code, needs) of every fenced block, in README order."""
    text = README.read_text(encoding="utf-8")
    return [(m["lang"], m["code"], m["needs"] or "") for m in _BLOCK.finditer(text)]


def test_the_readme_has_runnable_python_and_shell_blocks() -> None:
    found = blocks()
    runnable = [lang for lang, _, needs in found if not needs]
    assert runnable.count("python") >= 4 and runnable.count("sh") >= 1, found
    assert any("kafka" in needs for _, _, needs in found)


@pytest.mark.slow
def test_every_readme_block_runs_as_written(tmp_path: Path) -> None:
    shims = tmp_path / "bin"
    shims.mkdir()
    script = shims / "ma-streaming"
    script.write_text(
        f'#!/bin/sh\nexec "{sys.executable}" -m ma_dataplatforms_streaming_support_library.cli.main "$@"\n'
    )
    script.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MA_STREAMING")}
    env.update(
        XDG_DATA_HOME=str(tmp_path / "data"),
        PATH=f"{shims}{os.pathsep}{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        PYTHONPATH=os.pathsep.join(p for p in sys.path if p),
        MPLBACKEND="Agg",
    )
    work = tmp_path / "work"
    work.mkdir()

    def run(command: list[str], what: str) -> str:
        done = subprocess.run(command, cwd=work, env=env, capture_output=True, text=True,
                              timeout=300, check=False)  # fmt: skip
        assert done.returncode == 0, f"{what} failed:\n{done.stdout}\n{done.stderr}"
        return done.stdout

    key = run([sys.executable, "-c", WRITE], "writing the example session").split()[-1]
    ran = 0
    for index, (lang, code, needs) in enumerate(blocks()):
        if needs:
            continue
        code = code.replace(EXAMPLE_KEY, key).replace(" KEY", f" {key}")
        what = f"README block {index} ({lang}):\n{code}"
        if lang == "python":
            run([sys.executable, "-c", code], what)
        elif lang == "sh":
            run(["sh", "-e", "-c", code], what)
        else:
            continue
        ran += 1
    assert ran >= 5
    assert (work / "run3.parquet").exists() and (work / "run.png").exists()
    assert (work / "run-copy.db").exists()
