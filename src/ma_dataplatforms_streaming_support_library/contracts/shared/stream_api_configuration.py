"""StreamingApiConfiguration: where the broker is, how streams are laid out, and extra Kafka settings."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any, TypeGuard

from ...redaction import masked, shown
from .partition_mapping import PartitionMapping
from .retry_policy import RetryPolicy
from .stream_creation_strategy import StreamCreationStrategy

__all__ = [
    "MAX_PARTITION",
    "MAX_TIMEOUT_S",
    "StreamingApiConfiguration",
    "parse_partition_mappings",
]

_DEFAULT_INITIALISATION_TIMEOUT_S = 3
#: The highest partition a stream can map to. The main topic gets one partition more than the
#: highest mapping, and Kafka clusters commonly cap a topic well below the 32-bit partition field
#: (each partition costs the broker file handles and memory); 10,000 leaves room for any real
#: layout while keeping a mistyped number from asking the broker for millions of partitions.
MAX_PARTITION = 10_000
#: a stream name also names a topic (``<data_source>.<stream>``), which Kafka caps at 249
_MAX_STREAM_CHARS = 249
#: Timeouts longer than a year are refused: they mean "forever", which no wait needs, and
#: thread waits overflow on values near 1e9 s.
MAX_TIMEOUT_S = 365 * 24 * 3600


def _parse_properties(additional_properties: Any) -> tuple[dict[str, str], list[PartitionMapping]]:
    """Accept a dict, ``(key, value)`` pairs, ``"key=value"`` strings, or PartitionMapping items."""
    if additional_properties is None:
        return {}, []
    if isinstance(additional_properties, Mapping):
        items: Iterable[Any] = list(additional_properties.items())
    elif isinstance(additional_properties, (str, bytes)):
        raise TypeError(
            "additional_properties must be a dict, a list of (key, value) pairs or of 'key=value' "
            f"strings, got the string {shown(additional_properties)}"
        )
    else:
        try:
            items = list(additional_properties)
        except TypeError:
            raise TypeError(
                "additional_properties must be a dict or an iterable, "
                f"got {type(additional_properties).__name__}"
            ) from None
    properties: dict[str, str] = {}
    mappings: list[PartitionMapping] = []
    for item in items:
        if isinstance(item, PartitionMapping):
            mappings.append(item)
            continue
        if isinstance(item, str):
            key, sep, value = item.partition("=")
            if not sep:
                raise ValueError(
                    f"additional_properties: {shown(item)} is not of the form 'key=value'"
                )
        elif isinstance(item, tuple) and len(item) == 2:
            key, value = item
        else:
            raise ValueError(
                f"additional_properties: {shown(item)} is neither a (key, value) pair nor 'key=value'"
            )
        if not isinstance(key, str) or not key.strip():
            raise ValueError(
                f"additional_properties: property name {shown(key)} must be a non-empty str"
            )
        properties[key.strip()] = str(value).lower() if isinstance(value, bool) else str(value)
    return properties, mappings


def _mapping_pairs(partition_mappings: Any) -> list[Any]:
    if isinstance(partition_mappings, Mapping):
        return list(partition_mappings.items())
    if isinstance(partition_mappings, (str, bytes)) or not isinstance(partition_mappings, Iterable):
        raise TypeError(
            "partition_mappings must be a dict {stream: partition}, or a list of PartitionMapping "
            f"or (stream, partition) pairs, got {shown(partition_mappings)}"
        )
    pairs = []
    for item in partition_mappings:
        if isinstance(item, PartitionMapping):
            pairs.append((item.stream, item.partition))
        elif isinstance(item, tuple) and len(item) == 2:
            pairs.append(item)
        else:
            raise TypeError(
                f"partition_mappings: {shown(item)} is neither a PartitionMapping "
                "nor a (stream, partition) pair"
            )
        if len(pairs) > MAX_PARTITION:
            break
    return pairs


def parse_partition_mappings(partition_mappings: Any) -> dict[str, int]:
    """``{stream: partition}`` from a dict, PartitionMapping items or pairs; partitions are
    1 … ``MAX_PARTITION``, one stream each. Raises ``TypeError``/``ValueError`` naming the
    argument."""
    if partition_mappings is None:
        return {}
    pairs = _mapping_pairs(partition_mappings)
    if len(pairs) > MAX_PARTITION:
        raise ValueError(
            f"partition_mappings holds more than {MAX_PARTITION} streams; partitions are "
            f"1…{MAX_PARTITION}"
        )
    result: dict[str, int] = {}
    owner: dict[int, str] = {}
    for stream, partition in pairs:
        if not isinstance(stream, str) or not stream or len(stream) > _MAX_STREAM_CHARS:
            raise ValueError(
                f"partition_mappings: stream name {shown(stream)} must be a non-empty str of at "
                f"most {_MAX_STREAM_CHARS} characters"
            )
        if (
            isinstance(partition, bool)
            or not isinstance(partition, int)
            or not 1 <= partition <= MAX_PARTITION
        ):
            raise ValueError(
                f"partition_mappings: partition of stream {shown(stream)} must be an int in "
                f"1…{MAX_PARTITION} (partition 0 is the main stream), got {shown(partition)}"
            )
        if partition in owner and owner[partition] != stream:
            raise ValueError(
                f"partition_mappings: streams {shown(owner[partition])} and {shown(stream)} both "
                f"map to partition {partition}; one stream per partition"
            )
        owner[partition] = stream
        result[stream] = partition
    return result


def _is_seconds(value: object) -> TypeGuard[float]:
    """An int or float (not a bool) that is finite and at most ``MAX_TIMEOUT_S``."""
    return (
        not isinstance(value, bool)
        and isinstance(value, (int, float))
        and math.isfinite(value)
        and value <= MAX_TIMEOUT_S
    )


def _check_service_options(
    stream_api_port: object,
    integrate_session_management: object,
    integrate_data_format_management: object,
    use_remote_key_generator: object,
    remote_key_generator_service_address: object,
    batching_responses: object,
    initialisation_timeout_seconds: object,
) -> None:
    """Raise naming the first keyword-only Stream API option that has a wrong type or value."""
    if (
        isinstance(stream_api_port, bool)
        or not isinstance(stream_api_port, int)
        or not 0 <= stream_api_port <= 65535
    ):
        raise ValueError(f"stream_api_port must be an int in 0…65535, got {shown(stream_api_port)}")
    flags = {
        "integrate_session_management": integrate_session_management,
        "integrate_data_format_management": integrate_data_format_management,
        "use_remote_key_generator": use_remote_key_generator,
        "batching_responses": batching_responses,
    }
    for name, flag in flags.items():
        if not isinstance(flag, bool):
            raise TypeError(f"{name} must be a bool, got {shown(flag)}")
    if not isinstance(remote_key_generator_service_address, str):
        raise TypeError(
            "remote_key_generator_service_address must be a str, "
            f"got {type(remote_key_generator_service_address).__name__}"
        )
    if use_remote_key_generator and not remote_key_generator_service_address.strip():
        raise ValueError(
            "remote_key_generator_service_address must name the key generator (host:port) "
            "when use_remote_key_generator is True"
        )
    timeout = initialisation_timeout_seconds
    if not _is_seconds(timeout) or timeout < 0:
        raise ValueError(
            f"initialisation_timeout_seconds must be a number in 0…{MAX_TIMEOUT_S}, got {shown(timeout)}"
        )


class StreamingApiConfiguration:
    """Configuration of the support library.

    ``broker_list``: ``host:port[,host:port…]`` for Kafka, ``embedded:`` or ``embedded:PATH`` for the
    single-file store, ``""`` for the embedded default. ``additional_properties`` are librdkafka
    properties. ``partition_mappings`` (``{stream: partition}``, partitions >= 1) place streams on
    partitions of the main topic in PARTITION_BASE mode. ``timeout_seconds`` bounds every wait on
    the broker and is a reader's default idle timeout. ``retry_policy`` governs connecting and
    reconnecting to the broker (no policy: no retries).

    The keyword-only options of the C# Stream API configuration:

    * ``integrate_session_management=False``: no session management service (creating one fails
      with a message saying why) and writers do not check session keys against the sessions on
      the broker; packet readers still read ``SessionInfo`` to find the sessions they read.
    * ``integrate_data_format_management=False``: the essentials topics are not replayed, so only
      the data formats this library registers resolve; definitions are still published.
    * ``initialisation_timeout_seconds`` (default 3; values <= 1 mean 3): a start-up replay of the
      sessions or of a data source's formats that reads nothing for this long counts as finished.
      Replays normally end sooner, at the log's end offsets read when they start.
    * ``stream_api_port`` (default 13579; 0 lets the system choose) and ``batching_responses``
      (group streamed gRPC responses) configure the gRPC Stream API server.
    * ``use_remote_key_generator`` with ``remote_key_generator_service_address`` (``host:port``):
      session keys and data format ids from the key generator service.
    """

    def __init__(
        self,
        broker_list: str = "localhost:9092",
        stream_creation_strategy: StreamCreationStrategy = StreamCreationStrategy.PARTITION_BASE,
        additional_properties: Any = None,
        timeout_seconds: float = 10,
        *,
        partition_mappings: Mapping[str, int] | Iterable[Any] | None = None,
        retry_policy: RetryPolicy | None = None,
        stream_api_port: int = 13579,
        integrate_session_management: bool = True,
        integrate_data_format_management: bool = True,
        use_remote_key_generator: bool = False,
        remote_key_generator_service_address: str = "",
        batching_responses: bool = False,
        initialisation_timeout_seconds: float = _DEFAULT_INITIALISATION_TIMEOUT_S,
    ) -> None:
        if broker_list is None:
            broker_list = ""
        if not isinstance(broker_list, str):
            raise TypeError(f"broker_list must be a str, got {type(broker_list).__name__}")
        try:
            strategy = StreamCreationStrategy(stream_creation_strategy)
        except ValueError:
            raise ValueError(
                "stream_creation_strategy must be StreamCreationStrategy.PARTITION_BASE (1) or "
                f"TOPIC_BASE (2), got {shown(stream_creation_strategy)}"
            ) from None
        if not _is_seconds(timeout_seconds) or timeout_seconds <= 0:
            raise ValueError(
                f"timeout_seconds must be a positive number of at most {MAX_TIMEOUT_S}, got {shown(timeout_seconds)}"
            )
        if retry_policy is not None and not isinstance(retry_policy, RetryPolicy):
            raise TypeError(
                f"retry_policy must be a RetryPolicy, got {type(retry_policy).__name__}"
            )
        _check_service_options(
            stream_api_port,
            integrate_session_management,
            integrate_data_format_management,
            use_remote_key_generator,
            remote_key_generator_service_address,
            batching_responses,
            initialisation_timeout_seconds,
        )
        properties, slot_mappings = _parse_properties(additional_properties)
        mappings = parse_partition_mappings(slot_mappings or None)
        mappings.update(parse_partition_mappings(partition_mappings))
        self.broker_list = broker_list.strip()
        self.stream_creation_strategy = strategy
        self.additional_properties: dict[str, str] = properties
        self.timeout_seconds = float(timeout_seconds)
        self.partition_mappings: dict[str, int] = mappings
        self.retry_policy = retry_policy
        self.stream_api_port = stream_api_port
        self.integrate_session_management = integrate_session_management
        self.integrate_data_format_management = integrate_data_format_management
        self.use_remote_key_generator = use_remote_key_generator
        self.remote_key_generator_service_address = remote_key_generator_service_address
        self.batching_responses = batching_responses
        self.initialisation_timeout_seconds = initialisation_timeout_seconds

    @property
    def effective_initialisation_timeout_seconds(self) -> float:
        """``initialisation_timeout_seconds`` as the Stream API applies it: values <= 1 mean 3."""
        value = float(self.initialisation_timeout_seconds)
        return value if value > 1 else float(_DEFAULT_INITIALISATION_TIMEOUT_S)

    def redacted_properties(self) -> dict[str, object]:
        """``additional_properties`` with secret values masked (redaction.py's rule), safe to log."""
        return masked(self.additional_properties)

    def __repr__(self) -> str:
        return (
            f"StreamingApiConfiguration(broker_list={self.broker_list!r}, "
            f"stream_creation_strategy={self.stream_creation_strategy.name}, "
            f"additional_properties={self.redacted_properties()!r}, "
            f"timeout_seconds={self.timeout_seconds!r}, "
            f"partition_mappings={self.partition_mappings!r})"
        )
