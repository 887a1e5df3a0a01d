"""SessionMerger: routes decoded packets into per-session buffers and reports what to deliver."""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

import numpy as np

from ...arrays import I32Array
from ...contracts.buffering.buffering_configuration import BufferingConfiguration
from ...contracts.data_format_management.data_format_info_type import DataFormatInfoType
from ...contracts.packet_reading.received_packet_dto import ReceivedPacketDto
from ...contracts.session_management.session_info import SessionInfo
from ...protos.packets import PacketType, parse_packet
from .merged_block import MergedBlock
from .packet_decoding import (
    DecodedSamples,
    FormatResolver,
    SampleDecoder,
    decode_extra,
    numeric_rows,
)
from .parameter_registry import ParameterRegistry
from .sample_block import SampleBlock
from .session_buffer import SessionBuffer

__all__ = ["KEPT_COMPLETED_SESSIONS", "Action", "SessionMerger", "SessionState"]

logger = logging.getLogger(__name__)

#: Completed sessions kept for ``get_last_time_info``; older ones are forgotten.
KEPT_COMPLETED_SESSIONS = 1000

_EXTRA_FLAGS = {
    PacketType.MARKER: "include_marker_data",
    PacketType.EVENT: "include_event_data",
    PacketType.ERROR: "include_error_data",
    PacketType.RAW_CAN_DATA: "include_can_data",
}


@dataclass(slots=True)
class SessionState:
    info: SessionInfo
    buffer: SessionBuffer
    completed: bool = False


@dataclass(frozen=True, slots=True)
class Action:
    """Something to hand to handlers: a session start, a released block, or a session end."""

    kind: Literal["start", "block", "end"]
    session: SessionState
    block: MergedBlock | None = None


