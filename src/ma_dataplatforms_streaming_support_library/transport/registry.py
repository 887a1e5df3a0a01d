"""Which transport a broker list names: one parser and a registry of openers keyed by scheme.

Rules of ``parse_broker_list`` (after ``MA_STREAMING_BROKER``, which overrides any broker list):

- ``SCHEME:LOCATION`` or a bare ``SCHEME`` with a registered scheme → that scheme (``embedded:PATH``, ``memory:NAME``,
  ``kafka://host:port[,…]``; the location may be empty);
- empty, a path ending in ``.db``, or the path of an existing file → ``embedded``;
- ``host[:port][,host[:port]…]`` → ``kafka`` (each item may start with a security protocol,
  ``SASL_SSL://host:port``, as librdkafka allows);
- anything else (``foo://…``, ``foo:bar``) → ``ConfigurationError`` naming the known schemes.

A new transport registers one opener in ``_OPENERS`` below; nothing else changes.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigurationError
from .base import Transport

__all__ = [
    "BROKER_ENVIRONMENT_VARIABLE",
    "BrokerAddress",
    "effective_broker_list",
    "known_schemes",
    "open_transport",
    "parse_broker_list",
]

logger = logging.getLogger(__name__)

BROKER_ENVIRONMENT_VARIABLE = "MA_STREAMING_BROKER"
_override_logged: set[str] = set()

_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):(.*)", re.DOTALL)
# One item of a Kafka bootstrap list as librdkafka reads it: an optional security protocol, a host
# name or [IPv6] address, an optional port.
_KAFKA_SERVER = re.compile(
    r"(?:(?:plaintext|ssl|sasl_plaintext|sasl_ssl)://)?"
    r"(?:[A-Za-z0-9._-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class BrokerAddress:
    """A parsed broker list: the transport's scheme and where it is (path, servers, log name)."""

    scheme: str
    location: str

    def __str__(self) -> str:
        return f"{self.scheme}:{self.location}"


def effective_broker_list(broker_list: str) -> str:
    """``broker_list``, unless ``MA_STREAMING_BROKER`` overrides it (logged once per value)."""
    override = os.environ.get(BROKER_ENVIRONMENT_VARIABLE)
    if override is None or override.strip() == broker_list:
        return broker_list
    if override not in _override_logged:
        _override_logged.add(override)
        logger.info(
            "%s=%r overrides the configured broker list %r",
            BROKER_ENVIRONMENT_VARIABLE,
            override,
            broker_list,
        )
    return override.strip()


def parse_broker_list(broker_list: str) -> BrokerAddress:
    """The transport ``broker_list`` names (see the module docstring for the rules)."""
    text = effective_broker_list(broker_list or "").strip()
    if not text:
        return BrokerAddress("embedded", "")
    if text.lower() in _OPENERS:  # a bare scheme: "memory", "embedded"
        return BrokerAddress(text.lower(), "")
    prefixed = _SCHEME.fullmatch(text)
    if prefixed is not None and prefixed[1].lower() in _OPENERS:
        scheme, location = prefixed[1].lower(), prefixed[2].strip()
        if scheme == "kafka":
            location = ",".join(_without_kafka_prefix(item) for item in location.split(","))
        return BrokerAddress(scheme, location)
    if text.lower().endswith(".db") or Path(text).expanduser().is_file():
        return BrokerAddress("embedded", text)
    servers = [item.strip() for item in text.split(",")]
    if all(_KAFKA_SERVER.fullmatch(server) for server in servers):
        return BrokerAddress("kafka", ",".join(servers))
    raise ConfigurationError(
        f"broker_list {text[:200]!r} names no known transport: expected host:port[,host:port…] "
        f"(Kafka), a path ending in .db, or one of the schemes "
        f"{', '.join(f'{scheme}:' for scheme in known_schemes())}"
    )


def _without_kafka_prefix(server: str) -> str:
    server = server.strip()
    for prefix in ("kafka://", "//"):
        if server.lower().startswith(prefix):
            return server[len(prefix) :]
    return server


def known_schemes() -> tuple[str, ...]:
    """The registered schemes, sorted."""
    return tuple(sorted(_OPENERS))


def open_transport(
    broker_list: str, properties: Mapping[str, str] | None = None, timeout_s: float = 10.0
) -> Transport:
    """Open the transport a broker list names (``parse_broker_list``).

    Raises ``ConfigurationError`` for a broker list naming no transport and ``TransportError``
    when the transport cannot be opened.
    """
    address = parse_broker_list(broker_list)
    return _OPENERS[address.scheme](address, dict(properties or {}), timeout_s)


# openers: import lazily, so that a transport's dependencies load only when it is used ---------
_Opener = Callable[[BrokerAddress, dict[str, str], float], Transport]


def _open_embedded(
    address: BrokerAddress, _properties: dict[str, str], timeout_s: float
) -> Transport:
    from .embedded import EmbeddedTransport

    return EmbeddedTransport(address.location or None, timeout_s=timeout_s)


def _open_kafka(address: BrokerAddress, properties: dict[str, str], timeout_s: float) -> Transport:
    from .kafka import KafkaTransport

    return KafkaTransport(address.location, properties, timeout_s=timeout_s)


def _open_memory(
    address: BrokerAddress, _properties: dict[str, str], timeout_s: float
) -> Transport:
    from .memory import MemoryTransport

    return MemoryTransport(address.location or None)


_OPENERS: dict[str, _Opener] = {
    "embedded": _open_embedded,
    "kafka": _open_kafka,
    "memory": _open_memory,
}
