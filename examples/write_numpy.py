"""Write a telemetry session from NumPy arrays with the session writer, then read it back.

Ten seconds of a lap: a 200 Hz speed trace and 1 kHz engine speed as periodic data, lateral and
longitudinal g at irregular times as rows, a lap marker, a pit event and a session detail.

    python examples/write_numpy.py                           # embedded default store
    python examples/write_numpy.py --broker localhost:9092   # a Kafka cluster
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from ma_dataplatforms_streaming_support_library import (
    Parameter,
    open_session_writer,
    read_session,
)

SECONDS = 10


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--broker", default="", help="host:port for Kafka, embedded:PATH, or ''")
    args = parser.parse_args(argv)

    start_ns = time.time_ns()
    t = np.arange(200 * SECONDS) / 200
    speed = 180 + 120 * np.sin(2 * np.pi * t / SECONDS)
    rpm = 10_500 + 1_500 * np.sin(2 * np.pi * np.arange(1000 * SECONDS) / 1000)
    g_times = start_ns + np.sort(np.random.default_rng(7).integers(0, SECONDS * 10**9, 500))
    g_lat = np.sin(np.linspace(0, 6 * np.pi, g_times.size)) * 4
    parameters = {
        "vCar:Chassis": Parameter(units="km/h", frequency_hz=200, min=0, max=400, format="%5.1f"),
        "nEngine:Engine": Parameter(units="rpm", frequency_hz=1000, min=0, max=15_000),
        "gLat:Chassis": Parameter(units="g", min=-6, max=6),
        "gLong:Chassis": Parameter(units="g", min=-6, max=6),
    }
    with open_session_writer(
        args.broker, identifier="NumPy example", parameters=parameters
    ) as writer:
        writer.write_periodic("vCar:Chassis", start_ns, 5_000_000, speed)
        writer.write_periodic("nEngine:Engine", start_ns, 1_000_000, rpm)
        writer.write_rows(g_times, {"gLat:Chassis": g_lat, "gLong:Chassis": -g_lat / 2})
        writer.marker("Lap 2", start_ns + 5 * 10**9, type="Lap Trigger", value=2)
        writer.event("Pit Entry", start_ns + 9 * 10**9, values=[1.0])
        writer.details({"Driver": "A. Driver", "Circuit": "Silverstone"})

    session = read_session(writer.session_key, args.broker)
    for identifier in session.parameters:
        series = session.parameter(identifier)
        print(
            f"{identifier:16} {len(series):6} samples  mean {series.values.mean():9.2f} {series.units}"
        )
    print(
        f"session {session.session_key}: {len(session.markers)} marker, {len(session.events)} event"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
