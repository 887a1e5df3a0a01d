"""The parser protocol every sample-data parser implements, and the registry that picks one.

Three implementations read the same bytes into the same ``ParseOutcome``: ``native`` (the
optional compiled extension), ``numpy`` (vectorised, always available) and ``reference``
(protobuf objects, the truth in tests). Without a choice the first available of native →
numpy → reference runs; ``MA_STREAMING_COLUMNAR=native|numpy|reference`` forces one.
"""

from __future__ import annotations

import functools
import importlib
import logging
import os
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Protocol, cast

import numpy as np
import numpy.typing as npt

from ..errors import ConfigurationError
from ._batch import ContentBatch
from ._parsed import PacketEnvelopes, PacketKind, ParsedPackets, ParseOutcome
from .numpy import NumpyParser
from .reference import ReferenceParser

if TYPE_CHECKING:
    from ._native._codec import PacketDelivery

__all__ = [
    "IMPLEMENTATIONS",
    "IMPL_ENVIRONMENT_VARIABLE",
    "PeriodicEncoder",
    "SampleParser",
    "active_implementation",
    "available_implementations",
    "get_parser",
    "native_encoder",
    "native_envelope_facts",
    "native_packet_delivery",
    "native_packet_labels",
    "native_packet_marks",
]

logger = logging.getLogger(__name__)

IMPL_ENVIRONMENT_VARIABLE = "MA_STREAMING_COLUMNAR"
IMPLEMENTATIONS = ("native", "numpy", "reference")

# (values, status, start times, intervals, data-format ids or None, explicit-list field bytes,
# Packet fields before the content or None, packet ids or None)
PeriodicEncoder = Callable[
    [
        npt.NDArray[np.float64],
        npt.NDArray[np.uint8],
        npt.NDArray[np.uint64],
        npt.NDArray[np.int64],
        "npt.NDArray[np.uint64] | None",
        bytes,
        "bytes | None",
        "npt.NDArray[np.uint64] | None",
    ],
    list[bytes],
]


class SampleParser(Protocol):
    """Reads batches of serialized packets; every implementation gives the same outcome."""

    @property
    def name(self) -> str:
        """``native``, ``numpy`` or ``reference``."""

    def parse_samples(self, batch: ContentBatch, kind: PacketKind) -> ParseOutcome[ParsedPackets]:
        """The Periodic/Synchro/Row data packet contents of ``batch``, flat."""

    def parse_envelopes(self, batch: ContentBatch) -> ParseOutcome[PacketEnvelopes]:
        """The ``Packet`` envelopes of ``batch``: type, session key, flags, id and content."""


class _NativeParser(SampleParser, Protocol):
    def encode_periodic(
        self,
        vals: npt.NDArray[np.float64],
        stat: npt.NDArray[np.uint8],
        starts: npt.NDArray[np.uint64],
        intervals: npt.NDArray[np.int64],
        ids: npt.NDArray[np.uint64] | None,
        fmt_bytes: bytes,
        head: bytes | None = None,
        packet_ids: npt.NDArray[np.uint64] | None = None,
    ) -> list[bytes]: ...

    def packet_marks(self, values: Iterable[bytes]) -> bytes: ...

    def envelope_facts(self, value: bytes) -> tuple[str, bool] | None: ...

    def packet_labels(
        self, values: Sequence[bytes], head_bytes: int
    ) -> tuple[npt.NDArray[np.int8], npt.NDArray[np.uint64]]: ...

    def packet_delivery(
        self, dto_type: type, dto_fields: tuple[str, ...], bytes_type: type, bytes_field: str
    ) -> PacketDelivery: ...


@functools.cache
def _native() -> _NativeParser | None:
    """The compiled parser, or None when the extension is not built (logged once)."""
    try:
        module = importlib.import_module(f"{__package__}._native")
    except ImportError as exc:
        logger.debug("columnar: native extension not available (%s); using numpy", exc)
        return None
    return cast(_NativeParser, module.NativeParser())


