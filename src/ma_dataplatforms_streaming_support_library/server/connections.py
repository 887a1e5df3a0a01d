"""Read connections of the Stream API: ids handed out by NewConnection, closed, idle or capped."""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, field

from ..protos import api_pb2

__all__ = ["Connection", "ConnectionRegistry"]


@dataclass(slots=True)
class Connection:
    """One open connection; ``closed`` is set when it is closed, so its readers end."""

    id: int
    details: api_pb2.ConnectionDetails
    last_used: float = field(default_factory=time.monotonic)
    readers: int = 0
    closed: threading.Event = field(default_factory=threading.Event)


class ConnectionRegistry:
    """Thread-safe map of connection id → details.

    As in the Stream API an id is an opaque non-zero int64 and 0 means "not registered". Beyond
    the C# server, the number of open connections is capped (``max_connections``; a new one past
    the cap gets id 0) and a connection with no running reader that was not used for
    ``idle_timeout_s`` is closed, so clients that never close do not grow the server's memory.
    """

    def __init__(self, max_connections: int, idle_timeout_s: float) -> None:
        self._max = max_connections
        self._idle_timeout_s = idle_timeout_s
        self._connections: dict[int, Connection] = {}
        self._lock = threading.Lock()
        self._random = random.SystemRandom()

    def open(self, details: api_pb2.ConnectionDetails) -> int:
        """Register ``details``; the new id, or 0 when the server holds too many connections."""
        with self._lock:
            self._close_idle_locked(time.monotonic())
            if len(self._connections) >= self._max:
                return 0
            while True:
                connection_id = self._random.randrange(1, 2**63)
                if connection_id not in self._connections:
                    break
            stored = api_pb2.ConnectionDetails()
            stored.CopyFrom(details)
            self._connections[connection_id] = Connection(connection_id, stored)
            return connection_id

    def get(self, connection_id: int) -> Connection | None:
        with self._lock:
            connection = self._connections.get(connection_id)
            if connection is not None:
                connection.last_used = time.monotonic()
            return connection

    def close(self, connection_id: int) -> bool:
        """Close a connection and end its readers; False for an unknown or closed id."""
        with self._lock:
            connection = self._connections.pop(connection_id, None)
        if connection is None:
            return False
        connection.closed.set()
        return True

    def close_all(self) -> None:
        with self._lock:
            connections, self._connections = list(self._connections.values()), {}
        for connection in connections:
            connection.closed.set()

    def count_by_data_source(self) -> dict[str, int]:
        """How many connections are open per data source."""
        with self._lock:
            details = [c.details.data_source for c in self._connections.values()]
        counts: dict[str, int] = {}
        for data_source in details:
            counts[data_source] = counts.get(data_source, 0) + 1
        return counts

    def __len__(self) -> int:
        with self._lock:
            return len(self._connections)

    def reader_started(self, connection: Connection) -> None:
        with self._lock:
            connection.readers += 1

    def reader_ended(self, connection: Connection) -> None:
        with self._lock:
            connection.readers -= 1
            connection.last_used = time.monotonic()

    def _close_idle_locked(self, now: float) -> None:
        idle = [
            connection
            for connection in self._connections.values()
            if connection.readers == 0 and now - connection.last_used > self._idle_timeout_s
        ]
        for connection in idle:
            del self._connections[connection.id]
            connection.closed.set()
