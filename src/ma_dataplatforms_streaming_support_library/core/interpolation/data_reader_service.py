"""DataReaderService: the interpolation service — resamples a sample reader's output on grids."""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ...contracts.buffering.i_sample_reader_service import ISampleReaderService
from ...contracts.interpolation.fill_mode import FillMode
from ...contracts.interpolation.i_batch_result_handler import IBatchResultHandler
from ...contracts.interpolation.i_data_reader_service import IDataReaderService
from ...contracts.interpolation.i_subscription_processor import ISubscriptionProcessor
from ...contracts.session_management.session_info import SessionInfo
from ..base.service import ServiceBase
from ..buffering.merged_block import MergedBlock
from ..buffering.merged_block_listener import MergedBlockListener
from ..buffering.sample_reader_service import SampleReaderService
from .frequencies import frequency_error, period_ns
from .subscription import Subscription

__all__ = ["DEFAULT_DELIVERY_FREQUENCY_HZ", "DataReaderService"]

logger = logging.getLogger(__name__)

DEFAULT_DELIVERY_FREQUENCY_HZ = 10.0


@dataclass(frozen=True, slots=True)
class _Spec:
    key: str
    identifiers: list[str]
    cell_ns: int
    delivery_ns: int
    handler: IBatchResultHandler
    processor: ISubscriptionProcessor | None
    fill: FillMode


class DataReaderService(ServiceBase, IDataReaderService, MergedBlockListener):
    """Subscriptions resample parameters of a sample reader onto epoch-aligned grids.

    ``subscribe`` validates its arguments (``False`` and an error log naming the bad one);
    the delivery frequency defaults to 10 Hz and counts data time.
    Parameters not yet subscribed in the sample reader are subscribed there, and unsubscribed
    again with the last subscription that needed them. Batches are delivered on the sample
    reader's thread as the data completes them; ``stop()`` delivers what is computable and stops.

    Subscriptions are isolated: one that raises (beyond its handler and processor, which lose
    only their batch or cell) is logged with its traceback, stops receiving data and is listed
    in ``failed_subscriptions``; the others go on.
    """

    service_name = "data reader"

    def __init__(self) -> None:
        super().__init__()
        self._specs: dict[str, _Spec] = {}
        self._subscriptions: dict[str, Subscription] = {}
        self._failures: dict[str, str] = {}
        self._sample_reader: SampleReaderService | None = None
        self._owned: Counter[str] = Counter()
        self._lock = threading.RLock()
        self._warned_not_started = False

    @property
    def failed_subscriptions(self) -> dict[str, str]:
        """Subscription key → the error that stopped it, for subscriptions that failed; a failed
        subscription stays registered (``subscribe`` refuses its key) until ``unsubscribe``."""
        with self._lock:
            return dict(self._failures)

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
        *,
        fill: FillMode = FillMode.HOLD_LAST,
    ) -> bool:
        delivery = (
            DEFAULT_DELIVERY_FREQUENCY_HZ
            if delivery_frequency_hz is None
            else delivery_frequency_hz
        )
        error = (
            _key_error(subscription_key)
            or _identifiers_error(parameter_identifiers)
            or frequency_error("subscription_frequency_hz", subscription_frequency_hz)
            or frequency_error("delivery_frequency_hz", delivery)
            or _callable_error("handler", handler, "handle")
            or (None if processor is None else _callable_error("processor", processor, "process"))
            or _fill_error(fill, processor)
        )
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
                period_ns(subscription_frequency_hz),
                period_ns(delivery),
                handler,
                processor,
                fill,
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
            self._failures.pop(subscription_key, None)
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
            spec.delivery_ns,
            spec.handler,
            spec.processor,
            spec.fill,
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
            self._isolated(
                subscription,
                lambda s: s.on_block(session.data_source, session.session_key, block),
            )

    def on_session_completed(self, session: SessionInfo) -> None:
        for subscription in self._snapshot():
            self._isolated(
                subscription, lambda s: s.on_session_end(session.data_source, session.session_key)
            )

    def _snapshot(self) -> list[Subscription]:
        with self._lock:
            return list(self._subscriptions.values())

    def _isolated(
        self, subscription: Subscription, action: Callable[[Subscription], object]
    ) -> None:
        """Run ``action`` on one subscription; if it raises, that subscription alone fails."""
        try:
            action(subscription)
        except Exception as exc:
            logger.exception(
                "data reader %s: subscription %r failed and receives no more data "
                "(the other subscriptions go on; unsubscribe it to reuse its key)",
                self.id,
                subscription.key,
            )
            subscription.cancel()
            with self._lock:
                if self._subscriptions.get(subscription.key) is subscription:
                    self._failures[subscription.key] = f"{type(exc).__name__}: {exc}"

    # --------------------------------------------------------- lifecycle

    def _on_stop(self) -> None:
        for subscription in self._snapshot():
            self._isolated(subscription, lambda s: s.deliver(force=True))
        with self._lock:
            reader = self._sample_reader
        if reader is not None:
            reader.remove_block_listener(self)


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


def _callable_error(name: str, value: object, method: str) -> str | None:
    if not callable(getattr(value, method, None)):
        return f"{name} must have a {method}() method, got {value!r}"
    return None


def _fill_error(fill: object, processor: object) -> str | None:
    if not isinstance(fill, FillMode):
        return f"fill must be a FillMode, got {fill!r}"
    if processor is not None and fill is not FillMode.HOLD_LAST:
        return "fill applies to the built-in statistics: a custom processor fills its own cells"
    return None
