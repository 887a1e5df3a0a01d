"""DataFormatCatalog: every data format definition on the essentials topics, with id minting and publishing."""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from ...contracts.data_format_management.data_format_info import DataFormatInfo
from ...contracts.data_format_management.data_format_info_type import DataFormatInfoType
from ...contracts.shared.retry_policy import RetryPolicy
from ...errors import TransportError
from ...layout import ESSENTIAL_SUFFIX, essential_route, essential_topic, main_topic
from ...protos import open_data_pb2
from ...transport.base import Consumer, Record, TopicPartition, Transport
from ..base.log_follower import LogFollower

__all__ = [
    "DataFormatCatalog",
    "FormatEntry",
    "describe_definition",
    "format_key",
    "next_format_id",
]

logger = logging.getLogger(__name__)

_DOTNET_EPOCH_TICKS = 621_355_968_000_000_000
_DISCOVERY_INTERVAL_S = 1.0
_id_lock = threading.Lock()
_last_id = 0


def next_format_id() -> int:
    """A new id as the C# key generator makes them: .NET UTC ticks, strictly increasing per process."""
    global _last_id
    with _id_lock:
        candidate = time.time_ns() // 100 + _DOTNET_EPOCH_TICKS
        _last_id = candidate if candidate > _last_id else _last_id + 1
        return _last_id


def describe_definition(
    definition: open_data_pb2.DataFormatDefinitionPacket,
) -> tuple[DataFormatInfoType, list[str]]:
    """A definition's kind and identifiers (one event identifier, or the parameters in order)."""
    if definition.WhichOneof("format") == "event_identifier":
        return DataFormatInfoType.EVENT, [definition.event_identifier]
    return DataFormatInfoType.PARAMETERS, list(
        definition.parameter_identifiers.parameter_identifiers
    )


def format_key(identifiers: list[str]) -> str:
    """The Stream API's name of a format: identifiers in the given order joined with ','.

    The Stream API also looks formats up by this string, so to it ``["a,b"]`` and ``["a", "b"]``
    are one format: a C# reader given both definitions would resolve one list's id to the other
    list. This library therefore refuses to define a parameter identifier holding a comma, and
    looks formats up by the identifier list itself, so that two different lists (say, one
    defined by another writer) never share an id here. For every list without commas the key,
    and so the id reused, is the Stream API's.
    """
    return ",".join(identifiers)


def _data_sources(topics: Iterable[str]) -> list[str]:
    """The data sources of the essentials topics among ``topics``."""
    return [
        topic[: -len(ESSENTIAL_SUFFIX)]
        for topic in topics
        if topic.endswith(ESSENTIAL_SUFFIX) and len(topic) > len(ESSENTIAL_SUFFIX)
    ]


@dataclass(slots=True)
class FormatEntry:
    data_source: str
    kind: DataFormatInfoType
    identifiers: list[str]
    ids: list[int] = field(default_factory=list)

    def to_info(self) -> DataFormatInfo:
        return DataFormatInfo(
            self.data_source,
            format_key(self.identifiers),
            list(self.ids),
            list(self.identifiers),
            self.kind,
        )


