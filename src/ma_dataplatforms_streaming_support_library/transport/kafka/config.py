"""librdkafka settings for the Kafka transport: our defaults, the user's properties, secrets masked.

Merge rule, per client (producer, consumer, admin):

1. our defaults (below) for that client;
2. the user's ``properties`` verbatim on top — a user value wins over a default;
3. the *fixed* settings last. These are what the transport's guarantees rest on, so a user value
   for them is ignored with a warning (``overridden_user_properties`` names them):

   - every client: ``bootstrap.servers`` (the broker list is the transport's address);
   - producer: ``enable.idempotence=true`` and ``acks=all`` (no record lost or duplicated when a
     broker connection drops and librdkafka retries);
   - consumer: a fresh random ``group.id``, ``enable.auto.commit=false`` and
     ``enable.auto.offset.store=false`` (positions are always explicit: partitions are assigned
     manually and nothing is ever committed).

Property values are passed to librdkafka unchanged, so unknown keys and bad values are reported by
librdkafka itself when the client is created. Secrets (the rule is in redaction.py) never reach a
log line: ``masked_properties()`` and ``repr()`` replace them, and ``scrub()`` removes their values
from any text (e.g. a librdkafka error message).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ...redaction import masked, scrub

__all__ = ["CONSUMER_DEFAULTS", "PRODUCER_DEFAULTS", "KafkaClientConfig"]

#: The Stream API producers' own settings (zstd, client id) plus what our guarantees need.
PRODUCER_DEFAULTS: Mapping[str, str] = {
    "compression.type": "zstd",
    "client.id": "ma-streaming",
    # Topics are created explicitly with their partition counts (as the C# route manager does);
    # a record for a missing topic must fail, not create a broker-default topic behind our back.
    "allow.auto.create.topics": "false",
}
_PRODUCER_FIXED: Mapping[str, str] = {"enable.idempotence": "true", "acks": "all"}

CONSUMER_DEFAULTS: Mapping[str, str] = {
    "client.id": "ma-streaming",
    # An assigned offset that retention already removed restarts at the oldest record kept.
    "auto.offset.reset": "earliest",
    # Never used for group membership (we assign manually), but valid on every broker and short
    # enough that tansu does not hold a join for 23 s if a user's code ever subscribes.
    "session.timeout.ms": "6000",
    # A live reader waits at most this long for a fetch to fill; it also bounds brokers (tansu)
    # that hold a fetch the full wait per idle partition, which stalls followers of many topics.
    "fetch.wait.max.ms": "50",
}
_CONSUMER_FIXED: Mapping[str, str] = {
    "enable.auto.commit": "false",
    "enable.auto.offset.store": "false",
}

ADMIN_DEFAULTS: Mapping[str, str] = {"client.id": "ma-streaming"}

_SECURED_PROTOCOLS = ("SSL", "SASL_SSL", "SASL_PLAINTEXT")


@dataclass(frozen=True)
class KafkaClientConfig:
    """The broker list and the user's librdkafka properties, turned into per-client settings."""

    bootstrap_servers: str
    properties: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # A private copy: later changes to the caller's mapping must not change our clients.
        object.__setattr__(self, "properties", dict(self.properties))

    def producer(self) -> dict[str, Any]:
        return self._merge(PRODUCER_DEFAULTS, _PRODUCER_FIXED)

    def consumer(self, group_id: str) -> dict[str, Any]:
        return self._merge(CONSUMER_DEFAULTS, {"group.id": group_id, **_CONSUMER_FIXED})

    def admin(self) -> dict[str, Any]:
        return self._merge(ADMIN_DEFAULTS, {})

    def overridden_user_properties(self) -> list[str]:
        """User keys whose value the transport replaces (see the module docstring)."""
        fixed = {"bootstrap.servers", "group.id", *_PRODUCER_FIXED, *_CONSUMER_FIXED}
        mine = {"bootstrap.servers": self.bootstrap_servers, **_PRODUCER_FIXED, **_CONSUMER_FIXED}
        return sorted(
            key
            for key in self.properties
            if key in fixed and str(self.properties[key]).lower() != mine.get(key, "").lower()
        )

    def security_hint(self) -> str:
        """A hint for a failed connection when TLS or SASL is configured, else ``""``: a client
        speaking TLS or SASL to a plaintext listener sees only a broken connection."""
        protocol = str(self.properties.get("security.protocol", "")).upper()
        if protocol not in _SECURED_PROTOCOLS:
            return ""
        return (
            f" (security.protocol is {protocol}: check that the broker's listener at "
            f"{self.bootstrap_servers} expects {protocol}; a plaintext listener drops such "
            "connections)"
        )

    def masked_properties(self) -> dict[str, object]:
        return masked(self.properties)

    def scrub(self, text: str) -> str:
        return scrub(text, self.properties)

    def _merge(self, defaults: Mapping[str, str], fixed: Mapping[str, str]) -> dict[str, Any]:
        merged: dict[str, Any] = dict(defaults)
        merged.update(self.properties)
        merged.update(fixed)
        merged["bootstrap.servers"] = self.bootstrap_servers
        return merged

    def __repr__(self) -> str:
        return (
            f"KafkaClientConfig(bootstrap_servers={self.bootstrap_servers!r}, "
            f"properties={self.masked_properties()!r})"
        )
