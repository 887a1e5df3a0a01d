"""DataFormatManagementService: get-or-create data format ids and resolve ids back to identifiers."""

from __future__ import annotations

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
from ...redaction import shown
from ..base.service import ServiceBase
from ..base.validation import data_source_error, items_error, text_error
from ..library.context import LibraryContext

__all__ = ["DataFormatManagementService"]

_UINT64_MAX = 2**64 - 1
#: a format's parameter list travels in one record of at most 1 MB
MAX_FORMAT_PARAMETERS = 100_000


def _identifiers_error(parameter_identifiers: object) -> str:
    if parameter_identifiers is None or isinstance(parameter_identifiers, (str, bytes)):
        return f"parameter_identifiers must be a list of str, got {shown(parameter_identifiers)}"
    try:
        identifiers = list(parameter_identifiers)  # type: ignore[call-overload]
    except TypeError:
        return f"parameter_identifiers must be a list of str, got {type(parameter_identifiers).__name__}"
    if not identifiers:
        return "parameter_identifiers must not be empty"
    too_many = items_error(len(identifiers), "parameter_identifiers", MAX_FORMAT_PARAMETERS)
    if too_many:
        return too_many
    for identifier in identifiers:
        if not isinstance(identifier, str) or not identifier:
            return f"parameter_identifiers: {shown(identifier)} is not a non-empty str"
        if "," in identifier:
            # The Stream API names a format by its identifiers joined with ',' (catalog.format_key).
            return (
                f"parameter_identifiers: {shown(identifier)} holds a ',': Stream API readers "
                "would take it for several parameters"
            )
        error = text_error(identifier, "parameter_identifiers item")
        if error:
            return error
    return ""


def _id_error(data_format_id: object) -> str:
    if isinstance(data_format_id, bool) or not isinstance(data_format_id, int):
        return f"data_format_id must be an int, got {type(data_format_id).__name__}"
    if not 0 <= data_format_id <= _UINT64_MAX:
        return f"data_format_id must be an unsigned 64-bit int, got {data_format_id}"
    return ""


