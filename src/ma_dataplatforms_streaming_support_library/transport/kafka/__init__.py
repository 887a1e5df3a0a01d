"""The Kafka transport on confluent-kafka: client configuration, consumer, offsets, broker quirks."""

from .transport import KafkaTransport

__all__ = ["KafkaTransport"]
