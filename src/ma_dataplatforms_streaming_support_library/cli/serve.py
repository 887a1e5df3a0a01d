"""`serve`: run the Stream API gRPC server (and key generator) on the store until SIGTERM/Ctrl-C."""

from __future__ import annotations

import argparse
import signal
import threading
from pathlib import Path
from types import FrameType
from typing import Any

from ..contracts.shared.stream_api_configuration import StreamingApiConfiguration
from ..contracts.shared.stream_creation_strategy import StreamCreationStrategy
from ..errors import CliError, MissingDependencyError

__all__ = ["add_parsers"]

_STRATEGIES = {
    "partition": StreamCreationStrategy.PARTITION_BASE,
    "topic": StreamCreationStrategy.TOPIC_BASE,
}


def add_parsers(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    serve = commands.add_parser(
        "serve",
        help="run the Stream API gRPC server",
        description="Serve Motion Applied's Stream API (gRPC) on the store, so that programs "
        "written for the C# Stream API server run against it unchanged. Stops on SIGTERM or "
        "Ctrl-C: streams end, pending writes are flushed.",
    )
    serve.add_argument("--port", type=int, help="Stream API port (default 13579, or StreamApiPort)")
    serve.add_argument(
        "--key-generator-port", type=int, default=15379, help="key generator port (default 15379)"
    )
    serve.add_argument("--host", default="[::]", help="address to listen on (default: all)")
    serve.add_argument(
        "--config",
        metavar="APPCONFIG_JSON",
        help="the C# server's AppConfig.json to take options from",
    )
    serve.add_argument(
        "--strategy",
        choices=sorted(_STRATEGIES),
        help="stream creation strategy (default partition, or StreamCreationStrategy)",
    )
    serve.add_argument(
        "--partition-mapping",
        action="append",
        default=[],
        metavar="STREAM=PARTITION",
        help="map a stream to a partition of the main topic (repeatable)",
    )
    serve.add_argument(
        "--batching-responses", action="store_true", help="several packets per read response"
    )
    serve.add_argument(
        "--metrics-port", type=int, help="serve Prometheus metrics over HTTP on this port"
    )
    serve.add_argument("--tls-cert", metavar="PEM", help="serve TLS with this certificate (chain)")
    serve.add_argument("--tls-key", metavar="PEM", help="the private key of --tls-cert")
    serve.add_argument(
        "--token-file",
        metavar="PATH",
        help="refuse calls without 'authorization: Bearer <the file's content>' (health checks "
        "excepted); clients set MA_STREAMING_GRPC_TOKEN",
    )
    # Runs with the grpc extra alone: without rich it prints plain lines.
    serve.set_defaults(run=run_serve, plain_output=True)


def _configuration(args: argparse.Namespace) -> StreamingApiConfiguration:
    from ..server import load_app_config

    if args.config:
        configuration = load_app_config(args.config, args.broker or None)
    else:
        configuration = StreamingApiConfiguration(
            args.broker, additional_properties=args.properties, timeout_seconds=args.timeout
        )
    if args.strategy:
        configuration.stream_creation_strategy = _STRATEGIES[args.strategy]
    for mapping in args.partition_mapping:
        stream, _, partition = mapping.partition("=")
        if not stream or not partition.isdigit() or int(partition) < 1:
            raise CliError(f"--partition-mapping {mapping!r}: expected STREAM=PARTITION (>= 1)")
        configuration.partition_mappings[stream] = int(partition)
    if args.batching_responses:
        configuration.batching_responses = True
    return configuration


def _token(path: str | None) -> str | None:
    if path is None:
        return None
    try:
        token = Path(path).read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise CliError(f"--token-file {path}: {exc}") from exc
    if not token:
        raise CliError(f"--token-file {path} is empty")
    return token


def run_serve(args: argparse.Namespace, out: Any, err: Any) -> int:
    try:
        from ..server import ServerOptions, StreamApiServer
    except MissingDependencyError as exc:
        raise CliError(str(exc)) from exc
    configuration = _configuration(args)
    server = StreamApiServer(
        configuration,
        ServerOptions(
            host=args.host,
            port=args.port,
            key_generator_port=args.key_generator_port,
            tls_cert=args.tls_cert,
            tls_key=args.tls_key,
            token=_token(args.token_file),
            metrics_port=args.metrics_port,
        ),
    )
    stop = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        stop.set()

    previous = signal.signal(signal.SIGTERM, on_signal)
    server.start()
    metrics = f", metrics on port {server.metrics_port}" if server.metrics_port else ""
    out.print(
        f"Stream API on port {server.port}, key generator on port {server.key_generator_port}"
        f"{metrics}, store {configuration.broker_list or 'embedded (default)'}"
    )
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
        signal.signal(signal.SIGTERM, previous)
    out.print("Stream API stopped")
    return 0
