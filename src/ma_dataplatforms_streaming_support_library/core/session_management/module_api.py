"""SessionManagerModuleApi: creates session management services."""

from __future__ import annotations

from ...contracts.session_management.i_session_management_service import (
    ISessionManagementService,
)
from ...contracts.session_management.i_session_manager_module_api import (
    ISessionManagerModuleApi,
)
from ...contracts.shared.api_result import ApiResult
from .. import remote
from ..library.module_api import ModuleApiBase
from .session_management_service import SessionManagementService

__all__ = ["SessionManagerModuleApi"]


class SessionManagerModuleApi(ModuleApiBase, ISessionManagerModuleApi):
    """Creates session management services on the library's context."""

    module_name = "session manager api"

    def create_service(self) -> ApiResult[ISessionManagementService]:
        return self._create(SessionManagementService, remote.session_service)  # type: ignore[return-value]
