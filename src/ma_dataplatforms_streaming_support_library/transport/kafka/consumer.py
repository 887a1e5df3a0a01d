"""KafkaConsumer (manual assignment, nothing committed) and the librdkafka helpers it shares."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import confluent_kafka

from ..base import Consumer, Record, TopicPartition, TransportError
from .config import KafkaClientConfig
from .parking import PartitionParking
from .throttle import RepeatThrottle, repeats_note

__all__ = [
    "KafkaConsumer",
    "create_client",
    "kafka_partitions",
    "librdkafka_logger",
    "new_consumer",
    "record_of",
    "transport_error",
]

logger = logging.getLogger(__name__)
#: librdkafka's own log lines (connection failures, config warnings) go here, not to stderr
librdkafka_logger = logging.getLogger("ma_dataplatforms_streaming_support_library.librdkafka")


class _SharedPropertiesFilter(logging.Filter):
    """Demote librdkafka's "consumer property … will be ignored by this producer instance" to DEBUG.

    One set of user properties feeds the producer, the consumers and the admin client (as in the
    Stream API), so each client ignoring the others' keys is expected, not worth a warning.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno > logging.DEBUG and "will be ignored by this" in record.getMessage():
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return True


librdkafka_logger.addFilter(_SharedPropertiesFilter())
librdkafka_logger.addFilter(RepeatThrottle())
#: the consumers' connection-trouble warnings, one of a kind per interval (throttle.py)
_CONNECTION_TROUBLE = RepeatThrottle()

_EOF = confluent_kafka.KafkaError._PARTITION_EOF
#: builds a Record without the named tuple's Python-level ``__new__`` (one per record read)
_new_record = tuple.__new__
if TYPE_CHECKING:  # Message is generic only in the type stubs
    Message = confluent_kafka.Message[Any, Any]
_Client = TypeVar("_Client")


#: librdkafka error names of a connection that broke or never came up
_CONNECTION_FAILURES = frozenset(
    {"_TRANSPORT", "_ALL_BROKERS_DOWN", "_TIMED_OUT", "_SSL", "_AUTHENTICATION"}
)


def transport_error(context: str, error: object, config: KafkaClientConfig) -> TransportError:
    """A ``TransportError`` for a librdkafka error (``KafkaError`` or ``KafkaException``).

    The error's name becomes ``code``; secrets are scrubbed from the message.
    """
    if isinstance(error, confluent_kafka.KafkaException) and error.args:
        error = error.args[0]
    if isinstance(error, confluent_kafka.KafkaError):
        hint = config.security_hint() if error.name() in _CONNECTION_FAILURES else ""
        return TransportError(
            config.scrub(f"{context}: {error.str()}{hint}"),
            code=error.name(),
            retriable=error.retriable(),
        )
    return TransportError(config.scrub(f"{context}: {error}"))


def create_client(
    factory: Callable[[dict[str, Any]], _Client],
    settings: dict[str, Any],
    config: KafkaClientConfig,
) -> _Client:
    """Create a librdkafka client; a bad property (unknown key, bad value) → ``TransportError``."""
    try:
        return factory(settings)
    except (confluent_kafka.KafkaException, ValueError, TypeError) as exc:
        raise transport_error(
            f"invalid Kafka client configuration for {config.bootstrap_servers} "
            f"(additional properties given: {sorted(config.properties)})",
            exc,
            config,
        ) from exc


def new_consumer(
    config: KafkaClientConfig,
    extra_settings: Mapping[str, str],
    error_cb: Callable[[confluent_kafka.KafkaError], None],
) -> confluent_kafka.Consumer:
    settings = config.consumer(group_id=f"ma-streaming-{uuid.uuid4()}")
    settings.update(extra_settings)
    settings.update(error_cb=error_cb, logger=librdkafka_logger)
    return create_client(confluent_kafka.Consumer, settings, config)


def record_of(message: Message) -> Record:
    topic, partition, offset = message.topic(), message.partition(), message.offset()
    if topic is None or partition is None or offset is None:
        raise TransportError(f"librdkafka returned a record without a position: {message!r}")
    _kind, timestamp_ms = message.timestamp()
    return Record(topic, partition, offset, message.key(), message.value() or b"", timestamp_ms)


def kafka_partitions(positions: Iterable[TopicPartition]) -> list[confluent_kafka.TopicPartition]:
    return [confluent_kafka.TopicPartition(topic, partition) for topic, partition in positions]


