"""IDataReaderService: resamples buffered parameters onto fixed grids and delivers batches."""

from __future__ import annotations

import abc
from collections.abc import Sequence

from ..buffering.i_sample_reader_service import ISampleReaderService
from ..shared.i_service_model import IServiceModel
from .fill_mode import FillMode
from .i_batch_result_handler import IBatchResultHandler
from .i_subscription_processor import ISubscriptionProcessor

__all__ = ["IDataReaderService"]


class IDataReaderService(IServiceModel):
    """The interpolation (data reader) service of the C# ``InterpolationModule``."""

    @abc.abstractmethod
    def set_sample_reader_service(self, sample_reader_service: ISampleReaderService) -> None: ...

    @abc.abstractmethod
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
        """Resample ``parameter_identifiers`` on cells of ``1/subscription_frequency_hz`` s and
        hand the results to ``handler`` in batches of ``1/delivery_frequency_hz`` s of data time.

        ``fill`` chooses how the built-in statistics fill an empty cell (a custom ``processor``
        makes its own results, so it takes only the default). ``False`` (and a log line naming
        the argument) for a bad or duplicate subscription.
        """

    @abc.abstractmethod
    def unsubscribe(self, subscription_key: str) -> bool: ...
