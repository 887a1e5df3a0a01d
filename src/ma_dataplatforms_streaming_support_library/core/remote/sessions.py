"""RemoteSessionManagementService: the official session service over a Stream API server."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import grpc

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
from ...protos import api_pb2
from ..base.service import ServiceBase
from ..base.validation import data_source_error, session_key_error, text_error
from .calls import RpcFailure, call, session_info, utc_offset_duration

if TYPE_CHECKING:
    from .context import RemoteContext

__all__ = ["RemoteSessionManagementService", "lookup_session"]

logger = logging.getLogger(__name__)


def lookup_session(context: RemoteContext, session_key: str) -> SessionInfo | None:
    """The session's current record from the server; ``None`` when it does not know the key."""
    response = call(
        context,
        context.sessions.GetSessionInfo,
        api_pb2.GetSessionInfoRequest(session_key=session_key),
        "GetSessionInfo",
    )
    return session_info(session_key, response) if response.success else None


def list_sessions(context: RemoteContext, data_source: str) -> list[SessionInfo]:
    """Every session of a data source the server knows, in the order it lists them."""
    response = call(
        context,
        context.sessions.GetCurrentSessions,
        api_pb2.GetCurrentSessionsRequest(data_source=data_source),
        "GetCurrentSessions",
    )
    if not response.success:
        raise RpcFailure(
            f"GetCurrentSessions at {context.location}: the server's session management is off"
        )
    found = (lookup_session(context, key) for key in dict.fromkeys(response.session_keys))
    return [info for info in found if info is not None]