class KafkaConsumer(Consumer):
    """Manual assignment only (never a group subscription); nothing is ever committed.

    Use one consumer from one thread at a time. Records below a partition's next expected offset
    are dropped, so each record is returned at most once and never one before the assigned
    offset. A negative start offset is read as 0, as the embedded transport does.
    """

    def __init__(
        self,
        config: KafkaClientConfig,
        timeout_s: float,
        known_partitions: Callable[[str], int | None] | None = None,
        *,
        park_idle_partitions: bool = False,
    ) -> None:
        """``known_partitions(topic)``: a topic's partition count from metadata the caller
        fetched recently (None if unknown); assigning partitions it vouches for skips a metadata
        round trip of this consumer's own. ``park_idle_partitions``: for brokers that answer a
        fetch at a partition's end at once (parking.py; quirks.py decides)."""
        self._config = config
        self._timeout_s = timeout_s
        self._known_partitions = known_partitions
        # Partition-end events are what parking acts on; without parking they are not needed.
        eof = "true" if park_idle_partitions else "false"
        self._consumer = new_consumer(config, {"enable.partition.eof": eof}, self._on_client_error)
        self._next_offsets: dict[TopicPartition, int] = {}
        self._parking = PartitionParking() if park_idle_partitions else None
        self._pending: TransportError | None = None
        self._closed = False
        #: set by ``wake``, cleared by the poll it ends
        self._woken = False

    def assign(self, positions: Mapping[TopicPartition, int]) -> None:
        self._check_open()
        wanted = {where: max(0, int(offset)) for where, offset in positions.items()}
        if not wanted:
            return
        self._check_exist(wanted)
        again = [
            where
            for where in wanted
            if where in self._next_offsets and not self._forget_parked(where)
        ]
        try:
            if again:
                self._consumer.incremental_unassign(kafka_partitions(again))
            self._consumer.incremental_assign(
                [confluent_kafka.TopicPartition(t, p, offset) for (t, p), offset in wanted.items()]
            )
        except confluent_kafka.KafkaException as exc:
            raise transport_error(f"cannot assign {sorted(wanted)}", exc, self._config) from exc
        self._next_offsets.update(wanted)

    def _check_exist(self, partitions: Iterable[TopicPartition]) -> None:
        """librdkafka waits silently on a missing topic; the metadata tells us at once."""
        known = self._known_partitions
        if known is not None and all(
            partition < (known(topic) or 0) for topic, partition in partitions
        ):
            return
        try:
            metadata = self._consumer.list_topics(timeout=self._timeout_s)
        except confluent_kafka.KafkaException as exc:
            raise transport_error(
                f"metadata request to {self._config.bootstrap_servers} failed", exc, self._config
            ) from exc
        for topic, partition in partitions:
            found = metadata.topics.get(topic)
            if found is None or (found.error is not None and not found.partitions):
                raise TransportError(
                    f"cannot read topic {topic!r}: it does not exist at "
                    f"kafka:{self._config.bootstrap_servers}",
                    code="UNKNOWN_TOPIC",
                )
            if partition not in found.partitions:
                raise TransportError(
                    f"cannot read {topic}:{partition}: topic {topic!r} has "
                    f"{len(found.partitions)} partition(s)",
                    code="UNKNOWN_PARTITION",
                )

    def unassign(self, partitions: Iterable[TopicPartition]) -> None:
        self._check_open()
        known = [where for where in partitions if where in self._next_offsets]
        if not known:
            return
        assigned = [where for where in known if not self._forget_parked(where)]
        try:
            if assigned:
                self._consumer.incremental_unassign(kafka_partitions(assigned))
        except confluent_kafka.KafkaException as exc:
            raise transport_error(f"cannot unassign {known}", exc, self._config) from exc
        for where in known:
            del self._next_offsets[where]

    def poll(self, max_records: int, timeout_s: float) -> list[Record]:
        self._check_open()
        if self._pending is not None:
            error, self._pending = self._pending, None
            raise error
        records: list[Record] = []
        deadline = time.monotonic() + max(0.0, timeout_s)
        while len(records) < max_records:
            now = time.monotonic()
            parking = self._parking
            if parking:  # something parked or at its end
                self._tend_parking(parking, now)
            # consume(n, 0) takes what is already fetched without waiting; consume(n, timeout)
            # would wait the whole timeout unless n records arrive.
            messages = self._consumer.consume(max_records - len(records), 0)
            if not messages:
                remaining = deadline - now
                if records or remaining <= 0 or self._woken:
                    break
                wake = deadline if parking is None else parking.next_event(deadline)
                first = self._consumer.poll(max(0.0, min(remaining, wake - now)))
                if first is None:
                    continue
                messages = [first]
            self._take(messages, records)
        self._woken = False
        return records

    def wake(self) -> None:
        # librdkafka's poll cannot be interrupted from another thread: a poll waiting now ends
        # at its timeout, one that is about to wait returns at once.
        self._woken = True

    def _forget_parked(self, where: TopicPartition) -> bool:
        """Forget what parking knows of ``where``; True if it was parked (so not assigned)."""
        return self._parking is not None and self._parking.forget(where)

    def _tend_parking(self, parking: PartitionParking, now: float) -> None:
        """Unassign partitions idle at their end; assign parked ones again (parking.py)."""
        idle = parking.to_park(now, self._next_offsets)
        if idle:
            try:
                self._consumer.incremental_unassign(kafka_partitions(idle))
            except confluent_kafka.KafkaException as exc:
                logger.debug("parking %s failed (they stay assigned): %s", idle, exc)
            else:
                for where in idle:
                    parking.parked(where, self._next_offsets[where], now)
        due = parking.to_resume(now)
        if due:
            try:
                self._consumer.incremental_assign(
                    [
                        confluent_kafka.TopicPartition(t, p, self._next_offsets[(t, p)])
                        for t, p in due
                    ]
                )
            except confluent_kafka.KafkaException as exc:
                raise transport_error(
                    f"cannot assign {sorted(due)} again", exc, self._config
                ) from exc

    def _take(self, messages: list[Message], records: list[Record]) -> None:
        """Turn messages into records; the next expected offset is kept per run of messages
        from one partition and stored when the run ends."""
        error: TransportError | None = None
        next_offsets = self._next_offsets
        append = records.append
        run: TopicPartition = ("", -1)
        expected: int | None = None
        for message in messages:
            failure = message.error()
            if failure is not None:
                if expected is not None:
                    next_offsets[run] = expected
                failed = self._failed(message, failure)
                error = error or failed
                continue
            # A message without error always has its topic, partition and offset.
            topic, partition, offset = message.topic(), message.partition(), message.offset()
            if partition != run[1] or topic != run[0]:
                if expected is not None:
                    next_offsets[run] = expected
                run = (topic, partition)  # type: ignore[assignment]
                expected = next_offsets.get(run)
            if expected is None or offset < expected:  # type: ignore[operator]
                # Unassigned meanwhile; or before the assigned offset: a start past the end is
                # "out of range", which auto.offset.reset=earliest answers from the beginning
                # (the embedded store just waits there); or re-sent by a broker (tansu re-sends
                # the tail of its last stored batch). Each record at most once.
                continue
            expected = offset + 1  # type: ignore[operator]
            append(
                _new_record(
                    Record,
                    (
                        topic,
                        partition,
                        offset,
                        message.key(),
                        message.value() or b"",
                        message.timestamp()[1],
                    ),
                )
            )
        if expected is not None:
            next_offsets[run] = expected
        if error is not None:
            if records:
                self._pending = error  # raised by the next poll, after these records
            else:
                raise error

    def _failed(
        self, message: Message, failure: confluent_kafka.KafkaError
    ) -> TransportError | None:
        """Log a message that carries an error; the error to raise, if it concerns our data."""
        if failure.code() == _EOF:
            self._reached_end(message)
            return None
        if message.topic() is None and not failure.fatal():
            # A client-level event (normally delivered to error_cb): not about our data.
            self._on_client_error(failure)
            return None
        where = f"{message.topic()}:{message.partition()}"
        logger.error(
            "reading %s from %s failed: %s", where, self._config.bootstrap_servers, failure.str()
        )
        return transport_error(f"reading {where} failed", failure, self._config)

    def _reached_end(self, message: Message) -> None:
        topic, partition, offset = message.topic(), message.partition(), message.offset()
        if topic is None or partition is None or offset is None:
            return
        # An end seen before records that came after it is no longer the end.
        if self._parking is not None and self._next_offsets.get((topic, partition)) == offset:
            self._parking.reached_end((topic, partition), offset, time.monotonic())

    def _on_client_error(self, error: confluent_kafka.KafkaError) -> None:
        if error.fatal():
            logger.error("Kafka consumer of %s failed: %s", self._config.bootstrap_servers, error)
            self._pending = transport_error("Kafka consumer failed", error, self._config)
            return
        # Connection trouble: librdkafka keeps retrying.
        text = f"Kafka consumer of {self._config.bootstrap_servers}: {error.str()}"
        dropped = _CONNECTION_TROUBLE.admit(text)
        if dropped is not None:
            logger.warning("%s%s", text, repeats_note(dropped))

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            self._consumer.close()
        except (confluent_kafka.KafkaException, RuntimeError) as exc:
            logger.warning("closing a consumer of %s: %s", self._config.bootstrap_servers, exc)

    def _check_open(self) -> None:
        if self._closed:
            raise TransportError(
                f"this consumer of kafka:{self._config.bootstrap_servers} is closed"
            )
