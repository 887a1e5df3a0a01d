"""IPacketReaderService: reads sessions live or historic and delivers packets to handlers."""

from __future__ import annotations

import abc

from ..session_management.session_association_info import SessionAssociationInfo
from ..session_management.session_info import SessionInfo
from ..shared.event import Event
from ..shared.i_handler import IHandler
from ..shared.i_service_model import IServiceModel
from .coverage_cursor_info import CoverageCursorInfo
from .received_packet_dto import ReceivedPacketDto
from .stream_info import StreamInfo

__all__ = ["IPacketReaderService"]


class IPacketReaderService(IServiceModel):
    """Reads the packets of live or historic sessions and hands them to one handler."""

    session_reading_started: Event[SessionInfo]
    session_reading_completed: Event[SessionInfo]
    stream_reading_started: Event[StreamInfo]
    stream_reading_completed: Event[StreamInfo]
    session_info_updated: Event[SessionInfo]
    coverage_cursor_received: Event[CoverageCursorInfo]
    session_association_info_updated: Event[SessionAssociationInfo]

    @abc.abstractmethod
    def set_handler(self, handler: IHandler[ReceivedPacketDto]) -> None: ...

    @abc.abstractmethod
    def remove_handler(self, handler: IHandler[ReceivedPacketDto]) -> None: ...

    def add_handler(self, handler: IHandler[ReceivedPacketDto]) -> None:
        self.set_handler(handler)
