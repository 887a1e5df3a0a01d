"""Read telemetry with asyncio: ``async for`` over a reader's packets, without blocking the loop.

``--historic`` reads one session (``--session KEY``, default the newest) to its end; the
iteration stops by itself. ``--live`` follows the sessions that start while it runs, for
``--duration`` seconds: the time limit cancels the consumer, which stops the reader cleanly.
A heartbeat task runs beside the reader to show that the event loop stays free.

    python examples/read_async.py --historic
    python examples/read_async.py --live --duration 30 --broker localhost:9092

The last line is a summary: packets per stream and how many heartbeats ran meanwhile.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections import Counter
from typing import Any

from ma_dataplatforms_streaming_support_library import aio
from ma_dataplatforms_streaming_support_library.contracts.packet_reading.packet_reading_configuration import (
    PacketReadingConfiguration,
)
from ma_dataplatforms_streaming_support_library.contracts.packet_reading.packet_reading_type import (
    PacketReadingType,
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
from ma_dataplatforms_streaming_support_library.protos.open_data_pb2 import Packet

DATA_SOURCE = "Default"


async def heartbeat(beats: list[float]) -> None:
    while True:
        beats.append(time.monotonic())
        await asyncio.sleep(0.05)


async def consume(reader: Any, counts: Counter[str], max_queued: int) -> None:
    async with aio.packets(reader, max_queued=max_queued) as packets:
        print("reading", flush=True)  # the reader is started and its handler attached
        async for dto in packets:
            counts[dto.stream or "(main)"] += 1
            if Packet.FromString(dto.packet_bytes.data).type == "EndOfSession":
                print(f"session {dto.session_key}: stream {dto.stream or '(main)'} ended")


async def newest_session_key(support_lib: Any) -> str | None:
    sessions = support_lib.get_session_manager_api().create_service().data
    await asyncio.to_thread(sessions.start)
    listed = sessions.get_all_sessions().data or []
    await asyncio.to_thread(sessions.stop)
    mine = [session for session in listed if session.data_source == DATA_SOURCE]
    return mine[-1].session_key if mine else None


async def main(args: argparse.Namespace) -> int:
    configuration = StreamingApiConfiguration(
        args.broker, StreamCreationStrategy.TOPIC_BASE, [], 10
    )
    support_lib = SupportLibraryBootstrapper.bootstrap(configuration, Logger()).create()
    await support_lib.initialise_async()
    support_lib.start()
    reading_api = support_lib.get_reading_packet_api()
    if args.live:
        created = reading_api.create_service_with_config(
            PacketReadingConfiguration("", 10, False, DATA_SOURCE, "*", PacketReadingType.LIVE, [])
        )
    else:
        key = args.session or await newest_session_key(support_lib)
        if key is None:
            print("no sessions in the store; write one with examples/writer.py", file=sys.stderr)
            return 1
        created = reading_api.create_service(DATA_SOURCE, key)
    if not created.success or created.data is None:
        print(f"could not create the reader: {created.error_message}", file=sys.stderr)
        return 1

    counts: Counter[str] = Counter()
    beats: list[float] = []
    beating = asyncio.create_task(heartbeat(beats))
    started = time.monotonic()
    try:
        await asyncio.wait_for(consume(created.data, counts, args.max_queued), args.duration)
    except asyncio.TimeoutError:
        pass  # --duration elapsed: the consumer was cancelled and the reader stopped
    finally:
        beating.cancel()
        await asyncio.to_thread(support_lib.stop)
    elapsed = time.monotonic() - started
    per_stream = ", ".join(f"{stream}={count}" for stream, count in sorted(counts.items()))
    print(
        f"summary: {sum(counts.values())} packets ({per_stream}) in {elapsed:.2f} s, "
        f"{len(beats)} heartbeats"
    )
    return 0


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--historic", action="store_true", help="read one session to its end")
    mode.add_argument("--live", action="store_true", help="follow sessions that start from now")
    parser.add_argument("--broker", default="", help="host:port, embedded:PATH or '' (default)")
    parser.add_argument("--session", default="", help="historic: session key (default newest)")
    parser.add_argument("--duration", type=float, default=60.0, help="stop after this many s")
    parser.add_argument("--max-queued", type=int, default=256, help="packets held in memory")
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse(None))))
