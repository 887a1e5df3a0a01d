"""Schema conformance of the generated protobuf modules against the Open Data reference.

The tables below transcribe the public Open Data protocol as of its Feb 2026 release (every
message, field and enum of open_data.proto, api.proto and key_generator.proto). They are embedded here, not read at test time,
so the test runs on a clean clone. Every message, field, enum value, service and RPC
of the generated descriptors is compared against them, in declaration order; a
drifted field number, type, cardinality, oneof membership or tag fails a test.

Field rows are ``(name, number, type, cardinality, tag)``:

* ``type``: a proto scalar type, ``map<K, V>``, or a message/enum name (unqualified
  names are in the file's own package);
* ``cardinality``: ``""`` implicit-presence singular, ``"msg"`` singular message,
  ``"opt"`` proto3 ``optional``, ``"oneof:<name>"``, ``"rep"`` repeated (never packed),
  ``"packed"`` repeated packed scalar/enum, ``"map"``;
* ``tag``: the tag byte(s), hex, that the reference encoders write for the field.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import pytest
from google.protobuf import descriptor_pb2
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from ma_dataplatforms_streaming_support_library.protos import (
    api_pb2,
    key_generator_pb2,
    open_data_pb2,
)

Field = tuple[str, int, str, str, str]
EnumValue = tuple[str, int]
Rpc = tuple[str, str, str, bool, bool]

# ---- open_data ----
MESSAGES_OPEN_DATA: dict[str, list[Field]] = {
    "Packet": [
        ("type", 1, "string", "", "0A"),
        ("session_key", 2, "string", "", "12"),
        ("is_essential", 3, "bool", "", "18"),
        ("content", 4, "bytes", "", "22"),
        ("id", 5, "uint64", "", "28"),
    ],
    "NewSessionPacket": [
        ("data_source", 1, "string", "", "0A"),
        ("topic_partition_offsets", 2, "map<string, int64>", "map", "12"),
        ("utc_offset", 3, "google.protobuf.Duration", "msg", "1A"),
        ("session_info", 4, "SessionInfoPacket", "opt", "22"),
        ("creation_time", 5, "google.protobuf.Timestamp", "msg", "2A"),
    ],
    "EndOfSessionPacket": [
        ("data_source", 1, "string", "", "0A"),
        ("topic_partition_offsets", 2, "map<string, int64>", "map", "12"),
        ("termination_time", 3, "google.protobuf.Timestamp", "msg", "1A"),
    ],
    "CoverageCursorInfoPacket": [
        ("data_source", 1, "string", "", "0A"),
        ("coverage_cursor_time", 2, "fixed64", "", "11"),
    ],
    "SessionInfoPacket": [
        ("data_source", 1, "string", "", "0A"),
        ("identifier", 2, "string", "", "12"),
        ("type", 3, "string", "", "1A"),
        ("version", 4, "uint32", "", "20"),
        ("associate_session_keys", 5, "string", "rep", "2A"),
        ("details", 6, "map<string, string>", "map", "32"),
        ("utc_offset", 7, "google.protobuf.Duration", "msg", "3A"),
        ("creation_time", 8, "google.protobuf.Timestamp", "msg", "42"),
        ("termination_time", 9, "google.protobuf.Timestamp", "msg", "4A"),
    ],
    "MetadataPacket": [
        ("metadata", 1, "map<string, google.protobuf.Any>", "map", "0A"),
    ],
    "ConfigurationPacket": [
        ("config_id", 1, "string", "", "0A"),
        ("parameter_definitions", 2, "ParameterDefinition", "rep", "12"),
        ("event_definitions", 3, "EventDefinition", "rep", "1A"),
        ("group_definitions", 4, "GroupDefinition", "rep", "22"),
        ("partial_packet", 5, "bool", "", "28"),
        ("packet_number", 6, "uint32", "", "30"),
        ("total_packet_number", 7, "uint32", "", "38"),
    ],
    "EventDefinition": [
        ("identifier", 1, "string", "", "0A"),
        ("name", 2, "string", "", "12"),
        ("definition_id", 3, "uint32", "", "18"),
        ("application_name", 4, "string", "", "22"),
        ("description", 5, "string", "", "2A"),
        ("priority", 6, "EventPriority", "", "30"),
        ("groups", 7, "string", "rep", "3A"),
        ("data_types", 8, "DataType", "packed", "42"),
        ("format_strings", 9, "string", "rep", "4A"),
        ("conversions", 10, "TextConversionDefinition", "rep", "52"),
        ("units", 11, "string", "rep", "5A"),
    ],
    "ParameterDefinition": [
        ("identifier", 1, "string", "", "0A"),
        ("name", 2, "string", "", "12"),
        ("application_name", 3, "string", "", "1A"),
        ("description", 4, "string", "", "22"),
        ("groups", 5, "string", "rep", "2A"),
        ("units", 6, "string", "", "32"),
        ("data_type", 7, "DataType", "", "38"),
        ("format_string", 8, "string", "", "42"),
        ("min_value", 9, "double", "", "49"),
        ("max_value", 10, "double", "", "51"),
        ("warning_min_value", 11, "double", "", "59"),
        ("warning_max_value", 12, "double", "", "61"),
        ("frequencies", 13, "double", "packed", "6A"),
        ("includes_row_data", 14, "bool", "", "70"),
        ("includes_synchro_data", 15, "bool", "", "78"),
        ("conversion", 16, "TextConversionDefinition", "msg", "82 01"),
        ("formula", 17, "FormulaDefinition", "msg", "8A 01"),
    ],
    "TextConversionDefinition": [
        ("conversion_identifier", 1, "string", "", "0A"),
        ("input_values", 2, "double", "packed", "12"),
        ("string_values", 3, "string", "rep", "1A"),
        ("default", 4, "string", "", "22"),
    ],
    "FormulaDefinition": [
        ("type", 1, "FormulaType", "", "08"),
        ("formula", 2, "string", "", "12"),
    ],
    "GroupDefinition": [
        ("identifier", 1, "string", "", "0A"),
        ("name", 2, "string", "", "12"),
        ("application_name", 3, "string", "", "1A"),
        ("description", 4, "string", "", "22"),
        ("groups", 5, "GroupDefinition", "rep", "2A"),
    ],
    "DataFormatConfigurationPacket": [
        ("data_format_id", 1, "string", "", "0A"),
        ("data_formats", 2, "DataFormatDefinitionPacket", "rep", "12"),
    ],
    "ParameterList": [
        ("parameter_identifiers", 1, "string", "rep", "0A"),
    ],
    "DataFormatDefinitionPacket": [
        ("identifier", 1, "uint64", "", "08"),
        ("type", 2, "DataFormatType", "", "10"),
        ("parameter_identifiers", 3, "ParameterList", "oneof:format", "1A"),
        ("event_identifier", 4, "string", "oneof:format", "22"),
    ],
    "EventDataFormat": [
        ("data_format_identifier", 1, "uint64", "oneof:format", "08"),
        ("event_identifier", 2, "string", "oneof:format", "12"),
    ],
    "EventPacket": [
        ("data_format", 1, "EventDataFormat", "msg", "0A"),
        ("timestamp", 2, "fixed64", "", "11"),
        ("raw_values", 3, "double", "packed", "1A"),
    ],
    "MarkerPacket": [
        ("timestamp", 1, "fixed64", "", "09"),
        ("end_time", 2, "fixed64", "", "11"),
        ("label", 3, "string", "", "1A"),
        ("type", 4, "string", "", "22"),
        ("description", 5, "string", "", "2A"),
        ("source", 6, "string", "", "32"),
        ("value", 7, "int64", "", "38"),
    ],
    "SampleDataFormat": [
        ("data_format_identifier", 1, "uint64", "oneof:format", "08"),
        ("parameter_identifiers", 2, "ParameterList", "oneof:format", "12"),
    ],
    "SampleColumn": [
        ("double_samples", 1, "DoubleSampleList", "oneof:list", "0A"),
        ("int32_samples", 2, "Int32SampleList", "oneof:list", "12"),
        ("bool_samples", 3, "BoolSampleList", "oneof:list", "1A"),
        ("string_samples", 4, "StringSampleList", "oneof:list", "22"),
    ],
    "SampleRow": [
        ("double_samples", 1, "DoubleSampleList", "oneof:list", "0A"),
        ("int32_samples", 2, "Int32SampleList", "oneof:list", "12"),
        ("bool_samples", 3, "BoolSampleList", "oneof:list", "1A"),
        ("string_samples", 4, "StringSampleList", "oneof:list", "22"),
    ],
    "DoubleSampleList": [
        ("samples", 1, "DoubleSample", "rep", "0A"),
    ],
    "Int32SampleList": [
        ("samples", 1, "Int32Sample", "rep", "0A"),
    ],
    "BoolSampleList": [
        ("samples", 1, "BoolSample", "rep", "0A"),
    ],
    "StringSampleList": [
        ("samples", 1, "StringSample", "rep", "0A"),
    ],
    "DoubleSample": [
        ("value", 1, "double", "", "09"),
        ("status", 2, "DataStatus", "", "10"),
    ],
    "Int32Sample": [
        ("value", 1, "int32", "", "08"),
        ("status", 2, "DataStatus", "", "10"),
    ],
    "BoolSample": [
        ("value", 1, "bool", "", "08"),
        ("status", 2, "DataStatus", "", "10"),
    ],
    "StringSample": [
        ("value", 1, "string", "", "0A"),
        ("status", 2, "DataStatus", "", "10"),
    ],
    "RowDataPacket": [
        ("data_format", 1, "SampleDataFormat", "msg", "0A"),
        ("timestamps", 2, "fixed64", "packed", "12"),
        ("rows", 3, "SampleRow", "rep", "1A"),
    ],
    "PeriodicDataPacket": [
        ("data_format", 1, "SampleDataFormat", "msg", "0A"),
        ("start_time", 2, "fixed64", "", "11"),
        ("interval", 3, "uint32", "", "18"),
        ("columns", 4, "SampleColumn", "rep", "22"),
    ],
    "SynchroDataPacket": [
        ("data_format", 1, "SampleDataFormat", "msg", "0A"),
        ("start_time", 2, "fixed64", "", "11"),
        ("intervals", 3, "uint32", "packed", "1A"),
        ("columns", 4, "SampleColumn", "rep", "22"),
    ],
    "RawCANDataPacket": [
        ("timestamp", 1, "fixed64", "", "09"),
        ("bus", 2, "uint32", "", "10"),
        ("can_id", 3, "uint32", "", "18"),
        ("payload", 4, "bytes", "", "22"),
        ("type", 5, "CanType", "", "28"),
    ],
    "ValueArray": [
        ("values", 1, "double", "packed", "0A"),
    ],
    "AxisDataPacket": [
        ("axis_identifier", 1, "string", "", "0A"),
        ("timestamp", 2, "fixed64", "", "11"),
        ("values", 3, "ValueArray", "msg", "1A"),
    ],
    "MapDataPacket": [
        ("map_identifier", 1, "string", "", "0A"),
        ("timestamp", 2, "fixed64", "", "11"),
        ("x_axis_identifier", 3, "string", "", "1A"),
        ("x_index_identifier", 4, "string", "", "22"),
        ("y_axis_identifier", 5, "string", "", "2A"),
        ("y_index_identifier", 6, "string", "", "32"),
        ("values", 7, "ValueArray", "rep", "3A"),
    ],
    "SystemStatusMessage": [
        ("service", 1, "string", "", "0A"),
        ("data_source", 2, "string", "", "12"),
        ("type", 3, "SystemStatusType", "", "18"),
    ],
    "ErrorPacket": [
        ("error_identifier", 1, "string", "", "0A"),
        ("timestamp", 2, "fixed64", "", "11"),
        ("application_name", 3, "string", "", "1A"),
        ("group", 4, "string", "", "22"),
        ("name", 5, "string", "", "2A"),
        ("description", 6, "string", "", "32"),
        ("type", 7, "ErrorType", "", "38"),
        ("status", 8, "ErrorStatus", "", "40"),
    ],
    "StreamStartedPacket": [
        ("data_source", 1, "string", "", "0A"),
        ("session_key", 2, "string", "", "12"),
        ("stream_name", 3, "string", "", "1A"),
        ("start_time", 4, "google.protobuf.Timestamp", "msg", "22"),
    ],
    "StreamStoppedPacket": [
        ("data_source", 1, "string", "", "0A"),
        ("session_key", 2, "string", "", "12"),
        ("stream_name", 3, "string", "", "1A"),
        ("stop_time", 4, "google.protobuf.Timestamp", "msg", "22"),
    ],
}
ENUMS_OPEN_DATA: dict[str, list[EnumValue]] = {
    "DataType": [
        ("DATA_TYPE_UNSPECIFIED", 0),
        ("DATA_TYPE_FLOAT64", 1),
        ("DATA_TYPE_FLOAT32", 2),
        ("DATA_TYPE_UINT32", 3),
        ("DATA_TYPE_SINT32", 4),
        ("DATA_TYPE_UINT16", 5),
        ("DATA_TYPE_SINT16", 6),
        ("DATA_TYPE_UINT8", 7),
        ("DATA_TYPE_SINT8", 8),
        ("DATA_TYPE_STRING", 9),
    ],
    "EventPriority": [
        ("EVENT_PRIORITY_UNSPECIFIED", 0),
        ("EVENT_PRIORITY_CRITICAL", 1),
        ("EVENT_PRIORITY_HIGH", 2),
        ("EVENT_PRIORITY_MEDIUM", 3),
        ("EVENT_PRIORITY_LOW", 4),
        ("EVENT_PRIORITY_DEBUG", 5),
    ],
    "FormulaType": [
        ("FORMULA_TYPE_UNSPECIFIED", 0),
        ("FORMULA_TYPE_FDL", 1),
        ("FORMULA_TYPE_CSHARP", 2),
    ],
    "DataFormatType": [
        ("DATA_FORMAT_TYPE_UNSPECIFIED", 0),
        ("DATA_FORMAT_TYPE_PARAMETER", 1),
        ("DATA_FORMAT_TYPE_EVENT", 2),
    ],
    "DataStatus": [
        ("DATA_STATUS_UNSPECIFIED", 0),
        ("DATA_STATUS_VALID", 1),
        ("DATA_STATUS_MISSING", 2),
        ("DATA_STATUS_ERROR", 3),
    ],
    "CanType": [
        ("CAN_TYPE_UNSPECIFIED", 0),
        ("CAN_TYPE_TRANSMIT", 1),
        ("CAN_TYPE_RECEIVE", 2),
    ],
    "SystemStatusType": [
        ("SYSTEM_STATUS_TYPE_UNSPECIFIED", 0),
        ("SYSTEM_STATUS_TYPE_HEARTBEAT", 1),
        ("SYSTEM_STATUS_TYPE_STATUS", 2),
        ("SYSTEM_STATUS_TYPE_ERROR", 3),
        ("SYSTEM_STATUS_TYPE_WARNING", 4),
        ("SYSTEM_STATUS_TYPE_CONNECTION", 5),
    ],
    "ErrorType": [
        ("ERROR_TYPE_UNSPECIFIED", 0),
        ("ERROR_TYPE_CURRENT", 1),
        ("ERROR_TYPE_LOGGED", 2),
    ],
    "ErrorStatus": [
        ("ERROR_STATUS_UNSPECIFIED", 0),
        ("ERROR_STATUS_SET", 1),
        ("ERROR_STATUS_CLEARED", 2),
    ],
}
SERVICES_OPEN_DATA: dict[str, list[Rpc]] = {}
# ---- api ----
MESSAGES_API: dict[str, list[Field]] = {
    "DataPacketDetails": [
        ("message", 1, "ma.streaming.open_data.v1.Packet", "msg", "0A"),
        ("data_source", 2, "string", "", "12"),
        ("stream", 3, "string", "", "1A"),
        ("session_key", 4, "string", "", "22"),
    ],
    "WriteDataPacketRequest": [
        ("detail", 1, "DataPacketDetails", "msg", "0A"),
    ],
    "WriteDataPacketsRequest": [
        ("details", 1, "DataPacketDetails", "rep", "0A"),
    ],
    "WriteInfoPacketRequest": [
        ("message", 1, "ma.streaming.open_data.v1.Packet", "msg", "0A"),
        ("type", 2, "InfoType", "", "10"),
    ],
    "WriteInfoPacketsRequest": [
        ("message", 1, "ma.streaming.open_data.v1.Packet", "msg", "0A"),
        ("type", 2, "InfoType", "", "10"),
    ],
    "WriteDataPacketResponse": [],
    "WriteDataPacketsResponse": [],
    "WriteInfoPacketResponse": [],
    "WriteInfoPacketsResponse": [],
    "GetParameterDataFormatIdRequest": [
        ("data_source", 1, "string", "", "0A"),
        ("parameters", 2, "string", "rep", "12"),
    ],
    "GetParameterDataFormatIdResponse": [
        ("data_format_identifier", 1, "uint64", "", "08"),
    ],
    "GetEventDataFormatIdRequest": [
        ("data_source", 1, "string", "", "0A"),
        ("event", 2, "string", "", "12"),
    ],
    "GetEventDataFormatIdResponse": [
        ("data_format_identifier", 1, "uint64", "", "08"),
    ],
    "GetParametersListRequest": [
        ("data_source", 1, "string", "", "0A"),
        ("data_format_identifier", 2, "uint64", "", "10"),
    ],
    "GetParametersListResponse": [
        ("parameters", 1, "string", "rep", "0A"),
    ],
    "GetEventRequest": [
        ("data_source", 1, "string", "", "0A"),
        ("data_format_identifier", 2, "uint64", "", "10"),
    ],
    "GetEventResponse": [
        ("event", 1, "string", "", "0A"),
    ],
    "Connection": [
        ("id", 1, "int64", "", "08"),
    ],
    "ConnectionDetails": [
        ("data_source", 1, "string", "", "0A"),
        ("session_key", 2, "string", "", "12"),
        ("streams", 3, "string", "rep", "1A"),
        ("stream_offsets", 4, "int64", "packed", "22"),
        ("main_offset", 5, "int64", "", "28"),
        ("essentials_offset", 6, "int64", "", "30"),
        ("exclude_main_stream", 7, "bool", "", "38"),
        ("consumer_group", 8, "string", "", "42"),
    ],
    "NewConnectionRequest": [
        ("details", 1, "ConnectionDetails", "msg", "0A"),
    ],
    "NewConnectionResponse": [
        ("connection", 1, "Connection", "msg", "0A"),
    ],
    "GetConnectionRequest": [
        ("connection", 1, "Connection", "msg", "0A"),
    ],
    "GetConnectionResponse": [
        ("details", 1, "ConnectionDetails", "msg", "0A"),
    ],
    "CloseConnectionRequest": [
        ("connection", 1, "Connection", "msg", "0A"),
    ],
    "CloseConnectionResponse": [
        ("success", 1, "bool", "", "08"),
    ],
    "ReadPacketsRequest": [
        ("connection", 1, "Connection", "msg", "0A"),
    ],
    "ReadPacketsResponse": [
        ("response", 1, "PacketResponse", "rep", "0A"),
    ],
    "ReadEssentialsRequest": [
        ("connection", 1, "Connection", "msg", "0A"),
    ],
    "ReadEssentialsResponse": [
        ("response", 1, "PacketResponse", "rep", "0A"),
    ],
    "ReadDataPacketsRequest": [
        ("request", 1, "DataPacketRequest", "msg", "0A"),
    ],
    "ReadDataPacketsResponse": [
        ("response", 1, "PacketResponse", "rep", "0A"),
    ],
    "DataPacketRequest": [
        ("connection", 1, "Connection", "msg", "0A"),
        ("include_parameters", 2, "string", "rep", "12"),
        ("exclude_parameters", 3, "string", "rep", "1A"),
        ("include_events", 4, "string", "rep", "22"),
        ("exclude_events", 5, "string", "rep", "2A"),
        ("include_markers", 6, "bool", "", "30"),
    ],
    "PacketResponse": [
        ("packet", 1, "ma.streaming.open_data.v1.Packet", "msg", "0A"),
        ("stream", 2, "string", "", "12"),
        ("submit_time", 3, "google.protobuf.Timestamp", "msg", "1A"),
    ],
    "CreateSessionRequest": [
        ("data_source", 1, "string", "", "0A"),
        ("type", 2, "string", "", "12"),
        ("version", 3, "uint32", "", "18"),
        ("utc_offset", 4, "google.protobuf.Duration", "msg", "22"),
        ("identifier", 5, "string", "", "2A"),
        ("associate_session_key", 6, "string", "rep", "32"),
        ("details", 7, "map<string, string>", "map", "3A"),
        ("creation_time", 8, "google.protobuf.Timestamp", "msg", "42"),
    ],
    "CreateSessionResponse": [
        ("session_key", 1, "string", "", "0A"),
        ("new_session", 2, "ma.streaming.open_data.v1.NewSessionPacket", "msg", "12"),
        ("success", 3, "bool", "", "18"),
    ],
    "EndSessionRequest": [
        ("data_source", 1, "string", "", "0A"),
        ("session_key", 2, "string", "", "12"),
        ("termination_time", 3, "google.protobuf.Timestamp", "msg", "1A"),
    ],
    "EndSessionResponse": [
        ("end_session", 2, "ma.streaming.open_data.v1.EndOfSessionPacket", "msg", "12"),
        ("success", 3, "bool", "", "18"),
    ],
    "GetCurrentSessionsRequest": [
        ("data_source", 1, "string", "", "0A"),
    ],
    "GetCurrentSessionsResponse": [
        ("session_keys", 1, "string", "rep", "0A"),
        ("success", 2, "bool", "", "10"),
    ],
    "GetSessionInfoRequest": [
        ("session_key", 1, "string", "", "0A"),
    ],
    "GetSessionInfoResponse": [
        ("data_source", 1, "string", "", "0A"),
        ("identifier", 2, "string", "", "12"),
        ("type", 3, "string", "", "1A"),
        ("version", 4, "uint32", "", "20"),
        ("associate_session_keys", 5, "string", "rep", "2A"),
        ("is_complete", 6, "bool", "", "30"),
        ("streams", 7, "string", "rep", "3A"),
        ("topic_partition_offsets", 8, "map<string, int64>", "map", "42"),
        ("main_offset", 9, "int64", "", "48"),
        ("essentials_offset", 10, "int64", "", "50"),
        ("details", 11, "map<string, string>", "map", "5A"),
        ("utc_offset", 12, "google.protobuf.Duration", "msg", "62"),
        ("success", 13, "bool", "", "68"),
        ("creation_time", 14, "google.protobuf.Timestamp", "msg", "72"),
        ("termination_time", 15, "google.protobuf.Timestamp", "msg", "7A"),
    ],
    "GetSessionStartNotificationRequest": [
        ("data_source", 1, "string", "", "0A"),
    ],
    "GetSessionStartNotificationResponse": [
        ("session_key", 1, "string", "", "0A"),
        ("data_source", 2, "string", "", "12"),
    ],
    "GetSessionStopNotificationRequest": [
        ("data_source", 1, "string", "", "0A"),
    ],
    "GetSessionStopNotificationResponse": [
        ("session_key", 1, "string", "", "0A"),
        ("data_source", 2, "string", "", "12"),
    ],
    "UpdateSessionIdentifierRequest": [
        ("session_key", 1, "string", "", "0A"),
        ("identifier", 2, "string", "", "12"),
    ],
    "UpdateSessionIdentifierResponse": [
        ("success", 1, "bool", "", "08"),
    ],
    "AddAssociateSessionRequest": [
        ("session_key", 1, "string", "", "0A"),
        ("associate_session_key", 2, "string", "", "12"),
    ],
    "AddAssociateSessionResponse": [
        ("success", 1, "bool", "", "08"),
    ],
    "UpdateSessionDetailsRequest": [
        ("session_key", 1, "string", "", "0A"),
        ("details", 2, "map<string, string>", "map", "12"),
    ],
    "UpdateSessionDetailsResponse": [
        ("success", 1, "bool", "", "08"),
    ],
}
ENUMS_API: dict[str, list[EnumValue]] = {
    "InfoType": [
        ("INFO_TYPE_UNSPECIFIED", 0),
        ("INFO_TYPE_SESSION_INFO", 1),
        ("INFO_TYPE_SYSTEM_STATUS", 2),
    ],
}
SERVICES_API: dict[str, list[Rpc]] = {
    "PacketWriterService": [
        ("WriteDataPacket", "WriteDataPacketRequest", "WriteDataPacketResponse", False, False),
        ("WriteDataPackets", "WriteDataPacketsRequest", "WriteDataPacketsResponse", True, False),
        ("WriteInfoPacket", "WriteInfoPacketRequest", "WriteInfoPacketResponse", False, False),
        ("WriteInfoPackets", "WriteInfoPacketsRequest", "WriteInfoPacketsResponse", True, False),
    ],
    "DataFormatManagerService": [
        (
            "GetParameterDataFormatId",
            "GetParameterDataFormatIdRequest",
            "GetParameterDataFormatIdResponse",
            False,
            False,
        ),
        (
            "GetEventDataFormatId",
            "GetEventDataFormatIdRequest",
            "GetEventDataFormatIdResponse",
            False,
            False,
        ),
        (
            "GetParametersList",
            "GetParametersListRequest",
            "GetParametersListResponse",
            False,
            False,
        ),
        ("GetEvent", "GetEventRequest", "GetEventResponse", False, False),
    ],
    "ConnectionManagerService": [
        ("NewConnection", "NewConnectionRequest", "NewConnectionResponse", False, False),
        ("GetConnection", "GetConnectionRequest", "GetConnectionResponse", False, False),
        ("CloseConnection", "CloseConnectionRequest", "CloseConnectionResponse", False, False),
    ],
    "PacketReaderService": [
        ("ReadPackets", "ReadPacketsRequest", "ReadPacketsResponse", False, True),
        ("ReadEssentials", "ReadEssentialsRequest", "ReadEssentialsResponse", False, True),
        ("ReadDataPackets", "ReadDataPacketsRequest", "ReadDataPacketsResponse", False, True),
    ],
    "SessionManagementService": [
        ("CreateSession", "CreateSessionRequest", "CreateSessionResponse", False, False),
        ("EndSession", "EndSessionRequest", "EndSessionResponse", False, False),
        (
            "GetCurrentSessions",
            "GetCurrentSessionsRequest",
            "GetCurrentSessionsResponse",
            False,
            False,
        ),
        ("GetSessionInfo", "GetSessionInfoRequest", "GetSessionInfoResponse", False, False),
        (
            "GetSessionStartNotification",
            "GetSessionStartNotificationRequest",
            "GetSessionStartNotificationResponse",
            False,
            True,
        ),
        (
            "GetSessionStopNotification",
            "GetSessionStopNotificationRequest",
            "GetSessionStopNotificationResponse",
            False,
            True,
        ),
        (
            "UpdateSessionIdentifier",
            "UpdateSessionIdentifierRequest",
            "UpdateSessionIdentifierResponse",
            False,
            False,
        ),
        (
            "AddAssociateSession",
            "AddAssociateSessionRequest",
            "AddAssociateSessionResponse",
            False,
            False,
        ),
        (
            "UpdateSessionDetails",
            "UpdateSessionDetailsRequest",
            "UpdateSessionDetailsResponse",
            False,
            False,
        ),
    ],
}
# ---- key_generator ----
MESSAGES_KEY_GENERATOR: dict[str, list[Field]] = {
    "GenerateUniqueKeyRequest": [
        ("type", 1, "KeyType", "", "08"),
    ],
    "GenerateUniqueKeyResponse": [
        ("string_key", 1, "string", "oneof:key", "0A"),
        ("ulong_key", 2, "uint64", "oneof:key", "10"),
    ],
}
ENUMS_KEY_GENERATOR: dict[str, list[EnumValue]] = {
    "KeyType": [
        ("KEY_TYPE_UNSPECIFIED", 0),
        ("KEY_TYPE_ULONG", 1),
        ("KEY_TYPE_STRING", 2),
    ],
}
SERVICES_KEY_GENERATOR: dict[str, list[Rpc]] = {
    "UniqueKeyGeneratorService": [
        (
            "GenerateUniqueKey",
            "GenerateUniqueKeyRequest",
            "GenerateUniqueKeyResponse",
            False,
            False,
        ),
    ],
}


# ---- expectations derived from the tables ----

FDP = descriptor_pb2.FieldDescriptorProto


@dataclass(frozen=True)
class FileSpec:
    """What the reference says about one .proto file."""

    module: ModuleType
    path: str
    package: str
    dependencies: tuple[str, ...]
    csharp_namespace: str
    messages: dict[str, list[Field]]
    enums: dict[str, list[EnumValue]]
    services: dict[str, list[Rpc]]


FILES: dict[str, FileSpec] = {
    "open_data": FileSpec(
        open_data_pb2,
        "ma/streaming/open_data/v1/open_data.proto",
        "ma.streaming.open_data.v1",
        (
            "google/protobuf/any.proto",
            "google/protobuf/duration.proto",
            "google/protobuf/timestamp.proto",
        ),
        "MA.Streaming.OpenData",
        MESSAGES_OPEN_DATA,
        ENUMS_OPEN_DATA,
        SERVICES_OPEN_DATA,
    ),
    "api": FileSpec(
        api_pb2,
        "ma/streaming/api/v1/api.proto",
        "ma.streaming.api.v1",
        (
            "ma/streaming/open_data/v1/open_data.proto",
            "google/protobuf/duration.proto",
            "google/protobuf/timestamp.proto",
        ),
        "MA.Streaming.API",
        MESSAGES_API,
        ENUMS_API,
        SERVICES_API,
    ),
    "key_generator": FileSpec(
        key_generator_pb2,
        "ma/streaming/key_generator/v1/key_generator.proto",
        "ma.streaming.key_generator.v1",
        (),
        "MA.Streaming.KeyGenerator",
        MESSAGES_KEY_GENERATOR,
        ENUMS_KEY_GENERATOR,
        SERVICES_KEY_GENERATOR,
    ),
}

ALL_ENUMS = {f"{spec.package}.{name}" for spec in FILES.values() for name in spec.enums}

_SCALARS: dict[str, int] = {
    "double": FDP.TYPE_DOUBLE,
    "float": FDP.TYPE_FLOAT,
    "int64": FDP.TYPE_INT64,
    "uint64": FDP.TYPE_UINT64,
    "int32": FDP.TYPE_INT32,
    "fixed64": FDP.TYPE_FIXED64,
    "fixed32": FDP.TYPE_FIXED32,
    "bool": FDP.TYPE_BOOL,
    "string": FDP.TYPE_STRING,
    "bytes": FDP.TYPE_BYTES,
    "uint32": FDP.TYPE_UINT32,
    "sfixed32": FDP.TYPE_SFIXED32,
    "sfixed64": FDP.TYPE_SFIXED64,
    "sint32": FDP.TYPE_SINT32,
    "sint64": FDP.TYPE_SINT64,
}
_WIRE_TYPES: dict[int, int] = {
    FDP.TYPE_DOUBLE: 1,
    FDP.TYPE_FIXED64: 1,
    FDP.TYPE_SFIXED64: 1,
    FDP.TYPE_FLOAT: 5,
    FDP.TYPE_FIXED32: 5,
    FDP.TYPE_SFIXED32: 5,
    FDP.TYPE_STRING: 2,
    FDP.TYPE_BYTES: 2,
    FDP.TYPE_MESSAGE: 2,
}  # everything else (integers, bool, enum) is VARINT (0)
_LEN_TYPES = {FDP.TYPE_STRING, FDP.TYPE_BYTES, FDP.TYPE_MESSAGE}
_MAP_RE = re.compile(r"map<(?P<key>[\w.]+), (?P<value>[\w.]+)>")


def resolve_type(type_name: str, package: str) -> tuple[int, str]:
    """(descriptor type, qualified type_name or "") for a reference type spelling."""
    if type_name in _SCALARS:
        return _SCALARS[type_name], ""
    full = type_name if "." in type_name else f"{package}.{type_name}"
    return (FDP.TYPE_ENUM if full in ALL_ENUMS else FDP.TYPE_MESSAGE), f".{full}"


def varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def expected_tag(number: int, descriptor_type: int, cardinality: str) -> bytes:
    wire = 2 if cardinality in ("packed", "map") else _WIRE_TYPES.get(descriptor_type, 0)
    return varint(number << 3 | wire)


def map_entry_name(field_name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in field_name.split("_")) + "Entry"


def file_proto(spec: FileSpec) -> descriptor_pb2.FileDescriptorProto:
    """The FileDescriptorProto embedded in the committed generated module."""
    return descriptor_pb2.FileDescriptorProto.FromString(spec.module.DESCRIPTOR.serialized_pb)


# ---- checkers: each returns a list of human-readable problems (empty = conforms) ----


def file_problems(spec: FileSpec, proto: descriptor_pb2.FileDescriptorProto) -> list[str]:
    problems: list[str] = []
    if proto.name != spec.path:
        problems.append(f"file name {proto.name!r} != {spec.path!r}")
    if proto.syntax != "proto3":
        problems.append(f"{spec.path}: syntax {proto.syntax!r}")
    if proto.package != spec.package:
        problems.append(f"{spec.path}: package {proto.package!r} != {spec.package!r}")
    if tuple(proto.dependency) != spec.dependencies:
        problems.append(f"{spec.path}: imports {list(proto.dependency)} != {spec.dependencies}")
    options = descriptor_pb2.FileOptions(
        optimize_for=descriptor_pb2.FileOptions.LITE_RUNTIME,
        csharp_namespace=spec.csharp_namespace,
    )
    if proto.options != options:
        problems.append(f"{spec.path}: options {proto.options} != {options}")
    if proto.extension:
        problems.append(f"{spec.path}: declares extensions")
    got_messages = [m.name for m in proto.message_type]
    if got_messages != list(spec.messages):
        problems.append(f"{spec.path}: messages {got_messages} != {list(spec.messages)}")
    got_enums = [e.name for e in proto.enum_type]
    if got_enums != list(spec.enums):
        problems.append(f"{spec.path}: enums {got_enums} != {list(spec.enums)}")
    return problems


def message_problems(
    spec: FileSpec, message: descriptor_pb2.DescriptorProto, fields: list[Field]
) -> list[str]:
    where = f"{spec.package}.{message.name}"
    problems: list[str] = []
    got_rows = [(f.name, f.number) for f in message.field]
    want_rows = [(row[0], row[1]) for row in fields]
    if got_rows != want_rows:
        problems.append(f"{where}: (name, number) {got_rows} != reference {want_rows}")
    by_name = {f.name: f for f in message.field}
    nested = {n.name: n for n in message.nested_type}
    entries: list[str] = []
    real_oneofs: list[str] = []
    synthetic_oneofs: list[str] = []
    for name, number, type_name, cardinality, tag in fields:
        field = by_name.get(name)
        if field is None:
            problems.append(f"{where}.{name}: missing")
            continue
        at = f"{where}.{name}"
        if field.number != number:
            problems.append(f"{at}: number {field.number} != {number}")
        if field.HasField("options") or field.HasField("default_value"):
            problems.append(f"{at}: unexpected options/default")
        want_oneof: str | None = None
        want_type: int
        want_type_name: str
        if cardinality == "map":
            match = _MAP_RE.fullmatch(type_name)
            assert match, f"bad map spelling {type_name!r}"
            entry_name = map_entry_name(name)
            entries.append(entry_name)
            want_type, want_type_name = FDP.TYPE_MESSAGE, f".{where}.{entry_name}"
            want_label = FDP.LABEL_REPEATED
            entry = nested.get(entry_name)
            if entry is None or not entry.options.map_entry:
                problems.append(f"{at}: no map entry message {entry_name}")
            else:
                got_entry = [(f.name, f.number, f.type, f.type_name) for f in entry.field]
                want_entry = [
                    ("key", 1, *resolve_type(match["key"], spec.package)),
                    ("value", 2, *resolve_type(match["value"], spec.package)),
                ]
                if got_entry != want_entry:
                    problems.append(f"{at}: map entry {got_entry} != {want_entry}")
        else:
            want_type, want_type_name = resolve_type(type_name, spec.package)
            repeated = cardinality in ("rep", "packed")
            want_label = FDP.LABEL_REPEATED if repeated else FDP.LABEL_OPTIONAL
            if cardinality.startswith("oneof:"):
                want_oneof = cardinality.removeprefix("oneof:")
                if want_oneof not in real_oneofs:
                    real_oneofs.append(want_oneof)
            elif cardinality == "opt":
                want_oneof = f"_{name}"
                synthetic_oneofs.append(want_oneof)
            elif cardinality not in ("", "msg", "rep", "packed"):
                raise AssertionError(f"bad cardinality {cardinality!r}")
            # Consistency of the table itself with proto3 rules.
            is_message = want_type == FDP.TYPE_MESSAGE
            if cardinality in ("msg", "opt") and not is_message:
                problems.append(f"{at}: reference says message field but type is scalar")
            if cardinality == "" and is_message:
                problems.append(f"{at}: reference says scalar but type is a message")
            if cardinality == "packed" and want_type in _LEN_TYPES:
                problems.append(f"{at}: reference says packed for a non-packable type")
            if cardinality == "rep" and want_type not in _LEN_TYPES:
                problems.append(f"{at}: proto3 would pack this repeated scalar")
        if (field.type, field.type_name) != (want_type, want_type_name):
            problems.append(
                f"{at}: type {field.type}/{field.type_name!r} != {want_type}/{want_type_name!r}"
            )
        if field.label != want_label:
            problems.append(f"{at}: label {field.label} != {want_label}")
        if field.proto3_optional != (cardinality == "opt"):
            problems.append(f"{at}: proto3_optional is {field.proto3_optional}")
        got_oneof = (
            message.oneof_decl[field.oneof_index].name if field.HasField("oneof_index") else None
        )
        if got_oneof != want_oneof:
            problems.append(f"{at}: oneof {got_oneof!r} != {want_oneof!r}")
        if expected_tag(number, want_type, cardinality) != bytes.fromhex(tag):
            problems.append(f"{at}: reference tag {tag} disagrees with number/type/cardinality")
    if sorted(nested) != sorted(entries):
        problems.append(f"{where}: nested messages {sorted(nested)} != map entries {entries}")
    if message.enum_type:
        problems.append(f"{where}: declares nested enums")
    got_oneofs = [o.name for o in message.oneof_decl]
    if got_oneofs != real_oneofs + synthetic_oneofs:
        problems.append(f"{where}: oneofs {got_oneofs} != {real_oneofs + synthetic_oneofs}")
    if (
        message.HasField("options")
        or message.extension_range
        or message.reserved_range
        or message.reserved_name
    ):
        problems.append(f"{where}: unexpected options/extension ranges/reserved")
    return problems


def enum_problems(
    spec: FileSpec, enum: descriptor_pb2.EnumDescriptorProto, values: list[EnumValue]
) -> list[str]:
    where = f"{spec.package}.{enum.name}"
    got = [(v.name, v.number) for v in enum.value]
    problems = [] if got == values else [f"{where}: values {got} != reference {values}"]
    if enum.HasField("options") or any(v.HasField("options") for v in enum.value):
        problems.append(f"{where}: unexpected enum options")
    return problems


def service_problems(spec: FileSpec, proto: descriptor_pb2.FileDescriptorProto) -> list[str]:
    problems: list[str] = []
    got_services = [s.name for s in proto.service]
    if got_services != list(spec.services):
        problems.append(f"{spec.path}: services {got_services} != {list(spec.services)}")
    for service in proto.service:
        want = [
            (name, f".{spec.package}.{req}", f".{spec.package}.{resp}", cs, ss)
            for name, req, resp, cs, ss in spec.services.get(service.name, [])
        ]
        got = [
            (m.name, m.input_type, m.output_type, m.client_streaming, m.server_streaming)
            for m in service.method
        ]
        if got != want:
            problems.append(f"{spec.package}.{service.name}: rpcs {got} != {want}")
        if service.HasField("options") or any(m.HasField("options") for m in service.method):
            problems.append(f"{spec.package}.{service.name}: unexpected options")
    return problems


# ---- tests ----

FILE_IDS = list(FILES)
MESSAGE_CASES = [
    pytest.param(key, name, id=f"{key}.{name}")
    for key, spec in FILES.items()
    for name in spec.messages
]
ENUM_CASES = [
    pytest.param(key, name, id=f"{key}.{name}")
    for key, spec in FILES.items()
    for name in spec.enums
]


def _message_proto(spec: FileSpec, name: str) -> descriptor_pb2.DescriptorProto:
    for message in file_proto(spec).message_type:
        if message.name == name:
            return message
    raise AssertionError(f"{spec.package}.{name} is not in the generated descriptor")


def test_reference_totals() -> None:
    """Section 9 of the reference: 93 messages (+8 map entries), 11 enums, 6 services, 24 RPCs."""
    specs = FILES.values()
    assert [len(s.messages) for s in specs] == [40, 51, 2]
    assert [len(s.enums) for s in specs] == [9, 1, 1]
    assert [len(s.services) for s in specs] == [0, 5, 1]
    assert sum(len(rpcs) for s in specs for rpcs in s.services.values()) == 24
    maps = [f for s in specs for fields in s.messages.values() for f in fields if f[3] == "map"]
    assert len(maps) == 8
    assert [len(values) for values in ENUMS_OPEN_DATA.values()] == [10, 6, 3, 3, 4, 3, 6, 3, 3]


@pytest.mark.parametrize("key", FILE_IDS)
def test_file_header_and_declaration_order(key: str) -> None:
    spec = FILES[key]
    assert file_problems(spec, file_proto(spec)) == []


@pytest.mark.parametrize(("key", "name"), MESSAGE_CASES)
def test_message_fields_match_reference(key: str, name: str) -> None:
    spec = FILES[key]
    assert message_problems(spec, _message_proto(spec, name), spec.messages[name]) == []


@pytest.mark.parametrize(("key", "name"), ENUM_CASES)
def test_enum_values_match_reference(key: str, name: str) -> None:
    spec = FILES[key]
    enum = next(e for e in file_proto(spec).enum_type if e.name == name)
    assert enum_problems(spec, enum, spec.enums[name]) == []


@pytest.mark.parametrize("key", FILE_IDS)
def test_services_match_reference(key: str) -> None:
    spec = FILES[key]
    assert service_problems(spec, file_proto(spec)) == []


def _renumber(m: descriptor_pb2.DescriptorProto) -> None:
    m.field[-1].number += 1


def _retype(m: descriptor_pb2.DescriptorProto) -> None:
    m.field[0].type = FDP.TYPE_BYTES


def _make_repeated(m: descriptor_pb2.DescriptorProto) -> None:
    m.field[1].label = FDP.LABEL_REPEATED


def _rename(m: descriptor_pb2.DescriptorProto) -> None:
    m.field[2].name = "essential"


def _into_oneof(m: descriptor_pb2.DescriptorProto) -> None:
    m.oneof_decl.add(name="x")
    m.field[3].oneof_index = 0


@pytest.mark.parametrize(
    "mutate",
    [_renumber, _retype, _make_repeated, _rename, _into_oneof],
)
def test_checker_detects_drift(mutate: Callable[[descriptor_pb2.DescriptorProto], None]) -> None:
    """The checker is not vacuous: any drift of Packet's descriptor is reported."""
    spec = FILES["open_data"]
    packet = descriptor_pb2.DescriptorProto()
    packet.CopyFrom(_message_proto(spec, "Packet"))
    assert message_problems(spec, packet, spec.messages["Packet"]) == []
    mutate(packet)
    assert message_problems(spec, packet, spec.messages["Packet"]) != []


