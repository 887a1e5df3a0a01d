"""Packet writing service."""

__all__ = [
    "module_api",
    "packet_writer_service",
]
