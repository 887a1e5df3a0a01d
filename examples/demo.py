"""The `make demo` job: write a session while a live reader follows it, then read it back historic.

1. starts ``examples/reader.py --live`` in a subprocess (it waits for new sessions);
2. runs ``examples/writer.py --fast`` (a session with periodic data on two streams);
3. waits for the live reader to complete that session, then runs ``examples/reader.py --historic``
   on the newest session; prints what each saw. Uses the embedded default store unless
   ``--broker`` (or ``MA_STREAMING_BROKER``) says otherwise.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def run(arguments: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *arguments], capture_output=True, text=True, check=False, timeout=300
    )


def last_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else "(no output)"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--broker", default="", help="host:port for Kafka, embedded:PATH, or ''")
    parser.add_argument("--packets", type=int, default=500, help="periodic packets per stream")
    args = parser.parse_args()
    broker = ["--broker", args.broker]

    live = subprocess.Popen(
        [
            sys.executable,
            str(HERE / "reader.py"),
            "--live",
            "--sessions",
            "1",
            "--duration",
            "120",
            *broker,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    time.sleep(1.0)  # let the live reader start before the session is created
    started = time.perf_counter()
    writer = run([str(HERE / "writer.py"), "--fast", "--packets", str(args.packets), *broker])
    print(f"writer:   {last_line(writer.stdout + writer.stderr)}")
    if writer.returncode != 0:
        live.kill()
        print(writer.stdout + writer.stderr)
        return 1
    live_output, _ = live.communicate(timeout=180)
    seconds = time.perf_counter() - started
    print(f"live:     {last_line(live_output)}  ({seconds:.2f} s after the writer started)")
    historic = run([str(HERE / "reader.py"), "--historic", *broker])
    print(f"historic: {last_line(historic.stdout + historic.stderr)}")
    return 0 if live.returncode == 0 and historic.returncode == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
