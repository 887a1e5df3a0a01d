"""gRPC health checking and server reflection on the Stream API port (``grpcurl`` works)."""

from __future__ import annotations

from typing import Any

from ..errors import MissingDependencyError
from ..protos import api_pb2, key_generator_pb2

try:
    from grpc_health.v1 import health, health_pb2, health_pb2_grpc
    from grpc_reflection.v1alpha import reflection
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise MissingDependencyError(
        "grpcio-health-checking and grpcio-reflection", "grpc", "the Stream API server"
    ) from exc

__all__ = ["Health", "stream_api_services"]


def stream_api_services(*, key_generator: bool) -> list[str]:
    """Full names of the services a server port serves."""
    if key_generator:
        return [
            service.full_name for service in key_generator_pb2.DESCRIPTOR.services_by_name.values()
        ]
    return [service.full_name for service in api_pb2.DESCRIPTOR.services_by_name.values()]


class Health:
    """The standard health service of one port: SERVING for each service (and ``""``, the
    server) once it listens, NOT_SERVING from the start of shutdown."""

    def __init__(self, server: Any, services: list[str]) -> None:
        self._servicer = health.HealthServicer()
        self._services = services
        health_pb2_grpc.add_HealthServicer_to_server(self._servicer, server)
        names = [*services, health.SERVICE_NAME, reflection.SERVICE_NAME]
        reflection.enable_server_reflection(names, server)

    def serving(self) -> None:
        for name in ("", *self._services):
            self._servicer.set(name, health_pb2.HealthCheckResponse.SERVING)

    def shutting_down(self) -> None:
        self._servicer.enter_graceful_shutdown()
