"""`pip install "ma-streaming[grpc]"` alone runs `ma-streaming serve`: rich, pandas, pyarrow and
matplotlib are hidden from the import system, and the server starts, answers and stops."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import grpc

from ma_dataplatforms_streaming_support_library.protos import api_pb2, api_pb2_grpc

REPO = Path(__file__).resolve().parents[2]
SERVE = ("--port", "0", "--key-generator-port", "0", "--host", "127.0.0.1")
HIDDEN = """
import sys
from importlib.abc import MetaPathFinder

class Hide(MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {"rich", "pandas", "pyarrow", "matplotlib"}:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, Hide())
from ma_dataplatforms_streaming_support_library.cli.main import main
sys.exit(main(sys.argv[1:]))
"""


def test_serve_runs_with_the_grpc_extra_alone(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "MA_STREAMING_BROKER"}
    env["PYTHONPATH"] = str(REPO / "src")
    env["PYTHONUNBUFFERED"] = "1"
    server = subprocess.Popen(
        [sys.executable, "-c", HIDDEN, "--broker", str(tmp_path / "s.db"), "serve", *SERVE],
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
        with grpc.insecure_channel(f"127.0.0.1:{found.group(1)}") as channel:
            sessions = api_pb2_grpc.SessionManagementServiceStub(channel)
            created = sessions.CreateSession(
                api_pb2.CreateSessionRequest(data_source="Plain"), timeout=30
            )
            assert created.success
        server.send_signal(signal.SIGTERM)
        out, err = server.communicate(timeout=60)
        assert server.returncode == 0, err
        assert "Stream API stopped" in out
        assert "No module named" not in err
    finally:
        if server.poll() is None:
            server.kill()
            server.communicate()
