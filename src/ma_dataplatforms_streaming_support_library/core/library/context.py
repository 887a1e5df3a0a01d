"""LibraryContext: what every service of one support library shares (configuration, transport, registries)."""

from __future__ import annotations

import threading
from collections.abc import Iterable

from ...contracts.shared.stream_api_configuration import StreamingApiConfiguration
from ...layout import data_source_topics
from ...transport import open_transport
from ..base.retry import with_retries
from ..data_format_management.catalog import DataFormatCatalog
from ..session_management.registry import SessionRegistry
from .keys import key_generator_for

__all__ = ["LibraryContext"]


class LibraryContext:
    """Owns the transport and the session and data-format registries built on it.

    The first connection is retried as the configuration's retry policy allows; the registries
    reconnect under the same policy. Their start-up replays count as finished once idle for
    ``initialisation_timeout_seconds`` (values <= 1 mean 3, as in the Stream API), and with
    ``integrate_data_format_management=False`` the data format registry does not replay the
    essentials topics at all.
    """

    def __init__(self, configuration: StreamingApiConfiguration) -> None:
        self.configuration = configuration
        self.timeout_s = configuration.timeout_seconds
        policy = configuration.retry_policy
        self.transport = with_retries(
            lambda: open_transport(
                configuration.broker_list, configuration.additional_properties, self.timeout_s
            ),
            policy,
            "connecting to the broker",
        )
        #: mints session keys and data format ids (here, or a remote key generator service)
        self.keys = key_generator_for(configuration)
        replay_idle_s = configuration.effective_initialisation_timeout_seconds
        self.sessions = SessionRegistry(self.transport, self.timeout_s, policy, replay_idle_s)
        self.data_formats = DataFormatCatalog(
            self.transport,
            self.timeout_s,
            policy,
            replay_idle_s,
            replay=configuration.integrate_data_format_management,
            new_id=self.keys.format_id,
        )
        self._known_topics: set[str] = set()
        self._topics_lock = threading.Lock()

    def ensure_topics(self, data_source: str, streams: Iterable[str] = ()) -> None:
        """Create the topics of a data source (and its stream topics) once per process."""
        wanted = data_source_topics(
            data_source,
            self.configuration.stream_creation_strategy,
            self.configuration.partition_mappings,
            streams,
        )
        with self._topics_lock:
            missing = {topic: n for topic, n in wanted.items() if topic not in self._known_topics}
            if not missing:
                return
            self.transport.create_topics(missing)
            self._known_topics.update(missing)

    def close(self) -> None:
        followers = (self.sessions, self.data_formats)
        # Both stop at once: each one's thread may be finishing a poll (a Kafka poll is not woken).
        for follower in followers:
            follower.request_stop()
        for follower in followers:
            follower.stop()
        self.transport.close()
        self.keys.close()
