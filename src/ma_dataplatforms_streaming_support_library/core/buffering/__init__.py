"""Buffering (sample reader): per-session reordering windows over NumPy sample blocks."""

__all__ = [
    "columnar_decoding",
    "handler_items",
    "merge",
    "merged_block",
    "merged_block_listener",
    "module_api",
    "packet_decoding",
    "parameter_registry",
    "sample_block",
    "sample_reader_service",
    "session_buffer",
    "session_merger",
]
