"""The official API's services over a Stream API server, for ``broker_list="grpc://host:port"``.

Each service maps the official calls onto the Stream API's RPCs (``api.proto`` only, as Motion
Applied's C# server answers them), so a program written for the official API runs against a
remote server — ours (``ma-streaming serve``) or the C# one — where only gRPC is reachable.
Needs the ``grpc`` extra; importing this package does not import grpc, ``RemoteContext`` does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ...contracts.packet_reading.packet_reading_configuration import (
        PacketReadingConfiguration,
    )
    from ..base.service import ServiceBase
    from ..buffering.packet_decoding import FormatResolver
    from .context import RemoteContext

__all__ = [
    "data_format_service",
    "format_resolver",
    "is_remote",
    "reader_service",
    "session_service",
    "writer_service",
]

_SCHEMES = ("grpc://", "grpcs://")


def is_remote(broker_list: str) -> bool:
    """Whether a broker list names a Stream API server rather than a store or Kafka."""
    return broker_list.strip().lower().startswith(_SCHEMES)


# Factories for the module APIs; each imports its service (and so grpc) only when called.
def session_service(context: RemoteContext) -> ServiceBase:
    from .sessions import RemoteSessionManagementService

    return RemoteSessionManagementService(context)


def data_format_service(context: RemoteContext) -> ServiceBase:
    from .formats import RemoteDataFormatManagementService

    return RemoteDataFormatManagementService(context.data_formats)


def writer_service(context: RemoteContext) -> ServiceBase:
    from .writer import RemotePacketWriterService

    return RemotePacketWriterService(context)


def reader_service(
    context: RemoteContext, configuration: PacketReadingConfiguration
) -> ServiceBase:
    from .reader import RemotePacketReaderService

    return RemotePacketReaderService(context, configuration)


def format_resolver(context: RemoteContext) -> FormatResolver:
    from .formats import remote_resolver

    return remote_resolver(context.data_formats)
