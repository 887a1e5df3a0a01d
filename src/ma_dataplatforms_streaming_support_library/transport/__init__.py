"""Transports: the embedded single-file store (default), Kafka and an in-process log, chosen by the
broker list through the scheme registry (registry.py)."""

from __future__ import annotations

from .base import Consumer, DeliveryFailure, Record, TopicPartition, Transport, TransportError
from .embedded import EmbeddedTransport, default_store_path
from .registry import (
    BROKER_ENVIRONMENT_VARIABLE,
    BrokerAddress,
    effective_broker_list,
    known_schemes,
    open_transport,
    parse_broker_list,
)

__all__ = [
    "BROKER_ENVIRONMENT_VARIABLE",
    "BrokerAddress",
    "Consumer",
    "DeliveryFailure",
    "EmbeddedTransport",
    "Record",
    "TopicPartition",
    "Transport",
    "TransportError",
    "default_store_path",
    "effective_broker_list",
    "known_schemes",
    "open_transport",
    "parse_broker_list",
]