class DataFormatCatalog(LogFollower[DataFormatInfo]):
    """Follows every ``<ds>_essential`` topic from offset 0 (no key filter) and keeps the formats found."""

    def __init__(
        self,
        transport: Transport,
        timeout_s: float,
        retry_policy: RetryPolicy | None = None,
        replay_idle_s: float | None = None,
        *,
        replay: bool = True,
        new_id: Callable[[], int] = next_format_id,
    ) -> None:
        super().__init__(transport, timeout_s, retry_policy, replay_idle_s)
        self._new_id = new_id
        #: False (``integrate_data_format_management=False``): nothing is read from the essentials
        #: topics, so only the formats this process publishes are known
        self._replay = replay
        self._replayed: set[str] = set()
        self._by_key: dict[tuple[str, DataFormatInfoType, tuple[str, ...]], FormatEntry] = {}
        self._by_id: dict[tuple[str, DataFormatInfoType, int], FormatEntry] = {}
        self._tracked: set[str] = set()
        self._assigned: set[TopicPartition] = set()
        #: held while one get-or-create looks up, publishes and reads back a definition, so that
        #: threads of this process asking for the same new format publish it once
        self.creation_lock = threading.Lock()
        self._assignments: queue.SimpleQueue[dict[TopicPartition, int]] = queue.SimpleQueue()
        self._next_discovery = time.monotonic() + _DISCOVERY_INTERVAL_S

    def start(self) -> None:
        """Start following every essentials topic there is; the thread starts assigned to them,
        so a first catch-up waits only for their records."""
        if not self._replay:
            return
        with self._lock:
            if self._thread is not None:
                return
            topics = self._transport.list_topics()
            found = _data_sources(topics)
            positions = {
                (topic, partition): 0
                for topic in map(essential_topic, found)
                for partition in range(topics[topic])
            }
            consumer = self._transport.consumer()
            self._tracked.update(found)
            self._assigned.update(positions)
            try:
                self._assign(consumer, positions)
            except TransportError as exc:
                logger.debug("assigning %s failed (%s); the follower retries", positions, exc)
                self._assignments.put(positions)
            self._launch(consumer, "ma-streaming-data-formats")

    # following -----------------------------------------------------------------------------
    def _discover(self) -> None:
        for data_source in _data_sources(self._transport.list_topics()):
            self.track(data_source, create=False)

    def track(self, data_source: str, create: bool = True) -> None:
        """Start following ``<data_source>_essential`` (created with 1 partition if missing)."""
        if not self._replay:
            return
        self.start()
        with self._lock:
            if data_source in self._tracked:
                return
            self._tracked.add(data_source)
        topic = essential_topic(data_source)
        if create:
            self._transport.create_topics({topic: 1})
        self._assign_missing(topic, range(self._transport.list_topics().get(topic, 0)))

    def _assign_missing(self, topic: str, partitions: Iterable[int]) -> None:
        """Queue partitions of ``topic`` the follower does not read yet (metadata can lag a create)."""
        with self._lock:
            missing = {(topic, p): 0 for p in partitions if (topic, p) not in self._assigned}
            self._assigned.update(missing)
        if missing:
            self._assignments.put(missing)
            self._wake()

    def _before_poll(self, consumer: Consumer) -> None:
        while not self._assignments.empty():
            positions = self._assignments.get()
            try:
                self._assign(consumer, positions)
            except TransportError as exc:
                # A topic just created may not be in every broker's metadata yet.
                logger.debug("assigning %s failed (%s); retrying", positions, exc)
                with self._lock:
                    self._assigned.difference_update(positions)
        if time.monotonic() >= self._next_discovery:
            self._next_discovery = time.monotonic() + _DISCOVERY_INTERVAL_S
            self._discover()

    def _apply(self, record: Record) -> list[DataFormatInfo]:
        try:
            packet = open_data_pb2.Packet.FromString(record.value)
            if packet.type != "DataFormatDefinition":
                return []
            definition = open_data_pb2.DataFormatDefinitionPacket.FromString(packet.content)
        except Exception:
            logger.warning(
                "skipping an unreadable record at %s:%d offset %d",
                record.topic,
                record.partition,
                record.offset,
            )
            return []
        return self._learn(record.topic[: -len(ESSENTIAL_SUFFIX)], definition)

    def _learn(
        self, data_source: str, definition: open_data_pb2.DataFormatDefinitionPacket
    ) -> list[DataFormatInfo]:
        """Add a definition (called with ``_lock`` held); the changed format, if it is new."""
        kind, identifiers = describe_definition(definition)
        entry = self._by_key.setdefault(
            (data_source, kind, tuple(identifiers)),
            FormatEntry(data_source, kind, identifiers),
        )
        if definition.identifier in entry.ids:
            return []
        entry.ids.append(definition.identifier)
        self._by_id[(data_source, kind, definition.identifier)] = entry
        return [entry.to_info()]

    def catch_up(self, data_source: str) -> None:
        """Apply every definition written to ``<data_source>_essential`` before this call.

        The first call for a data source is its start-up replay: it may also end when the replay
        goes idle. Without replay there is nothing to wait for.
        """
        if not self._replay:
            return
        self.track(data_source)
        topic = essential_topic(data_source)
        targets = self._transport.end_offsets(topic)
        # Re-queued each round: an assignment the follower could not make yet is retried.
        self._wait_applied(
            topic,
            targets,
            self._timeout_s,
            lambda: self._assign_missing(topic, targets),
            idle_s=None if data_source in self._replayed else self._replay_idle_s,
        )
        self._replayed.add(data_source)

    # queries -------------------------------------------------------------------------------
    def find_by_key(
        self, data_source: str, kind: DataFormatInfoType, identifiers: list[str]
    ) -> int | None:
        with self._lock:
            entry = self._by_key.get((data_source, kind, tuple(identifiers)))
            return entry.ids[0] if entry and entry.ids else None

    def find_by_id(
        self, data_source: str, kind: DataFormatInfoType, data_format_id: int
    ) -> list[str] | None:
        with self._lock:
            entry = self._by_id.get((data_source, kind, data_format_id))
            return list(entry.identifiers) if entry else None

    def formats_of(self, data_source: str) -> list[DataFormatInfo]:
        with self._lock:
            return [e.to_info() for e in self._by_key.values() if e.data_source == data_source]

    def snapshot_and_listen(
        self, listener: Callable[[DataFormatInfo], None]
    ) -> list[DataFormatInfo]:
        """Every format known now, and ``listener`` added for later ones, without a gap between."""
        with self._lock:
            self._listeners.append(listener)
            return [entry.to_info() for entry in self._by_key.values()]

    # publishing ----------------------------------------------------------------------------
    def publish(
        self, data_source: str, kind: DataFormatInfoType, lists: Sequence[list[str]]
    ) -> list[int]:
        """Mint an id for each identifier list, write their definitions where the Stream API does,
        and wait (once) until they are durable; the ids in the order of ``lists``."""
        topic, partition = essential_route(data_source)
        definitions = []
        for identifiers in lists:
            definition = open_data_pb2.DataFormatDefinitionPacket(
                identifier=self._new_id(),
                type=(
                    open_data_pb2.DATA_FORMAT_TYPE_EVENT
                    if kind is DataFormatInfoType.EVENT
                    else open_data_pb2.DATA_FORMAT_TYPE_PARAMETER
                ),
            )
            if kind is DataFormatInfoType.EVENT:
                definition.event_identifier = identifiers[0]
            else:
                definition.parameter_identifiers.parameter_identifiers.extend(identifiers)
            value = open_data_pb2.Packet(
                type="DataFormatDefinition",
                session_key="",
                is_essential=True,
                content=definition.SerializeToString(),
            ).SerializeToString()
            self._transport.produce(topic, partition, b"", value)
            self._transport.produce(main_topic(data_source), 0, b"", value)
            definitions.append(definition)
        self._transport.flush(self._timeout_s)
        if not self._replay:
            with self._lock:
                learned = [info for d in definitions for info in self._learn(data_source, d)]
                listeners = list(self._listeners)
            for info in learned:
                for listener in listeners:
                    listener(info)
        return [definition.identifier for definition in definitions]
