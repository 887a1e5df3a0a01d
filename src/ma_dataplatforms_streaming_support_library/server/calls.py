"""Helpers shared by the servicers: ending a call with a status, and when a streaming call ends."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, NoReturn

import grpc

__all__ = ["abort", "stop_condition"]


def abort(context: Any, code: grpc.StatusCode, message: str) -> NoReturn:
    """End the call with ``code`` and ``message`` (which names the offending request field)."""
    context.abort(code, message)
    raise AssertionError("grpc ServicerContext.abort returned")  # it always raises


def stop_condition(context: Any, *events: threading.Event) -> Callable[[], bool]:
    """True once the client has gone (cancelled, disconnected, deadline) or any event is set."""

    def should_stop() -> bool:
        return not context.is_active() or any(event.is_set() for event in events)

    return should_stop
