"""Official: the bootstrapper and the logger; ours beside them: the service lifecycle and validation."""

__all__ = [
    "log_follower",
    "logger",
    "service",
    "support_library_bootstrapper",
    "validation",
]
