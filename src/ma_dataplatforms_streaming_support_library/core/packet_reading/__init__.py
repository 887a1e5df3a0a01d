"""Packet reading service."""

__all__ = [
    "module_api",
    "packet_reader_service",
    "session_reading",
]
