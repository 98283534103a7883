"""Log lines: plain by default, one JSON object per line with `--log-format json` (for journald or a log
shipper). A record's `ref` (a message's reference number or key), given with `extra={"ref": …}`, is kept."""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys

PLAIN = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class JsonLines(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {"ts": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
                "level": record.levelname.lower(), "logger": record.name, "message": record.getMessage()}
        if getattr(record, "ref", None) is not None:
            line["ref"] = record.ref
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def setup(verbose: bool, form: str = "plain") -> None:
    root = logging.getLogger()
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    for noisy in ("alembic", "imapclient", "libarchive", "apscheduler"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    if root.handlers:  # already configured by whoever runs us in-process (as logging.basicConfig would leave it)
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLines() if form == "json" else logging.Formatter(PLAIN))
    root.addHandler(handler)
