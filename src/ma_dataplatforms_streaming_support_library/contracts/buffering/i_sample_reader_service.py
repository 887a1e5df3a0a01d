"""ISampleReaderService: buffers, merges and time-orders the samples a packet reader delivers."""

from __future__ import annotations

import abc
from collections.abc import Iterable

from ..packet_reading.i_packet_reader_service import IPacketReaderService
from ..session_management.session_info import SessionInfo
from ..shared.event import Event
from ..shared.i_handler import IHandler
from ..shared.i_service_model import IServiceModel
from .sample_data import SampleData
from .timestamp_data import TimestampData

__all__ = ["ISampleReaderService"]


class ISampleReaderService(IServiceModel):
    """The buffering (sample reader) service of the C# ``BufferingModule``.

    Handlers receive, per session, a ``Start…`` item, the released slices in time order, then an
    ``End…`` item. ``set_handler`` dispatches on ``data_type`` when given, else on the generic
    argument of the handler's ``IHandler[...]`` base, and raises ``TypeError`` when neither tells.
    """

    session_data_merging_started: Event[SessionInfo]
    session_data_merging_completed: Event[SessionInfo]

    @abc.abstractmethod
    def set_reader_service(self, reading_service: IPacketReaderService) -> None: ...

    @abc.abstractmethod
    def set_handler(
        self,
        handler: IHandler[TimestampData] | IHandler[SampleData],
        data_type: type | None = None,
    ) -> None: ...

    def add_handler(
        self,
        handler: IHandler[TimestampData] | IHandler[SampleData],
        data_type: type | None = None,
    ) -> None:
        """Alias of ``set_handler``."""
        self.set_handler(handler, data_type)

    @abc.abstractmethod
    def remove_handler(self, handler: IHandler[TimestampData] | IHandler[SampleData]) -> None: ...

    @abc.abstractmethod
    def get_last_time_info(self, data_source: str, session_key: str) -> list[tuple[str, int]]:
        """``(stream, last timestamp in ns)`` for each stream that delivered data to the session."""

    @abc.abstractmethod
    def subscribe(self, parameter_identifiers: Iterable[str]) -> bool: ...

    @abc.abstractmethod
    def subscribe_all(self) -> bool: ...

    @abc.abstractmethod
    def unsubscribe(self, parameter_identifiers: Iterable[str]) -> bool: ...

    @abc.abstractmethod
    def unsubscribe_all(self) -> bool: ...
