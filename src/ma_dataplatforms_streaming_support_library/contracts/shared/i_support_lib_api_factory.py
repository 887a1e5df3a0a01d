"""ISupportLibApiFactory: what ``SupportLibraryBootstrapper.bootstrap`` returns."""

from __future__ import annotations

import abc

from .i_support_lib_api import ISupportLibApi

__all__ = ["ISupportLibApiFactory"]


class ISupportLibApiFactory(abc.ABC):
    """Creates the support library API (``create()``)."""

    @abc.abstractmethod
    def create(self) -> ISupportLibApi: ...