class SessionMerger:
    """The sample reader's state: sessions, their buffers, and the parameter numbering.

    Not thread-safe: the sample reader calls it under its lock and delivers the returned
    actions afterwards.
    """

    def __init__(
        self,
        configuration: BufferingConfiguration,
        registry: ParameterRegistry,
        decoder: SampleDecoder,
        resolver: FormatResolver | None,
        discovery_grace_s: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.configuration = configuration
        self._discovery_grace_s = discovery_grace_s
        self._clock = clock
        self.registry = registry
        self._decoder = decoder
        self._resolver = resolver
        self._sessions: dict[tuple[str, str], SessionState] = {}
        self._completed: deque[tuple[str, str]] = deque()
        self._expected_streams: list[str] = []
        self._formats: dict[tuple[str, object], tuple[int, I32Array, np.ndarray]] = {}
        self._unresolved: set[tuple[str, int]] = set()
        self._non_numeric: set[tuple[str, str]] = set()
        self._extra_types = {
            packet_type
            for packet_type, flag in _EXTRA_FLAGS.items()
            if getattr(configuration, flag)
        }

    def expect_streams(self, streams: Iterable[str]) -> None:
        """Streams every session will carry: releases wait for them from the start."""
        self._expected_streams = list(streams)

    # --------------------------------------------------------------- sessions

    def session(self, data_source: str, session_key: str) -> SessionState | None:
        return self._sessions.get((data_source, session_key))

    def open_sessions(self) -> list[SessionState]:
        return [state for state in self._sessions.values() if not state.completed]

    def session_started(self, info: SessionInfo) -> list[Action]:
        actions: list[Action] = []
        self._state(info.data_source, info.session_key, info, actions)
        return actions

    def stream_completed(self, data_source: str, session_key: str, stream: str) -> list[Action]:
        state = self._sessions.get((data_source, session_key))
        if state is None or state.completed:
            return []
        return self._released(state, state.buffer.complete_stream(stream))

    def session_completed(self, info: SessionInfo) -> list[Action]:
        actions: list[Action] = []
        state = self._state(info.data_source, info.session_key, info, actions)
        if state.completed:
            return actions
        state.info = info
        state.completed = True
        self._completed.append((info.data_source, info.session_key))
        while len(self._completed) > KEPT_COMPLETED_SESSIONS:
            self._sessions.pop(self._completed.popleft(), None)
        final = state.buffer.finish()
        if final is not None:
            actions.append(Action("block", state, final))
        actions.append(Action("end", state))
        return actions

    def _state(
        self, data_source: str, session_key: str, info: SessionInfo | None, actions: list[Action]
    ) -> SessionState:
        state = self._sessions.get((data_source, session_key))
        if state is None:
            buffer = SessionBuffer(
                self.configuration.window_length_ns,
                self.configuration.slide_length_ns,
                self.configuration.merge_strategy,
                name=f"{data_source}/{session_key}",
                discovery_grace_s=self._discovery_grace_s,
                clock=self._clock,
            )
            buffer.expect_streams(self._expected_streams)
            state = SessionState(info or SessionInfo(session_key, data_source), buffer)
            self._sessions[(data_source, session_key)] = state
            actions.append(Action("start", state))
        return state

    def _released(self, state: SessionState, block: MergedBlock | None) -> list[Action]:
        return [] if block is None else [Action("block", state, block)]

    # ---------------------------------------------------------------- packets

    def packet(self, dto: ReceivedPacketDto) -> list[Action]:
        actions: list[Action] = []
        state = self._state(dto.data_source, dto.session_key, None, actions)
        packet = parse_packet(dto.packet_bytes.data)
        if packet is None:
            logger.error(
                "session %s stream %r: a record is not an Open Data Packet; skipped",
                dto.session_key,
                dto.stream,
            )
            return actions
        # Spelling variants ("EventData", "MarkerData") count as the type they name.
        kind = PacketType.of(packet.type)
        if kind is None:
            return actions
        if kind.is_sample_data:
            try:
                decoded = self._decoder(kind.value, packet.content)
            except Exception:
                logger.exception(
                    "session %s stream %r: could not decode a %s packet; skipped",
                    dto.session_key,
                    dto.stream,
                    packet.type,
                )
                return actions
            for samples in decoded:
                actions.extend(self._add_samples(state, dto.stream, samples))
        elif kind in self._extra_types:
            item = decode_extra(kind, packet.content, dto.data_source, self._resolver)
            if item is not None:
                stamp, identifier, value = item
                actions.extend(
                    self._released(
                        state, state.buffer.add_extra(dto.stream, stamp, identifier, value)
                    )
                )
        return actions

    def _add_samples(
        self, state: SessionState, stream: str, samples: DecodedSamples
    ) -> list[Action]:
        if samples.timestamps.size == 0:
            return []
        buffer = state.buffer
        numbers_and_mask = self._numbers(state.info.data_source, samples)
        if numbers_and_mask is None:
            return self._released(state, buffer.touch(stream, int(samples.timestamps.max())))
        numbers, subscribed = numbers_and_mask
        values, rows = numeric_rows(samples.values)
        if rows.size < samples.values.shape[0]:
            self._warn_non_numeric(state.info.data_source, numbers, rows)
        keep = subscribed[rows]
        block = None
        if keep.any():
            rows = rows[keep]
            block = SampleBlock.build(
                numbers[rows], samples.timestamps, values[keep], samples.status[rows]
            )
        if block is None:
            return self._released(state, buffer.touch(stream, int(samples.timestamps.max())))
        return self._released(state, buffer.add(stream, block))

    def _numbers(
        self, data_source: str, samples: DecodedSamples
    ) -> tuple[I32Array, np.ndarray] | None:
        """Parameter numbers of the packet's rows and which are subscribed (cached)."""
        key = (data_source, samples.data_format)
        cached = self._formats.get(key)
        if cached is not None and cached[0] == self.registry.version:
            return cached[1], cached[2]
        identifiers = self._identifiers(data_source, samples.data_format)
        if identifiers is None:
            return None
        if len(identifiers) != samples.values.shape[0]:
            logger.error(
                "data source %r: data format %r names %d parameter(s) but the packet has %d "
                "column(s); packet skipped",
                data_source,
                samples.data_format,
                len(identifiers),
                samples.values.shape[0],
            )
            return None
        numbers = self.registry.indices(identifiers)
        mask = self.registry.subscribed_mask(numbers)
        self._formats[key] = (self.registry.version, numbers, mask)
        return numbers, mask

    def _identifiers(
        self, data_source: str, data_format: int | tuple[str, ...] | None
    ) -> list[str] | None:
        if isinstance(data_format, tuple):
            return list(data_format)
        if data_format is None:
            logger.warning(
                "data source %r: a sample packet has no data format; skipped", data_source
            )
            return None
        names = None
        if self._resolver is not None:
            names = self._resolver(data_source, DataFormatInfoType.PARAMETERS, data_format)
        if names is None and (data_source, data_format) not in self._unresolved:
            self._unresolved.add((data_source, data_format))
            logger.error(
                "data source %r: data format id %d is not defined; its packets are skipped",
                data_source,
                data_format,
            )
        return names

    def _warn_non_numeric(self, data_source: str, numbers: I32Array, rows: np.ndarray) -> None:
        skipped = np.setdiff1d(np.arange(numbers.size), rows)
        names = [self.registry.name(int(n)) for n in numbers[skipped].tolist()]
        fresh = [name for name in names if (data_source, name) not in self._non_numeric]
        if fresh:
            self._non_numeric.update((data_source, name) for name in fresh)
            logger.warning(
                "data source %r: string samples of %s are not buffered (only numeric samples "
                "are merged)",
                data_source,
                fresh,
            )

    # ------------------------------------------------------------- maintenance

    def drop_parameters(self, numbers: list[int]) -> None:
        for state in self._sessions.values():
            state.buffer.drop_parameters(numbers)
