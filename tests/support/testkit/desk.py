"""The campaign mailbox as a Maildir: deliver raw messages, poll through the real pipeline, read status.

For behaviour tests that need the whole pipeline (parse, record, place, judge) but not IMAP: the file
source is the same stage-1 code path as far as everything after fetch is concerned.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
from pathlib import Path

from mailintake.ingest.context import Context
from mailintake.ingest.poll import poll
from mailintake.reports.status import build_status
from testkit.config import make_config, open_context
from testkit.mail import SHANGHAI

BEFORE_DEADLINE = dt.datetime(2021, 5, 20, 10, 0, tzinfo=SHANGHAI)


class MaildirDesk:
    def __init__(self, tmp_path: Path, **sections: dict):
        self.box = tmp_path / "box"
        for sub in ("new", "cur", "tmp"):
            (self.box / sub).mkdir(parents=True, exist_ok=True)  # exists when a test opens a desk again
        mailbox = {"source": "maildir", "path": str(self.box), **sections.pop("mailbox", {})}
        self.cfg = make_config(tmp_path, mailbox=mailbox, **sections)
        self.ctx: Context = open_context(self.cfg)
        self._n = itertools.count(1)

    def deliver(self, raw: bytes, when: dt.datetime = BEFORE_DEADLINE) -> None:
        """A message as the server received it (the file name carries the arrival time)."""
        (self.box / "new" / f"{int(when.timestamp())}.M{next(self._n)}P1.test").write_bytes(raw)

    def at(self, when: dt.datetime) -> None:
        """From now on the service's clock reads `when` (the server's arrival times are the messages' own)."""
        self.ctx = dataclasses.replace(self.ctx, clock=lambda: when)

    def poll(self) -> dict:
        summary = poll(self.ctx)
        assert summary.failed == [], summary.failed
        return self.status()

    def status(self) -> dict:
        with self.ctx.db.session() as s:
            return build_status(s, self.ctx.scope)

    def stored(self, sha256: str) -> bytes:
        """The bytes kept for an attachment (as the receipt will quote them)."""
        return self.ctx.blobs.get("files", sha256)

    def close(self) -> None:
        self.ctx.close()


def one_message(status: dict) -> dict:
    [msg] = status["messages"]
    return msg


def by_name(msg: dict) -> dict[str, dict]:
    return {a["name"]: a for a in msg["attachments"]}
