"""Parse workers side by side: while the service parses and records one message, the next is read ahead.

Facts are a pure function of the bytes and the settings, so a message read ahead has the facts it would
have had when its turn came; the turn itself (its attempt counted, its rows, its reply) is unchanged. A
result read ahead is used only if every file it stored is still there (an earlier message's commit may have
removed a file the two share), and none outlives the processing run that asked for it: `drop_ahead`
waits for those in flight and forgets them, so a later sweep never races a worker's writes.
"""

from __future__ import annotations

import contextlib
import queue
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from mailintake.ingest.worker import ParseWorker, WorkerLimits
from mailintake.parsers.envelope import Overrun
from mailintake.parsers.facts import MessageFacts, ParserSettings
from mailintake.store.blobs import BlobStore

Outcome = MessageFacts | Overrun


class ParsePool:
    """`size` bounded workers; with two or more, one message at a time is read ahead on a spare one."""

    def __init__(self, settings: ParserSettings, limits: WorkerLimits, blobs: BlobStore | None, size: int = 1):
        self.blobs = blobs
        self._workers = [ParseWorker(settings, limits, blobs) for _ in range(size)]
        self._idle: queue.SimpleQueue[ParseWorker] = queue.SimpleQueue()
        for worker in self._workers:
            self._idle.put(worker)
        self._reader = ThreadPoolExecutor(size - 1, thread_name_prefix="mailintake-parse-ahead") if size > 1 else None
        self._ahead: dict[Path, Future[Outcome]] = {}

    def start(self) -> None:
        """Begin starting every worker; their imports overlap the caller's download of the first message."""
        for worker in self._workers:
            worker.start()

    def parse(self, raw: bytes | Path, skip: dict[int, Overrun], store_files: bool = True) -> Outcome:
        """The message's facts (read ahead when they were), or what stopped its worker. `store_files` False
        (a dry run): the worker writes nothing and sends the files' bytes, and no read-ahead is used."""
        taken = self._taken(raw) if isinstance(raw, Path) and not skip and store_files else None
        return taken if taken is not None else self._run(raw, skip, store_files)

    def ahead(self, raw: Path) -> None:
        """Start reading a stored message the caller will ask for next, if a worker is spare."""
        if self._reader is not None and raw not in self._ahead and len(self._ahead) < len(self._workers) - 1:
            self._ahead[raw] = self._reader.submit(self._run, raw, {})

    def drop_ahead(self) -> None:
        """Wait for what is being read ahead and forget it (a file it stored is swept later, unreferenced)."""
        for future in self._ahead.values():
            with contextlib.suppress(Exception):
                future.result()
        self._ahead.clear()

    def close(self) -> None:
        self.drop_ahead()
        if self._reader is not None:
            self._reader.shutdown()
        for worker in self._workers:
            worker.close()

    def _run(self, raw: bytes | Path, skip: dict[int, Overrun], store_files: bool = True) -> Outcome:
        worker = self._idle.get()
        try:
            return worker.parse(raw, skip, store_files)
        finally:
            self._idle.put(worker)

    def _taken(self, raw: Path) -> Outcome | None:
        future = self._ahead.pop(raw, None)
        if future is None:
            return None
        try:
            out = future.result()
        except Exception:  # read again in its turn, where a real failure is raised and recorded as usual
            return None
        if isinstance(out, MessageFacts) and out.files_stored and self.blobs is not None and not all(
                self.blobs.exists("files", f.sha256) for f in out.files):
            return None  # an earlier message's commit removed a file both hold: read again, which stores it
        return out
