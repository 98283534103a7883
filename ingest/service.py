"""Wires the configured parts together for one command: database, blob store, source, stages."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from imapclient.exceptions import IMAPClientError

from store.blobs import BlobStore
from store.db import Database, require_current

from . import fetch
from .config import Config
from .sources.imap import ImapSource, SourceError
from .sources.maildir import FileSource

log = logging.getLogger(__name__)


@dataclass
class PollSummary:
    fetched: int = 0
    rematched: int = 0
    processed: int = 0
    failed: list[str] = field(default_factory=list)


class Service:
    def __init__(self, cfg: Config):
        self.cfg = cfg
        self.db = Database(cfg.database_url())
        self.blobs = BlobStore(cfg.resolve(cfg.storage.root))

    def open(self) -> Service:
        require_current(self.db.engine)
        self.blobs.open()
        return self

    def close(self) -> None:
        self.db.dispose()

    @contextmanager
    def source(self) -> Iterator[ImapSource | FileSource]:
        mb = self.cfg.mailbox
        if mb.source == "maildir":
            yield FileSource(self.cfg.resolve(mb.path))
            return
        with ImapSource(mb, mb.password()) as src:
            yield src

    def poll(self, progress: Callable[[str, int, int], None] | None = None) -> PollSummary:
        """One pass: fetch what is new, then process everything not yet processed."""
        summary = PollSummary()

        def stage(name: str) -> fetch.Progress | None:
            return (lambda done, total: progress(name, done, total)) if progress else None

        lost: SourceError | None = None
        try:
            result = self._fetch(stage("fetch"))
            summary.fetched, summary.rematched = len(result.recorded), result.rematched
        except SourceError as exc:  # what was recorded before the outage is processed all the same
            lost = exc
        from . import process

        done, failed = process.process_pending(self.cfg, self.db, self.blobs, stage("process"))
        summary.processed, summary.failed = done, failed
        if lost is not None:
            raise lost
        return summary

    def _fetch(self, progress: fetch.Progress | None) -> fetch.FetchResult:
        with self.source() as src:
            if isinstance(src, FileSource):
                return fetch.fetch_files(self.db, self.blobs, src, progress)
            try:
                return fetch.fetch_imap(self.db, self.blobs, src, progress)
            except (IMAPClientError, OSError) as exc:
                raise SourceError(f"{src.where}: connection lost during the poll ({exc}); "
                                  "what was recorded is kept, the next poll resumes") from None
