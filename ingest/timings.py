"""Where a poll's time goes, stage by stage, for the throughput benchmark (bench/throughput.py).

Summed wall-clock seconds per stage: `fetch` (waiting for the server's bytes), `store` (raw bytes made
durable and the row committed), `process` (everything after), and within it `parse` (the bounded worker's
round trip). Always counted — a few clock reads per message — and written as JSON only when the
environment names a file (`MAILINTAKE_TIMINGS=path`), as the benchmark does.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

ENV = "MAILINTAKE_TIMINGS"
T = TypeVar("T")


@dataclass
class StageTimes:
    path: Path | None = None  # where `save` writes; None: nowhere
    seconds: dict[str, float] = field(default_factory=dict)

    @classmethod
    def from_env(cls) -> StageTimes:
        named = os.environ.get(ENV)
        return cls(Path(named) if named else None)

    @contextmanager
    def measure(self, stage: str, excluding: str | None = None) -> Iterator[None]:
        """Seconds spent inside, less what `excluding` counted meanwhile (a stage nested in this one)."""
        started, inner = time.perf_counter(), self.seconds.get(excluding, 0.0) if excluding else 0.0
        try:
            yield
        finally:
            nested = self.seconds.get(excluding, 0.0) - inner if excluding else 0.0
            self.seconds[stage] = self.seconds.get(stage, 0.0) + time.perf_counter() - started - nested

    def timed(self, stage: str, items: Iterable[T]) -> Iterator[T]:
        """`items` with the time spent producing each one (a network read) counted under `stage`."""
        it = iter(items)
        while True:
            with self.measure(stage):
                try:
                    item = next(it)
                except StopIteration:
                    return
            yield item

    def save(self) -> None:
        if self.path is not None:
            self.path.write_text(json.dumps(self.seconds, indent=1), encoding="utf-8")