_NUMPY = NumpyParser()
_REFERENCE = ReferenceParser()


def available_implementations() -> tuple[str, ...]:
    """The implementations this installation can run, fastest first."""
    names = ("numpy", "reference")
    return ("native", *names) if _native() is not None else names


def _chosen(impl: str | None) -> str | None:
    if impl is not None:
        if impl not in IMPLEMENTATIONS:
            raise ConfigurationError(
                f"impl must be one of {', '.join(IMPLEMENTATIONS)}, not {impl!r}"
            )
        return impl
    value = os.environ.get(IMPL_ENVIRONMENT_VARIABLE, "").strip().lower()
    if value and value not in IMPLEMENTATIONS:
        raise ConfigurationError(
            f"{IMPL_ENVIRONMENT_VARIABLE} must be one of {', '.join(IMPLEMENTATIONS)} "
            f"(or unset), not {value!r}"
        )
    return value or None


def get_parser(impl: str | None = None) -> SampleParser:
    """The parser named ``impl``; without one, the one ``MA_STREAMING_COLUMNAR`` forces, else
    the first available of native → numpy → reference. Raises ``ConfigurationError`` for an
    unknown name, or for ``native`` when the compiled extension is not built."""
    chosen = _chosen(impl)
    if chosen == "reference":
        return _REFERENCE
    if chosen == "numpy":
        return _NUMPY
    native = _native()
    if native is not None:
        return native
    if chosen == "native":
        raise ConfigurationError(
            "the native columnar parser was asked for but its compiled extension is not built "
            "(reinstall with a C compiler: pip install -e .), or unset "
            f"{IMPL_ENVIRONMENT_VARIABLE}"
        )
    return _NUMPY


def active_implementation() -> str:
    """The name of the parser decode calls use now: ``native``, ``numpy`` or ``reference``."""
    return get_parser().name


def native_encoder() -> PeriodicEncoder | None:
    """The compiled PeriodicData encoder when the native implementation is active, else None."""
    parser = get_parser()
    return cast(_NativeParser, parser).encode_periodic if parser.name == "native" else None


def native_packet_marks() -> Callable[[Iterable[bytes]], bytes] | None:
    """The compiled record-value classifier of packet readers (``_codec.packet_marks``) when
    the native implementation is active, else None."""
    parser = get_parser()
    return cast(_NativeParser, parser).packet_marks if parser.name == "native" else None


def native_envelope_facts() -> Callable[[bytes], tuple[str, bool] | None] | None:
    """The compiled reader of a ``Packet`` envelope's session key and essential flag
    (``_codec.envelope_facts``) when the native implementation is active, else None."""
    parser = get_parser()
    return cast(_NativeParser, parser).envelope_facts if parser.name == "native" else None


def native_packet_labels() -> (
    Callable[[Sequence[bytes], int], tuple[npt.NDArray[np.int8], npt.NDArray[np.uint64]]] | None
):
    """The compiled reader of record heads (``_codec.packet_labels``) when the native
    implementation is active, else None."""
    parser = get_parser()
    return cast(_NativeParser, parser).packet_labels if parser.name == "native" else None


def native_packet_delivery(
    dto_type: type, dto_fields: tuple[str, ...], bytes_type: type, bytes_field: str
) -> PacketDelivery | None:
    """The compiled delivery of packet runs building ``dto_type`` objects (its ``deliver``;
    see ``_codec.PacketDelivery``) when the native implementation is active and the types keep
    those fields in slots, else None."""
    parser = get_parser()
    if parser.name != "native":
        return None
    try:
        return cast(_NativeParser, parser).packet_delivery(
            dto_type, dto_fields, bytes_type, bytes_field
        )
    except ValueError as exc:
        logger.debug("columnar: no compiled packet delivery (%s)", exc)
        return None
