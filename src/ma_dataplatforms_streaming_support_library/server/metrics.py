"""Prometheus metrics of the Stream API server, under the C# server's metric names and labels.

Counters are counted by the servicers; the session, data format and connection gauges are read
from the server's state at each scrape. Served over HTTP on ``--metrics-port`` (extra ``grpc``).
"""

from __future__ import annotations

import collections
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from ..errors import MissingDependencyError

try:
    from prometheus_client import CollectorRegistry, Counter, start_http_server
    from prometheus_client.core import GaugeMetricFamily
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise MissingDependencyError("prometheus-client", "grpc", "--metrics-port") from exc

__all__ = ["ServerMetrics"]


class _Gauges:
    """The per-data-source gauges, computed when Prometheus scrapes."""

    def __init__(self, state: Callable[[], dict[str, dict[str, int]]]) -> None:
        self._state = state

    def collect(self) -> Iterator[Any]:
        described = {
            "stream_api_sessions_total": "Number of session available",
            "stream_api_data_formats_total": "Number of data format stored in the stream api",
            "stream_api_connections_total": "Number of connections active connections in the "
            "stream api",
        }
        state = self._state()
        for name, text in described.items():
            family = GaugeMetricFamily(name, text, labels=["data_source"])
            for data_source, value in sorted(state.get(name, {}).items()):
                family.add_metric([data_source], value)
            yield family


class ServerMetrics:
    """The server's metrics registry; ``serve(port)`` starts the HTTP endpoint."""

    def __init__(self, state: Callable[[], dict[str, dict[str, int]]]) -> None:
        self.registry = CollectorRegistry()
        registry = self.registry
        self.data_published = Counter(
            "stream_api_data_packets_published",
            "Number of data packets published by stream api",
            ["data_source", "stream"],
            registry=registry,
        )
        self.info_published = Counter(
            "stream_api_info_packets_published",
            "Number of info packets published by stream api",
            ["data_source"],
            registry=registry,
        )
        labels = ["connection", "data_source", "stream"]
        self.data_read = Counter(
            "stream_api_data_packets_read",
            "Number of packets read and ready to deliver",
            labels,
            registry=registry,
        )
        self.data_delivered = Counter(
            "stream_api_data_packets_delivered",
            "Number of packets delivered",
            labels,
            registry=registry,
        )
        self.essential_read = Counter(
            "stream_api_essential_packets_read",
            "Number of essential packets read and ready to deliver",
            ["connection", "data_source"],
            registry=registry,
        )
        self.essential_delivered = Counter(
            "stream_api_essential_packets_delivered",
            "Number of packets delivered",
            ["connection", "data_source"],
            registry=registry,
        )
        registry.register(_Gauges(state))
        self._http: Any = None

    def count_read(
        self, connection: int, data_source: str, streams: Iterable[str], *, essentials: bool
    ) -> None:
        """Count a batch of packets (by stream) read for a connection."""
        self._count(connection, data_source, streams, self.essential_read if essentials else None)

    def count_delivered(
        self, connection: int, data_source: str, streams: Iterable[str], *, essentials: bool
    ) -> None:
        """Count a batch of packets (by stream) delivered to a connection."""
        counter = self.essential_delivered if essentials else None
        self._count(connection, data_source, streams, counter, delivered=True)

    def _count(
        self,
        connection: int,
        data_source: str,
        streams: Iterable[str],
        essential: Any,
        *,
        delivered: bool = False,
    ) -> None:
        for stream, count in collections.Counter(streams).items():
            if essential is not None:
                essential.labels(str(connection), data_source).inc(count)
            else:
                counter = self.data_delivered if delivered else self.data_read
                counter.labels(str(connection), data_source, stream).inc(count)

    def serve(self, host: str, port: int) -> int:
        """Start the HTTP endpoint (``/metrics``); returns the port it listens on."""
        address = host.strip("[]") if host not in ("[::]", "0.0.0.0") else "0.0.0.0"
        server, _thread = start_http_server(port, address, registry=self.registry)
        self._http = server
        return int(server.server_port)

    def stop(self) -> None:
        if self._http is not None:
            self._http.shutdown()
            self._http.server_close()
            self._http = None
