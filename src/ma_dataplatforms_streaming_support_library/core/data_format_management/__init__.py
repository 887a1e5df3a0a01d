"""Data format management: the essentials catalog and the service."""

__all__ = [
    "catalog",
    "data_format_management_service",
    "module_api",
]
