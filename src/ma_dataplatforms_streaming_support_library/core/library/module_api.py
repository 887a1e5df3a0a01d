"""ModuleApiBase: creates services bound to a started support library, and stops them with it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, TypeVar

from ...contracts.shared.api_result import ApiResult
from ...errors import StreamingError
from ..base.service import ServiceBase
from .context import LibraryContext

__all__ = ["ModuleApiBase"]

S = TypeVar("S", bound=ServiceBase)


class ServiceOwner(Protocol):
    """What a module API needs of the support library: its context, and a place to register."""

    @property
    def context(self) -> LibraryContext | None: ...

    def register(self, service: ServiceBase) -> None: ...


class ModuleApiBase:
    """What every module API shares: the library it belongs to, and creating a service only once
    the library is initialised."""

    module_name = "module"

    def __init__(self, library: ServiceOwner) -> None:
        self._library = library

    def _create(self, build: Callable[[LibraryContext], S]) -> ApiResult[S]:
        context = self._library.context
        if context is None:
            return ApiResult.fail(
                f"{self.module_name}.create_service: the support library is not initialised; "
                "call initialise() and start() on the object factory.create() returned"
            )
        try:
            service = build(context)
        except (StreamingError, ValueError, TypeError) as exc:
            return ApiResult.fail(f"{self.module_name}.create_service: {exc}")
        self._library.register(service)
        return ApiResult.ok(service)
