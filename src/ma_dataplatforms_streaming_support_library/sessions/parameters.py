"""Parameter definitions of a written session, and the ATLAS-ready ConfigurationPacket built from them."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from ..errors import ConfigurationError
from ..protos import open_data_pb2 as pb

__all__ = [
    "Parameter",
    "configuration_packets",
    "parameter_of",
    "split_identifier",
    "stream_of_all",
]


@dataclass(frozen=True, slots=True)
class Parameter:
    """How a parameter is described to ATLAS and other readers of the session's configuration.

    ``units``, ``format`` (printf-like, e.g. ``"%5.1f"``), ``min``/``max`` (expected range) and
    ``warning_min``/``warning_max`` are display hints; ``frequency_hz`` is the nominal rate;
    ``group`` names the group the parameter is listed under (default: its application, the part
    of the identifier after ``:``); ``stream`` is the stream its packets go to (``""``, the main
    stream, by default). ``name`` defaults to the identifier's part before ``:``.
    """

    units: str = ""
    frequency_hz: float | None = None
    min: float | None = None
    max: float | None = None
    warning_min: float | None = None
    warning_max: float | None = None
    format: str = ""
    group: str = ""
    description: str = ""
    name: str = ""
    stream: str = ""

    def check(self, identifier: str) -> None:
        """Raises ``ConfigurationError`` naming the parameter and field of a bad value."""
        if not identifier:
            raise ConfigurationError("parameter identifier must not be empty")
        if self.frequency_hz is not None and not (
            math.isfinite(self.frequency_hz) and self.frequency_hz > 0
        ):
            raise ConfigurationError(
                f"parameter {identifier!r}: frequency_hz must be a finite number > 0, "
                f"got {self.frequency_hz!r}"
            )
        for field_name in ("min", "max", "warning_min", "warning_max"):
            value = getattr(self, field_name)
            if value is not None and not isinstance(value, (int, float)):
                raise ConfigurationError(
                    f"parameter {identifier!r}: {field_name} must be a number, got {value!r}"
                )
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ConfigurationError(
                f"parameter {identifier!r}: min {self.min} is above max {self.max}"
            )


def split_identifier(identifier: str) -> tuple[str, str]:
    """``"vCar:Chassis"`` → (``"vCar"``, ``"Chassis"``); no ``:`` → (identifier, ``""``)."""
    name, _, application = identifier.partition(":")
    return name, application


def _definition(identifier: str, parameter: Parameter) -> pb.ParameterDefinition:
    name, application = split_identifier(identifier)
    definition = pb.ParameterDefinition(
        identifier=identifier,
        name=parameter.name or name,
        application_name=application,
        description=parameter.description,
        units=parameter.units,
        data_type=pb.DATA_TYPE_FLOAT64,
        format_string=parameter.format,
    )
    group = parameter.group or application
    if group:
        definition.groups.append(group)
    for field_name, value in (
        ("min_value", parameter.min),
        ("max_value", parameter.max),
        ("warning_min_value", parameter.warning_min),
        ("warning_max_value", parameter.warning_max),
    ):
        if value is not None:
            setattr(definition, field_name, float(value))
    if parameter.frequency_hz is not None:
        definition.frequencies.append(float(parameter.frequency_hz))
    return definition


def parameter_of(definition: pb.ParameterDefinition) -> Parameter:
    """A ParameterDefinition read from a session, as the Parameter that would write it."""
    name, _ = split_identifier(definition.identifier)
    return Parameter(
        units=definition.units,
        frequency_hz=definition.frequencies[0] if definition.frequencies else None,
        min=definition.min_value,
        max=definition.max_value,
        warning_min=definition.warning_min_value,
        warning_max=definition.warning_max_value,
        format=definition.format_string,
        group=definition.groups[0] if definition.groups else "",
        description=definition.description,
        name="" if definition.name == name else definition.name,
    )


def _groups(definitions: Iterable[pb.ParameterDefinition]) -> list[pb.GroupDefinition]:
    groups: dict[str, str] = {}
    for definition in definitions:
        for group in definition.groups:
            groups.setdefault(group, definition.application_name)
    return [
        pb.GroupDefinition(identifier=group, name=group, application_name=application)
        for group, application in groups.items()
    ]


def configuration_packets(
    config_id: str, parameters: Mapping[str, Parameter], max_bytes: int
) -> list[pb.ConfigurationPacket]:
    """The parameters' ConfigurationPacket; split into numbered partial packets (1 of N, …) of
    at most about ``max_bytes`` each when one would be larger."""
    definitions = [_definition(i, p) for i, p in parameters.items()]
    whole = pb.ConfigurationPacket(
        config_id=config_id,
        parameter_definitions=definitions,
        group_definitions=_groups(definitions),
    )
    if whole.ByteSize() <= max_bytes:
        return [whole]
    parts: list[list[pb.ParameterDefinition]] = [[]]
    size = 0
    for definition in definitions:
        grown = definition.ByteSize() + 4
        if parts[-1] and size + grown > max_bytes // 2:
            parts.append([])
            size = 0
        parts[-1].append(definition)
        size += grown
    return [
        pb.ConfigurationPacket(
            config_id=config_id,
            parameter_definitions=part,
            group_definitions=_groups(part),
            partial_packet=True,
            packet_number=number,
            total_packet_number=len(parts),
        )
        for number, part in enumerate(parts, start=1)
    ]


def stream_of_all(identifiers: Sequence[str], parameters: Mapping[str, Parameter]) -> str:
    """The one stream every parameter of a packet goes to; ``ConfigurationError`` if they differ."""
    streams = {parameters[i].stream for i in identifiers}
    if len(streams) > 1:
        raise ConfigurationError(
            f"parameters {list(identifiers)} are on different streams {sorted(streams)}; "
            "write each stream's parameters in their own call"
        )
    return streams.pop() if streams else ""
