"""DataFormatManagerService and UniqueKeyGeneratorService, on the library's data format service."""

from __future__ import annotations

import logging
from typing import Any

import grpc

from ..core.data_format_management.data_format_management_service import (
    DataFormatManagementService,
)
from ..core.library.keys import LocalKeys
from ..protos import api_pb2, key_generator_pb2
from .calls import abort

__all__ = ["DataFormatManagerServicer", "KeyGeneratorServicer"]

logger = logging.getLogger(__name__)


class DataFormatManagerServicer:
    """Ids come from the library's data format service (ordered parameter lists, reused when the
    data source already defines them, published as DataFormatDefinition packets). As the C#
    server, an unknown id resolves to an empty answer; input the library cannot publish (a data
    source Kafka cannot name, an empty parameter list) ends the call with INVALID_ARGUMENT."""

    def __init__(self, service: DataFormatManagementService) -> None:
        self._service = service

    def GetParameterDataFormatId(
        self, request: api_pb2.GetParameterDataFormatIdRequest, context: Any
    ) -> api_pb2.GetParameterDataFormatIdResponse:
        result = self._service.get_parameter_data_format_id(
            request.data_source, list(request.parameters)
        )
        if not result.success or result.data is None:
            abort(context, grpc.StatusCode.INVALID_ARGUMENT, _fields(result.error_message))
        return api_pb2.GetParameterDataFormatIdResponse(
            data_format_identifier=result.data.data_format_id
        )

    def GetEventDataFormatId(
        self, request: api_pb2.GetEventDataFormatIdRequest, context: Any
    ) -> api_pb2.GetEventDataFormatIdResponse:
        result = self._service.get_event_data_format_id(request.data_source, request.event)
        if not result.success or result.data is None:
            abort(context, grpc.StatusCode.INVALID_ARGUMENT, _fields(result.error_message))
        return api_pb2.GetEventDataFormatIdResponse(
            data_format_identifier=result.data.data_format_id
        )

    def GetParametersList(
        self, request: api_pb2.GetParametersListRequest, context: Any
    ) -> api_pb2.GetParametersListResponse:
        result = self._service.get_parameters_list(
            request.data_source, request.data_format_identifier
        )
        if not result.success or result.data is None:
            logger.debug("GetParametersList: %s", result.error_message)
            return api_pb2.GetParametersListResponse()
        return api_pb2.GetParametersListResponse(parameters=result.data.parameter_list)

    def GetEvent(self, request: api_pb2.GetEventRequest, context: Any) -> api_pb2.GetEventResponse:
        result = self._service.get_event(request.data_source, request.data_format_identifier)
        if not result.success or result.data is None:
            logger.debug("GetEvent: %s", result.error_message)
            return api_pb2.GetEventResponse()
        return api_pb2.GetEventResponse(event=result.data.event_name)


def _fields(message: str) -> str:
    """The library names its arguments; the request's fields have the proto names."""
    return message.replace("parameter_identifiers", "parameters").replace("event_name", "event")


class KeyGeneratorServicer:
    """Keys as the reference key generator makes them: a GUID string, or .NET UTC ticks strictly
    increasing within the process — the library's own ``LocalKeys``."""

    _keys = LocalKeys()

    def GenerateUniqueKey(
        self, request: key_generator_pb2.GenerateUniqueKeyRequest, context: Any
    ) -> key_generator_pb2.GenerateUniqueKeyResponse:
        if request.type == key_generator_pb2.KEY_TYPE_STRING:
            return key_generator_pb2.GenerateUniqueKeyResponse(string_key=self._keys.session_key())
        if request.type == key_generator_pb2.KEY_TYPE_ULONG:
            return key_generator_pb2.GenerateUniqueKeyResponse(ulong_key=self._keys.format_id())
        abort(
            context,
            grpc.StatusCode.INVALID_ARGUMENT,
            f"type must be KEY_TYPE_ULONG (1) or KEY_TYPE_STRING (2), got {request.type}",
        )
