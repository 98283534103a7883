"""Parsing in a child process the operating system bounds: a wall-clock limit and a memory limit.

Counted limits inside the parsers keep facts a pure function of the bytes; this is the backstop behind
them, for native work nothing inside can bound (pdfium on a huge content stream, a decoder on an absurd
image). The child reports which file it is reading; when it overruns its time or memory, or dies, the
parent kills its whole process group and the message is parsed again without that file, which gets
`processing_limit`. One bad file costs one stall, and the unit's other files are still judged.

The child holds no lock and never touches the database: it reads a stored message, writes the files it
extracts to the blob store, and returns facts. It runs in its own process group (so its external helpers
die with it) and dies with the parent (PR_SET_PDEATHSIG), so a SIGKILLed service leaves nothing running.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import logging
import os
import resource
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from multiprocessing.connection import Connection
from pathlib import Path

from mailintake.parsers.envelope import Overrun
from mailintake.parsers.facts import MessageFacts, ParserSettings
from mailintake.store.blobs import BlobStore

log = logging.getLogger(__name__)

_PR_SET_PDEATHSIG = 1
_M_MMAP_THRESHOLD = -3  # mallopt's parameter number (malloc.h)
_WATCH_SECONDS = 0.1
_LIST_SECONDS = 1.0  # how often the worker's process group is listed again
_WRITERS = 4  # files written at once: they wait on the disk, not the CPU
_START_SECONDS = 120  # importing the parsers takes about a second; a loaded CI machine more
_PAGE = os.sysconf("SC_PAGE_SIZE")


@dataclass(frozen=True)
class WorkerLimits:
    wall_seconds: float
    memory_bytes: int
    threads: int = 2  # photos inspected side by side in the child (parse_message's `threads`)


class ParseWorker:
    """A pool of one: a child that parses messages one at a time, replaced whenever it is killed."""

    def __init__(self, settings: ParserSettings, limits: WorkerLimits, blobs: BlobStore | None = None):
        """With `blobs` the child writes the extracted files there itself and returns facts without their
        bytes: a 45 MB message's photos are then not pickled, piped, unpickled and held here (that round
        trip was a third of a message's parse time)."""
        self.settings, self.limits, self.blobs = settings, limits, blobs
        self._proc: subprocess.Popen | None = None
        self._conn: Connection | None = None
        self._ready = False  # the child has said it is ready

    def parse(self, raw: bytes | Path, skip: dict[int, Overrun], store_files: bool = True) -> MessageFacts | Overrun:
        """The message's facts, or what stopped the child (and at which file). Given the stored file's path,
        the child reads it itself: the bytes are then never held by this process nor copied down the pipe.
        An overrun while several photos were inspected at once is repeated one file at a time, to name one."""
        out, reading = self._attempt(raw, skip, store_files, self.limits.threads)
        if isinstance(out, Overrun) and len(reading) > 1:
            out, _ = self._attempt(raw, skip, store_files, 1)
        return out

    def _attempt(self, raw: bytes | Path, skip: dict[int, Overrun], store_files: bool,
                 threads: int) -> tuple[MessageFacts | Overrun, tuple[int, ...]]:
        """One parse in the child: its outcome, and the files it was reading when it ended."""
        conn = self._ensure()
        conn.send((raw, skip, store_files and self.blobs is not None, threads))
        reading: tuple[int, ...] = ()
        deadline = time.monotonic() + self.limits.wall_seconds
        memory = _GroupMemory(self._proc.pid)
        while True:
            if conn.poll(_WATCH_SECONDS):
                try:
                    kind, value = conn.recv()
                except (EOFError, OSError):
                    return self._lost(reading, "died"), reading
                if kind == "file":
                    reading = value
                elif kind == "done":
                    return value, reading
                else:  # "error": a bug in a parser, not a limit; raised like any processing failure
                    raise RuntimeError(value)
            elif self._proc.poll() is not None:
                return self._lost(reading, "died"), reading
            if time.monotonic() > deadline:
                return self._lost(reading, "time"), reading
            if memory.rss() > self.limits.memory_bytes:
                return self._lost(reading, "memory"), reading

    def close(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            with contextlib.suppress(OSError):
                self._conn.send(None)  # a clean stop: the child returns
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._proc.wait(2)
        self._kill()

    def start(self) -> None:
        """Begin starting the child without waiting for it: its imports (a second or two) then overlap the
        caller's own work, such as logging in and downloading the first message."""
        if self._proc is None or self._proc.poll() is not None:
            self._kill()
            # a fresh interpreter that imports only this module: multiprocessing's spawn would also re-import
            # the parent's main module (the CLI and its database stack, 40 MB a worker). It is our own child,
            # inheriting no database handle, lock or thread, so the parent-death signal reaches it (a fork
            # server's children outlived a SIGKILL here); its process group is its own from the start
            ours, theirs = socket.socketpair()
            command = [sys.executable, "-I", "-m", __name__, str(theirs.fileno()), str(os.getpid())]
            self._proc = subprocess.Popen(command, pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL,
                                          process_group=0)
            theirs.close()
            self._conn, self._ready = Connection(ours.detach()), False
            self._conn.send((self.settings, self.limits.memory_bytes, self.blobs))

    def _ensure(self) -> Connection:
        self.start()
        if not self._ready:
            if not (self._conn.poll(_START_SECONDS) and _said(self._conn) == "ready"):  # a broken install
                self._kill()
                raise RuntimeError("the parse worker did not start (see the log above for its error)")
            self._ready = True
        return self._conn

    def _lost(self, reading: tuple[int, ...], reason: str) -> Overrun:
        log.warning("parse worker %s (%s) while reading file %s: killed%s",
                    {"time": "overran its time", "memory": "overran its memory", "died": "died"}[reason],
                    self._proc.pid if self._proc else "?", ", ".join(map(str, reading)) or "-",
                    ", read again one file at a time" if len(reading) > 1 else ", the file is set aside")
        self._kill()
        limit = self.limits.wall_seconds if reason == "time" else self.limits.memory_bytes
        return Overrun(reading[0] if reading else None, reason, limit)

    def _kill(self) -> None:
        if self._proc is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self._proc.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._proc.wait(5)
        if self._conn is not None:
            self._conn.close()
        self._proc = self._conn = None


def _child(argv: list[str]) -> None:
    """`python -m mailintake.ingest.worker FD PARENT_PID`: the settings come first down the socket."""
    conn = Connection(int(argv[1]))
    settings, memory_bytes, blobs = conn.recv()
    _serve(conn, settings, memory_bytes, int(argv[2]), blobs)


def _serve(conn: Connection, settings: ParserSettings, memory_bytes: int, parent: int,
           blobs: BlobStore | None) -> None:
    """The child: dies with the parent, an address-space cap as a last resort. The parser stack is imported
    here, in the child only: the parent never parses and need not hold it."""
    from mailintake.parsers.message import parse_message

    gc.freeze()  # the parser stack's own objects are never garbage: full collections walked them all (4 % of a parse)
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        # every block of 128 KiB or more (a decoded part, an image's pixels) mapped on its own and handed back
        # when freed: glibc's sliding threshold otherwise keeps them in the heap, and the worker's resident
        # size stays at its largest message's peak for the rest of its life
        libc.mallopt(_M_MMAP_THRESHOLD, 128 * 1024)
    if os.getppid() != parent:  # the parent died before the death signal was armed
        os._exit(1)
    cap = memory_bytes * 2 + 1024 * 1024 * 1024  # the parent's watch fires first; this stops a spike
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    conn.send(("ready", None))
    while True:
        try:
            job = conn.recv()
        except EOFError:
            return
        if job is None:
            return
        source, skip, store_files, threads = job
        try:  # the bytes read are held by the parse alone, which lets them go once the parts are decoded
            facts = parse_message(source.read_bytes() if isinstance(source, Path) else source, settings,
                                  skip=skip, on_file=lambda files: conn.send(("file", files)), threads=threads)
            if store_files:
                facts = _stored(facts, blobs)
        except Exception as exc:  # a parser bug: the parent records it as a failed attempt
            conn.send(("error", f"{type(exc).__name__}: {exc}"))
            continue
        conn.send(("done", facts))


def _stored(facts: MessageFacts, blobs: BlobStore) -> MessageFacts:
    """The files written to the store (before the parent's commit, as `record` did: a file a crash leaves
    unreferenced is swept) and dropped from the facts. A classified message's files are never kept.
    Written side by side: each waits on its own fsync, 21 ms for a 3 MB photo here, one after another a
    fifth of a photo mail's time in the worker."""
    if facts.classified:
        return facts
    with ThreadPoolExecutor(_WRITERS, thread_name_prefix="mailintake-store") as pool:
        list(pool.map(lambda f: blobs.put("files", f.content, f.sha256), facts.files))
    return replace(facts, files=[replace(f, content=b"") for f in facts.files], files_stored=True)


def _said(conn: Connection) -> str | None:
    try:
        return conn.recv()[0]
    except (EOFError, OSError):
        return None


class _GroupMemory:
    """Resident memory of every process in the worker's group (its external helpers included). Who is in
    the group is read from all of /proc once a second; their sizes at every look. Scanning every process
    ten times a second took 5 % of the service's CPU beside a busy worker; a helper started in between is
    counted within the second, and the child's address-space cap, which its helpers inherit, holds meanwhile."""

    def __init__(self, pgid: int):
        self.pgid, self._members, self._listed = pgid, [pgid], -_LIST_SECONDS

    def rss(self) -> int:
        now = time.monotonic()
        if now - self._listed >= _LIST_SECONDS:
            self._members, self._listed = _group_members(self.pgid), now
        return sum(rss for group, rss in map(_stat, self._members) if group == self.pgid)  # a reused pid is not


def _group_members(pgid: int) -> list[int]:
    return [int(e) for e in os.listdir("/proc") if e.isdigit() and _stat(int(e))[0] == pgid]


def _stat(pid: int) -> tuple[int, int]:
    """(process group, resident bytes) of a process; (-1, 0) once it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
    except OSError:
        return -1, 0
    return int(fields[2]), int(fields[21]) * _PAGE  # fields 5 (pgrp) and 24 (rss, pages) of proc(5)


if __name__ == "__main__":
    _child(sys.argv)
