"""SessionManagementService: creates, updates, associates and ends sessions on the SessionInfo topic."""

from __future__ import annotations

import datetime
from typing import Any

from google.protobuf import duration_pb2, timestamp_pb2

from ...contracts.session_management.i_session_management_service import (
    ISessionManagementService,
)
from ...contracts.session_management.session_association_info import SessionAssociationInfo
from ...contracts.session_management.session_creation_info import (
    SessionCreationInfo,
    details_to_dict,
)
from ...contracts.session_management.session_info import SessionInfo
from ...contracts.shared.api_result import ApiResult
from ...contracts.shared.event import Event
from ...errors import ConfigurationError, TransportError
from ...layout import SESSION_INFO_TOPIC, format_offset_key, session_offset_entries
from ...protos import open_data_pb2
from ...redaction import shown
from ..base.service import ServiceBase
from ..base.validation import (
    MAX_KEY_CHARS,
    data_source_error,
    details_error,
    items_error,
    session_key_error,
    text_error,
)
from ..library.context import LibraryContext
from .registry import SessionChange, SessionChangeKind, SessionRecord

__all__ = ["SessionManagementService"]

_UINT32_MAX = 2**32 - 1
#: Time zones lie within UTC-12 … UTC+14; a larger offset is a unit mistake.
MAX_UTC_OFFSET = datetime.timedelta(days=1)


def _duration(delta: datetime.timedelta) -> duration_pb2.Duration:
    duration = duration_pb2.Duration()
    duration.FromTimedelta(delta)
    return duration


def _now_timestamp() -> timestamp_pb2.Timestamp:
    timestamp = timestamp_pb2.Timestamp()
    timestamp.GetCurrentTime()
    return timestamp


def _info_packet(info: SessionInfo) -> open_data_pb2.SessionInfoPacket:
    return open_data_pb2.SessionInfoPacket(
        data_source=info.data_source,
        identifier=info.identifier,
        type=info.type,
        version=info.version,
        associate_session_keys=info.associate_session_keys,
        details=info.details,
    )


def _associates_error(keys: object) -> str:
    if keys is None:
        return ""
    if isinstance(keys, (str, bytes)) or not isinstance(keys, (list, tuple)):
        return f"associate_session_keys must be a list of session keys, got {shown(keys)}"
    error = items_error(len(keys), "associate_session_keys")
    for key in keys:
        error = error or text_error(
            key, "associate_session_keys item", allow_empty=False, max_chars=MAX_KEY_CHARS
        )
    return error


def _creation_error(info: SessionCreationInfo) -> str:
    """Why ``info`` cannot create a session (the checks that need no broker), or ``""``."""
    error = (
        data_source_error(info.data_source)
        or text_error(info.identifier, "identifier")
        or text_error(info.type, "type")
    )
    if not error and (
        isinstance(info.version, bool)
        or not isinstance(info.version, int)
        or not 0 <= info.version <= _UINT32_MAX
    ):
        error = f"version must be an int in 0…{_UINT32_MAX}, got {shown(info.version)}"
    offset = info.utc_offset
    if not error and offset is not None:
        if not isinstance(offset, datetime.timedelta):
            error = f"utc_offset must be a datetime.timedelta or None, got {shown(offset)}"
        elif abs(offset) > MAX_UTC_OFFSET:
            error = f"utc_offset must be within ±24 hours, got {offset}"
    return (
        error
        or _associates_error(info.associate_session_keys)
        or details_error(info.details, "details")
    )


