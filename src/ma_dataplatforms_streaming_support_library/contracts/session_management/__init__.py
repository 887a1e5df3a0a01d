"""Session management contracts."""

from __future__ import annotations

from .i_session_management_service import ISessionManagementService
from .i_session_manager_module_api import ISessionManagerModuleApi
from .session_association_info import SessionAssociationInfo
from .session_creation_info import SessionCreationInfo, details_to_dict
from .session_detail import SessionDetail
from .session_info import SessionInfo

__all__ = [
    "ISessionManagementService",
    "ISessionManagerModuleApi",
    "SessionAssociationInfo",
    "SessionCreationInfo",
    "SessionDetail",
    "SessionInfo",
    "details_to_dict",
]
