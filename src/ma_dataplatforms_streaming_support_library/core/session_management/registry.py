"""SessionRegistry: the state of every session, rebuilt from the SessionInfo topic and kept following it."""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass, field

from ...contracts.session_management.session_association_info import SessionAssociationInfo
from ...contracts.session_management.session_info import SessionInfo
from ...contracts.shared.retry_policy import RetryPolicy
from ...layout import SESSION_INFO_TOPIC, parse_offset_key
from ...protos import open_data_pb2
from ...protos.packets import DecodeError, parse_packet
from ...transport.base import Record, TopicPartition, Transport
from ..base.log_follower import LogFollower

__all__ = ["SessionChange", "SessionChangeKind", "SessionRecord", "SessionRegistry"]

logger = logging.getLogger(__name__)


class SessionChangeKind(enum.Enum):
    """What happened to a session in the registry: started, updated, ended or associated."""

    STARTED = "started"
    UPDATED = "updated"
    ENDED = "ended"
    ASSOCIATED = "associated"


@dataclass(frozen=True, slots=True)
class SessionChange:
    kind: SessionChangeKind
    info: SessionInfo
    added_associate_keys: tuple[str, ...] = ()


@dataclass(slots=True)
class SessionRecord:
    """A session with the log positions its NewSession and first EndOfSession recorded, and
    their times (ns since the Unix epoch: the packet's creation or termination time, else the
    record's; 0 while the session has not ended)."""

    info: SessionInfo
    start_offsets: dict[TopicPartition, int] = field(default_factory=dict)
    end_offsets: dict[TopicPartition, int] | None = None
    created_ns: int = 0
    ended_ns: int = 0

    def copy(self) -> SessionRecord:
        return SessionRecord(
            self.info.copy(),
            dict(self.start_offsets),
            None if self.end_offsets is None else dict(self.end_offsets),
            self.created_ns,
            self.ended_ns,
        )


def _time_ns(packet: object, field_name: str, record: Record) -> int:
    """The packet's Timestamp field in ns if it is set, else the record's timestamp."""
    if packet.HasField(field_name):  # type: ignore[attr-defined]
        stamp = getattr(packet, field_name)
        return int(stamp.seconds) * 1_000_000_000 + int(stamp.nanos)
    return record.timestamp_ms * 1_000_000


def _offsets(entries: object) -> dict[TopicPartition, int]:
    result: dict[TopicPartition, int] = {}
    for key, value in dict(entries).items():  # type: ignore[call-overload]
        result[parse_offset_key(str(key))] = int(value)
    return result


def _merge(info: SessionInfo, packet: open_data_pb2.SessionInfoPacket) -> list[str]:
    """Apply the Stream API merge rule in place; returns associate keys that were added."""
    if packet.identifier:
        info.identifier = packet.identifier
    if packet.type:
        info.type = packet.type
    if packet.version > 0:
        info.version = packet.version
    if packet.HasField("utc_offset"):
        info.utc_offset = packet.utc_offset.ToTimedelta()
    info.details.update(dict(packet.details))
    added = [
        key
        for key in dict.fromkeys(packet.associate_session_keys)
        if key and key not in info.associate_session_keys and key != info.session_key
    ]
    info.associate_session_keys.extend(added)
    return added


