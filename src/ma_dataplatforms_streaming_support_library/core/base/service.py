"""ServiceBase: the CREATED → INITIALISED → STARTED → STOPPED lifecycle shared by every service."""

from __future__ import annotations

import datetime
import enum
import logging
import threading
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

from ...contracts.shared.api_result import ApiResult
from ...contracts.shared.event import Event
from ...contracts.shared.i_service_model import IServiceModel
from ...errors import TransportError

__all__ = ["ServiceBase", "ServiceState"]

logger = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")


class ServiceState(enum.Enum):
    """Where a service is in its lifecycle: created, initialised, started or stopped."""

    CREATED = "created"
    INITIALISED = "initialised"
    STARTED = "started"
    STOPPED = "stopped"


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


class ServiceBase(IServiceModel):
    """Lifecycle bookkeeping; subclasses override ``_on_initialise``/``_on_start``/``_on_stop``.

    ``initialise``/``start`` twice are no-ops, ``stop`` is idempotent, and an operation on a service
    that is not started answers ``ApiResult(success=False)`` through ``_not_started``.
    """

    service_name = "service"

    def __init__(self) -> None:
        self._id = uuid.uuid4()
        self._state = ServiceState.CREATED
        self._state_lock = threading.RLock()
        self.initialised: Event[datetime.datetime] = Event("initialised")
        self.started: Event[datetime.datetime] = Event("started")
        self.stopped: Event[datetime.datetime] = Event("stopped")

    @property
    def id(self) -> uuid.UUID:
        return self._id

    @property
    def is_initialised(self) -> bool:
        return self._state is not ServiceState.CREATED

    @property
    def is_started(self) -> bool:
        return self._state is ServiceState.STARTED

    def initialise(self) -> None:
        with self._state_lock:
            if self._state is not ServiceState.CREATED:
                return
            self._on_initialise()
            self._state = ServiceState.INITIALISED
        self.initialised.raise_event(self, _now())

    def start(self) -> None:
        with self._state_lock:
            if self._state is ServiceState.STARTED:
                return
            if self._state is ServiceState.STOPPED:
                logger.warning(
                    "%s %s was stopped; it cannot start again", self.service_name, self.id
                )
                return
            if self._state is ServiceState.CREATED:
                self._on_initialise()
            self._on_start()
            self._state = ServiceState.STARTED
        self.started.raise_event(self, _now())

    def stop(self) -> None:
        with self._state_lock:
            if self._state is ServiceState.STOPPED:
                return
            was_started = self._state is ServiceState.STARTED
            self._state = ServiceState.STOPPED
            if was_started:
                self._on_stop()
        self.stopped.raise_event(self, _now())

    def __enter__(self: T) -> T:
        self.start()  # type: ignore[attr-defined]
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _not_started(self, operation: str) -> ApiResult[Any] | None:
        """A failed result if the service cannot serve ``operation`` now, else ``None``."""
        if self._state is ServiceState.STARTED:
            return None
        if self._state is ServiceState.STOPPED:
            reason = "has been stopped; create a new service"
        else:
            reason = "is not started; call start() first"
        return ApiResult.fail(f"{operation}: the {self.service_name} {reason}")

    def _answer(
        self,
        operation: str,
        argument_error: Callable[[], str],
        act: Callable[[], ApiResult[R]],
        where: str = "",
    ) -> ApiResult[R]:
        """The answer of a public method: not started, then a bad argument (``argument_error()``
        returns its message, or ``""``), then ``act()`` with a ``TransportError`` turned into a
        failed result naming ``where`` — each failure a ``success=False`` result naming the
        operation."""
        failure = self._not_started(operation)
        if failure is not None:
            return failure
        message = argument_error()
        if message:
            return ApiResult.fail(f"{operation}: {message}")
        try:
            return act()
        except TransportError as exc:
            prefix = f"{operation}: {where}: " if where else f"{operation}: "
            return ApiResult.fail(f"{prefix}{exc}")

    def _on_initialise(self) -> None:
        """Validate and prepare; raise to refuse."""

    def _on_start(self) -> None:
        """Begin work (threads, subscriptions)."""

    def _on_stop(self) -> None:
        """End work: join threads, flush; must not raise."""
