"""TLS credentials and the shared-token check of the Stream API server (both off by default)."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from pathlib import Path
from typing import Any

import grpc

from ..errors import ConfigurationError

__all__ = ["HEALTH_SERVICE", "TokenInterceptor", "server_credentials"]

#: health checks answer without a token, so a load balancer needs none
HEALTH_SERVICE = "grpc.health.v1.Health"


def server_credentials(cert_file: str | None, key_file: str | None) -> Any:
    """TLS credentials from PEM files, or ``None`` for plain text; both files or neither."""
    if cert_file is None and key_file is None:
        return None
    if cert_file is None or key_file is None:
        raise ConfigurationError("TLS needs both --tls-cert and --tls-key")
    try:
        certificate = Path(cert_file).read_bytes()
        key = Path(key_file).read_bytes()
    except OSError as exc:
        raise ConfigurationError(f"cannot read the TLS certificate or key: {exc}") from exc
    return grpc.ssl_server_credentials(((key, certificate),))


def _refuse(message: str) -> Callable[[Any, Any], None]:
    def refuse(_request: Any, context: Any) -> None:
        context.abort(grpc.StatusCode.UNAUTHENTICATED, message)

    return refuse


class TokenInterceptor(grpc.ServerInterceptor):  # type: ignore[misc]
    """Refuses a call (UNAUTHENTICATED) unless its metadata carries
    ``authorization: Bearer <token>``; health checks are exempt."""

    def __init__(self, token: str) -> None:
        if not token:
            raise ConfigurationError("the shared token must not be empty")
        self._expected = f"Bearer {token}".encode()

    def intercept_service(self, continuation: Any, handler_call_details: Any) -> Any:
        method: str = handler_call_details.method
        if method.startswith(f"/{HEALTH_SERVICE}/"):
            return continuation(handler_call_details)
        for key, value in handler_call_details.invocation_metadata or ():
            if key == "authorization" and hmac.compare_digest(
                value.encode() if isinstance(value, str) else value, self._expected
            ):
                return continuation(handler_call_details)
        handler = continuation(handler_call_details)
        if handler is None:
            return None
        message = "metadata authorization: Bearer <token> is missing or wrong"
        if handler.request_streaming and handler.response_streaming:
            return grpc.stream_stream_rpc_method_handler(_refuse(message))
        if handler.request_streaming:
            return grpc.stream_unary_rpc_method_handler(_refuse(message))
        if handler.response_streaming:
            return grpc.unary_stream_rpc_method_handler(_refuse(message))
        return grpc.unary_unary_rpc_method_handler(_refuse(message))