class SessionRegistry(LogFollower[SessionChange]):
    """Follows ``SessionInfo`` from offset 0: first NewSession and first EndOfSession win.

    Listeners get every change after they subscribe, on the registry's thread. ``catch_up`` blocks
    until everything written to the topic before the call has been applied.
    """

    def __init__(
        self,
        transport: Transport,
        timeout_s: float,
        retry_policy: RetryPolicy | None = None,
        replay_idle_s: float | None = None,
    ) -> None:
        super().__init__(transport, timeout_s, retry_policy, replay_idle_s)
        self._sessions: dict[str, SessionRecord] = {}
        self._replayed = False

    # lifecycle --------------------------------------------------------------------------------
    def start(self) -> None:
        with self._lock:
            if self._thread is not None:
                return
            self._transport.create_topics({SESSION_INFO_TOPIC: 1})
            consumer = self._transport.consumer()
            self._assign(
                consumer,
                {
                    (SESSION_INFO_TOPIC, partition): 0
                    for partition in range(self._transport.list_topics()[SESSION_INFO_TOPIC])
                },
            )
            self._launch(consumer, "ma-streaming-sessions")

    # reads ------------------------------------------------------------------------------------
    def catch_up(self, timeout_s: float | None = None) -> None:
        """Apply everything written to SessionInfo before this call (raises TransportError on timeout).

        The first call is the start-up replay: it may also end when the replay goes idle.
        """
        self.start()
        self._wait_applied(
            SESSION_INFO_TOPIC,
            self._transport.end_offsets(SESSION_INFO_TOPIC),
            self._timeout_s if timeout_s is None else timeout_s,
            idle_s=None if self._replayed else self._replay_idle_s,
        )
        self._replayed = True

    def get(self, session_key: str) -> SessionRecord | None:
        with self._lock:
            record = self._sessions.get(session_key)
            return None if record is None else record.copy()

    def state(self, session_key: str) -> tuple[str, bool] | None:
        """(data source, historical) of a session without copying it; ``None`` if unknown."""
        record = self._sessions.get(session_key)
        return None if record is None else (record.info.data_source, record.info.historical)

    def association(self, main: SessionInfo, associate_key: str) -> SessionAssociationInfo:
        """The association of ``associate_key`` with the main session ``main``.

        Its ``group`` is the main session's key: a main session and its associates form one group.
        The associate's info is ``None`` while that session is unknown here.
        """
        associate = self.get(associate_key)
        return SessionAssociationInfo(main, associate.info if associate else None, main.session_key)

    def all(self) -> list[SessionInfo]:
        with self._lock:
            return [record.info.copy() for record in self._sessions.values()]

    def records(self) -> list[SessionRecord]:
        with self._lock:
            return [record.copy() for record in self._sessions.values()]

    # applying records -------------------------------------------------------------------------
    def _apply(self, record: Record) -> list[SessionChange]:
        if record.key is None:
            return []
        packet = parse_packet(record.value)
        if packet is None:
            logger.warning(
                "skipping a record that is not an Open Data Packet at %s:%d offset %d",
                record.topic,
                record.partition,
                record.offset,
            )
            return []
        session_key = packet.session_key
        try:
            if packet.type == "NewSession":
                return self._apply_new_session(session_key, packet.content, record)
            existing = self._sessions.get(session_key)
            if existing is None:
                if packet.type in ("SessionInfo", "EndOfSession"):
                    logger.debug("%s for unknown session %r ignored", packet.type, session_key)
                return []
            if packet.type == "SessionInfo":
                return self._apply_session_info(existing, packet.content)
            if packet.type == "EndOfSession":
                return self._apply_end(existing, packet.content, record)
        except (DecodeError, ValueError, OverflowError):
            # Bad content bytes, or fields no SessionInfo can hold (a duration past timedelta).
            logger.warning(
                "skipping a malformed %s packet for session %r at %s:%d offset %d",
                packet.type,
                session_key,
                record.topic,
                record.partition,
                record.offset,
                exc_info=True,
            )
        return []

    def _apply_new_session(
        self, session_key: str, content: bytes, record: Record
    ) -> list[SessionChange]:
        if not session_key or session_key in self._sessions:
            return []
        new_session = open_data_pb2.NewSessionPacket.FromString(content)
        info = SessionInfo(session_key, new_session.data_source, version=0)
        if new_session.HasField("utc_offset"):
            info.utc_offset = new_session.utc_offset.ToTimedelta()
        if new_session.HasField("session_info") and new_session.session_info.data_source:
            _merge(info, new_session.session_info)
            info.type = new_session.session_info.type or "Session"
        self._sessions[session_key] = SessionRecord(
            info,
            _offsets(new_session.topic_partition_offsets),
            created_ns=_time_ns(new_session, "creation_time", record),
        )
        return [SessionChange(SessionChangeKind.STARTED, info.copy())]

    def _apply_session_info(self, existing: SessionRecord, content: bytes) -> list[SessionChange]:
        before = existing.info.copy()
        added = _merge(existing.info, open_data_pb2.SessionInfoPacket.FromString(content))
        changes: list[SessionChange] = []
        if existing.info != before:
            changes.append(SessionChange(SessionChangeKind.UPDATED, existing.info.copy()))
        if added:
            changes.append(
                SessionChange(SessionChangeKind.ASSOCIATED, existing.info.copy(), tuple(added))
            )
        return changes

    def _apply_end(
        self, existing: SessionRecord, content: bytes, record: Record
    ) -> list[SessionChange]:
        if existing.end_offsets is not None:
            return []
        end = open_data_pb2.EndOfSessionPacket.FromString(content)
        existing.end_offsets = _offsets(end.topic_partition_offsets)
        existing.ended_ns = _time_ns(end, "termination_time", record)
        existing.info.historical = True
        return [SessionChange(SessionChangeKind.ENDED, existing.info.copy())]
