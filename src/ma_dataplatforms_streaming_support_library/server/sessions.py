"""SessionManagementService of the Stream API, on the library's session management service."""

from __future__ import annotations

import datetime
import logging
import threading
from collections.abc import Iterator
from typing import Any

import grpc
from google.protobuf import duration_pb2, timestamp_pb2

from ..contracts.session_management.session_creation_info import SessionCreationInfo
from ..contracts.session_management.session_info import SessionInfo
from ..contracts.shared.api_result import ApiResult
from ..contracts.shared.stream_creation_strategy import StreamCreationStrategy
from ..core.library.context import LibraryContext
from ..core.session_management.registry import SessionRecord
from ..core.session_management.session_management_service import SessionManagementService
from ..errors import TransportError
from ..layout import discover_streams, essential_topic, format_offset_key, main_topic, name_error
from ..protos import api_pb2, open_data_pb2
from .calls import abort, stop_condition
from .notifications import NotificationHub

__all__ = ["SessionManagementServicer"]

logger = logging.getLogger(__name__)


def _duration(delta: datetime.timedelta) -> duration_pb2.Duration:
    duration = duration_pb2.Duration()
    duration.FromTimedelta(delta)
    return duration


def _timestamp(time_ns: int) -> timestamp_pb2.Timestamp:
    return timestamp_pb2.Timestamp(seconds=time_ns // 1_000_000_000, nanos=time_ns % 1_000_000_000)


def _offsets(offsets: dict[tuple[str, int], int] | None) -> dict[str, int]:
    return {format_offset_key(topic, p): offset for (topic, p), offset in (offsets or {}).items()}


def _info_packet(info: SessionInfo) -> open_data_pb2.SessionInfoPacket:
    return open_data_pb2.SessionInfoPacket(
        data_source=info.data_source,
        identifier=info.identifier,
        type=info.type,
        version=info.version,
        associate_session_keys=info.associate_session_keys,
        details=info.details,
    )


class SessionManagementServicer:
    """Each RPC calls the library's ``SessionManagementService``; answers as the C# server's.

    As there, an unknown session key is ``success=false``, a session is looked up by its key
    alone (``EndSessionRequest.data_source`` is not needed), and with session management not
    integrated (``service`` None) every call answers ``success=false`` and notification streams
    end at once.
    Input the library refuses that the C# server has no answer for (a data source Kafka cannot
    name) ends the call with INVALID_ARGUMENT naming the field.
    """

    def __init__(
        self,
        service: SessionManagementService | None,
        context: LibraryContext,
        stopping: threading.Event,
        *,
        notification_capacity: int = 1000,
    ) -> None:
        self._context = context
        self._start_hub = NotificationHub(notification_capacity)
        self._stop_hub = NotificationHub(notification_capacity)
        self._stopping = stopping
        self._enabled = service is not None
        # Without session management (no service) the calls below never reach the service.
        self._service: SessionManagementService = service  # type: ignore[assignment]
        if service is not None:
            service.live_session_started += self._start_hub.publish
            service.live_session_ended += self._stop_hub.publish

    # lookups ----------------------------------------------------------------------------------
    def _record(self, session_key: str) -> SessionRecord | None:
        registry = self._context.sessions
        try:
            registry.catch_up()
        except TransportError as exc:
            logger.warning("session registry not caught up: %s", exc)
        return registry.get(session_key) if session_key else None

    def _streams(self, data_source: str) -> list[str]:
        configuration = self._context.configuration
        if configuration.stream_creation_strategy == StreamCreationStrategy.PARTITION_BASE:
            return list(configuration.partition_mappings)
        return discover_streams(data_source, self._context.transport.list_topics())

    # RPCs -------------------------------------------------------------------------------------
    def CreateSession(
        self, request: api_pb2.CreateSessionRequest, context: Any
    ) -> api_pb2.CreateSessionResponse:
        if not self._enabled:
            return api_pb2.CreateSessionResponse(success=False)
        error = name_error(request.data_source)
        if error:
            abort(context, grpc.StatusCode.INVALID_ARGUMENT, error)
        info = SessionCreationInfo(
            data_source=request.data_source,
            identifier=request.identifier,
            type=request.type or "Session",
            version=request.version,
            # The C# server records a zero offset when the request carries none.
            utc_offset=request.utc_offset.ToTimedelta()
            if request.HasField("utc_offset")
            else datetime.timedelta(),
            details=dict(request.details),
            associate_session_keys=list(dict.fromkeys(request.associate_session_key)),
        )
        result = self._service.create_new_session(info)
        if not result.success or result.data is None:
            logger.warning("CreateSession failed: %s", result.error_message)
            return api_pb2.CreateSessionResponse(success=False)
        record = self._record(result.data.session_key)
        new_session = open_data_pb2.NewSessionPacket(
            data_source=request.data_source,
            topic_partition_offsets=_offsets(record.start_offsets if record else None),
            utc_offset=_duration(result.data.utc_offset),
            session_info=_info_packet(result.data),
            creation_time=_timestamp(record.created_ns) if record else None,
        )
        return api_pb2.CreateSessionResponse(
            session_key=result.data.session_key, new_session=new_session, success=True
        )

    def EndSession(
        self, request: api_pb2.EndSessionRequest, context: Any
    ) -> api_pb2.EndSessionResponse:
        record = self._record(request.session_key) if self._enabled else None
        if record is None:
            return api_pb2.EndSessionResponse(success=False)
        data_source = record.info.data_source
        result = self._service.end_session(data_source, request.session_key)
        if not result.success:
            logger.warning("EndSession failed: %s", result.error_message)
            return api_pb2.EndSessionResponse(success=False)
        ended = self._record(request.session_key)
        end = open_data_pb2.EndOfSessionPacket(
            data_source=data_source,
            topic_partition_offsets=_offsets(ended.end_offsets if ended else None),
            termination_time=_timestamp(ended.ended_ns) if ended and ended.ended_ns else None,
        )
        return api_pb2.EndSessionResponse(end_session=end, success=True)

    def GetCurrentSessions(
        self, request: api_pb2.GetCurrentSessionsRequest, context: Any
    ) -> api_pb2.GetCurrentSessionsResponse:
        if not self._enabled:
            return api_pb2.GetCurrentSessionsResponse(success=False)
        result = self._service.get_all_sessions()
        if not result.success or result.data is None:
            logger.warning("GetCurrentSessions failed: %s", result.error_message)
            return api_pb2.GetCurrentSessionsResponse(success=False)
        keys = [info.session_key for info in result.data if info.data_source == request.data_source]
        return api_pb2.GetCurrentSessionsResponse(session_keys=keys, success=True)

    def GetSessionInfo(
        self, request: api_pb2.GetSessionInfoRequest, context: Any
    ) -> api_pb2.GetSessionInfoResponse:
        record = self._record(request.session_key) if self._enabled else None
        if record is None:
            return api_pb2.GetSessionInfoResponse(success=False)
        info = record.info
        starts = record.start_offsets
        return api_pb2.GetSessionInfoResponse(
            data_source=info.data_source,
            identifier=info.identifier,
            type=info.type,
            version=info.version,
            associate_session_keys=info.associate_session_keys,
            is_complete=info.historical,
            streams=self._streams(info.data_source),
            topic_partition_offsets=_offsets(starts),
            main_offset=starts.get((main_topic(info.data_source), 0), 0),
            essentials_offset=starts.get((essential_topic(info.data_source), 0), 0),
            details=info.details,
            utc_offset=_duration(info.utc_offset),
            success=True,
            creation_time=_timestamp(record.created_ns),
            termination_time=_timestamp(record.ended_ns) if record.ended_ns else None,
        )

    def GetSessionStartNotification(
        self, request: api_pb2.GetSessionStartNotificationRequest, context: Any
    ) -> Iterator[api_pb2.GetSessionStartNotificationResponse]:
        for info in self._notifications(self._start_hub, request.data_source, context):
            yield api_pb2.GetSessionStartNotificationResponse(
                session_key=info.session_key, data_source=info.data_source
            )

    def GetSessionStopNotification(
        self, request: api_pb2.GetSessionStopNotificationRequest, context: Any
    ) -> Iterator[api_pb2.GetSessionStopNotificationResponse]:
        for info in self._notifications(self._stop_hub, request.data_source, context):
            yield api_pb2.GetSessionStopNotificationResponse(
                session_key=info.session_key, data_source=info.data_source
            )

    def _notifications(
        self, hub: NotificationHub, data_source: str, context: Any
    ) -> Iterator[SessionInfo]:
        if not self._enabled:
            return
        subscription = hub.subscribe(data_source)
        # Headers go out once the subscription is live: a client that waits for them (the
        # call's initial metadata) misses no session started or ended after that.
        context.send_initial_metadata(())
        try:
            yield from subscription.items(stop_condition(context, self._stopping))
        finally:
            hub.unsubscribe(subscription)
        if subscription.overflowed:
            abort(
                context,
                grpc.StatusCode.RESOURCE_EXHAUSTED,
                f"notifications of data_source {data_source!r} were not read fast enough",
            )

    def UpdateSessionIdentifier(
        self, request: api_pb2.UpdateSessionIdentifierRequest, context: Any
    ) -> api_pb2.UpdateSessionIdentifierResponse:
        result = self._update(
            request.session_key,
            lambda data_source: self._service.update_identifier(
                data_source, request.session_key, request.identifier
            ),
        )
        return api_pb2.UpdateSessionIdentifierResponse(success=result)

    def AddAssociateSession(
        self, request: api_pb2.AddAssociateSessionRequest, context: Any
    ) -> api_pb2.AddAssociateSessionResponse:
        result = self._update(
            request.session_key,
            lambda data_source: self._service.add_associate_session(
                data_source,
                request.session_key,
                request.associate_session_key,
                known_associate=False,
            ),
        )
        return api_pb2.AddAssociateSessionResponse(success=result)

    def UpdateSessionDetails(
        self, request: api_pb2.UpdateSessionDetailsRequest, context: Any
    ) -> api_pb2.UpdateSessionDetailsResponse:
        result = self._update(
            request.session_key,
            lambda data_source: self._service.update_session_details(
                data_source, request.session_key, dict(request.details)
            ),
        )
        return api_pb2.UpdateSessionDetailsResponse(success=result)

    def _update(self, session_key: str, call: Any) -> bool:
        record = self._record(session_key) if self._enabled else None
        if record is None:
            logger.warning("session update for unknown session_key %r", session_key)
            return False
        result: ApiResult[SessionInfo] = call(record.info.data_source)
        if not result.success:
            logger.warning("session update failed: %s", result.error_message)
        return result.success
