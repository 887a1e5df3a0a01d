"""Writing a session from NumPy arrays or pandas frames in a few lines, through the official services.

::

    with open_session_writer("", data_source="Default", identifier="FP1 run 3",
                             parameters={"vCar:Chassis": Parameter(units="km/h", frequency_hz=200)}) as w:
        w.write_periodic("vCar:Chassis", start_ns, 5_000_000, speeds)
        w.write_rows(timestamps_ns, {"gLat:Chassis": lat, "gLong:Chassis": lon})
        w.marker("Lap 2", timestamp_ns, type="Lap Trigger")

The writer creates the session, writes NewSession to each stream it uses, an ATLAS-ready
ConfigurationPacket (essential, on the main stream) before the first data of each parameter, data
format ids through the data format service, packets split below ``max_packet_bytes``, and on exit
EndOfSession to each stream, a flush, and ``end_session`` — also when the block raises (the
exception then propagates). Every call raises ``TransportError`` when the broker refuses a write
and ``ConfigurationError`` for bad arguments, naming them.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Mapping, Sequence
from types import TracebackType
from typing import Any

import numpy as np
import numpy.typing as npt

from ..contracts.session_management.session_creation_info import SessionCreationInfo
from ..contracts.shared.api_result import ApiResult
from ..core.base.logger import StdlibLogger
from ..core.base.support_library_bootstrapper import SupportLibraryBootstrapper
from ..errors import ConfigurationError, TransportError
from ..protos import open_data_pb2 as pb
from ..protos.packets import PacketType
from .arguments import check_session_arguments, parameter_identifiers
from .frames import frame_writes
from .packing import as_status, periodic_packets, row_contents
from .parameters import Parameter, configuration_packets, stream_of_all
from .sending import SessionPackets
from .store import BrokerList, Properties, as_configuration

__all__ = ["DEFAULT_MAX_PACKET_BYTES", "SessionWriter", "open_session_writer", "write_session"]

logger = logging.getLogger(__name__)

#: below Kafka's default message.max.bytes (1 MiB) with room for the record's own overhead
DEFAULT_MAX_PACKET_BYTES = 900_000


def _ok(result: ApiResult[Any], doing: str) -> Any:
    if not result.success:
        raise TransportError(f"{doing}: {result.error_message}")
    return result.data


class SessionWriter:
    """One session being written; use ``open_session_writer`` to make one."""

    def __init__(
        self,
        broker_list: BrokerList,
        *,
        data_source: str,
        identifier: str,
        parameters: Mapping[str, Parameter],
        details: Mapping[str, str] | None,
        timeout_s: float,
        max_packet_bytes: int,
        additional_properties: Properties | None = None,
    ) -> None:
        check_session_arguments(data_source, identifier, details)
        if max_packet_bytes < 1024:
            raise ConfigurationError(f"max_packet_bytes must be ≥ 1024, got {max_packet_bytes}")
        for name, parameter in parameters.items():
            parameter.check(name)
        self.data_source = data_source
        self._max_bytes = max_packet_bytes
        self._parameters: dict[str, Parameter] = dict(parameters)
        self._configured: set[str] = set()
        self._formats: dict[tuple[str, ...], int] = {}
        self._event_formats: dict[str, int] = {}
        configuration = as_configuration(broker_list, timeout_s, additional_properties)
        self._library = SupportLibraryBootstrapper.bootstrap(
            configuration, StdlibLogger(logger)
        ).create()
        self._library.initialise()
        try:
            self._sessions = _ok(
                self._library.get_session_manager_api().create_service(), "session service"
            )
            self._data_formats = _ok(
                self._library.get_data_format_manager_api().create_service(), "data format service"
            )
            self._writer = _ok(self._library.get_writing_packet_api().create_service(), "writer")
            for service in (self._sessions, self._data_formats, self._writer):
                service.initialise()
                service.start()
            info = _ok(
                self._sessions.create_new_session(
                    SessionCreationInfo(data_source, identifier, details=dict(details or {}))
                ),
                "create_new_session",
            )
        except BaseException:
            self._library.stop()
            raise
        self.session_key: str = info.session_key
        new_session = pb.NewSessionPacket(
            data_source=data_source,
            session_info=pb.SessionInfoPacket(
                data_source=data_source, identifier=identifier, type=info.type, version=info.version
            ),
        ).SerializeToString()
        self._packets = SessionPackets(self._writer, data_source, self.session_key, new_session)
        self._ended = False
        self._packets.open("")
        logger.info("writing session %s (%s) on %s", self.session_key, identifier, data_source)

    # packets ----------------------------------------------------------------------------------
    def declare(self, parameter_lists: Iterable[Sequence[str]]) -> None:
        """Register the parameter lists packets will carry (each a ``write_periodic``/``write_rows``
        call's parameters, in order) in one round trip: their data format ids and one
        configuration packet for the parameters new to the session. Optional — writing a list
        not declared registers it then — but a writer with hundreds of packet layouts saves a
        broker round trip for each."""
        lists = [tuple(parameter_identifiers(p)) for p in parameter_lists]
        new = list(dict.fromkeys(i for ids in lists for i in ids if i not in self._configured))
        if new:
            for identifier in new:
                self._parameters.setdefault(identifier, Parameter())
            self._configure(new)
        missing = list(dict.fromkeys(ids for ids in lists if ids not in self._formats))
        if missing:
            infos = _ok(
                self._data_formats.get_parameter_data_format_ids(
                    self.data_source, [list(ids) for ids in missing]
                ),
                f"data formats of {len(missing)} parameter list(s)",
            )
            for ids, info in zip(missing, infos, strict=True):
                self._formats[ids] = info.data_format_id

    def _prepare(self, identifiers: Sequence[str]) -> tuple[str, int]:
        """Configure new parameters and their format, open their stream; (stream, format id)."""
        key = tuple(identifiers)
        if key not in self._formats or any(i not in self._configured for i in key):
            self.declare([key])
        stream = stream_of_all(identifiers, self._parameters)
        self._packets.open(stream)
        return stream, self._formats[key]

    def _configure(self, identifiers: Sequence[str]) -> None:
        chosen = {i: self._parameters[i] for i in identifiers}
        packets = configuration_packets(str(uuid.uuid4()), chosen, self._max_bytes // 2)
        self._packets.send(
            "", PacketType.CONFIGURATION, [p.SerializeToString() for p in packets], essential=True
        )
        self._configured.update(identifiers)

    # data -------------------------------------------------------------------------------------
    def write_periodic(
        self,
        parameters: str | Sequence[str],
        start_ns: int,
        interval_ns: int,
        values: npt.ArrayLike,
        status: npt.ArrayLike | None = None,
        *,
        samples_per_packet: int | None = None,
    ) -> int:
        """Samples at ``start_ns + k * interval_ns``: ``values`` is 1-D for one parameter or
        (parameters, samples) for several (float, int32, bool or str). ``status`` holds
        ``DataStatus`` codes broadcast against ``values`` (default VALID). Packets hold at most
        ``samples_per_packet`` samples of each parameter (as a logger's 50 ms packets would),
        and never more than fit ``max_packet_bytes``. Returns the packets written."""
        identifiers = parameter_identifiers(parameters)
        array = np.asarray(values)
        if array.ndim == 1 and len(identifiers) == 1:
            array = array[None, :]
        if array.ndim != 2 or array.shape[0] != len(identifiers):
            raise ConfigurationError(
                f"values of shape {array.shape} do not match {len(identifiers)} parameter(s): "
                "expected (parameters, samples)"
            )
        stream, data_format_id = self._prepare(identifiers)
        if samples_per_packet is not None and samples_per_packet < 1:
            raise ConfigurationError(f"samples_per_packet must be ≥ 1, got {samples_per_packet}")
        return self._packets.send_packets(
            stream,
            PacketType.PERIODIC_DATA,
            lambda first_id: periodic_packets(
                data_format_id,
                int(start_ns),
                int(interval_ns),
                array,
                status,
                self._max_bytes,
                samples_per_packet,
                session_key=self.session_key,
                first_id=first_id,
            ),
        )

    def write_rows(
        self,
        timestamps_ns: npt.ArrayLike,
        values: Mapping[str, npt.ArrayLike],
        status: Mapping[str, npt.ArrayLike] | None = None,
    ) -> int:
        """One row per timestamp (int64 ns) holding a double of each parameter in ``values``
        (each 1-D, as long as the timestamps); ``status`` per parameter (default VALID)."""
        stamps = np.asarray(timestamps_ns)
        if stamps.ndim != 1 or stamps.dtype.kind not in "iu":
            raise ConfigurationError("timestamps_ns must be a 1-D array of int64 nanoseconds")
        identifiers = parameter_identifiers(list(values))
        columns = [np.asarray(values[i], dtype=np.float64) for i in identifiers]
        for identifier, column in zip(identifiers, columns, strict=True):
            if column.shape != stamps.shape:
                raise ConfigurationError(
                    f"values of {identifier!r} have shape {column.shape}, the timestamps "
                    f"{stamps.shape}"
                )
        given = status or {}
        codes = [as_status(given.get(i), stamps.shape) for i in identifiers]
        stream, data_format_id = self._prepare(identifiers)
        contents = row_contents(
            data_format_id,
            stamps.astype(np.int64),
            np.stack(columns, axis=1),
            np.stack(codes, axis=1),
            self._max_bytes,
        )
        return self._packets.send(stream, PacketType.ROW_DATA, contents)

    def write_frame(self, frame: Any) -> int:
        """A pandas DataFrame: long form (``timestamp``, ``parameter``, ``value``[, ``status``])
        or wide (a datetime or int64 ns index or ``timestamp`` column, one column per parameter;
        NaN cells are no sample). Evenly spaced wide frames are written as periodic data."""
        written = 0
        for kind, arguments in frame_writes(frame):
            if kind == "periodic":
                written += self.write_periodic(*arguments)
            else:
                written += self.write_rows(*arguments)
        return written

    def marker(
        self,
        label: str,
        timestamp_ns: int,
        *,
        type: str = "",
        description: str = "",
        source: str = "",
        value: int = 0,
        end_ns: int = 0,
    ) -> None:
        """A marker (a lap trigger, say) on the main stream."""
        packet = pb.MarkerPacket(
            timestamp=int(timestamp_ns),
            end_time=int(end_ns),
            label=label,
            type=type,
            description=description,
            source=source,
            value=int(value),
        )
        self._packets.send("", PacketType.MARKER, [packet.SerializeToString()])

    def event(self, identifier: str, timestamp_ns: int, values: Sequence[float] = ()) -> None:
        """An event with its raw values, on the main stream."""
        data_format_id = self._event_formats.get(identifier)
        if data_format_id is None:
            info = _ok(
                self._data_formats.get_event_data_format_id(self.data_source, identifier),
                f"event data format of {identifier!r}",
            )
            data_format_id = self._event_formats[identifier] = info.data_format_id
        packet = pb.EventPacket(
            data_format=pb.EventDataFormat(data_format_identifier=data_format_id),
            timestamp=int(timestamp_ns),
            raw_values=[float(v) for v in values],
        )
        self._packets.send("", PacketType.EVENT, [packet.SerializeToString()])

    def details(self, details: Mapping[str, str]) -> None:
        """Add or change session details (an existing detail is never removed)."""
        _ok(
            self._sessions.update_session_details(
                self.data_source, self.session_key, dict(details)
            ),
            "update_session_details",
        )

    def flush(self) -> None:
        """Return once every packet written so far is durable."""
        _ok(self._writer.flush(), f"session {self.session_key}: flush")

    # end --------------------------------------------------------------------------------------
    def close(self) -> None:
        """EndOfSession to every stream, flush, end the session; stops the library. Idempotent."""
        if self._ended:
            return
        self._ended = True
        try:
            end = pb.EndOfSessionPacket(data_source=self.data_source).SerializeToString()
            for stream in self._packets.streams:
                self._packets.send(stream, PacketType.END_OF_SESSION, [end])
            self.flush()
            _ok(self._sessions.end_session(self.data_source, self.session_key), "end_session")
            logger.info("ended session %s", self.session_key)
        finally:
            self._library.stop()

    def __enter__(self) -> SessionWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if exc is None:
            self.close()
            return
        try:
            self.close()
        except Exception:
            logger.exception("ending session %s after an error failed", self.session_key)


def open_session_writer(
    broker_list: BrokerList = "",
    *,
    data_source: str = "Default",
    identifier: str = "",
    parameters: Mapping[str, Parameter] | None = None,
    details: Mapping[str, str] | None = None,
    timeout_s: float = 10.0,
    max_packet_bytes: int = DEFAULT_MAX_PACKET_BYTES,
    additional_properties: Properties | None = None,
) -> SessionWriter:
    """A new session on ``broker_list`` (``""`` = the embedded default store, ``embedded:PATH``,
    ``host:port`` for Kafka, or a ``StreamingApiConfiguration``), ready to write; see the module
    docstring. Parameters not declared in ``parameters`` are configured with defaults when first
    written. ``additional_properties`` are librdkafka properties (SASL, TLS) for a broker list."""
    return SessionWriter(
        broker_list,
        data_source=data_source,
        identifier=identifier,
        parameters=parameters or {},
        details=details,
        timeout_s=timeout_s,
        max_packet_bytes=max_packet_bytes,
        additional_properties=additional_properties,
    )


def write_session(
    frame: Any,
    broker_list: BrokerList = "",
    *,
    data_source: str = "Default",
    identifier: str = "",
    parameters: Mapping[str, Parameter] | None = None,
    details: Mapping[str, str] | None = None,
    timeout_s: float = 10.0,
    additional_properties: Properties | None = None,
) -> str:
    """Write a whole session from one pandas DataFrame (as ``SessionWriter.write_frame``) and end
    it; returns its session key."""
    with open_session_writer(
        broker_list,
        data_source=data_source,
        identifier=identifier,
        parameters=parameters,
        details=details,
        timeout_s=timeout_s,
        additional_properties=additional_properties,
    ) as writer:
        writer.write_frame(frame)
    return writer.session_key
