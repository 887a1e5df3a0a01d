"""Bootstrapper, logger, support library object and the service lifecycle."""

__all__ = [
    "context",
    "log_follower",
    "logger",
    "module_api",
    "service",
    "support_lib_api",
    "support_library_bootstrapper",
    "validation",
]
