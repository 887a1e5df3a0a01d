"""Writer process: ``store_writer.py BROKER_LIST DATA_SOURCE BATCH [PAUSE_S [DURATION_S]]``.

Creates one session of DATA_SOURCE, then writes numbered Marker packets (envelope id 1, 2, …),
BATCH at a time, flushing after each batch and pausing PAUSE_S; forever, or for DURATION_S and
then ends the session and prints ``{"done": N}``. Prints ``{"session": KEY}`` once, then
``{"flushed": N}`` after each successful flush (N: every packet up to N is acknowledged) and
``{"failed": MESSAGE}`` for a failed write or flush; the parent kills it whenever it likes.
"""

from __future__ import annotations

import json
import sys
import time

from ma_dataplatforms_streaming_support_library.contracts.packet_writing.packet_bytes import (
    PacketBytes,
)
from ma_dataplatforms_streaming_support_library.contracts.session_management.session_creation_info import (
    SessionCreationInfo,
)
from ma_dataplatforms_streaming_support_library.contracts.shared.stream_api_configuration import (
    StreamingApiConfiguration,
)
from ma_dataplatforms_streaming_support_library.contracts.shared.stream_creation_strategy import (
    StreamCreationStrategy,
)
from ma_dataplatforms_streaming_support_library.core.base.logger import Logger
from ma_dataplatforms_streaming_support_library.core.base.support_library_bootstrapper import (
    SupportLibraryBootstrapper,
)
from ma_dataplatforms_streaming_support_library.protos import open_data_pb2


def emit(**fields: object) -> None:
    sys.stdout.write(json.dumps(fields) + "\n")
    sys.stdout.flush()


def service(result: object) -> object:
    if not result.success:  # type: ignore[attr-defined]
        raise SystemExit(f"create_service failed: {result.error_message}")  # type: ignore[attr-defined]
    created = result.data  # type: ignore[attr-defined]
    created.initialise()
    created.start()
    return created


def main(
    broker_list: str, data_source: str, batch: int, pause_s: float, duration_s: float | None
) -> None:
    configuration = StreamingApiConfiguration(
        broker_list, StreamCreationStrategy.TOPIC_BASE, [], 10
    )
    library = SupportLibraryBootstrapper.bootstrap(configuration, Logger()).create()
    library.initialise()
    library.start()
    sessions = service(library.get_session_manager_api().create_service())
    writer = service(library.get_writing_packet_api().create_service())
    created = sessions.create_new_session(  # type: ignore[attr-defined]
        SessionCreationInfo(data_source, "faults", "Session", 1, None, [], [])
    )
    if not created.success:
        raise SystemExit(created.error_message)
    key = created.data.session_key
    emit(session=key)
    number = 0
    deadline = None if duration_s is None else time.monotonic() + duration_s
    while deadline is None or time.monotonic() < deadline:
        for _ in range(batch):
            number += 1
            packet = open_data_pb2.Packet(
                type="Marker", session_key=key, id=number, content=b"x" * 64
            )
            result = writer.write_data(
                data_source, "", key, PacketBytes(packet.SerializeToString())
            )  # type: ignore[attr-defined]
            if not result.success:
                emit(failed=result.error_message, number=number)
        flushed = writer.flush()  # type: ignore[attr-defined]
        if flushed.success:
            emit(flushed=number, number=number)
        else:
            emit(failed=flushed.error_message, number=number)
        if pause_s:
            time.sleep(pause_s)
    sessions.end_session(data_source, key)  # type: ignore[attr-defined]
    emit(done=number)
    library.stop()


if __name__ == "__main__":
    arguments = sys.argv[1:]
    main(
        arguments[0],
        arguments[1],
        int(arguments[2]),
        float(arguments[3]) if len(arguments) > 3 else 0.0,
        float(arguments[4]) if len(arguments) > 4 else None,
    )
