"""SupportLibApi: the support library object; owns the shared context and every service it created."""

from __future__ import annotations

import asyncio
import datetime
import logging
import threading
from typing import TYPE_CHECKING

from ...contracts.shared.event import Event
from ...contracts.shared.i_support_lib_api import ISupportLibApi
from ...contracts.shared.stream_api_configuration import StreamingApiConfiguration
from ...transport import effective_broker_list
from ..base.log_forwarding import attach_ilogger, detach_ilogger
from ..base.logger import ILogger, StdlibLogger
from ..base.service import ServiceBase
from ..remote import is_remote
from .context import LibraryContext

if TYPE_CHECKING:
    from ..remote.context import RemoteContext

__all__ = ["SupportLibApi"]

logger = logging.getLogger(__name__)


def _open_context(configuration: StreamingApiConfiguration) -> LibraryContext | RemoteContext:
    """A Stream API server's context for a ``grpc://`` broker list, else the store's or Kafka's."""
    broker_list = effective_broker_list(configuration.broker_list or "")
    if is_remote(broker_list):
        from ..remote.context import RemoteContext

        return RemoteContext(configuration, broker_list)
    return LibraryContext(configuration)


class SupportLibApi(ISupportLibApi):
    """``initialise`` connects to the store/broker (within ``timeout_seconds``, with the retry
    policy); ``stop`` stops every service still running, then closes the connection.

    ``with lib:`` starts the library and stops it on leaving the block, as ``with service:`` does.
    While the library is initialised, the ``ILogger`` it was created with receives every log record
    of the library (a default ``Logger`` prints them itself).
    """

    def __init__(self, configuration: StreamingApiConfiguration, library_logger: ILogger) -> None:
        self._configuration = configuration
        self._logger = library_logger
        # A default Logger (a StdlibLogger) already shows the package's records: forwarding them
        # would double them.
        self._forwards_logs = not isinstance(library_logger, StdlibLogger)
        self.context: LibraryContext | RemoteContext | None = None
        self._services: list[ServiceBase] = []
        self._lock = threading.Lock()
        self.initialised: Event[datetime.datetime] = Event("initialised")

    @property
    def is_initialised(self) -> bool:
        return self.context is not None

    def initialise(self) -> None:
        with self._lock:
            if self.context is not None:
                return
            if self._forwards_logs:
                attach_ilogger(self._logger)
            try:
                self.context = _open_context(self._configuration)
            except BaseException:
                if self._forwards_logs:
                    detach_ilogger(self._logger)
                raise
        context = self.context
        location = (
            context.location
            if not isinstance(context, LibraryContext)
            else (context.transport.location)
        )
        logger.info("support library connected to %s", location)
        self.initialised.raise_event(self, datetime.datetime.now(datetime.timezone.utc))

    async def initialise_async(self) -> None:
        """``initialise()`` on a worker thread, so connecting does not block the event loop."""
        await asyncio.to_thread(self.initialise)

    def start(self) -> None:
        self.initialise()

    def stop(self) -> None:
        with self._lock:
            services, self._services = list(self._services), []
            context, self.context = self.context, None
        for service in reversed(services):
            try:
                service.stop()
            except Exception:
                logger.exception("stopping %s %s failed", service.service_name, service.id)
        if context is not None:
            try:
                context.close()
            finally:
                if self._forwards_logs:
                    detach_ilogger(self._logger)

    def __enter__(self) -> SupportLibApi:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

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
