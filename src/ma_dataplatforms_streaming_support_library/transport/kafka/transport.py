"""KafkaTransport: the Transport seam on confluent-kafka (librdkafka), for any Kafka cluster.

- The constructor checks that the broker is reachable (it fetches cluster metadata) and raises
  ``TransportError("could not reach Kafka at HOST:PORT within N s: …")`` after ``timeout_s``.
  ``timeout_s`` also bounds every other wait: metadata, topic creation, offsets, a full producer
  queue, and the flush in ``close``.
- Producer: zstd, idempotent, acks=all (config.py has the merge rule for user properties).
  A record the client rejects at once (unknown topic or partition, too large, queue still full
  after ``timeout_s``) raises from ``produce``. A record that fails later is logged with its topic
  and partition, kept for ``take_delivery_failures`` and raised from ``flush``: never dropped
  silently. After a fatal producer error the producer is replaced (producer.py).
- Workarounds for the test brokers (checking end offsets and offsets for a time against a fetch,
  parking idle partitions) apply only when the broker-quirks profile says so (quirks.py: detected
  at connect, or the additional property ``ma.broker.quirks``); a real cluster pays for none.
- ``close`` flushes (bounded by ``timeout_s``), releases every client, and then raises
  ``TransportError`` if records could not be delivered.
"""

from __future__ import annotations

import concurrent.futures
import logging
import threading
import time
from collections.abc import Mapping

import confluent_kafka

# NewTopic and OffsetSpec are public but missing from confluent_kafka.admin's __all__.
from confluent_kafka.admin import AdminClient, NewTopic, OffsetSpec  # type: ignore[attr-defined]

from ...layout import topic_name_error
from ..base import Consumer, DeliveryFailure, Transport, TransportError
from .config import KafkaClientConfig
from .consumer import KafkaConsumer, create_client, librdkafka_logger, transport_error
from .offsets import OffsetProbe
from .producer import ProducerHandle
from .quirks import PROFILES, detect_quirks, split_quirks_setting

__all__ = ["KafkaTransport"]

logger = logging.getLogger(__name__)

_TOPIC_EXISTS = confluent_kafka.KafkaError.TOPIC_ALREADY_EXISTS
_LATEST: OffsetSpec = OffsetSpec.latest()  # type: ignore[no-untyped-call]
_EARLIEST: OffsetSpec = OffsetSpec.earliest()  # type: ignore[no-untyped-call]
#: topics every Kafka cluster keeps for itself; not part of any data source
_INTERNAL_TOPICS = frozenset({"__consumer_offsets", "__transaction_state"})
_POLL_INTERVAL_S = 0.005


