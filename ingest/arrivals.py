"""What the fetcher has stored so far, told to the processing running beside it (`poll`).

Processing follows arrival order (INTERNALDATE, then row id), because a burst's reply settles by arrival
time. While the fetcher is still downloading, a stored message may be processed only when no entry still
to be fetched arrived before it: that is the order a poll that fetched everything first would take, so
overlapping the two changes when messages are processed, never how.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Frontier:
    """Stored messages that arrived at or before `until` may be processed now; `until` None: all of them.
    Before the fetcher has `listed` what is coming, none may (an older entry may be among it).
    `final`: the fetcher has finished (or never ran), so nothing more will be stored in this cycle."""

    listed: bool
    until: dt.datetime | None
    final: bool
    waiting: int  # entries listed but not stored yet


class Arrivals:
    """Written by the fetching thread, read by the processing one; every change wakes the reader."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._earliest_after: list[dt.datetime] = []  # [n]: the earliest arrival among entries n, n+1, ...
        self._stored = 0
        self._listed = False
        self._final = False

    @classmethod
    def finished(cls) -> Arrivals:
        """Nothing being fetched: everything stored may be processed (reprocess, a poll after fetching)."""
        arrivals = cls()
        arrivals.finish()
        return arrivals

    def expect(self, arrived: Sequence[dt.datetime]) -> None:
        """The entries about to be fetched, in fetch order, by arrival time."""
        earliest: list[dt.datetime] = []
        for when in reversed(arrived):
            earliest.append(min(when, earliest[-1]) if earliest else when)
        with self._changed:
            self._earliest_after, self._stored, self._listed = earliest[::-1], 0, True
            self._changed.notify_all()

    def stored(self, count: int) -> None:
        """The first `count` expected entries are stored (recorded, matched or found already known)."""
        with self._changed:
            self._stored = count
            self._changed.notify_all()

    def finish(self) -> None:
        with self._changed:
            self._final = True
            self._changed.notify_all()

    def frontier(self) -> Frontier:
        with self._changed:
            return self._frontier()

    def wait(self, seen: Frontier, timeout: float = 1.0) -> Frontier:
        """The frontier once it differs from `seen` (or after `timeout`, for the caller's stop check)."""
        with self._changed:
            self._changed.wait_for(lambda: self._frontier() != seen, timeout)
            return self._frontier()

    def _frontier(self) -> Frontier:
        if self._final:
            return Frontier(True, None, True, 0)
        rest = len(self._earliest_after) - self._stored
        return Frontier(self._listed, self._earliest_after[self._stored] if rest > 0 else None, False, rest)
