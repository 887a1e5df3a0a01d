"""Interpolation (data reader): epoch-aligned grid statistics over a sample reader's releases."""

__all__ = [
    "bucket_statistics",
    "cell_queues",
    "cell_results",
    "data_reader_service",
    "frequencies",
    "grid_accumulator",
    "linear_fill",
    "module_api",
    "subscription",
]
