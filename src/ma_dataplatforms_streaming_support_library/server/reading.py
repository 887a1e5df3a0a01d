"""RouteReader: records of a connection's routes, from their start offsets, for the reader RPCs.

The Stream API's reader RPCs are reads of broker positions (offsets, latest, earliest), with an
optional session-key filter; they are not the official API's session reads, so they are served
from the library's transport (the one broker-aware layer) with the library's topic layout.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping

from ..errors import TransportError
from ..transport.base import Consumer, Record, TopicPartition, Transport
from .routes import EARLIEST, LATEST, Route

__all__ = ["RouteReader"]

logger = logging.getLogger(__name__)

_POLL_TIMEOUT_S = 0.1
_TOPIC_CHECK_INTERVAL_S = 0.5


class RouteReader:
    """Polls the routes of one RPC call on its own consumer; every batch is yielded to the caller.

    Each batch is polled when the caller asks for it, so nothing is read further ahead than the
    caller takes: a client that stops reading stops the polling (gRPC flow control blocks the
    send, the caller's queue fills), and memory stays bounded. A route whose topic does not exist
    yet is assigned, from offset 0, once it appears. ``until_end`` reads up to the end offsets
    at the start, then stops. ``floors`` raises start offsets per partition (a session's start):
    a route never starts before its floor.
    """

    def __init__(
        self,
        transport: Transport,
        routes: list[Route],
        session_key: str,
        *,
        until_end: bool = False,
        max_records: int = 500,
        floors: Mapping[TopicPartition, int] | None = None,
    ) -> None:
        self._transport = transport
        self._routes = {(route.topic, route.partition): route for route in routes}
        self._key = session_key.encode() if session_key else None
        self._until_end = until_end
        self._max_records = max_records
        self._floors = floors or {}
        self._unassigned = dict(self._routes)
        self._targets: dict[TopicPartition, int] = {}
        self._positions: dict[TopicPartition, int] = {}
        self.records_read = 0

    def batches(self, should_stop: Callable[[], bool]) -> Iterator[list[tuple[Record, str]]]:
        """Yield lists of (record, stream) in offset order per partition until ``should_stop()``
        (or, with ``until_end``, until every route is read to its end at the start)."""
        consumer = self._transport.consumer()
        try:
            self._assign_existing(consumer, first=True)
            next_check = time.monotonic() + _TOPIC_CHECK_INTERVAL_S
            while not should_stop() and not self._done():
                if self._unassigned and not self._until_end and time.monotonic() >= next_check:
                    next_check = time.monotonic() + _TOPIC_CHECK_INTERVAL_S
                    self._assign_existing(consumer, first=False)
                records = consumer.poll(self._max_records, _POLL_TIMEOUT_S)
                if not records:
                    continue
                self.records_read += len(records)
                batch = self._select(records)
                if batch:
                    yield batch
        finally:
            consumer.close()

    def _done(self) -> bool:
        return self._until_end and all(
            self._positions.get(where, 0) >= target for where, target in self._targets.items()
        )

    def _select(self, records: list[Record]) -> list[tuple[Record, str]]:
        key = self._key
        routes = self._routes
        positions = self._positions
        batch: list[tuple[Record, str]] = []
        for record in records:
            where = (record.topic, record.partition)
            positions[where] = record.offset + 1
            if key is not None and record.key != key:
                continue
            target = self._targets.get(where)
            if target is not None and record.offset >= target:
                continue
            batch.append((record, routes[where].stream))
        return batch

    def _assign_existing(self, consumer: Consumer, *, first: bool) -> None:
        try:
            topics = self._transport.list_topics()
        except TransportError as exc:
            logger.warning("cannot list topics for a reader: %s", exc)
            return
        positions: dict[TopicPartition, int] = {}
        ends: dict[str, dict[int, int]] = {}
        for where, route in list(self._unassigned.items()):
            if route.partition >= topics.get(route.topic, 0):
                continue
            if route.topic not in ends:
                ends[route.topic] = self._transport.end_offsets(route.topic)
            end = ends[route.topic].get(route.partition, 0)
            # A topic created after the call started is read from its beginning.
            start = self._start(route, end) if first else 0
            positions[where] = min(max(start, self._floors.get(where, 0)), end)
            if self._until_end:
                self._targets[where] = end
            del self._unassigned[where]
        if positions:
            consumer.assign(positions)
            for where, offset in positions.items():
                self._positions.setdefault(where, offset)

    def _start(self, route: Route, end: int) -> int:
        if route.offset == LATEST:
            return end
        beginning = self._transport.beginning_offsets(route.topic).get(route.partition, 0)
        if route.offset == EARLIEST:
            return beginning
        # Past the end Kafka resets to the latest offset; before the beginning, to the earliest.
        return min(max(route.offset, beginning), end)
