"""PacketReadingModuleApi: creates packet reader services."""

from __future__ import annotations

from ...contracts.packet_reading.i_packet_reader_service import IPacketReaderService
from ...contracts.packet_reading.i_packet_reading_module_api import IPacketReadingModuleApi
from ...contracts.packet_reading.packet_reading_configuration import PacketReadingConfiguration
from ...contracts.packet_reading.packet_reading_type import PacketReadingType
from ...contracts.shared.api_result import ApiResult
from .. import remote
from ..base.validation import data_source_error
from ..library.module_api import ModuleApiBase
from .packet_reader_service import PacketReaderService

__all__ = ["SESSION_INACTIVITY_TIMEOUT_S", "PacketReadingModuleApi"]

#: the C# reader's default ``inactivityTimeoutSeconds``
SESSION_INACTIVITY_TIMEOUT_S = 30.0


class PacketReadingModuleApi(ModuleApiBase, IPacketReadingModuleApi):
    """Creates packet reader services on the library's context."""

    module_name = "packet reading api"

    def create_service(
        self,
        data_source: str | PacketReadingConfiguration | None = None,
        session_key: str | None = None,
    ) -> ApiResult[IPacketReaderService]:
        """A packet reader, in the three shapes of the official API.

        * no arguments: a LIVE reader with the default ``PacketReadingConfiguration``;
        * a ``PacketReadingConfiguration`` (the C# overload): as ``create_service_with_config``;
        * a data source and a session key: a reader of that one session, live or ended, from its
          first packet until it completes, with the C# defaults: every stream, main stream
          included, no exception on timeout, and the C# inactivity timeout of
          ``SESSION_INACTIVITY_TIMEOUT_S`` (30 s), so a live session that pauses for less than
          that is read to its end whatever the library's ``timeout_seconds``.
        """
        if isinstance(data_source, PacketReadingConfiguration):
            if session_key is not None:
                return ApiResult.fail(
                    "create_service: with a PacketReadingConfiguration, session_key must not be "
                    f"given (got {session_key!r}); set configuration.session_key instead"
                )
            return self.create_service_with_config(data_source)
        if data_source is None and session_key is None:
            return self.create_service_with_config(PacketReadingConfiguration())
        if not isinstance(data_source, str) or not data_source:
            return ApiResult.fail(
                f"create_service: data_source must be a non-empty str, got {data_source!r}"
            )
        if not isinstance(session_key, str) or not session_key:
            return ApiResult.fail(
                f"create_service: session_key must be a non-empty str, got {session_key!r}"
            )
        return self.create_service_with_config(
            PacketReadingConfiguration(
                session_key=session_key,
                timeout_seconds=SESSION_INACTIVITY_TIMEOUT_S,
                data_source=data_source,
                reading_type=PacketReadingType.HISTORIC,
            )
        )

    def create_service_with_config(
        self, config: PacketReadingConfiguration
    ) -> ApiResult[IPacketReaderService]:
        if not isinstance(config, PacketReadingConfiguration):
            return ApiResult.fail(
                "create_service_with_config: config must be a PacketReadingConfiguration, "
                f"got {type(config).__name__}"
            )
        error = config.validate()
        if not error:
            # Names Kafka could not hold as topics can never match a session: say so at once.
            error = next(
                filter(None, (data_source_error(config.data_source, s) for s in config.streams)),
                data_source_error(config.data_source),
            )
        if error:
            return ApiResult.fail(f"create_service_with_config: {error}")
        return self._create(  # type: ignore[return-value]
            lambda context: PacketReaderService(context, config),
            lambda context: remote.reader_service(context, config),
        )
