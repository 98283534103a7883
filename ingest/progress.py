"""Progress for long runs: a live bar on a terminal, plain log lines otherwise (cron, systemd, CI)."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

log = logging.getLogger("mailintake.progress")

Reporter = Callable[[str, int, int], None]


@contextmanager
def reporter() -> Iterator[Reporter]:
    if sys.stderr.isatty():
        from rich.progress import Progress

        with Progress(transient=True) as bar:
            tasks: dict[str, int] = {}

            def update(stage: str, done: int, total: int) -> None:
                if stage not in tasks:
                    tasks[stage] = bar.add_task(stage, total=total)
                bar.update(tasks[stage], completed=done, total=total)

            yield update
        return

    def log_line(stage: str, done: int, total: int) -> None:
        step = max(1, total // 20)
        if done == total or done % step == 0:
            log.info("%s: %d/%d", stage, done, total)

    yield log_line
