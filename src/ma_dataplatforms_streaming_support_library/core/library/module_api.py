"""ModuleApiBase: creates services bound to a started support library, and stops them with it."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol, TypeVar

from ...contracts.shared.api_result import ApiResult
from ...errors import StreamingError
from ..base.service import ServiceBase
from .context import LibraryContext

if TYPE_CHECKING:
    from ..remote.context import RemoteContext

__all__ = ["ModuleApiBase"]

S = TypeVar("S", bound=ServiceBase)


class ServiceOwner(Protocol):
    """What a module API needs of the support library: its context, and a place to register."""

    @property
    def context(self) -> LibraryContext | RemoteContext | None: ...

    def register(self, service: ServiceBase) -> None: ...


class ModuleApiBase:
    """What every module API shares: the library it belongs to, and creating a service only once
    the library is initialised."""

    module_name = "module"

    def __init__(self, library: ServiceOwner) -> None:
        self._library = library

    def _create(
        self,
        build: Callable[[LibraryContext], S],
        remote: Callable[[RemoteContext], S] | None = None,
    ) -> ApiResult[S]:
        """A service from ``build`` on the library's context, or from ``remote`` when the library
        talks to a Stream API server (``grpc://``)."""
        context = self._library.context
        if context is None:
            return ApiResult.fail(
                f"{self.module_name}.create_service: the support library is not initialised; "
                "call initialise() and start() on the object factory.create() returned"
            )
        if not isinstance(context, LibraryContext) and remote is None:
            return ApiResult.fail(
                f"{self.module_name}.create_service: not available with a grpc:// broker"
            )
        try:
            service = build(context) if isinstance(context, LibraryContext) else remote(context)  # type: ignore[misc]
        except (StreamingError, ValueError, TypeError) as exc:
            return ApiResult.fail(f"{self.module_name}.create_service: {exc}")
        self._library.register(service)
        return ApiResult.ok(service)