class DataFormatManagementService(ServiceBase, IDataFormatManagementService):
    """Ids follow the C# Stream API: parameter list key in the given order, reused when published."""

    service_name = "data format management service"

    def __init__(self, context: LibraryContext) -> None:
        super().__init__()
        self._context = context
        self.data_format_info_updated: Event[DataFormatInfo] = Event("data_format_info_updated")

    def _on_start(self) -> None:
        catalog = self._context.data_formats
        # Replays every <ds>_essential in the background. Formats already read are reported here,
        # the rest as the replay reads them: start() does not wait for every data source on the
        # broker (one end-offset query each), and lookups catch up on their own data source.
        catalog.start()
        for info in catalog.snapshot_and_listen(self._on_learned):
            self.data_format_info_updated.raise_event(self, info)

    def _on_stop(self) -> None:
        self._context.data_formats.remove_listener(self._on_learned)

    def _on_learned(self, info: DataFormatInfo) -> None:
        self.data_format_info_updated.raise_event(self, info)

    def get_parameter_data_format_id(
        self, data_source: str, parameter_identifiers: list[str]
    ) -> ApiResult[ParameterDataFormatInfo]:
        def create() -> ApiResult[ParameterDataFormatInfo]:
            identifiers = list(parameter_identifiers)
            data_format_id = self._get_or_create(
                data_source, DataFormatInfoType.PARAMETERS, identifiers
            )
            return ApiResult.ok(ParameterDataFormatInfo(data_source, identifiers, data_format_id))

        return self._answer(
            "get_parameter_data_format_id",
            lambda: data_source_error(data_source) or _identifiers_error(parameter_identifiers),
            create,
            f"data source {data_source!r}",
        )

    def get_parameter_data_format_ids(
        self, data_source: str, parameter_lists: list[list[str]]
    ) -> ApiResult[list[ParameterDataFormatInfo]]:
        """``get_parameter_data_format_id`` for many lists at once (not in the official API): the
        new definitions are written together and made durable in one round trip, which matters
        when a writer declares hundreds of packet layouts."""

        def create() -> ApiResult[list[ParameterDataFormatInfo]]:
            lists = [list(identifiers) for identifiers in parameter_lists]
            ids = self._get_or_create_all(data_source, DataFormatInfoType.PARAMETERS, lists)
            return ApiResult.ok(
                [
                    ParameterDataFormatInfo(data_source, identifiers, data_format_id)
                    for identifiers, data_format_id in zip(lists, ids, strict=True)
                ]
            )

        def argument_error() -> str:
            if not isinstance(parameter_lists, (list, tuple)):
                return f"parameter_lists must be a list of lists, got {shown(parameter_lists)}"
            return next(filter(None, map(_identifiers_error, parameter_lists)), "")

        return self._answer(
            "get_parameter_data_format_ids",
            lambda: data_source_error(data_source) or argument_error(),
            create,
            f"data source {data_source!r}",
        )

    def get_parameters_list(
        self, data_source: str, data_format_id: int
    ) -> ApiResult[ParameterDataFormatInfo]:
        operation = "get_parameters_list"

        def resolve() -> ApiResult[ParameterDataFormatInfo]:
            identifiers = self._resolve(data_source, DataFormatInfoType.PARAMETERS, data_format_id)
            if identifiers is None:
                return ApiResult.fail(
                    f"{operation}: data_format_id {data_format_id} is not defined on data source "
                    f"{data_source!r}"
                )
            return ApiResult.ok(ParameterDataFormatInfo(data_source, identifiers, data_format_id))

        return self._answer(
            operation,
            lambda: data_source_error(data_source) or _id_error(data_format_id),
            resolve,
            f"data source {data_source!r}",
        )

    def get_event_data_format_id(
        self, data_source: str, event_name: str
    ) -> ApiResult[EventDataFormatInfo]:
        def argument_error() -> str:
            return text_error(event_name, "event_name", allow_empty=False)

        def create() -> ApiResult[EventDataFormatInfo]:
            data_format_id = self._get_or_create(
                data_source, DataFormatInfoType.EVENT, [event_name]
            )
            return ApiResult.ok(EventDataFormatInfo(data_source, data_format_id, event_name))

        return self._answer(
            "get_event_data_format_id",
            lambda: data_source_error(data_source) or argument_error(),
            create,
            f"data source {data_source!r}",
        )

    def get_event(self, data_source: str, data_format_id: int) -> ApiResult[EventDataFormatInfo]:
        operation = "get_event"

        def resolve() -> ApiResult[EventDataFormatInfo]:
            identifiers = self._resolve(data_source, DataFormatInfoType.EVENT, data_format_id)
            if identifiers is None:
                return ApiResult.fail(
                    f"{operation}: data_format_id {data_format_id} is not an event format of data "
                    f"source {data_source!r}"
                )
            return ApiResult.ok(EventDataFormatInfo(data_source, data_format_id, identifiers[0]))

        return self._answer(
            operation,
            lambda: data_source_error(data_source) or _id_error(data_format_id),
            resolve,
            f"data source {data_source!r}",
        )

    def get_data_source_data_format_info(self, data_source: str) -> ApiResult[list[DataFormatInfo]]:
        def catch_up() -> ApiResult[list[DataFormatInfo]]:
            self._context.data_formats.catch_up(data_source)
            return ApiResult.ok(self._context.data_formats.formats_of(data_source))

        return self._answer(
            "get_data_source_data_format_info",
            lambda: data_source_error(data_source),
            catch_up,
            f"data source {data_source!r}",
        )

    def _get_or_create(
        self, data_source: str, kind: DataFormatInfoType, identifiers: list[str]
    ) -> int:
        return self._get_or_create_all(data_source, kind, [identifiers])[0]

    def _get_or_create_all(
        self, data_source: str, kind: DataFormatInfoType, lists: list[list[str]]
    ) -> list[int]:
        catalog = self._context.data_formats
        found = [catalog.find_by_key(data_source, kind, identifiers) for identifiers in lists]
        if all(data_format_id is not None for data_format_id in found):
            return [data_format_id for data_format_id in found if data_format_id is not None]
        with catalog.creation_lock:
            catalog.catch_up(data_source)
            missing = list(
                {
                    tuple(identifiers): identifiers
                    for identifiers in lists
                    if catalog.find_by_key(data_source, kind, identifiers) is None
                }.values()
            )
            published: dict[tuple[str, ...], int] = {}
            if missing:
                self._context.ensure_topics(data_source)
                ids = catalog.publish(data_source, kind, missing)
                published = {tuple(m): i for m, i in zip(missing, ids, strict=True)}
                catalog.catch_up(data_source)
        # If another process published the same format first, its id is the one everybody reuses.
        return [
            catalog.find_by_key(data_source, kind, identifiers) or published[tuple(identifiers)]
            for identifiers in lists
        ]

    def _resolve(
        self, data_source: str, kind: DataFormatInfoType, data_format_id: int
    ) -> list[str] | None:
        catalog = self._context.data_formats
        identifiers = catalog.find_by_id(data_source, kind, data_format_id)
        if identifiers is None:
            catalog.catch_up(data_source)
            identifiers = catalog.find_by_id(data_source, kind, data_format_id)
        return identifiers
