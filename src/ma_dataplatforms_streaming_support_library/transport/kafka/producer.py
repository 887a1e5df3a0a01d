"""ProducerHandle: the Kafka transport's idempotent producer, with its failures and its recovery.

- Only failed deliveries call back (success needs no Python work per record). Each failure is
  kept once for ``take_failures``; the first few are logged one by one, the rest counted.
- A fatal error of the idempotent producer (after a broker loses acknowledged records, e.g. a
  SIGKILL: OUT_OF_ORDER_SEQUENCE_NUMBER) ends that producer for good. Every record it still held
  comes back as a failure; then a new producer (a new producer id, so sequence numbers start
  again) takes over, and writing resumes without recreating the transport.
- confluent-kafka leaves the fatal error pending as a Python exception while it serves delivery
  callbacks, so the first ``Message`` accessor in a callback raises ``SystemError``, and so does
  the ``flush``/``poll`` that served it. Both are caught here: nothing raises to the caller, and
  the record in that callback is still counted.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import confluent_kafka

from ..base import DeliveryFailure, TransportError
from .config import KafkaClientConfig
from .consumer import create_client, librdkafka_logger, transport_error
from .throttle import RepeatThrottle, repeats_note

__all__ = ["ProducerHandle"]

logger = logging.getLogger(__name__)

#: failures logged one by one before the rest are only counted (a dead broker can fail millions)
_LOGGED_FAILURES = 20
_POLL_EVERY_RECORDS = 64
_FATAL = confluent_kafka.KafkaError._FATAL
_CONNECTION_TROUBLE = RepeatThrottle()


class ProducerHandle:
    """One producer at a time for ``config``; ``location`` names the cluster in messages."""

    def __init__(self, config: KafkaClientConfig, location: str, timeout_s: float) -> None:
        self._config = config
        self._location = location
        self._timeout_s = timeout_s
        self._lock = threading.Lock()
        self._rebuild_lock = threading.Lock()
        self._failures: list[DeliveryFailure] = []
        self._unlogged_failures = 0
        self._fatal: str | None = None
        self._produced_since_poll = 0
        #: how many times a fatal error made a new producer take over
        self.rebuilds = 0
        self._producer = self._new_producer()

    def _new_producer(self) -> confluent_kafka.Producer:
        settings: dict[str, Any] = {"delivery.report.only.error": True, **self._config.producer()}
        settings.update(
            on_delivery=self._on_delivery, error_cb=self._on_client_error, logger=librdkafka_logger
        )
        return create_client(confluent_kafka.Producer, settings, self._config)

    # producing ------------------------------------------------------------------------------
    def produce(
        self, topic: str, partition: int | None, key: bytes | None, value: bytes, timestamp_ms: int
    ) -> None:
        """Queue one record; a record refused because the producer is fatal goes to its successor."""
        if self._fatal is not None:
            self._recover()
        try:
            self._queue(topic, partition, key, value, timestamp_ms)
        except confluent_kafka.KafkaException as exc:
            if exc.args[0].code() != _FATAL:
                size = len(value) + len(key or b"")
                raise transport_error(
                    f"record of {size} bytes for {topic}:{partition} rejected", exc, self._config
                ) from exc
            self._fatal = self._fatal or exc.args[0].str()
            self._recover()
            self._queue(topic, partition, key, value, timestamp_ms)
        # Delivery callbacks (failures only) are served every few records, not per record: polling
        # costs about as much as producing.
        self._produced_since_poll += 1
        if self._produced_since_poll >= _POLL_EVERY_RECORDS:
            self._produced_since_poll = 0
            self.poll()

    def _queue(
        self, topic: str, partition: int | None, key: bytes | None, value: bytes, timestamp_ms: int
    ) -> None:
        deadline: float | None = None
        while True:
            try:
                # Partition -1 leaves the choice to librdkafka's default partitioner
                # (consistent_random: CRC32 of the key); timestamp 0 stamps the time now.
                self._producer.produce(
                    topic,
                    value,
                    key,
                    -1 if partition is None else partition,
                    timestamp=timestamp_ms,
                )
                return
            except BufferError as exc:
                now = time.monotonic()
                deadline = deadline if deadline is not None else now + self._timeout_s
                if now >= deadline:
                    raise TransportError(
                        f"producer queue for {self._location} still full after {self._timeout_s} s;"
                        f" record for {topic}:{partition} not queued: {exc}",
                        code="_QUEUE_FULL",
                        retriable=True,
                    ) from exc
                self.poll(0.05)  # let deliveries drain the queue

    def poll(self, timeout_s: float = 0) -> None:
        """Serve delivery callbacks (and a fatal error's recovery); never raises."""
        self._serve(lambda producer: producer.poll(timeout_s))

    def flush(self, timeout_s: float) -> int:
        """Wait for every queued record; how many are still queued. Never raises: failures,
        including those of a producer that turned fatal, go to ``take_failures``."""
        remaining = self._serve(lambda producer: producer.flush(timeout_s))
        return remaining or 0

    def _serve(self, call: Any) -> int | None:
        try:
            result: int = call(self._producer)
        except (confluent_kafka.KafkaException, SystemError) as exc:
            # The fatal error, raised through the callbacks it interrupted (module docstring).
            self._fatal = self._fatal or str(exc)
            result = 0
        if self._fatal is not None:
            self._recover()
            return 0  # the fatal producer reported everything it held as failed
        return result

    # failures -------------------------------------------------------------------------------
    def _on_delivery(self, error: confluent_kafka.KafkaError | None, message: Any) -> None:
        if error is None:
            return
        try:
            topic, partition, key = message.topic(), message.partition(), message.key()
        except SystemError:  # the fatal error is pending (module docstring); it is now cleared
            self._fatal = self._fatal or error.str()
            topic, partition, key = message.topic(), message.partition(), message.key()
        if error.fatal():
            self._fatal = self._fatal or error.str()
        failure = DeliveryFailure(
            topic=topic or "",
            partition=partition if partition is not None and partition >= 0 else None,
            key=key,
            reason=f"{error.name()}: {error.str()}",
            retriable=error.retriable(),
        )
        with self._lock:
            self._failures.append(failure)
            log_it = len(self._failures) <= _LOGGED_FAILURES
            if not log_it:
                self._unlogged_failures += 1
        if log_it:
            logger.error(
                "record for %s partition %s was not delivered to %s: %s",
                failure.topic,
                failure.partition,
                self._location,
                failure.reason,
            )

    def _on_client_error(self, error: confluent_kafka.KafkaError) -> None:
        if error.fatal():
            self._fatal = self._fatal or error.str()
            logger.error(
                "%s", transport_error(f"Kafka producer of {self._location}", error, self._config)
            )
            return
        # Connection trouble: librdkafka keeps retrying.
        text = f"Kafka at {self._location}: {self._config.scrub(error.str())}"
        dropped = _CONNECTION_TROUBLE.admit(text)
        if dropped is not None:
            logger.warning("%s%s", text, repeats_note(dropped))

    def take_failures(self) -> list[DeliveryFailure]:
        """Failures seen since the last call, each once."""
        if not self._failures and not self._unlogged_failures:
            return []
        with self._lock:
            failures, self._failures = self._failures, []
            unlogged, self._unlogged_failures = self._unlogged_failures, 0
        if unlogged:
            logger.error(
                "%d more record(s) were not delivered to %s (not logged one by one)",
                unlogged,
                self._location,
            )
        return failures

    # recovery -------------------------------------------------------------------------------
    def _recover(self) -> None:
        """Collect the fatal producer's records as failures, then hand over to a new producer."""
        with self._rebuild_lock:
            reason = self._fatal
            if reason is None:
                return  # another thread recovered meanwhile
            old = self._producer
            before = len(self._failures) + self._unlogged_failures
            try:
                old.purge()  # what is still queued fails through the delivery callback
                old.flush(0)
            except (confluent_kafka.KafkaException, SystemError, RuntimeError):
                logger.debug("draining the fatal producer of %s", self._location, exc_info=True)
            self._producer = self._new_producer()
            self._fatal = None
            self.rebuilds += 1
            failed = len(self._failures) + self._unlogged_failures - before
        logger.warning(
            "the Kafka producer of %s hit a fatal error (%s); %d more record(s) it held are "
            "reported as not delivered, and a new producer takes over",
            self._location,
            self._config.scrub(reason),
            failed,
        )

    def close(self, timeout_s: float) -> None:
        """Flush within ``timeout_s``; records still queued then are purged (reported as failed)."""
        if self.flush(timeout_s):
            self._serve(lambda producer: producer.purge())
            self.flush(0)