def test_checker_detects_enum_and_service_drift() -> None:
    spec = FILES["api"]
    proto = file_proto(spec)
    proto.enum_type[0].value[1].number = 7
    assert enum_problems(spec, proto.enum_type[0], spec.enums["InfoType"]) != []
    proto.service[0].method[1].client_streaming = False
    assert service_problems(spec, proto) != []


def _sample(field: Any) -> Any:
    """A non-default value of the field's element type."""
    kind = field.type
    if kind == FieldDescriptor.TYPE_STRING:
        return "x"
    if kind == FieldDescriptor.TYPE_BYTES:
        return b"x"
    if kind == FieldDescriptor.TYPE_BOOL:
        return True
    if kind in (FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT):
        return 1.5
    return 1  # integer types and enums


def _with_only(cls: type[Message], name: str, cardinality: str) -> Message:
    """An instance of ``cls`` in which only field ``name`` is present."""
    msg = cls()
    field: Any = cls.DESCRIPTOR.fields_by_name[name]
    value: Any = getattr(msg, name)
    if cardinality == "map":
        key = _sample(field.message_type.fields_by_name["key"])
        value_field = field.message_type.fields_by_name["value"]
        if value_field.message_type is None:
            value[key] = _sample(value_field)
        else:
            value[key].SetInParent()
    elif cardinality in ("rep", "packed"):
        if field.message_type is None:
            value.append(_sample(field))
        else:
            value.add()
    elif field.message_type is not None:
        value.SetInParent()
    else:
        setattr(msg, name, _sample(field))
    return msg


