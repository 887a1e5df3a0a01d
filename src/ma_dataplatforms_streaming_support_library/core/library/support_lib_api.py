"""SupportLibApi: the support library object; owns the shared context and every service it created."""

from __future__ import annotations

import asyncio
import datetime
import logging
import threading

from ...contracts.shared.event import Event
from ...contracts.shared.i_support_lib_api import ISupportLibApi
from ...contracts.shared.stream_api_configuration import StreamingApiConfiguration
from ..base.logger import ILogger
from ..base.service import ServiceBase
from .context import LibraryContext

__all__ = ["SupportLibApi"]

logger = logging.getLogger(__name__)


class SupportLibApi(ISupportLibApi):
    """``initialise`` connects to the store/broker (within ``timeout_seconds``, with the retry
    policy); ``stop`` stops every service still running, then closes the connection."""

    def __init__(self, configuration: StreamingApiConfiguration, library_logger: ILogger) -> None:
        self._configuration = configuration
        self._logger = library_logger
        self.context: LibraryContext | None = None
        self._services: list[ServiceBase] = []
        self._lock = threading.Lock()
        self._started = False
        self.initialised: Event[datetime.datetime] = Event("initialised")

    @property
    def is_initialised(self) -> bool:
        return self.context is not None

    def initialise(self) -> None:
        with self._lock:
            if self.context is not None:
                return
            self.context = LibraryContext(self._configuration, self._logger)
        self._logger.info(f"support library connected to {self.context.transport.location}")
        self.initialised.raise_event(self, datetime.datetime.now(datetime.timezone.utc))

    async def initialise_async(self) -> None:
        """``initialise()`` on a worker thread, so connecting does not block the event loop."""
        await asyncio.to_thread(self.initialise)

    def start(self) -> None:
        self.initialise()
        self._started = True

    def stop(self) -> None:
        with self._lock:
            services, self._services = list(self._services), []
            context, self.context = self.context, None
            self._started = False
        for service in reversed(services):
            try:
                service.stop()
            except Exception:
                logger.exception("stopping %s %s failed", service.service_name, service.id)
        if context is not None:
            context.close()

    def register(self, service: ServiceBase) -> None:
        with self._lock:
            self._services.append(service)

    def get_session_manager_api(self) -> SessionManagerModuleApi:
        return SessionManagerModuleApi(self)

    def get_data_format_manager_api(self) -> DataFormatManagerModuleApi:
        return DataFormatManagerModuleApi(self)

    def get_writing_packet_api(self) -> PacketWritingModuleApi:
        return PacketWritingModuleApi(self)

    def get_reading_packet_api(self) -> PacketReadingModuleApi:
        return PacketReadingModuleApi(self)

    def get_sample_reader_api(self) -> SampleReadingModuleApi:
        """Buffering: time-ordered, merged samples per parameter in a sliding window."""
        return SampleReadingModuleApi(self)

    def get_data_reader_api(self) -> DataReadingModuleApi:
        """Interpolation: per-parameter statistics on a fixed-frequency grid, in batches."""
        return DataReadingModuleApi(self)


from ..buffering.module_api import SampleReadingModuleApi  # noqa: E402
from ..data_format_management.module_api import DataFormatManagerModuleApi  # noqa: E402
from ..interpolation.module_api import DataReadingModuleApi  # noqa: E402
from ..packet_reading.module_api import PacketReadingModuleApi  # noqa: E402
from ..packet_writing.module_api import PacketWritingModuleApi  # noqa: E402
from ..session_management.module_api import SessionManagerModuleApi  # noqa: E402
