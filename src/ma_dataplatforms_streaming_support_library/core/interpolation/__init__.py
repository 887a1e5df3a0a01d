"""Interpolation (data reader): epoch-aligned grid statistics over a sample reader's releases."""

__all__ = [
    "bucket_statistics",
    "cell_results",
    "data_reader_service",
    "grid_accumulator",
    "module_api",
    "subscription",
]
