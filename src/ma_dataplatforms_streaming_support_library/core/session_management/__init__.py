"""Session management: the SessionInfo registry and the service."""

__all__ = [
    "module_api",
    "registry",
    "session_management_service",
]