class RemoteSessionManagementService(ServiceBase, ISessionManagementService):
    """Each operation is the Stream API call of the same name, so the server's session rules
    apply (ours or Motion Applied's). ``live_session_started``/``live_session_ended`` come from
    the server's start and stop notifications for the library's data sources (see
    ``RemoteContext``); ``live_session_state_change`` and ``new_association_detected`` are raised
    for the changes this service makes, since the Stream API notifies no others."""

    service_name = "session management service"

    def __init__(self, context: RemoteContext) -> None:
        super().__init__()
        self._context = context
        self.live_session_started: Event[SessionInfo] = Event("live_session_started")
        self.live_session_state_change: Event[SessionInfo] = Event("live_session_state_change")
        self.live_session_ended: Event[SessionInfo] = Event("live_session_ended")
        self.new_association_detected: Event[SessionAssociationInfo] = Event(
            "new_association_detected"
        )
        self._streams: list[Any] = []
        self._threads: list[threading.Thread] = []

    def _on_start(self) -> None:
        for data_source in self._context.data_sources:
            self._follow(
                self._context.sessions.GetSessionStartNotification(
                    api_pb2.GetSessionStartNotificationRequest(data_source=data_source)
                ),
                self.live_session_started,
            )
            self._follow(
                self._context.sessions.GetSessionStopNotification(
                    api_pb2.GetSessionStopNotificationRequest(data_source=data_source)
                ),
                self.live_session_ended,
            )

    def _follow(self, stream: Any, event: Event[SessionInfo]) -> None:
        self._streams.append(stream)
        thread = threading.Thread(
            target=self._notifications,
            args=(stream, event),
            name="ma-streaming-notify",
            daemon=True,
        )
        self._threads.append(thread)
        thread.start()

    def _notifications(self, stream: Any, event: Event[SessionInfo]) -> None:
        try:
            for notification in stream:
                try:
                    info = lookup_session(self._context, notification.session_key)
                except RpcFailure as exc:
                    logger.warning("session notification not resolved: %s", exc)
                    continue
                if info is not None:
                    event.raise_event(self, info)
        except grpc.RpcError as exc:
            if exc.code() is not grpc.StatusCode.CANCELLED:
                logger.warning(
                    "session notifications from %s ended: %s", self._context.location, exc
                )

    def _on_stop(self) -> None:
        for stream in self._streams:
            stream.cancel()
        for thread in self._threads:
            thread.join(self._context.timeout_s)

    # operations -------------------------------------------------------------------------------
    def create_new_session(
        self, session_creation_info: SessionCreationInfo
    ) -> ApiResult[SessionInfo]:
        operation = "create_new_session"
        failure = self._not_started(operation)
        if failure is not None:
            return failure
        if not isinstance(session_creation_info, SessionCreationInfo):
            return ApiResult.fail(
                f"{operation}: session_creation_info must be a SessionCreationInfo, "
                f"got {type(session_creation_info).__name__}"
            )
        info = session_creation_info
        error = data_source_error(info.data_source) or text_error(info.identifier, "identifier")
        try:
            details = details_to_dict(info.details)
            associates = list(dict.fromkeys(info.associate_keys))
        except TypeError as exc:
            error = error or str(exc)
        if error:
            return ApiResult.fail(f"{operation}: {error}")
        request = api_pb2.CreateSessionRequest(
            data_source=info.data_source,
            type=info.type or "Session",
            version=info.version,
            utc_offset=utc_offset_duration(info.effective_utc_offset),
            identifier=info.identifier,
            associate_session_key=associates,
            details=details,
        )
        self._context.use_data_source(info.data_source)

        def create() -> str:
            response = call(
                self._context, self._context.sessions.CreateSession, request, "CreateSession"
            )
            return response.session_key if response.success else ""

        return self._call_and_read_back(
            operation, info.data_source, create, "the server did not create it"
        )

    def get_all_sessions(self) -> ApiResult[list[SessionInfo]]:
        """The sessions of every data source the library knows (see ``RemoteContext``)."""
        failure = self._not_started("get_all_sessions")
        if failure is not None:
            return failure
        try:
            sessions = [
                info
                for data_source in self._context.data_sources
                for info in list_sessions(self._context, data_source)
            ]
        except RpcFailure as exc:
            return ApiResult.fail(f"get_all_sessions: {exc}")
        return ApiResult.ok(sessions)

    def get_session_info(self, data_source: str, session_key: str) -> ApiResult[SessionInfo]:
        found = self._find("get_session_info", data_source, session_key)
        return found if isinstance(found, ApiResult) else ApiResult.ok(found)

    def end_session(self, data_source: str, session_key: str) -> ApiResult[SessionInfo]:
        operation = "end_session"
        found = self._find(operation, data_source, session_key)
        if isinstance(found, ApiResult):
            return found
        if found.historical:
            return ApiResult.fail(
                f"{operation}: session {session_key!r} of {data_source!r} has already ended; "
                "nothing was written"
            )
        # The session's end offsets are taken when the server ends it: every packet this
        # library queued for the session must be on the server first.
        self._context.flush_writes()
        request = api_pb2.EndSessionRequest(data_source=data_source, session_key=session_key)

        def end() -> str:
            response = call(self._context, self._context.sessions.EndSession, request, "EndSession")
            if not response.success:
                return ""
            self._context.ended_sessions.add(session_key)
            return session_key

        return self._call_and_read_back(operation, data_source, end, "the server did not end it")

    def update_identifier(
        self, data_source: str, session_key: str, new_identifier: str
    ) -> ApiResult[SessionInfo]:
        error = text_error(new_identifier, "new_identifier")
        if error:
            return ApiResult.fail(f"update_identifier: {error}")
        request = api_pb2.UpdateSessionIdentifierRequest(
            session_key=session_key, identifier=new_identifier
        )
        return self._update(
            "update_identifier",
            data_source,
            session_key,
            lambda: self._context.sessions.UpdateSessionIdentifier,
            request,
        )

    def update_session_details(
        self, data_source: str, session_key: str, session_details: Any
    ) -> ApiResult[SessionInfo]:
        if session_details is None:
            return ApiResult.fail("update_session_details: session_details must not be None")
        try:
            details = details_to_dict(session_details, "session_details")
        except TypeError as exc:
            return ApiResult.fail(f"update_session_details: {exc}")
        request = api_pb2.UpdateSessionDetailsRequest(session_key=session_key, details=details)
        return self._update(
            "update_session_details",
            data_source,
            session_key,
            lambda: self._context.sessions.UpdateSessionDetails,
            request,
        )

    def add_associate_session(
        self, data_source: str, session_key: str, adding_associate_key: str
    ) -> ApiResult[SessionInfo]:
        operation = "add_associate_session"
        error = text_error(adding_associate_key, "adding_associate_key", allow_empty=False)
        if not error and adding_associate_key == session_key:
            error = "a session cannot be associated with itself"
        if error:
            return ApiResult.fail(f"{operation}: {error}")
        try:
            associate = lookup_session(self._context, adding_associate_key)
        except RpcFailure as exc:
            return ApiResult.fail(f"{operation}: {exc}")
        if associate is None:
            return ApiResult.fail(
                f"{operation}: adding_associate_key {adding_associate_key!r} is not a known session"
            )
        before = self._find(operation, data_source, session_key)
        if isinstance(before, ApiResult):
            return before
        if adding_associate_key in before.associate_session_keys:
            return ApiResult.ok(before)
        request = api_pb2.AddAssociateSessionRequest(
            session_key=session_key, associate_session_key=adding_associate_key
        )
        result = self._update(
            operation,
            data_source,
            session_key,
            lambda: self._context.sessions.AddAssociateSession,
            request,
        )
        if result.success and result.data is not None:
            self.new_association_detected.raise_event(
                self, SessionAssociationInfo(result.data, associate, result.data.session_key)
            )
        return result

    # helpers ----------------------------------------------------------------------------------
    def _find(
        self, operation: str, data_source: str, session_key: str
    ) -> SessionInfo | ApiResult[SessionInfo]:
        failure = self._not_started(operation)
        if failure is not None:
            return failure
        error = text_error(data_source, "data_source", allow_empty=False) or session_key_error(
            session_key
        )
        if error:
            return ApiResult.fail(f"{operation}: {error}")
        try:
            info = lookup_session(self._context, session_key)
        except RpcFailure as exc:
            return ApiResult.fail(f"{operation}: {exc}")
        if info is None:
            return ApiResult.fail(
                f"{operation}: session_key {session_key!r} is not a known session"
            )
        if info.data_source != data_source:
            return ApiResult.fail(
                f"{operation}: session {session_key!r} belongs to data source "
                f"{info.data_source!r}, not data_source {data_source!r}"
            )
        return info

    def _call_and_read_back(
        self, operation: str, data_source: str, act: Callable[[], str], refused: str
    ) -> ApiResult[SessionInfo]:
        """Run ``act`` (a call returning the session key, '' when refused) and read the session back."""
        try:
            session_key = act()
            info = lookup_session(self._context, session_key) if session_key else None
        except RpcFailure as exc:
            return ApiResult.fail(f"{operation}: {exc}")
        if not session_key:
            return ApiResult.fail(f"{operation}: data source {data_source!r}: {refused}")
        if info is None:
            return ApiResult.fail(
                f"{operation}: session {session_key!r} of {data_source!r} is not known to the server"
            )
        return ApiResult.ok(info)

    def _update(
        self,
        operation: str,
        data_source: str,
        session_key: str,
        method: Callable[[], Callable[..., Any]],
        request: Any,
    ) -> ApiResult[SessionInfo]:
        before = self._find(operation, data_source, session_key)
        if isinstance(before, ApiResult):
            return before
        name = type(request).__name__.removesuffix("Request")

        def update() -> str:
            response = call(self._context, method(), request, name)
            return session_key if response.success else ""

        result = self._call_and_read_back(
            operation, data_source, update, "the server refused the update"
        )
        changed = result.data is not None and result.data != before
        if changed and result.data is not None and not result.data.historical:
            self.live_session_state_change.raise_event(self, result.data)
        return result
