"""What every helper process shares: a support library built exactly as the official samples do."""

from __future__ import annotations

import json
import sys
from typing import Any

from ma_dataplatforms_streaming_support_library.contracts.shared.stream_api_configuration import (
    StreamingApiConfiguration,
)
from ma_dataplatforms_streaming_support_library.contracts.shared.stream_creation_strategy import (
    StreamCreationStrategy,
)
from ma_dataplatforms_streaming_support_library.core.base.logger import Logger
from ma_dataplatforms_streaming_support_library.core.base.support_library_bootstrapper import (
    SupportLibraryBootstrapper,
)

STRATEGIES = {
    "topic": StreamCreationStrategy.TOPIC_BASE,
    "partition": StreamCreationStrategy.PARTITION_BASE,
}
MAPPINGS = {"stream1": 1, "stream2": 2}


def start_library(broker_list: str, strategy: str) -> Any:
    configuration = StreamingApiConfiguration(
        broker_list, STRATEGIES[strategy], [], 10, partition_mappings=MAPPINGS
    )
    library = SupportLibraryBootstrapper.bootstrap(configuration, Logger()).create()
    library.initialise()
    library.start()
    return library


def started(result: Any) -> Any:
    if not result.success or result.data is None:
        raise SystemExit(f"create_service failed: {result.error_message}")
    service = result.data
    service.initialise()
    service.start()
    return service


def emit(**fields: Any) -> None:
    """One JSON object per line on stdout (the test reads them)."""
    sys.stdout.write(json.dumps(fields) + "\n")
    sys.stdout.flush()
