"""Transports: the embedded single-file store (default) and Kafka, chosen by the broker list."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping

from .base import Consumer, DeliveryFailure, Record, TopicPartition, Transport, TransportError
from .embedded import EmbeddedTransport, default_store_path

__all__ = [
    "BROKER_ENVIRONMENT_VARIABLE",
    "Consumer",
    "DeliveryFailure",
    "EmbeddedTransport",
    "Record",
    "TopicPartition",
    "Transport",
    "TransportError",
    "default_store_path",
    "effective_broker_list",
    "open_transport",
]

logger = logging.getLogger(__name__)

BROKER_ENVIRONMENT_VARIABLE = "MA_STREAMING_BROKER"
_EMBEDDED_PREFIX = "embedded:"
_override_logged: set[str] = set()


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


def open_transport(
    broker_list: str, properties: Mapping[str, str] | None = None, timeout_s: float = 10.0
) -> Transport:
    """Open the transport a broker list names.

    ``host:port[,host:port…]`` → Kafka; ``embedded:`` or ``embedded:PATH`` → the single-file store
    (``default_store_path()`` when no path); ``""`` → the embedded default.
    """
    broker_list = effective_broker_list(broker_list or "").strip()
    if not broker_list or broker_list.startswith(_EMBEDDED_PREFIX):
        path = broker_list[len(_EMBEDDED_PREFIX) :].strip() or None
        return EmbeddedTransport(path, timeout_s=timeout_s)
    from .kafka import KafkaTransport

    return KafkaTransport(broker_list, dict(properties or {}), timeout_s=timeout_s)
