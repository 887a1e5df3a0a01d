"""RemoteDataFormatManagementService: data format ids from a Stream API server, cached."""

from __future__ import annotations

import threading

from ...contracts.data_format_management.data_format_info import DataFormatInfo
from ...contracts.data_format_management.data_format_info_type import DataFormatInfoType
from ...contracts.data_format_management.event_data_format_info import EventDataFormatInfo
from ...contracts.data_format_management.i_data_format_management_service import (
    IDataFormatManagementService,
)
from ...contracts.data_format_management.parameter_data_format_info import (
    ParameterDataFormatInfo,
)
from ...contracts.shared.api_result import ApiResult
from ...contracts.shared.event import Event
from ...protos import api_pb2
from ..base.service import ServiceBase
from ..base.validation import data_source_error
from ..buffering.packet_decoding import FormatResolver
from .calls import Endpoint, RpcFailure, call

__all__ = ["RemoteDataFormatManagementService", "RemoteFormats", "remote_resolver"]

_UINT64_MAX = 2**64 - 1
_Key = tuple[str, DataFormatInfoType, int]


class RemoteFormats:
    """Ids and identifier lists learned from the server; a format never changes once defined, so
    each is asked for once."""

    def __init__(self, context: Endpoint) -> None:
        self._context = context
        self._by_id: dict[_Key, list[str]] = {}
        self._lock = threading.Lock()

    def known(self, data_source: str) -> list[DataFormatInfo]:
        with self._lock:
            items = [(k, v) for k, v in self._by_id.items() if k[0] == data_source]
        return [
            DataFormatInfo(data_source, ",".join(names), [data_format_id], list(names), kind)
            for (_, kind, data_format_id), names in items
        ]

    def define(self, data_source: str, kind: DataFormatInfoType, names: list[str]) -> int:
        context = self._context
        if kind is DataFormatInfoType.EVENT:
            event = call(
                context,
                context.formats.GetEventDataFormatId,
                api_pb2.GetEventDataFormatIdRequest(data_source=data_source, event=names[0]),
                "GetEventDataFormatId",
            )
            data_format_id = event.data_format_identifier
        else:
            parameters = call(
                context,
                context.formats.GetParameterDataFormatId,
                api_pb2.GetParameterDataFormatIdRequest(data_source=data_source, parameters=names),
                "GetParameterDataFormatId",
            )
            data_format_id = parameters.data_format_identifier
        with self._lock:
            self._by_id[(data_source, kind, data_format_id)] = list(names)
        return int(data_format_id)

    def resolve(
        self, data_source: str, kind: DataFormatInfoType, data_format_id: int
    ) -> list[str] | None:
        """The identifiers of an id (the event name alone for an event); ``None`` if undefined."""
        key = (data_source, kind, data_format_id)
        with self._lock:
            names = self._by_id.get(key)
        if names is not None:
            return list(names)
        context = self._context
        if kind is DataFormatInfoType.EVENT:
            event = call(
                context,
                context.formats.GetEvent,
                api_pb2.GetEventRequest(
                    data_source=data_source, data_format_identifier=data_format_id
                ),
                "GetEvent",
            ).event
            names = [event] if event else []
        else:
            names = list(
                call(
                    context,
                    context.formats.GetParametersList,
                    api_pb2.GetParametersListRequest(
                        data_source=data_source, data_format_identifier=data_format_id
                    ),
                    "GetParametersList",
                ).parameters
            )
        # The Stream API answers an unknown id with an empty list.
        if not names:
            return None
        with self._lock:
            self._by_id[key] = names
        return list(names)


def remote_resolver(formats: RemoteFormats) -> FormatResolver:
    """A buffering ``FormatResolver`` over the server's data formats (``None`` when unknown)."""

    def resolve(
        data_source: str, kind: DataFormatInfoType, data_format_id: int
    ) -> list[str] | None:
        try:
            return formats.resolve(data_source, kind, data_format_id)
        except RpcFailure:
            return None

    return resolve


def _id_error(data_format_id: object) -> str:
    if isinstance(data_format_id, bool) or not isinstance(data_format_id, int):
        return f"data_format_id must be an int, got {type(data_format_id).__name__}"
    if not 0 <= data_format_id <= _UINT64_MAX:
        return f"data_format_id must be an unsigned 64-bit int, got {data_format_id}"
    return ""


def _identifiers_error(identifiers: object) -> str:
    if not isinstance(identifiers, (list, tuple)) or not identifiers:
        return f"parameter_identifiers must be a non-empty list of str, got {identifiers!r}"
    bad = next((i for i in identifiers if not isinstance(i, str) or not i), None)
    return "" if bad is None else f"parameter_identifiers: {bad!r} is not a non-empty str"


