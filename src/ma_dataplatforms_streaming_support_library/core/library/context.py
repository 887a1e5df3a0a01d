"""LibraryContext: what every service of one support library shares (configuration, transport, registries)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable

from ...contracts.shared.retry_mode import RetryMode
from ...contracts.shared.stream_api_configuration import StreamingApiConfiguration
from ...errors import TransportError
from ...layout import data_source_topics
from ...transport import open_transport
from ...transport.base import Transport
from ..base.logger import ILogger
from ..data_format_management.catalog import DataFormatCatalog
from ..session_management.registry import SessionRegistry

__all__ = ["LibraryContext"]

logger = logging.getLogger(__name__)


class LibraryContext:
    """Owns the transport and the session and data-format registries built on it."""

    def __init__(self, configuration: StreamingApiConfiguration, library_logger: ILogger) -> None:
        self.configuration = configuration
        self.logger = library_logger
        self.timeout_s = configuration.timeout_seconds
        self.transport = self._open_with_retries()
        self.sessions = SessionRegistry(self.transport, self.timeout_s)
        self.data_formats = DataFormatCatalog(self.transport, self.timeout_s)
        self._known_topics: set[str] = set()
        self._topics_lock = threading.Lock()

    def _open_with_retries(self) -> Transport:
        policy = self.configuration.retry_policy
        attempt = 0
        while True:
            try:
                return open_transport(
                    self.configuration.broker_list,
                    self.configuration.additional_properties,
                    self.timeout_s,
                )
            except TransportError as exc:
                attempt += 1
                if policy is None or (
                    policy.retry_mode is RetryMode.FINITE and attempt > policy.max_retry_count
                ):
                    raise
                delay = policy.delay_between_retries.total_seconds()
                self.logger.warning(f"broker not available ({exc}); retry {attempt} in {delay} s")
                time.sleep(delay)

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
        self.sessions.stop()
        self.data_formats.stop()
        self.transport.close()
