"""DataReaderService: the interpolation service — resamples a sample reader's output on grids."""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ...contracts.buffering.i_sample_reader_service import ISampleReaderService
from ...contracts.interpolation.i_batch_result_handler import IBatchResultHandler
from ...contracts.interpolation.i_data_reader_service import IDataReaderService
from ...contracts.interpolation.i_subscription_processor import ISubscriptionProcessor
from ...contracts.session_management.session_info import SessionInfo
from ..base.service import ServiceBase
from ..buffering.merged_block import MergedBlock
from ..buffering.merged_block_listener import MergedBlockListener
from ..buffering.sample_reader_service import SampleReaderService
from .subscription import Subscription

__all__ = ["DEFAULT_DELIVERY_FREQUENCY_HZ", "DataReaderService"]

logger = logging.getLogger(__name__)

DEFAULT_DELIVERY_FREQUENCY_HZ = 10.0


@dataclass(frozen=True, slots=True)
class _Spec:
    key: str
    identifiers: list[str]
    cell_ns: int
    delivery_period_s: float
    handler: IBatchResultHandler
    processor: ISubscriptionProcessor | None


class DataReaderService(ServiceBase, IDataReaderService, MergedBlockListener):
    """Subscriptions resample parameters of a sample reader onto epoch-aligned grids.

    ``subscribe`` validates its arguments (``False`` and an error log naming the bad one);
    the delivery frequency defaults to 10 Hz (DECISIONS 13). Parameters not yet subscribed in the
    sample reader are subscribed there, and unsubscribed again with the last subscription that
    needed them. A ticker thread delivers completed cells when no new data arrives; ``stop()``
    delivers what is complete and stops.
    """

    service_name = "data reader"

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self._clock = clock
        self._specs: dict[str, _Spec] = {}
        self._subscriptions: dict[str, Subscription] = {}
        self._sample_reader: SampleReaderService | None = None
        self._owned: Counter[str] = Counter()
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._ticker: threading.Thread | None = None
        self._warned_not_started = False

    # ------------------------------------------------------------ wiring

    def set_sample_reader_service(self, sample_reader_service: ISampleReaderService) -> None:
        if not isinstance(sample_reader_service, SampleReaderService):
            raise TypeError(
                "set_sample_reader_service: expected the SampleReaderService of this library, "
                f"got {type(sample_reader_service).__name__}"
            )
        with self._lock:
            previous, self._sample_reader = self._sample_reader, sample_reader_service
            if previous is sample_reader_service:
                return
            if previous is not None:
                previous.remove_block_listener(self)
                for subscription in self._subscriptions.values():
                    subscription.cancel()
                self._release_owned(previous, list(self._owned))
                self._owned.clear()
            for spec in self._specs.values():
                self._activate(spec)
        sample_reader_service.add_block_listener(self)

    # ------------------------------------------------------- subscriptions

    def subscribe(
        self,
        subscription_key: str,
        parameter_identifiers: Sequence[str],
        subscription_frequency_hz: float,
        handler: IBatchResultHandler,
        delivery_frequency_hz: float | None = None,
        processor: ISubscriptionProcessor | None = None,
    ) -> bool:
        delivery = (
            DEFAULT_DELIVERY_FREQUENCY_HZ
            if delivery_frequency_hz is None
            else delivery_frequency_hz
        )
        error = (
            _key_error(subscription_key)
            or _identifiers_error(parameter_identifiers)
            or _frequency_error("subscription_frequency_hz", subscription_frequency_hz)
            or _frequency_error("delivery_frequency_hz", delivery)
            or _callable_error("handler", handler, "handle")
            or (None if processor is None else _callable_error("processor", processor, "process"))
        )
        if error is None and round(1e9 / subscription_frequency_hz) < 1:
            error = f"subscription_frequency_hz {subscription_frequency_hz!r} is above 1 GHz"
        with self._lock:
            if error is None and subscription_key in self._specs:
                error = f"subscription_key {subscription_key!r} is already subscribed"
            if error is not None:
                logger.error("subscribe: %s", error)
                return False
            identifiers = list(dict.fromkeys(parameter_identifiers))
            if len(identifiers) != len(parameter_identifiers):
                logger.warning(
                    "subscribe %r: repeated parameter identifiers ignored", subscription_key
                )
            spec = _Spec(
                subscription_key,
                identifiers,
                round(1e9 / subscription_frequency_hz),
                1.0 / delivery,
                handler,
                processor,
            )
            self._specs[subscription_key] = spec
            if self._sample_reader is not None:
                self._activate(spec)
        return True

    def unsubscribe(self, subscription_key: str) -> bool:
        with self._lock:
            spec = self._specs.pop(subscription_key, None)
            if spec is None:
                logger.error("unsubscribe: no subscription with key %r", subscription_key)
                return False
            subscription = self._subscriptions.pop(subscription_key, None)
            if subscription is not None:
                subscription.cancel()
            released = []
            for identifier in spec.identifiers:
                if self._owned[identifier] > 0:
                    self._owned[identifier] -= 1
                    if self._owned[identifier] == 0:
                        del self._owned[identifier]
                        released.append(identifier)
            if self._sample_reader is not None:
                self._release_owned(self._sample_reader, released)
        return True

    def _activate(self, spec: _Spec) -> None:
        reader = self._sample_reader
        assert reader is not None
        missing = [
            identifier
            for identifier in spec.identifiers
            if self._owned[identifier] == 0 and not reader.is_subscribed(identifier)
        ]
        if missing:
            reader.subscribe(missing)
        for identifier in spec.identifiers:
            if identifier in missing or self._owned[identifier] > 0:
                self._owned[identifier] += 1
        self._subscriptions[spec.key] = Subscription(
            spec.key,
            spec.identifiers,
            reader.parameter_numbers(spec.identifiers),
            spec.cell_ns,
            spec.delivery_period_s,
            spec.handler,
            spec.processor,
            self._clock,
        )

    @staticmethod
    def _release_owned(reader: SampleReaderService, identifiers: list[str]) -> None:
        if identifiers:
            reader.unsubscribe(identifiers)

    # ------------------------------------------------------- block feed

    def on_merged_block(self, session: SessionInfo, block: MergedBlock) -> None:
        if not self.is_started:
            if not self._warned_not_started:
                self._warned_not_started = True
                logger.warning(
                    "data reader %s is not started: merged data is dropped until start() "
                    "(start the data reader first, then the sample reader, then the packet reader)",
                    self.id,
                )
            return
        for subscription in self._snapshot():
            subscription.on_block(session.data_source, session.session_key, block)

    def on_session_completed(self, session: SessionInfo) -> None:
        for subscription in self._snapshot():
            subscription.on_session_end(session.data_source, session.session_key)

    def _snapshot(self) -> list[Subscription]:
        with self._lock:
            return list(self._subscriptions.values())

    # --------------------------------------------------------- lifecycle

    def _on_start(self) -> None:
        self._stopping.clear()
        self._ticker = threading.Thread(
            target=self._tick, name=f"ma-streaming-data-reader-{self.id}", daemon=True
        )
        self._ticker.start()

    def _on_stop(self) -> None:
        self._stopping.set()
        ticker, self._ticker = self._ticker, None
        if ticker is not None and ticker is not threading.current_thread():
            ticker.join(5.0)
        for subscription in self._snapshot():
            subscription.deliver(force=True)
        with self._lock:
            reader = self._sample_reader
        if reader is not None:
            reader.remove_block_listener(self)

    def _tick(self) -> None:
        while True:
            subscriptions = self._snapshot()
            period = min((s.delivery_period_s for s in subscriptions), default=0.1)
            if self._stopping.wait(min(max(period, 0.005), 0.5)):
                return
            for subscription in subscriptions:
                try:
                    subscription.deliver()
                except Exception:
                    logger.exception(
                        "data reader %s: delivery of %r failed", self.id, subscription.key
                    )


def _key_error(key: object) -> str | None:
    if not isinstance(key, str) or not key:
        return f"subscription_key must be a non-empty str, got {key!r}"
    return None


def _identifiers_error(identifiers: object) -> str | None:
    if isinstance(identifiers, (str, bytes)) or not isinstance(identifiers, Sequence):
        return f"parameter_identifiers must be a list of str, got {identifiers!r}"
    if not identifiers:
        return "parameter_identifiers must not be empty"
    for identifier in identifiers:
        if not isinstance(identifier, str) or not identifier:
            return f"parameter_identifiers must hold non-empty str, got {identifier!r}"
    return None


def _frequency_error(name: str, value: object) -> str | None:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value <= 0
    ):
        return f"{name} must be a finite number > 0, got {value!r}"
    return None


def _callable_error(name: str, value: object, method: str) -> str | None:
    if not callable(getattr(value, method, None)):
        return f"{name} must have a {method}() method, got {value!r}"
    return None