class RemoteDataFormatManagementService(ServiceBase, IDataFormatManagementService):
    """Each lookup is the Stream API call of the same name, so ids are the server's (ordered
    parameter lists, reused per data source). ``data_format_info_updated`` fires for each format
    this service learns; ``get_data_source_data_format_info`` lists those this library has
    learned, since the Stream API has no call that lists a data source's formats."""

    service_name = "data format management service"

    def __init__(self, formats: RemoteFormats) -> None:
        super().__init__()
        self._formats = formats
        self.data_format_info_updated: Event[DataFormatInfo] = Event("data_format_info_updated")

    def _learned(
        self, data_source: str, kind: DataFormatInfoType, names: list[str], data_format_id: int
    ) -> None:
        self.data_format_info_updated.raise_event(
            self, DataFormatInfo(data_source, ",".join(names), [data_format_id], list(names), kind)
        )

    def _check(self, operation: str, data_source: str, error: str) -> ApiResult[object] | None:
        failure = self._not_started(operation)
        if failure is not None:
            return failure
        error = data_source_error(data_source) or error
        return ApiResult.fail(f"{operation}: {error}") if error else None

    def get_parameter_data_format_id(
        self, data_source: str, parameter_identifiers: list[str]
    ) -> ApiResult[ParameterDataFormatInfo]:
        operation = "get_parameter_data_format_id"
        failure = self._check(operation, data_source, _identifiers_error(parameter_identifiers))
        if failure is not None:
            return failure  # type: ignore[return-value]
        names = list(parameter_identifiers)
        try:
            data_format_id = self._formats.define(data_source, DataFormatInfoType.PARAMETERS, names)
        except RpcFailure as exc:
            return ApiResult.fail(f"{operation}: {exc}")
        self._learned(data_source, DataFormatInfoType.PARAMETERS, names, data_format_id)
        return ApiResult.ok(ParameterDataFormatInfo(data_source, names, data_format_id))

    def get_parameter_data_format_ids(
        self, data_source: str, parameter_lists: list[list[str]]
    ) -> ApiResult[list[ParameterDataFormatInfo]]:
        """One ``GetParameterDataFormatId`` call per list (the Stream API has no batch call)."""
        infos = []
        for identifiers in parameter_lists:
            result = self.get_parameter_data_format_id(data_source, identifiers)
            if not result.success or result.data is None:
                return ApiResult.fail(result.error_message.replace("_id:", "_ids:", 1))
            infos.append(result.data)
        return ApiResult.ok(infos)

    def get_parameters_list(
        self, data_source: str, data_format_id: int
    ) -> ApiResult[ParameterDataFormatInfo]:
        operation = "get_parameters_list"
        failure = self._check(operation, data_source, _id_error(data_format_id))
        if failure is not None:
            return failure  # type: ignore[return-value]
        try:
            names = self._formats.resolve(
                data_source, DataFormatInfoType.PARAMETERS, data_format_id
            )
        except RpcFailure as exc:
            return ApiResult.fail(f"{operation}: {exc}")
        if names is None:
            return ApiResult.fail(
                f"{operation}: data_format_id {data_format_id} is not defined on data source "
                f"{data_source!r}"
            )
        return ApiResult.ok(ParameterDataFormatInfo(data_source, names, data_format_id))

    def get_event_data_format_id(
        self, data_source: str, event_name: str
    ) -> ApiResult[EventDataFormatInfo]:
        operation = "get_event_data_format_id"
        error = (
            ""
            if isinstance(event_name, str) and event_name
            else (f"event_name must be a non-empty str, got {event_name!r}")
        )
        failure = self._check(operation, data_source, error)
        if failure is not None:
            return failure  # type: ignore[return-value]
        try:
            data_format_id = self._formats.define(
                data_source, DataFormatInfoType.EVENT, [event_name]
            )
        except RpcFailure as exc:
            return ApiResult.fail(f"{operation}: {exc}")
        self._learned(data_source, DataFormatInfoType.EVENT, [event_name], data_format_id)
        return ApiResult.ok(EventDataFormatInfo(data_source, data_format_id, event_name))

    def get_event(self, data_source: str, data_format_id: int) -> ApiResult[EventDataFormatInfo]:
        operation = "get_event"
        failure = self._check(operation, data_source, _id_error(data_format_id))
        if failure is not None:
            return failure  # type: ignore[return-value]
        try:
            names = self._formats.resolve(data_source, DataFormatInfoType.EVENT, data_format_id)
        except RpcFailure as exc:
            return ApiResult.fail(f"{operation}: {exc}")
        if names is None:
            return ApiResult.fail(
                f"{operation}: data_format_id {data_format_id} is not an event format of data "
                f"source {data_source!r}"
            )
        return ApiResult.ok(EventDataFormatInfo(data_source, data_format_id, names[0]))

    def get_data_source_data_format_info(self, data_source: str) -> ApiResult[list[DataFormatInfo]]:
        failure = self._check("get_data_source_data_format_info", data_source, "")
        if failure is not None:
            return failure  # type: ignore[return-value]
        return ApiResult.ok(self._formats.known(data_source))