class KafkaTransport(Transport):
    """A Transport on the Kafka cluster reached through ``bootstrap_servers`` (host:port[,…])."""

    def __init__(
        self,
        bootstrap_servers: str,
        properties: Mapping[str, str] | None = None,
        timeout_s: float = 10.0,
    ) -> None:
        if not bootstrap_servers.strip():
            raise TransportError("no Kafka bootstrap servers given (expected host:port[,…])")
        quirks_setting, client_properties = split_quirks_setting(properties or {})
        self._config = KafkaClientConfig(bootstrap_servers.strip(), client_properties)
        self.location = f"kafka:{self._config.bootstrap_servers}"
        self._timeout_s = timeout_s
        self._probe_lock = threading.Lock()
        self._last_poll = 0.0
        self._closed = False
        self._probe: OffsetProbe | None = None
        self._partition_counts: dict[str, int] = {}
        ignored = self._config.overridden_user_properties()
        if ignored:
            logger.warning("Kafka properties %s are fixed by the transport; ignored", ignored)
        logger.info(
            "connecting to Kafka at %s (properties %s)",
            self._config.bootstrap_servers,
            self._config.masked_properties(),
        )
        admin_settings = self._config.admin()
        admin_settings.update(error_cb=self._on_client_error, logger=librdkafka_logger)
        self._admin = create_client(AdminClient, admin_settings, self._config)
        self._producer = ProducerHandle(self._config, self.location, timeout_s)
        try:
            self._fetch_topics(connecting=True)
            #: the broker workarounds this transport applies (quirks.py)
            self.quirks = (
                detect_quirks(self._admin, self._config, timeout_s)
                if quirks_setting not in PROFILES
                else PROFILES[quirks_setting]
            )
        except BaseException:
            self._release()
            raise

    # topics ---------------------------------------------------------------------------------
    def create_topics(self, partitions_by_topic: Mapping[str, int]) -> None:
        self._check_open()
        for topic, partitions in partitions_by_topic.items():
            reason = topic_name_error(topic)
            if reason:
                raise TransportError(
                    f"cannot create topic {topic!r}: {reason}", code="INVALID_TOPIC_EXCEPTION"
                )
            if not isinstance(partitions, int) or partitions < 1:
                raise TransportError(
                    f"cannot create topic {topic!r}: partition count must be >= 1, "
                    f"got {partitions!r}",
                    code="INVALID_PARTITIONS",
                )
        existing = self._fetch_topics()
        missing = {t: n for t, n in partitions_by_topic.items() if t not in existing}
        for topic, partitions in partitions_by_topic.items():
            if topic in existing and existing[topic] != partitions:
                logger.info(
                    "topic %r exists with %d partition(s) (asked for %d); left as it is",
                    topic,
                    existing[topic],
                    partitions,
                )
        if not missing:
            return
        # replication_factor=-1: the broker's default, as the Stream API creates its topics.
        new_topics = [
            NewTopic(t, num_partitions=n, replication_factor=-1) for t, n in missing.items()
        ]
        # self._admin outlives these futures (a temporary AdminClient fails them with _DESTROY).
        futures = self._admin.create_topics(
            new_topics, operation_timeout=self._timeout_s, request_timeout=self._timeout_s
        )
        for topic, future in futures.items():
            try:
                future.result(timeout=self._timeout_s + 1)
            except confluent_kafka.KafkaException as exc:
                if exc.args and exc.args[0].code() == _TOPIC_EXISTS:
                    continue  # created by someone else meanwhile
                raise transport_error(
                    f"cannot create topic {topic!r} at {self.location}", exc, self._config
                ) from exc
            except concurrent.futures.TimeoutError as exc:
                raise self._timed_out(f"creating topic {topic!r}") from exc
        self._await_topics(missing)

    def _await_topics(self, topics: Mapping[str, int]) -> None:
        """Wait until metadata lists every topic: a broker may answer CreateTopics before that."""
        deadline = time.monotonic() + self._timeout_s
        while True:
            known = self._fetch_topics()
            absent = sorted(t for t in topics if known.get(t, 0) < 1)
            if not absent:
                return
            if time.monotonic() >= deadline:
                raise self._timed_out(f"waiting for new topics {absent} to appear in metadata")
            time.sleep(0.05)

    def list_topics(self) -> dict[str, int]:
        self._check_open()
        return {t: n for t, n in self._fetch_topics().items() if t not in _INTERNAL_TOPICS}

    def _fetch_topics(self, connecting: bool = False) -> dict[str, int]:
        """Every topic with its partition count, from fresh metadata (refreshes the cache)."""
        try:
            metadata = self._admin.list_topics(timeout=self._timeout_s)
        except confluent_kafka.KafkaException as exc:
            server = self._config.bootstrap_servers
            if connecting:
                context = f"could not reach Kafka at {server} within {self._timeout_s:g} s"
            else:
                context = f"metadata request to {self.location} failed"
            raise transport_error(context, exc, self._config) from exc
        finally:
            self._admin.poll(0)  # serve error_cb and log lines queued by the admin client
        topics = {
            name: len(topic.partitions)
            for name, topic in metadata.topics.items()
            if topic.partitions or topic.error is None
        }
        self._partition_counts = topics
        return topics

    # produce --------------------------------------------------------------------------------
    def produce(
        self,
        topic: str,
        partition: int | None,
        key: bytes | None,
        value: bytes,
        timestamp_ms: int | None = None,
    ) -> None:
        self._check_open()
        self._check_destination(topic, partition)
        self._producer.produce(topic, partition, key, value, timestamp_ms or 0)

    def _check_destination(self, topic: str, partition: int | None) -> None:
        count = self._partition_counts.get(topic)
        if count is None or (partition is not None and partition >= count):
            count = self._fetch_topics().get(topic)  # created or grown by someone else meanwhile?
        if count is None:
            raise TransportError(
                f"topic {topic!r} does not exist at {self.location}; create it first",
                code="UNKNOWN_TOPIC",
            )
        if partition is not None and not 0 <= partition < count:
            raise TransportError(
                f"partition {partition} does not exist: topic {topic!r} has {count}",
                code="UNKNOWN_PARTITION",
            )

    def _on_client_error(self, error: confluent_kafka.KafkaError) -> None:
        """The admin client's errors: connection trouble, which librdkafka keeps retrying."""
        logger.debug("Kafka admin client of %s: %s", self.location, self._config.scrub(error.str()))

    def flush(self, timeout_s: float) -> None:
        self._check_open()
        remaining = self._producer.flush(timeout_s)
        failures = self._producer.take_failures()
        if remaining:
            also = f"; {len(failures)} other record(s) failed" if failures else ""
            raise TransportError(
                f"{remaining} record(s) not yet delivered to {self.location} "
                f"after {timeout_s} s{also}",
                code="_TIMED_OUT",
                retriable=True,
            )
        if failures:
            raise _failures_error(failures, self.location)

    def take_delivery_failures(self) -> list[DeliveryFailure]:
        now = time.monotonic()
        if not self._closed and now - self._last_poll >= _POLL_INTERVAL_S:
            self._last_poll = now
            self._producer.poll()  # serve pending delivery callbacks
        return self._producer.take_failures()

    # offsets --------------------------------------------------------------------------------
    def end_offsets(self, topic: str) -> dict[int, int]:
        reported = self._list_offsets(topic, _LATEST)
        if not self.quirks.verify_offsets or not any(reported.values()):
            return reported  # a broker that answers right; no topic; every partition empty
        with self._probe_lock:
            ends = self._offset_probe().true_ends(topic, reported)
        if ends is None:
            logger.warning(
                "could not confirm the end offsets of %r at %s within %s s; "
                "using the broker's ListOffsets answer",
                topic,
                self.location,
                self._timeout_s,
            )
            return reported
        return {p: max(reported[p], ends[p]) for p in reported}

    def beginning_offsets(self, topic: str) -> dict[int, int]:
        return self._list_offsets(topic, _EARLIEST)

    def offset_for_time(self, topic: str, partition: int, timestamp_ms: int) -> int:
        answered = self._list_offsets(topic, OffsetSpec.for_timestamp(timestamp_ms), [partition])
        if partition not in answered:
            raise TransportError(
                f"{topic}:{partition} does not exist at {self.location}", code="UNKNOWN_PARTITION"
            )
        answer = answered[partition]
        if not self.quirks.verify_offsets:
            return answer if answer >= 0 else self.end_offsets(topic)[partition]  # -1: none
        begin = self.beginning_offsets(topic)[partition]
        end = self.end_offsets(topic)[partition]
        with self._probe_lock:
            return self._offset_probe().first_offset_at_or_after(
                topic, partition, timestamp_ms, answer, begin, end
            )

    def _list_offsets(
        self, topic: str, spec: OffsetSpec, partitions: list[int] | None = None
    ) -> dict[int, int]:
        """ListOffsets of ``partitions`` (default: all) of ``topic``; {} for a missing topic."""
        self._check_open()
        count = self._fetch_topics().get(topic)
        if count is None:
            return {}
        wanted = [p for p in (range(count) if partitions is None else partitions) if 0 <= p < count]
        if not wanted:
            return {}
        requests = {confluent_kafka.TopicPartition(topic, p): spec for p in wanted}
        try:
            futures = self._admin.list_offsets(requests, request_timeout=self._timeout_s)
            return {
                tp.partition: future.result(timeout=self._timeout_s + 1).offset
                for tp, future in futures.items()
            }
        except confluent_kafka.KafkaException as exc:
            raise transport_error(
                f"listing offsets of {topic!r} at {self.location}", exc, self._config
            ) from exc
        except concurrent.futures.TimeoutError as exc:
            raise self._timed_out(f"listing offsets of {topic!r}") from exc
        finally:
            self._admin.poll(0)

    def _offset_probe(self) -> OffsetProbe:
        if self._probe is None:
            self._probe = OffsetProbe(self._config, self._timeout_s)
        return self._probe

    # consume --------------------------------------------------------------------------------
    def consumer(self) -> Consumer:
        self._check_open()
        # The partition counts of this transport's last metadata (list_topics, create_topics).
        return KafkaConsumer(
            self._config,
            self._timeout_s,
            lambda topic: self._partition_counts.get(topic),
            park_idle_partitions=self.quirks.park_idle_partitions,
        )

    # lifecycle ------------------------------------------------------------------------------
    def close(self) -> None:
        if self._closed:
            return
        failures: list[DeliveryFailure] = []
        try:
            self._producer.close(self._timeout_s)
            failures = self._producer.take_failures()
        finally:
            self._release()
        if failures:
            logger.error("%d record(s) not delivered to %s by close", len(failures), self.location)
            raise _failures_error(failures, self.location)

    def _release(self) -> None:
        self._closed = True
        with self._probe_lock:
            if self._probe is not None:
                self._probe.close()
                self._probe = None
        # Dropping the last references destroys the librdkafka handles (threads, sockets).
        del self._producer, self._admin

    def _check_open(self) -> None:
        if self._closed:
            raise TransportError(f"{self.location} is closed")

    def _timed_out(self, doing: str) -> TransportError:
        return TransportError(
            f"{doing} at {self.location} took over {self._timeout_s} s",
            code="_TIMED_OUT",
            retriable=True,
        )


def _failures_error(failures: list[DeliveryFailure], location: str) -> TransportError:
    first = failures[0]
    places = sorted({f"{f.topic}:{f.partition}" for f in failures})
    more = ", …" if len(places) > 10 else ""
    return TransportError(
        f"{len(failures)} record(s) were not delivered to {location} "
        f"({', '.join(places[:10])}{more}); first: {first.reason}",
        code=first.reason.split(":", 1)[0],
        retriable=all(f.retriable for f in failures),
    )
