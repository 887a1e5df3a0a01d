"""ISessionManagementService: create, query, update, associate and end sessions."""

from __future__ import annotations

import abc
from typing import Any

from ..shared.api_result import ApiResult
from ..shared.event import Event
from ..shared.i_service_model import IServiceModel
from .session_association_info import SessionAssociationInfo
from .session_creation_info import SessionCreationInfo
from .session_info import SessionInfo

__all__ = ["ISessionManagementService"]


class ISessionManagementService(IServiceModel):
    """Creates, updates, ends and looks up sessions; raises events as live sessions change."""

    live_session_started: Event[SessionInfo]
    live_session_state_change: Event[SessionInfo]
    live_session_ended: Event[SessionInfo]
    new_association_detected: Event[SessionAssociationInfo]

    @abc.abstractmethod
    def create_new_session(
        self, session_creation_info: SessionCreationInfo
    ) -> ApiResult[SessionInfo]: ...

    @abc.abstractmethod
    def get_all_sessions(self) -> ApiResult[list[SessionInfo]]: ...

    @abc.abstractmethod
    def get_session_info(self, data_source: str, session_key: str) -> ApiResult[SessionInfo]: ...

    @abc.abstractmethod
    def end_session(self, data_source: str, session_key: str) -> ApiResult[SessionInfo]: ...

    @abc.abstractmethod
    def update_identifier(
        self, data_source: str, session_key: str, new_identifier: str
    ) -> ApiResult[SessionInfo]: ...

    @abc.abstractmethod
    def add_associate_session(
        self, data_source: str, session_key: str, adding_associate_key: str
    ) -> ApiResult[SessionInfo]: ...

    @abc.abstractmethod
    def update_session_details(
        self, data_source: str, session_key: str, session_details: Any
    ) -> ApiResult[SessionInfo]: ...
