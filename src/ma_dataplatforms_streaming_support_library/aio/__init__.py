"""asyncio face of the library: async iterators over packets and windows, an async writer.

::

    import asyncio
    from ma_dataplatforms_streaming_support_library import aio

    async def main(lib):                       # lib from SupportLibraryBootstrapper...create()
        await lib.initialise_async()
        lib.start()
        reader = lib.get_reading_packet_api().create_service(data_source, session_key).data
        async with aio.packets(reader, max_queued=256) as packets:
            async for dto in packets:          # ends when the HISTORIC read completes
                print(dto.stream, len(dto.packet_bytes.data))

        writer = lib.get_writing_packet_api().create_service().data
        async with aio.AsyncPacketWriter(writer) as out:
            result = await out.write(data_source, "", session_key, packet_bytes)
            await out.flush()

Rules (the same as the plain iterators of ``core.packet_reading.iteration``):

- **Bounded, with back-pressure.** Items go from the reader's thread to the loop through a queue
  of at most ``max_queued`` items; when it is full the reader's delivery waits, so a slow consumer
  slows the reader and memory stays bounded. Nothing is dropped; the loop never blocks.
- **Lifecycle.** Services not started are started on entry (on a worker thread) and stopped on
  exit; services already started are left running, only the handler is removed. ``async with``
  closes at exit; a bare ``async for`` closes when the loop ends or raises (after a ``break``,
  when the loop finalises the iterator: prefer ``async with``).
- **Cancellation.** A cancelled consumer closes the bridge: the reader's thread stops waiting for
  room at once, owned services are stopped and their threads joined before the cancellation
  propagates.
- **Errors.** ``timeout`` bounds the wait for each item (``ReaderTimeoutError``). At the end, what
  stopping an owned reader raises (its ``TimeoutError``) and an error that stopped the reader's
  thread are raised by the iterator.
- **Windows.** ``aio.windows(sample_reader, packet_reader)`` yields what the sample reader hands
  out (``TimestampData`` or ``SampleData`` with the ``Start…``/``End…`` items); wire them with
  ``sample_reader.set_reader_service(packet_reader)`` first. It ends with the packet reader.
- **Writer.** ``AsyncPacketWriter`` runs the service's calls on one worker thread, in call order;
  ``await lib.initialise_async()`` connects without blocking the loop.
"""

from __future__ import annotations

from .stream import AsyncItemStream, packets, windows
from .writer import AsyncPacketWriter

__all__ = ["AsyncItemStream", "AsyncPacketWriter", "packets", "windows"]
