"""PacketWriterService: routes data packets to their stream's topic/partition and info packets to SessionInfo."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import cast

from ...columnar.parsers import native_envelope_facts
from ...contracts.packet_writing.i_packet_writer_service import IPacketWriterService
from ...contracts.packet_writing.info_type import InfoType
from ...contracts.packet_writing.packet_bytes import PacketBytes
from ...contracts.shared.api_result import ApiResult
from ...contracts.shared.stream_creation_strategy import StreamCreationStrategy
from ...errors import TransportError
from ...layout import SESSION_INFO_TOPIC, data_route, essential_route
from ...protos import open_data_pb2
from ...protos.packets import PacketType, parse_content, parse_packet
from ...redaction import shown
from ...transport.base import DeliveryFailure, Outgoing
from ..base.service import ServiceBase
from ..base.validation import data_source_error, session_key_error
from ..library.context import LibraryContext

__all__ = ["DataWrite", "PacketWriterService", "parse_envelope", "write_data_arguments"]

logger = logging.getLogger(__name__)

#: one packet for ``PacketWriterService.write_data_batch``: ``write_data``'s arguments
DataWrite = tuple[str, str, str, PacketBytes | open_data_pb2.Packet]

#: packet types ``parse_envelope`` checks in full by itself
_SHORT_WAY_TYPES = (PacketBytes, open_data_pb2.Packet)


def _failures_message(failures: list[DeliveryFailure]) -> str:
    first = failures[0]
    return (
        f"{len(failures)} earlier record(s) were not delivered; first: topic {first.topic!r} "
        f"partition {first.partition}: {first.reason}"
    )


def _records(
    data_source: str,
    session_key: str,
    route: tuple[str, int],
    essential: bool,
    packet_bytes: PacketBytes,
) -> list[Outgoing]:
    """The records of one packet: its essentials copy first where it is essential, then the
    packet on its stream's route; keyed by the session."""
    key = session_key.encode()
    data = packet_bytes.data
    if essential:
        essential_topic, essential_partition = essential_route(data_source)
        return [(essential_topic, essential_partition, key, data), (*route, key, data)]
    return [(*route, key, data)]


def _refused(
    data_source: str, stream: str, session_key: str, error: TransportError
) -> ApiResult[bool]:
    return ApiResult.fail(
        f"write_data: data source {data_source!r} stream {stream!r} session {session_key!r}: "
        f"{error}"
    )


def parse_envelope(
    packet_bytes: object, argument: str = "packet_bytes"
) -> tuple[open_data_pb2.Packet, PacketBytes] | str:
    """The envelope and its bytes, from ``PacketBytes`` or a protobuf ``Packet``; else an error."""
    if isinstance(packet_bytes, open_data_pb2.Packet):
        if not packet_bytes.type:
            return f"{argument} is a Packet whose type is empty"
        return packet_bytes, PacketBytes(packet_bytes.SerializeToString())
    if not isinstance(packet_bytes, PacketBytes):
        return (
            f"{argument} must be a PacketBytes or an Open Data Packet, "
            f"got {type(packet_bytes).__name__}"
        )
    packet = parse_packet(packet_bytes.data)
    if packet is None:
        return f"{argument} is not a serialized Open Data Packet (protobuf parse failed)"
    if not packet.type:
        return f"{argument} is not a serialized Open Data Packet (its type is empty)"
    return packet, packet_bytes


def write_data_arguments(
    data_source: object,
    stream: object,
    session_key: object,
    packet_bytes: object,
    session_error: Callable[[str, str], str] | None,
) -> tuple[open_data_pb2.Packet, PacketBytes] | str:
    """``write_data``'s arguments checked in order — data source and stream, session key, the
    packet, then (``session_error``, where the writer checks sessions) the session itself: the
    envelope and its bytes, or why they cannot be written."""
    message = data_source_error(data_source, stream) or session_key_error(session_key)
    parsed = parse_envelope(packet_bytes)
    if not message and isinstance(parsed, str):
        message = parsed
    if not message and session_error is not None:
        message = session_error(str(data_source), str(session_key))
    return message or parsed


def _info_error(packet: open_data_pb2.Packet) -> str:
    """Why ``packet`` is not a readable info packet, or ``""``."""
    if not packet.session_key:
        return "the packet's session_key is empty"
    error = session_key_error(packet.session_key)
    if error:
        return f"the packet's {error}"
    if PacketType.of(packet.type) is None:
        return f"the packet's type {shown(packet.type)} is not an Open Data packet type"
    if parse_content(packet) is None:
        return f"the packet's content is not a serialized {packet.type} message"
    return ""


