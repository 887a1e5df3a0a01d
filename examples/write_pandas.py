"""Write a telemetry session from a pandas DataFrame in one call, then read it back as a frame.

python examples/write_pandas.py                           # embedded default store
python examples/write_pandas.py --broker localhost:9092   # a Kafka cluster
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
import pandas as pd

from ma_dataplatforms_streaming_support_library import Parameter, read_session, write_session


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--broker", default="", help="host:port for Kafka, embedded:PATH, or ''")
    args = parser.parse_args(argv)

    # A wide frame: one column per parameter on a 100 Hz time index (evenly spaced, so it is
    # written as periodic data; NaN cells would be left out).
    index = pd.date_range(pd.Timestamp.now(tz="UTC"), periods=1_000, freq="10ms")
    phase = np.linspace(0, 4 * np.pi, index.size)
    frame = pd.DataFrame(
        {"vCar:Chassis": 200 + 50 * np.sin(phase), "throttle:Driver": 50 + 50 * np.cos(phase)},
        index=index,
    )
    key = write_session(
        frame,
        args.broker,
        identifier="pandas example",
        parameters={
            "vCar:Chassis": Parameter(units="km/h", frequency_hz=100),
            "throttle:Driver": Parameter(units="%", frequency_hz=100, min=0, max=100),
        },
    )

    session = read_session(key, args.broker)
    long_form = session.to_pandas()
    print(long_form.groupby("parameter", observed=True)["value"].describe())
    print(f"session {key}: {session.sample_count} samples")
    return 0


if __name__ == "__main__":
    sys.exit(main())
