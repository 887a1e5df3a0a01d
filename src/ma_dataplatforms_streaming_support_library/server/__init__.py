"""The Stream API gRPC server on the library's own services (extra ``grpc``)::

server = serve_stream_api(StreamingApiConfiguration("embedded:/tmp/s.db"))
...  # any Stream API client: port 13579, key generator on 15379
server.stop()
"""

from __future__ import annotations

from ..contracts.shared.stream_api_configuration import StreamingApiConfiguration
from ..errors import MissingDependencyError

try:
    import grpc  # noqa: F401
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise MissingDependencyError("grpcio", "grpc", "the Stream API server") from exc

from .app import KEY_GENERATOR_PORT, STREAM_API_PORT, ServerOptions, StreamApiServer
from .config import load_app_config

__all__ = [
    "KEY_GENERATOR_PORT",
    "STREAM_API_PORT",
    "ServerOptions",
    "StreamApiServer",
    "load_app_config",
    "serve_stream_api",
]


def serve_stream_api(
    configuration: StreamingApiConfiguration, options: ServerOptions | None = None
) -> StreamApiServer:
    """Start a Stream API server on ``configuration``'s broker and return it, listening.

    ``configuration.stream_api_port`` (13579) is the port unless ``options.port`` says otherwise;
    the key generator listens on ``options.key_generator_port`` (15379). Call ``stop()`` (or use
    the server as a context manager) to end it; ``wait()`` blocks until it has stopped.
    """
    return StreamApiServer(configuration, options).start()
