"""Broker quirks: workarounds that only the two Kafka-protocol test brokers need, behind a profile.

=========  ==========================================================================================
profile    workarounds
=========  ==========================================================================================
``none``   none: a real Kafka or Redpanda cluster answers ListOffsets and offsets_for_times right
           and holds a fetch at the end of a partition for ``fetch.wait.max.ms``
``noida``  *partition parking* (parking.py): noida-db answers a fetch at the end of a partition at
           once, so an idle consumer would re-fetch back to back and burn a core
``tansu``  *offset verification* (offsets.py): tansu's ListOffsets LATEST counts each stored batch
           as one record and its offsets_for_times answers from its own write time, so both are
           checked against what a fetch sees
=========  ==========================================================================================

The profile comes from the additional property ``ma.broker.quirks`` (``auto``, the default,
``none``, ``noida`` or ``tansu``), which the transport removes before the properties reach
librdkafka. ``auto`` asks the broker for its configuration (DescribeConfigs) once at connect and
recognises the emulators by their answer: tansu reports no broker configuration at all, noida-db
only the three entries in ``_NOIDA_BROKER_CONFIGS``; a real broker reports hundreds. Anything
else, or a broker that refuses to answer, gets ``none``: a real cluster never pays for a test
broker's bugs.
"""

from __future__ import annotations

import concurrent.futures
import logging
from collections.abc import Collection, Mapping
from dataclasses import dataclass

import confluent_kafka

# ConfigResource and ResourceType are public but missing from confluent_kafka.admin's __all__.
from confluent_kafka.admin import (  # type: ignore[attr-defined]
    AdminClient,
    ConfigResource,
    ResourceType,
)

from ...errors import ConfigurationError
from .config import KafkaClientConfig

__all__ = [
    "PROFILES",
    "QUIRKS_PROPERTY",
    "BrokerQuirks",
    "detect_quirks",
    "quirks_of_configs",
    "split_quirks_setting",
]

logger = logging.getLogger(__name__)

QUIRKS_PROPERTY = "ma.broker.quirks"
_AUTO = "auto"


@dataclass(frozen=True)
class BrokerQuirks:
    """Which broker workarounds the Kafka transport applies."""

    name: str
    #: check ListOffsets and offsets_for_times answers against a fetch (offsets.py)
    verify_offsets: bool
    #: unassign partitions idle at their end for a moment (parking.py)
    park_idle_partitions: bool


PROFILES: Mapping[str, BrokerQuirks] = {
    "none": BrokerQuirks("none", verify_offsets=False, park_idle_partitions=False),
    "noida": BrokerQuirks("noida", verify_offsets=False, park_idle_partitions=True),
    "tansu": BrokerQuirks("tansu", verify_offsets=True, park_idle_partitions=False),
}

_NOIDA_BROKER_CONFIGS = frozenset(
    {"auto.create.topics.enable", "default.replication.factor", "num.partitions"}
)


def split_quirks_setting(properties: Mapping[str, str]) -> tuple[str, dict[str, str]]:
    """``ma.broker.quirks`` (``auto`` if absent) and the other properties, meant for librdkafka.

    Raises ``ConfigurationError`` for a value other than auto or a profile name.
    """
    rest = dict(properties)
    setting = str(rest.pop(QUIRKS_PROPERTY, _AUTO)).strip().lower() or _AUTO
    if setting != _AUTO and setting not in PROFILES:
        raise ConfigurationError(
            f"additional property {QUIRKS_PROPERTY}={setting[:40]!r} is not one of "
            f"{', '.join([_AUTO, *PROFILES])}"
        )
    return setting, rest


def quirks_of_configs(config_names: Collection[str]) -> BrokerQuirks:
    """The profile a broker's DescribeConfigs answer (its config names) points to."""
    if not config_names:
        return PROFILES["tansu"]
    if set(config_names) <= _NOIDA_BROKER_CONFIGS:
        return PROFILES["noida"]
    return PROFILES["none"]


def detect_quirks(admin: AdminClient, config: KafkaClientConfig, timeout_s: float) -> BrokerQuirks:
    """Ask one broker of the cluster for its configuration and pick the profile it points to."""
    location = f"kafka:{config.bootstrap_servers}"
    try:
        metadata = admin.list_topics(timeout=timeout_s)
        broker = ConfigResource(ResourceType.BROKER, str(min(metadata.brokers)))
        futures = admin.describe_configs([broker], request_timeout=timeout_s)
        names = futures[broker].result(timeout=timeout_s + 1)
    except (
        confluent_kafka.KafkaException,
        concurrent.futures.TimeoutError,
        ValueError,
    ) as exc:
        logger.info(
            "%s did not describe its configuration (%s); no broker workarounds",
            location,
            config.scrub(str(exc)),
        )
        return PROFILES["none"]
    finally:
        admin.poll(0)
    quirks = quirks_of_configs(names)
    logger.info("%s: broker quirks profile %r (detected)", location, quirks.name)
    return quirks
