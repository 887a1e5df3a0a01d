"""ISessionManagerModuleApi: creates session management services."""

from __future__ import annotations

import abc

from ..shared.api_result import ApiResult
from .i_session_management_service import ISessionManagementService

__all__ = ["ISessionManagerModuleApi"]


class ISessionManagerModuleApi(abc.ABC):
    """Creates session management services."""

    @abc.abstractmethod
    def create_service(self) -> ApiResult[ISessionManagementService]: ...
