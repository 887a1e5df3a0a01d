"""Soak: writer and live-reader processes on one store for a while; every packet seen once, in order.

``python tests/reliability/soak.py [--seconds 600] [--writers 8] [--readers 8] [--broker-list L]``

Each writer process writes one session of numbered packets (flushing every batch) for the
duration; each reader process reads every session of the data source live. Afterwards every
reader must have seen every writer's packets exactly once and in order. Prints the figures
(written, read, lost, duplicated, out of order) and exits 1 if any is wrong. The default broker
list is an embedded store in a fresh temporary folder; any other (a Kafka bootstrap) works too.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from reliability.conftest import Proc

#: how long readers go on after the writers' end, to take in the last packets
_READ_MARGIN_S = 20.0


@dataclass
class Figures:
    written: int = 0
    read: int = 0
    lost: int = 0
    duplicated: int = 0
    out_of_order: int = 0

    @property
    def ok(self) -> bool:
        return self.written > 0 and not (self.lost or self.duplicated or self.out_of_order)


def _check(written: dict[str, int], seen: dict[str, list[int]], figures: Figures) -> None:
    """Add one reader's account of every writer's session to ``figures``."""
    for session, count in written.items():
        numbers = seen.get(session, [])
        figures.read += len(numbers)
        distinct = set(numbers)
        figures.duplicated += len(numbers) - len(distinct)
        figures.lost += len(set(range(1, count + 1)) - distinct)
        figures.out_of_order += sum(1 for a, b in itertools.pairwise(numbers) if b <= a)


def soak(broker_list: str, seconds: float, writers: int, readers: int) -> Figures:
    data_source = f"soak_{uuid.uuid4().hex[:8]}"
    reading = [
        Proc("store_reader.py", broker_list, data_source, str(seconds + _READ_MARGIN_S))
        for _ in range(readers)
    ]
    for reader in reading:
        reader.next_with("ready", timeout=120)
    writing = [
        Proc("store_writer.py", broker_list, data_source, "10", "0.1", str(seconds))
        for _ in range(writers)
    ]
    written: dict[str, int] = {}
    for writer in writing:
        session = writer.next_with("session", timeout=120)["session"]
        written[session] = writer.next_with("done", timeout=seconds + 120)["done"]
        writer.wait(60)
    figures = Figures(written=sum(written.values()))
    for reader in reading:
        seen: dict[str, list[int]] = {}
        for line in reader.wait(seconds + _READ_MARGIN_S + 120):
            if "numbers" in line:
                seen.setdefault(line["session"], []).extend(line["numbers"])
        _check(written, seen, figures)
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=600)
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--readers", type=int, default=8)
    parser.add_argument("--broker-list", default="", help="default: a fresh embedded store")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ma-streaming-soak-") as folder:
        broker_list = arguments.broker_list or f"embedded:{Path(folder) / 'soak.db'}"
        started = time.monotonic()
        figures = soak(broker_list, arguments.seconds, arguments.writers, arguments.readers)
    print(
        f"soak {arguments.writers} writers + {arguments.readers} live readers, "
        f"{arguments.seconds:g} s on {broker_list.split(':')[0] or 'embedded'} "
        f"({time.monotonic() - started:.0f} s in all): packets written {figures.written}, "
        f"read {figures.read} (expected {figures.written * arguments.readers}), "
        f"lost {figures.lost}, duplicated {figures.duplicated}, "
        f"out of order {figures.out_of_order}"
    )
    return 0 if figures.ok else 1


if __name__ == "__main__":
    sys.exit(main())
