"""`mailintake poll`: one pass — fetch what is new (stage 1) and, beside it, process everything not yet
processed, in arrival order.

What was recorded before an outage is processed all the same; the outage is reported afterwards.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from imapclient.exceptions import IMAPClientError

from mailintake.common.errors import SourceError
from mailintake.ingest import fetch, pipeline
from mailintake.ingest.arrivals import Arrivals
from mailintake.ingest.context import Context
from mailintake.ingest.decisions import apply_dropped
from mailintake.ingest.replies.send import SendSummary, send_due
from mailintake.ingest.sources.imap import ImapSource
from mailintake.ingest.sources.maildir import FileSource
from mailintake.store.lock import processing_lock

log = logging.getLogger(__name__)

Reporter = Callable[[str, int, int], None]  # (stage, done, total)


@dataclass
class PollSummary:
    fetched: int = 0
    rematched: int = 0
    processed: int = 0
    failed: list[str] = field(default_factory=list)
    replies: SendSummary | None = None
    decisions: list[str] = field(default_factory=list)  # decisions workbooks dropped in the reports folder


class KeptMailbox:
    """`serve`'s one IMAP connection, kept from poll to poll: logged in once and re-selected each poll, since
    a login per poll is what makes providers (QQ Mail) throttle a client. Dropped on any error, so the next
    poll logs in afresh."""

    def __init__(self, ctx: Context):
        self.ctx = ctx
        self.source: ImapSource | None = None

    @contextmanager
    def open(self) -> Iterator[ImapSource]:
        src = self._ready()
        try:
            yield src
        except BaseException:
            self.close()
            raise

    def _ready(self) -> ImapSource:
        if self.source is not None:
            try:
                self.source.reselect()
                return self.source
            except SourceError as exc:  # the server restarted or dropped an idle connection: log in again
                log.info("kept IMAP connection unusable (%s); logging in again", exc)
                self.close()
        mb = self.ctx.config.mailbox
        self.source = ImapSource(mb, mb.password()).__enter__()
        return self.source

    def close(self) -> None:
        if self.source is not None:
            self.source.close()
            self.source = None


def poll(ctx: Context, progress: Reporter | None = None, stop: Callable[[], bool] = lambda: False,
         kept: KeptMailbox | None = None, wait_seconds: float = 0.0) -> PollSummary:
    """One cycle under the processing lock; raises Busy if another holds it longer than `wait_seconds` (a
    cron poll: at once). `stop()` is asked between messages (fetching and processing): `serve` finishes the
    message in hand and returns. `kept`: an IMAP connection to reuse (serve); without it the cycle logs in
    and out."""
    with processing_lock(ctx.db, wait_seconds):
        return _cycle(ctx, progress, stop, kept)


def _cycle(ctx: Context, progress: Reporter | None, stop: Callable[[], bool],
           kept: KeptMailbox | None) -> PollSummary:
    summary = PollSummary()

    def stage(name: str) -> fetch.Progress | None:
        return (lambda done, total: progress(name, done, total)) if progress else None

    fetching = Fetching(ctx, stage("fetch"), stop, kept)
    fetching.start()
    try:
        summary.processed, summary.failed = pipeline.process_pending(
            ctx, stage("process"), lambda: stop() or fetching.broken(), fetching.arrivals)
    finally:
        fetching.finish()
    if fetching.error is not None and not isinstance(fetching.error, SourceError):
        raise fetching.error
    if fetching.result is not None:
        summary.fetched, summary.rematched = len(fetching.result.recorded), fetching.result.rematched
    summary.decisions = apply_dropped(ctx)
    # still under the lock: a row found `sending` is one a crashed sender left, never one in flight
    summary.replies = send_due(ctx)
    ctx.times.save()
    if fetching.error is not None:  # what was recorded before the outage is processed all the same
        raise fetching.error
    return summary


class Fetching(threading.Thread):
    """Stage 1 on a thread of its own, so the next messages download and become durable while the parse
    worker reads this one; the processing takes them in arrival order as `arrivals` lets it. The raw-first
    and checkpoint rules are fetch's own and unchanged: the processing only ever sees committed rows."""

    def __init__(self, ctx: Context, progress: fetch.Progress | None, stop: Callable[[], bool],
                 kept: KeptMailbox | None):
        super().__init__(name="mailintake-fetch", daemon=True)
        self.ctx, self.progress, self.stop, self.kept = ctx, progress, stop, kept
        self.arrivals = Arrivals()
        self.result: fetch.FetchResult | None = None
        self.error: BaseException | None = None
        self._abort = threading.Event()

    def run(self) -> None:
        try:
            self.result = fetch_new(self.ctx, self.progress, lambda: self.stop() or self._abort.is_set(),
                                    self.kept, self.arrivals)
        except BaseException as exc:  # handed to the polling thread, which raises it once processing stopped
            self.error = exc
        finally:
            self.arrivals.finish()

    def broken(self) -> bool:
        """Fetching met something other than the mailbox going away (storage, database): stop processing
        too, as a poll that never got to process would have."""
        return self.error is not None and not isinstance(self.error, SourceError)

    def finish(self) -> None:
        """Wait for the fetch to end; when processing stopped first (an error, a stop), after the message
        in hand."""
        self._abort.set()
        self.join()


@contextmanager
def open_source(ctx: Context, kept: KeptMailbox | None = None) -> Iterator[ImapSource | FileSource]:
    """The configured mailbox, opened (IMAP: connected, logged in, folder selected)."""
    mb = ctx.config.mailbox
    if mb.source == "maildir":
        yield FileSource(ctx.config.resolve(mb.path))
        return
    if kept is not None:
        with kept.open() as src:
            yield src
        return
    with ImapSource(mb, mb.password()) as src:
        yield src


def fetch_new(ctx: Context, progress: fetch.Progress | None = None,
              stop: Callable[[], bool] = lambda: False, kept: KeptMailbox | None = None,
              arrivals: Arrivals | None = None) -> fetch.FetchResult:
    with open_source(ctx, kept) as src:
        if isinstance(src, FileSource):
            return fetch.fetch_files(ctx, src, progress, stop, arrivals)
        try:
            return fetch.fetch_imap(ctx, src, progress, stop, arrivals)
        except (IMAPClientError, OSError) as exc:
            raise SourceError(f"{src.where}: connection lost during the poll ({exc}); "
                              "what was recorded is kept, the next poll resumes") from None