FIELD_CASES = [
    pytest.param(key, message, row, id=f"{key}.{message}.{row[0]}")
    for key, spec in FILES.items()
    for message, rows in spec.messages.items()
    for row in rows
]


@pytest.mark.parametrize(("key", "message", "row"), FIELD_CASES)
def test_field_is_written_with_reference_tag(key: str, message: str, row: Field) -> None:
    """Serialising a message with just this field set starts with the reference tag."""
    spec = FILES[key]
    cls = getattr(spec.module, message)
    name, number, _, cardinality, tag = row
    assert getattr(cls, f"{name.upper()}_FIELD_NUMBER") == number
    field = cls.DESCRIPTOR.fields_by_name[name]
    assert field.is_packed == (cardinality == "packed")
    assert field.is_repeated == (cardinality in ("rep", "packed", "map"))
    assert field.has_presence == (cardinality in ("msg", "opt") or cardinality.startswith("oneof:"))
    msg = _with_only(cls, name, cardinality)
    data = msg.SerializeToString()
    assert data.startswith(bytes.fromhex(tag)), data.hex(" ")
    assert cls.FromString(data) == msg


@pytest.mark.parametrize("key", FILE_IDS)
def test_generated_module_exposes_every_type(key: str) -> None:
    spec = FILES[key]
    module = spec.module
    assert module.DESCRIPTOR.name == spec.path
    assert module.DESCRIPTOR.package == spec.package
    for name, rows in spec.messages.items():
        cls = getattr(module, name)
        assert cls.DESCRIPTOR.full_name == f"{spec.package}.{name}"
        # Classes live in the package module (generated imports were rewritten).
        assert cls.__module__ == module.__name__
        for field in cls.DESCRIPTOR.fields:
            camel = re.sub(r"_([a-z0-9])", lambda m: m[1].upper(), field.name)
            assert field.json_name == camel, (name, field.name)
        assert [f.name for f in cls.DESCRIPTOR.fields] == [r[0] for r in rows]
    for enum_name, values in spec.enums.items():
        wrapper = getattr(module, enum_name)
        for value_name, number in values:
            assert wrapper.Value(value_name) == number
            assert getattr(module, value_name) == number
    for service_name in spec.services:
        assert service_name in module.DESCRIPTOR.services_by_name


def test_package_module_names() -> None:
    package = "ma_dataplatforms_streaming_support_library.protos"
    assert open_data_pb2.__name__ == f"{package}.open_data_pb2"
    assert api_pb2.__name__ == f"{package}.api_pb2"
    assert key_generator_pb2.__name__ == f"{package}.key_generator_pb2"
    # api.proto's references resolve to the very same classes as open_data_pb2's.
    packet_field = api_pb2.DataPacketDetails.DESCRIPTOR.fields_by_name["message"]
    assert packet_field.message_type is open_data_pb2.Packet.DESCRIPTOR
