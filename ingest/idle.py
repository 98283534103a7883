"""IMAP IDLE for `serve`: a second, long-lived connection that waits for the server to announce new mail
and then wakes the poll at once, so a submitter's mail is answered within seconds rather than at the next
poll interval.

It never fetches or records anything itself: the poll stays the only writer, and IDLE is only a doorbell.
When the server offers no IDLE, or the watching connection keeps failing, `serve` simply polls on its
interval as before; a lost IDLE connection is one log line when it goes and one when it comes back.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from imapclient.exceptions import IMAPClientError

from mailintake.common.errors import SourceError
from mailintake.ingest.config import Mailbox
from mailintake.ingest.sources.imap import ImapSource

log = logging.getLogger(__name__)

CHECK_SECONDS = 1.0  # how often the waiting loop looks at the stop flag
MAX_RETRY_SECONDS = 1800
_NEW_MAIL = frozenset({b"EXISTS", b"RECENT"})


class IdleWatch:
    """Waits in IDLE on its own connection and calls `wake()` whenever the folder gains a message."""

    def __init__(self, mailbox: Mailbox, wake: Callable[[], None], stop: threading.Event, retry_seconds: float):
        self.mailbox, self.wake, self.stop = mailbox, wake, stop
        self.retry_seconds = retry_seconds
        self.failures = 0
        self.thread = threading.Thread(target=self._run, name="imap-idle", daemon=True)

    def start(self) -> IdleWatch:
        self.thread.start()
        return self

    def _run(self) -> None:
        while not self.stop.is_set():
            try:
                if not self._watch():
                    return
            except (SourceError, IMAPClientError, OSError) as exc:
                if self.failures == 0:
                    log.warning("IMAP IDLE connection lost (%s); polling on the interval until it is back", exc)
                self.failures += 1
                self.stop.wait(min(self.retry_seconds * 2 ** (self.failures - 1), MAX_RETRY_SECONDS))

    def _watch(self) -> bool:
        """Watch until stopped (True: start again after an error); False when the server has no IDLE."""
        with ImapSource(self.mailbox, self.mailbox.password()) as src:
            assert src.client is not None
            if not src.client.has_capability("IDLE"):
                log.info("%s offers no IDLE: new mail is found by polling", src.where)
                return False
            if self.failures:
                log.info("IMAP IDLE connection back")
            self.failures = 0
            while not self.stop.is_set():
                self._one_idle(src)
        return True

    def _one_idle(self, src: ImapSource) -> None:
        """One IDLE command, ended and re-issued every `idle_renew_minutes` (RFC 2177: at most 29; NAT
        boxes and some providers drop a silent connection much sooner)."""
        client = src.client
        assert client is not None
        renew_at = time.monotonic() + self.mailbox.idle_renew_minutes * 60
        client.idle()
        try:
            while not self.stop.is_set() and time.monotonic() < renew_at:
                said = client.idle_check(timeout=CHECK_SECONDS)
                if any(len(item) > 1 and item[1] in _NEW_MAIL for item in said):
                    log.debug("IDLE: new mail announced")
                    self.wake()
        finally:
            client.idle_done()
