"""Settling: which of a unit's messages one reply covers, and when that reply is due. Pure.

Units send their materials in several mails (the 50 MB limit), minutes apart. A unit's messages awaiting a
reply form a burst while each arrived (server time) within `settle` of the previous one; a burst whose
subjects mark it as a series ("(2/3)", "之二") stays open while a part is missing, for at most `max_wait`
after its first message. A burst is due once its last message is `settle` old (an open series: once
`max_wait` has passed), so a backlog processed late is cut into bursts exactly as it would have been live.
`settle == 0`: every message is its own burst.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from mailintake.parsers.subjects import SeriesMark


@dataclass(frozen=True)
class Waiting:
    """A message owed a reply that no reply covers yet."""

    message_id: int
    arrived: dt.datetime
    mark: SeriesMark | None = None


@dataclass(frozen=True)
class Window:
    settle: dt.timedelta
    max_wait: dt.timedelta


def bursts(waiting: list[Waiting], window: Window) -> list[list[Waiting]]:
    """One unit's waiting messages cut into bursts, in arrival order."""
    out: list[list[Waiting]] = []
    for w in sorted(waiting, key=lambda x: (x.arrived, x.message_id)):
        if out and _joins(out[-1], w, window):
            out[-1].append(w)
        else:
            out.append([w])
    return out


def is_due(burst: list[Waiting], now: dt.datetime, window: Window) -> bool:
    if window.settle <= dt.timedelta(0):
        return True
    # strictly later: a message arriving exactly at the edge still joins (see `_joins`), never both
    if series_open(burst):
        return now > burst[0].arrived + window.max_wait
    return now > burst[-1].arrived + window.settle


def series_open(burst: list[Waiting]) -> bool:
    """A part of a marked series is missing: of n when a total is given, else below the highest part seen."""
    marks = [w.mark for w in burst if w.mark is not None]
    if not marks:
        return False
    seen = {m.part for m in marks}
    totals = [m.total for m in marks if m.total is not None]
    last = max(totals) if totals else max(seen)
    return not set(range(1, last + 1)) <= seen


def _joins(burst: list[Waiting], w: Waiting, window: Window) -> bool:
    if window.settle <= dt.timedelta(0):
        return False
    if w.arrived - burst[-1].arrived <= window.settle:
        return True
    return series_open(burst) and w.arrived - burst[0].arrived <= window.max_wait
