"""The C# Stream API server's AppConfig.json, read into a StreamingApiConfiguration."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..contracts.shared.stream_api_configuration import StreamingApiConfiguration
from ..contracts.shared.stream_creation_strategy import StreamCreationStrategy
from ..errors import ConfigurationError

__all__ = ["load_app_config"]

# AppConfig.json key → (StreamingApiConfiguration keyword, expected JSON type)
_KEYS: dict[str, tuple[str, type]] = {
    "IntegrateSessionManagement": ("integrate_session_management", bool),
    "IntegrateDataFormatManagement": ("integrate_data_format_management", bool),
    "UseRemoteKeyGenerator": ("use_remote_key_generator", bool),
    "RemoteKeyGeneratorServiceAddress": ("remote_key_generator_service_address", str),
    "BatchingResponses": ("batching_responses", bool),
    "StreamApiPort": ("stream_api_port", int),
    "InitialisationTimeoutSeconds": ("initialisation_timeout_seconds", int),
}


def _mappings(value: Any, path: Path) -> dict[str, int]:
    if not isinstance(value, list):
        raise ConfigurationError(f"{path}: PartitionMappings must be a list, got {value!r}")
    mappings: dict[str, int] = {}
    for index, item in enumerate(value):
        if not isinstance(item, dict) or "Stream" not in item or "Partition" not in item:
            raise ConfigurationError(
                f'{path}: PartitionMappings[{index}] must be {{"Stream": ..., "Partition": ...}}'
            )
        mappings[item["Stream"]] = item["Partition"]
    return mappings


def load_app_config(path: str | Path, broker_list: str | None = None) -> StreamingApiConfiguration:
    """A configuration from the C# server's AppConfig.json keys, with their meaning there.

    ``broker_list``, when given, replaces ``BrokerUrl``. Unknown keys are rejected, so a typo
    does not pass silently. Raises ``ConfigurationError`` naming the file and the key."""
    path = Path(path)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigurationError(f"cannot read {path}: {exc}") from exc
    if not isinstance(document, dict):
        raise ConfigurationError(f"{path}: expected a JSON object")
    unknown = sorted(
        set(document) - {*_KEYS, "StreamCreationStrategy", "BrokerUrl", "PartitionMappings"}
    )
    if unknown:
        raise ConfigurationError(f"{path}: unknown key(s) {', '.join(unknown)}")
    options: dict[str, Any] = {}
    for key, (keyword, kind) in _KEYS.items():
        if key in document:
            value = document[key]
            if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
                raise ConfigurationError(f"{path}: {key} must be a {kind.__name__}, got {value!r}")
            options[keyword] = value
    broker = broker_list if broker_list is not None else document.get("BrokerUrl", "localhost:9092")
    try:
        return StreamingApiConfiguration(
            broker,
            StreamCreationStrategy(document.get("StreamCreationStrategy", 1)),
            partition_mappings=_mappings(document.get("PartitionMappings", []), path),
            **options,
        )
    except (TypeError, ValueError) as exc:
        raise ConfigurationError(f"{path}: {exc}") from exc
