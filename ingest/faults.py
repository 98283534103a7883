"""Test-only crash points, so fault-injection tests can kill the service at exact moments.

`MAILINTAKE_FAULTS="raw_stored:3,delivered:1"` makes this process SIGKILL itself the 3rd time it has stored
a raw message durably (and the 1st time the SMTP server has accepted a reply before it is marked sent).
Counted events, not timers: a kill always lands where the work is. Unset (production), `reached` does nothing.

Points, in the order a message meets them:
    raw_stored  the raw bytes are fsynced, no row refers to them yet
    recorded    the message row and checkpoint are committed, the IMAP post-action not yet done
    processed   a message's processing is committed, its blob effects (quarantine move) not yet done
    claimed     an outbox row is committed `sending`, the SMTP transaction not yet begun
    delivered   the SMTP server said 250, the row is not yet `sent`
    sent        the row is committed `sent`
"""

from __future__ import annotations

import os
import signal
from collections import Counter
from dataclasses import dataclass, field

ENV = "MAILINTAKE_FAULTS"
POINTS = ("raw_stored", "recorded", "processed", "claimed", "delivered", "sent")


@dataclass
class Faults:
    plan: dict[str, int] = field(default_factory=dict)
    seen: Counter = field(default_factory=Counter)

    @classmethod
    def from_env(cls) -> Faults:
        plan: dict[str, int] = {}
        for item in filter(None, (p.strip() for p in os.environ.get(ENV, "").split(","))):
            point, _, n = item.partition(":")
            if point not in POINTS or not n.isdigit():
                raise ValueError(f"{ENV}: {item!r} is not POINT:N with POINT one of {', '.join(POINTS)}")
            plan[point] = int(n)
        return cls(plan)

    def reached(self, point: str) -> None:
        if point not in self.plan:
            return
        self.seen[point] += 1
        if self.seen[point] == self.plan[point]:
            os.kill(os.getpid(), signal.SIGKILL)
