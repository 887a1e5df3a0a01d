"""Calling the Stream API from the remote services: one unary call, its failure as a message."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

import grpc
from google.protobuf import duration_pb2

from ...contracts.session_management.session_info import SessionInfo
from ...errors import TransportError
from ...protos import api_pb2

__all__ = ["Endpoint", "RpcFailure", "call", "session_info", "utc_offset_duration"]


class Endpoint(Protocol):
    """What a call needs of the library's connection to the server (``RemoteContext``)."""

    @property
    def timeout_s(self) -> float: ...

    @property
    def location(self) -> str: ...

    @property
    def formats(self) -> Any: ...


R = TypeVar("R")


class RpcFailure(TransportError):
    """A Stream API call that did not answer; ``str()`` names the method and the status."""


def call(context: Endpoint, method: Callable[..., R], request: Any, name: str) -> R:
    """``method(request)`` within the library's timeout; raises ``RpcFailure`` when it fails."""
    try:
        return method(request, timeout=context.timeout_s)
    except grpc.RpcError as exc:
        code = exc.code() if hasattr(exc, "code") else None
        details = exc.details() if hasattr(exc, "details") else str(exc)
        status = code.name if code is not None else "UNKNOWN"
        retriable = code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)
        raise RpcFailure(
            f"{name} at {context.location} failed: {status}: {details}",
            code=status,
            retriable=retriable,
        ) from exc


def session_info(session_key: str, response: api_pb2.GetSessionInfoResponse) -> SessionInfo:
    """The official ``SessionInfo`` of a ``GetSessionInfo`` answer."""
    return SessionInfo(
        session_key,
        response.data_source,
        response.identifier,
        response.type or "Session",
        response.version,
        response.is_complete,
        response.utc_offset.ToTimedelta(),
        dict(response.details),
        list(response.associate_session_keys),
    )


def utc_offset_duration(delta: datetime.timedelta) -> duration_pb2.Duration:
    duration = duration_pb2.Duration()
    duration.FromTimedelta(delta)
    return duration
