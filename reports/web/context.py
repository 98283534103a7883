"""What the web view's handlers share, built once per app (`app.build`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from starlette.templating import Jinja2Templates

from mailintake.ingest.config import Config
from mailintake.reports.queries import ReportScope
from mailintake.reports.web.auth import Accounts, LoginThrottle, Sessions
from mailintake.reports.web.thumbs import Thumbnails
from mailintake.store.blobs import BlobStore
from mailintake.store.db import Database

Clock = Callable[[], dt.datetime]


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class Web:
    """What the handlers need, built once per app."""

    config: Config
    db: Database
    blobs: BlobStore
    scope: ReportScope
    clock: Clock
    accounts: Accounts
    sessions: Sessions
    throttle: LoginThrottle
    thumbs: Thumbnails
    exports: Path  # where a download's export is built, then streamed and removed
    templates: Jinja2Templates