class SessionManagementService(ServiceBase, ISessionManagementService):
    """Session operations as the Stream API performs them; state comes from the shared registry."""

    service_name = "session management service"

    def __init__(self, context: LibraryContext) -> None:
        if not context.configuration.integrate_session_management:
            raise ConfigurationError(
                "session management is switched off by "
                "StreamingApiConfiguration(integrate_session_management=False)"
            )
        super().__init__()
        self._context = context
        self.live_session_started: Event[SessionInfo] = Event("live_session_started")
        self.live_session_state_change: Event[SessionInfo] = Event("live_session_state_change")
        self.live_session_ended: Event[SessionInfo] = Event("live_session_ended")
        self.new_association_detected: Event[SessionAssociationInfo] = Event(
            "new_association_detected"
        )

    def _on_start(self) -> None:
        self._context.sessions.catch_up()
        self._context.sessions.add_listener(self._on_change)

    def _on_stop(self) -> None:
        self._context.sessions.remove_listener(self._on_change)

    def _on_change(self, change: SessionChange) -> None:
        if change.kind is SessionChangeKind.STARTED:
            self.live_session_started.raise_event(self, change.info)
        elif change.kind is SessionChangeKind.ENDED:
            self.live_session_ended.raise_event(self, change.info)
        elif change.kind is SessionChangeKind.UPDATED and not change.info.historical:
            self.live_session_state_change.raise_event(self, change.info)
        elif change.kind is SessionChangeKind.ASSOCIATED:
            for key in change.added_associate_keys:
                self.new_association_detected.raise_event(
                    self, self._context.sessions.association(change.info, key)
                )

    # operations -------------------------------------------------------------------------------
    def create_new_session(
        self, session_creation_info: SessionCreationInfo
    ) -> ApiResult[SessionInfo]:
        failure = self._not_started("create_new_session")
        if failure is not None:
            return failure
        if not isinstance(session_creation_info, SessionCreationInfo):
            return ApiResult.fail(
                "create_new_session: session_creation_info must be a SessionCreationInfo, "
                f"got {type(session_creation_info).__name__}"
            )
        info = session_creation_info
        error = _creation_error(info)
        if not error:
            details = details_to_dict(info.details)
            associates = list(dict.fromkeys(info.associate_keys))
            error = self._unknown_sessions_error(associates, "associate_session_keys")
        if error:
            return ApiResult.fail(f"create_new_session: {error}")
        context = self._context
        try:
            session_key = context.keys.session_key()
            context.ensure_topics(info.data_source)
            context.transport.flush(context.timeout_s)
            offsets = self._offsets_now(info.data_source)
            session_info = SessionInfo(
                session_key,
                info.data_source,
                info.identifier,
                info.type or "Session",
                info.version,
                False,
                info.effective_utc_offset,
                details,
                associates,
            )
            new_session = open_data_pb2.NewSessionPacket(
                data_source=info.data_source,
                topic_partition_offsets=offsets,
                utc_offset=_duration(session_info.utc_offset),
                session_info=_info_packet(session_info),
                creation_time=_now_timestamp(),
            )
            self._write(session_key, "NewSession", new_session.SerializeToString())
        except TransportError as exc:
            return ApiResult.fail(
                f"create_new_session: the broker did not accept the session: {exc}"
            )
        return self._current("create_new_session", info.data_source, session_key)

    def get_all_sessions(self) -> ApiResult[list[SessionInfo]]:
        def catch_up() -> ApiResult[list[SessionInfo]]:
            self._context.sessions.catch_up()
            return ApiResult.ok(self._context.sessions.all())

        return self._answer("get_all_sessions", lambda: "", catch_up)

    def get_session_info(self, data_source: str, session_key: str) -> ApiResult[SessionInfo]:
        failure = self._not_started("get_session_info")
        if failure is not None:
            return failure
        found = self._find("get_session_info", data_source, session_key)
        if isinstance(found, ApiResult):
            return found
        return ApiResult.ok(found.info)

    def update_identifier(
        self, data_source: str, session_key: str, new_identifier: str
    ) -> ApiResult[SessionInfo]:
        error = text_error(new_identifier, "new_identifier")
        if error:
            return ApiResult.fail(f"update_identifier: {error}")

        def change(info: SessionInfo) -> None:
            info.identifier = new_identifier

        return self._update("update_identifier", data_source, session_key, change)

    def update_session_details(
        self, data_source: str, session_key: str, session_details: Any
    ) -> ApiResult[SessionInfo]:
        if session_details is None:
            return ApiResult.fail("update_session_details: session_details must not be None")
        error = details_error(session_details, "session_details")
        if error:
            return ApiResult.fail(f"update_session_details: {error}")
        details = details_to_dict(session_details, "session_details")

        def change(info: SessionInfo) -> None:
            info.details.update(details)

        return self._update("update_session_details", data_source, session_key, change)

    def add_associate_session(
        self,
        data_source: str,
        session_key: str,
        adding_associate_key: str,
        *,
        known_associate: bool = True,
    ) -> ApiResult[SessionInfo]:
        """Associate ``adding_associate_key`` with the session; it must name a known session
        unless ``known_associate=False`` (the Stream API server's rule: any key is appended)."""
        operation = "add_associate_session"
        failure = self._not_started(operation)
        if failure is not None:
            return failure
        error = text_error(
            adding_associate_key, "adding_associate_key", allow_empty=False, max_chars=MAX_KEY_CHARS
        )
        if not error and adding_associate_key == session_key:
            error = "a session cannot be associated with itself"
        if known_associate:
            error = error or self._unknown_sessions_error(
                [adding_associate_key], "adding_associate_key"
            )
        if error:
            return ApiResult.fail(f"{operation}: {error}")

        def change(info: SessionInfo) -> None:
            if adding_associate_key not in info.associate_session_keys:
                info.associate_session_keys.append(adding_associate_key)

        return self._update(operation, data_source, session_key, change)

    def end_session(self, data_source: str, session_key: str) -> ApiResult[SessionInfo]:
        failure = self._not_started("end_session")
        if failure is not None:
            return failure
        found = self._find("end_session", data_source, session_key)
        if isinstance(found, ApiResult):
            return found
        if found.info.historical:
            return ApiResult.fail(
                f"end_session: session {session_key!r} of {data_source!r} has already ended; "
                "nothing was written"
            )
        context = self._context
        try:
            context.transport.flush(context.timeout_s)
            end = open_data_pb2.EndOfSessionPacket(
                data_source=found.info.data_source,
                topic_partition_offsets=self._offsets_now(found.info.data_source),
                termination_time=_now_timestamp(),
            )
            self._write(session_key, "EndOfSession", end.SerializeToString())
        except TransportError as exc:
            return ApiResult.fail(
                f"end_session: the broker did not accept the end of session: {exc}"
            )
        return self._current("end_session", data_source, session_key)

    # helpers ----------------------------------------------------------------------------------
    def _unknown_sessions_error(self, session_keys: list[str], argument: str) -> str:
        """Why some of ``session_keys`` cannot be associated (not known sessions), or ``""``."""
        registry = self._context.sessions
        if all(registry.get(key) for key in session_keys):
            return ""
        try:
            registry.catch_up()
        except TransportError as exc:
            return f"cannot check {argument}: {exc}"
        unknown = [key for key in session_keys if not registry.get(key)]
        if not unknown:
            return ""
        return f"{argument} {shown(unknown[0])} is not a known session"

    def _offsets_now(self, data_source: str) -> dict[str, int]:
        transport = self._context.transport
        configuration = self._context.configuration
        entries = session_offset_entries(
            data_source,
            configuration.stream_creation_strategy,
            configuration.partition_mappings,
            transport.list_topics(),
        )
        ends: dict[str, dict[int, int]] = {}
        offsets: dict[str, int] = {}
        for topic, partition in entries:
            if topic not in ends:
                ends[topic] = transport.end_offsets(topic)
            offsets[format_offset_key(topic, partition)] = ends[topic].get(partition, 0)
        return offsets

    def _write(self, session_key: str, packet_type: str, content: bytes) -> None:
        packet = open_data_pb2.Packet(type=packet_type, session_key=session_key, content=content)
        transport = self._context.transport
        transport.produce(
            SESSION_INFO_TOPIC, None, session_key.encode(), packet.SerializeToString()
        )
        transport.flush(self._context.timeout_s)
        self._context.sessions.catch_up()

    def _find(
        self, operation: str, data_source: str, session_key: str
    ) -> SessionRecord | ApiResult[SessionInfo]:
        error = text_error(data_source, "data_source", allow_empty=False) or session_key_error(
            session_key
        )
        if error:
            return ApiResult.fail(f"{operation}: {error}")
        registry = self._context.sessions
        # Read your writes: info written through a packet writer (or another process) before this
        # call is applied before the session is looked at.
        try:
            registry.catch_up()
        except TransportError as exc:
            return ApiResult.fail(f"{operation}: {exc}")
        record = registry.get(session_key)
        if record is None:
            return ApiResult.fail(
                f"{operation}: session_key {session_key!r} is not a known session"
            )
        if record.info.data_source != data_source:
            return ApiResult.fail(
                f"{operation}: session {session_key!r} belongs to data source "
                f"{record.info.data_source!r}, not data_source {data_source!r}"
            )
        return record

    def _current(
        self, operation: str, data_source: str, session_key: str
    ) -> ApiResult[SessionInfo]:
        record = self._context.sessions.get(session_key)
        if record is None:
            return ApiResult.fail(
                f"{operation}: session {session_key!r} of {data_source!r} was written but has not "
                "been read back from the SessionInfo topic"
            )
        return ApiResult.ok(record.info)

    def _update(
        self, operation: str, data_source: str, session_key: str, change: Any
    ) -> ApiResult[SessionInfo]:
        failure = self._not_started(operation)
        if failure is not None:
            return failure
        found = self._find(operation, data_source, session_key)
        if isinstance(found, ApiResult):
            return found
        info = found.info
        change(info)
        try:
            self._write(session_key, "SessionInfo", _info_packet(info).SerializeToString())
        except TransportError as exc:
            return ApiResult.fail(f"{operation}: the broker did not accept the update: {exc}")
        return self._current(operation, data_source, session_key)