class PacketWriterService(ServiceBase, IPacketWriterService):
    """Writes are queued by the transport; failures surface on a later write, ``flush`` or ``stop``."""

    service_name = "packet writer service"

    def __init__(self, context: LibraryContext) -> None:
        super().__init__()
        self._context = context
        self._routes: dict[tuple[str, str], tuple[str, int]] = {}
        self._warned_unmapped: set[tuple[str, str]] = set()
        #: False with ``integrate_session_management=False``: session keys are written unchecked
        self._checks_sessions = context.configuration.integrate_session_management
        self._envelope_facts = native_envelope_facts()

    def _on_start(self) -> None:
        if self._checks_sessions:
            self._context.sessions.start()

    def _on_stop(self) -> None:
        result = self.flush_now()
        if not result.success:
            logger.error("packet writer %s stopped: %s", self.id, result.error_message)

    def write_data(
        self,
        data_source: str,
        stream: str,
        session_key: str,
        packet_bytes: PacketBytes | open_data_pb2.Packet,
    ) -> ApiResult[bool]:
        """Queue one packet, given as ``PacketBytes`` or as a protobuf ``Packet`` (the C# shape)."""
        checked = self._checked(data_source, stream, session_key, packet_bytes)
        if isinstance(checked, ApiResult):
            return checked
        route, essential, packet_bytes = checked
        transport = self._context.transport
        key = session_key.encode()
        try:
            # the records of _records, produced one by one without building them: one packet a
            # call is the common use, and building its list would cost the call a tenth more
            if essential:
                transport.produce(*essential_route(data_source), key, packet_bytes.data)
            transport.produce(route[0], route[1], key, packet_bytes.data)
        except TransportError as exc:
            return _refused(data_source, stream, session_key, exc)
        failures = transport.take_delivery_failures()
        if failures:
            return ApiResult.fail(f"write_data: {_failures_message(failures)}")
        return ApiResult(True, True)

    def write_data_batch(self, writes: Sequence[DataWrite]) -> dict[int, ApiResult[bool]]:
        """``write_data`` of each packet of ``writes``, in order, queued with one call to the
        transport rather than one per packet: the results of the packets that were refused, by
        index (each as ``write_data`` would answer; a refusal does not stop the others); every
        other packet is queued. Failures of earlier writes that the transport reports meanwhile
        are the result of the last packet queued, as they would be of a later ``write_data``."""
        refused: dict[int, ApiResult[bool]] = {}
        records: list[Outgoing] = []
        owners: list[int] = []  # the write each record is of
        for index, (data_source, stream, session_key, packet_bytes) in enumerate(writes):
            checked = self._checked(data_source, stream, session_key, packet_bytes)
            if isinstance(checked, ApiResult):
                refused[index] = checked
                continue
            records += _records(data_source, session_key, *checked)
            owners += [index] * (len(records) - len(owners))
        if not records:
            return refused
        transport = self._context.transport
        try:
            rejected = transport.produce_many(records)
        except TransportError as exc:
            rejected = dict.fromkeys(range(len(records)), exc)
        for position, error in rejected.items():
            owner = owners[position]
            if owner not in refused:
                refused[owner] = _refused(*writes[owner][:3], error)
        queued = [owner for owner in owners if owner not in refused]
        failures = transport.take_delivery_failures() if queued else []
        if failures:
            refused[queued[-1]] = ApiResult.fail(f"write_data: {_failures_message(failures)}")
        return refused

    def _checked(
        self, data_source: str, stream: str, session_key: str, packet_bytes: object
    ) -> tuple[tuple[str, int], bool, PacketBytes] | ApiResult[bool]:
        """Where a packet goes, whether it is essential, and its bytes; or ``write_data``'s
        refusal. A route and session seen before take the short way: only the packet is read
        (by the compiled envelope walk where it vouches for the packet, else by protobuf)."""
        route = self._routes.get((data_source, stream))
        if not self._checks_sessions:
            state: tuple[str, bool] | None = (data_source, False)
        elif type(session_key) is str:
            state = self._context.sessions.state(session_key)
        else:
            state = None
        facts = None
        if (
            route is None
            or state != (data_source, False)
            or not self.is_started
            or type(packet_bytes) not in _SHORT_WAY_TYPES
        ):
            checked = self._check_all(data_source, stream, session_key, packet_bytes)
            if isinstance(checked, ApiResult):
                return checked
            route, (packet, packet_bytes) = checked
            facts = packet.session_key, packet.is_essential
        elif self._envelope_facts is not None and type(packet_bytes) is PacketBytes:
            facts = self._envelope_facts(packet_bytes.data)
        if facts is None:
            parsed = parse_envelope(packet_bytes)
            if isinstance(parsed, str):
                return ApiResult(False, None, f"write_data: {parsed}")
            packet, packet_bytes = parsed
            facts = packet.session_key, packet.is_essential
        named, essential = facts
        if self._checks_sessions and named and named != session_key:
            # Readers find a session's packets by the record key: such a packet would be read
            # as another session's than the one it names. Without session management the key
            # is the caller's to choose, as in the Stream API (its tests key a whole class's
            # packets by one key while each packet names its own run).
            return ApiResult.fail(
                f"write_data: the packet names session {shown(named)}, but "
                f"session_key is {shown(session_key)}"
            )
        return route, essential, cast(PacketBytes, packet_bytes)

    def _check_all(
        self, data_source: str, stream: str, session_key: str, packet_bytes: object
    ) -> tuple[tuple[str, int], tuple[open_data_pb2.Packet, PacketBytes]] | ApiResult[bool]:
        """Every argument checked: the first write of a route or session, or bad input."""
        failure = self._not_started("write_data")
        if failure is not None:
            return failure
        parsed = write_data_arguments(
            data_source,
            stream,
            session_key,
            packet_bytes,
            self._session_error if self._checks_sessions else None,
        )
        if isinstance(parsed, str):
            return ApiResult.fail(f"write_data: {parsed}")
        try:
            route = self._routes.get((data_source, stream)) or self._prepare_route(
                data_source, stream
            )
        except TransportError as exc:
            return ApiResult.fail(
                f"write_data: data source {data_source!r} stream {stream!r}: {exc}"
            )
        return route, parsed

    def write_info(
        self,
        packet_bytes: PacketBytes | open_data_pb2.Packet,
        info_type: InfoType = InfoType.SESSION_INFO,
    ) -> ApiResult[bool]:
        """Write a session info packet (``PacketBytes`` or a protobuf ``Packet``) to SessionInfo."""
        failure = self._not_started("write_info")
        if failure is not None:
            return failure
        try:
            InfoType(info_type)
        except ValueError:
            return ApiResult.fail(f"write_info: info_type must be an InfoType, got {info_type!r}")
        parsed = parse_envelope(packet_bytes)
        if isinstance(parsed, str):
            return ApiResult.fail(f"write_info: {parsed}")
        packet, packet_bytes = parsed
        error = _info_error(packet)
        if not error and self._checks_sessions:
            error = self._known_session_error(packet.session_key)
        if error:
            return ApiResult.fail(f"write_info: {error}")
        context = self._context
        try:
            context.transport.create_topics({SESSION_INFO_TOPIC: 1})
            context.transport.produce(
                SESSION_INFO_TOPIC, None, packet.session_key.encode(), packet_bytes.data
            )
        except TransportError as exc:
            return ApiResult.fail(f"write_info: session {packet.session_key!r}: {exc}")
        failures = context.transport.take_delivery_failures()
        if failures:
            return ApiResult.fail(f"write_info: {_failures_message(failures)}")
        return ApiResult.ok(True)

    def flush(self) -> ApiResult[bool]:
        failure = self._not_started("flush")
        if failure is not None:
            return failure
        return self.flush_now()

    def flush_now(self) -> ApiResult[bool]:
        try:
            self._context.transport.flush(self._context.timeout_s)
        except TransportError as exc:
            return ApiResult.fail(f"flush: {exc}")
        return ApiResult.ok(True)

    def _prepare_route(self, data_source: str, stream: str) -> tuple[str, int]:
        """Create the topics of a (data source, stream) once and remember where its packets go."""
        configuration = self._context.configuration
        self._context.ensure_topics(data_source, [stream])
        self._warn_if_unmapped(data_source, stream)
        route = data_route(
            data_source,
            stream,
            configuration.stream_creation_strategy,
            configuration.partition_mappings,
        )
        self._routes[(data_source, stream)] = route
        return route

    def _known_session_error(self, session_key: str) -> str:
        """Why ``session_key`` names no session known to the registry, or ``""``."""
        registry = self._context.sessions
        if registry.state(session_key) is not None:
            return ""
        try:
            registry.catch_up()
        except TransportError as exc:
            return f"cannot check session_key {shown(session_key)}: {exc}"
        if registry.state(session_key) is None:
            return f"session_key {shown(session_key)} is not a known session; create it first"
        return ""

    def _session_error(self, data_source: str, session_key: str) -> str:
        error = self._known_session_error(session_key)
        state = self._context.sessions.state(session_key)
        if error or state is None:
            return error
        session_data_source, historical = state
        if session_data_source != data_source:
            return (
                f"session {session_key!r} belongs to data source {session_data_source!r}, "
                f"not data_source {data_source!r}"
            )
        if historical:
            return f"session {session_key!r} has ended; nothing more can be written to it"
        return ""

    def _warn_if_unmapped(self, data_source: str, stream: str) -> None:
        configuration = self._context.configuration
        if (
            stream
            and configuration.stream_creation_strategy == StreamCreationStrategy.PARTITION_BASE
            and stream not in configuration.partition_mappings
            and (data_source, stream) not in self._warned_unmapped
        ):
            self._warned_unmapped.add((data_source, stream))
            logger.warning(
                "stream %r of %r has no partition mapping: as in the Stream API its packets go to "
                "the main stream (partition 0). Add it to "
                "StreamingApiConfiguration(partition_mappings={...}) to keep it separate.",
                stream,
                data_source,
            )
