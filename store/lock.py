"""One writer at a time: the processing lock that a poll cycle and the organisers' commands share.

SQLite: an exclusive `flock` on `<database>.lock` beside the database file. PostgreSQL: a session-level
advisory lock on a connection of its own. Both are released by the operating system or the server when
the holder dies, even by SIGKILL, so a crash never leaves the mailbox locked. The lock is held for one
unit of work (a poll cycle, one organiser command), never for a process's life; `serve` also holds an
instance lock of its own for its life, so two services never run on one database.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from mailintake.common.errors import StoreError
from mailintake.store.db import Database

ADVISORY_KEY = 0x6D61696C  # "mail": one key per database, every mailintake process uses it
SERVE_KEY = ADVISORY_KEY + 1  # held by `serve` for its life
SEND_KEY = ADVISORY_KEY + 2  # held by the one outbox sender at a time
_RETRY_SECONDS = 0.2


class Busy(StoreError):
    """Another process holds the processing lock: nothing is wrong, try again later (EX_TEMPFAIL)."""

    exit_code = 75
    prefix = "busy"


class AlreadyServing(StoreError):
    """Another `mailintake serve` runs on this database: a second one must not start."""

    exit_code = 75
    prefix = "error"


@contextmanager
def processing_lock(db: Database, wait_seconds: float = 0.0) -> Iterator[None]:
    """Hold the lock for the block; raise Busy if it is not free within `wait_seconds`."""
    if db.engine.url.get_backend_name() == "postgresql":
        with _advisory(db, wait_seconds, ADVISORY_KEY):
            yield
    else:
        with _file_lock(_lock_path(db, ""), wait_seconds):
            yield


@contextmanager
def instance_lock(db: Database) -> Iterator[None]:
    """Held for the whole life of `serve` (a separate lock: organiser commands and cron polls still run
    beside it, meeting only the processing lock). Released by the OS or the server when the holder dies."""
    try:
        if db.engine.url.get_backend_name() == "postgresql":
            with _advisory(db, 0, SERVE_KEY):
                yield
        else:
            with _file_lock(_lock_path(db, ".serve"), 0):
                yield
    except Busy as exc:
        raise AlreadyServing("another `mailintake serve` is already running on this database"
                             + str(exc).partition("mailbox")[2].partition(";")[0]) from None


@contextmanager
def sender_lock(db: Database, wait_seconds: float = 0.0) -> Iterator[None]:
    """One outbox sender at a time, whoever runs it (a poll, `serve`'s sender, the digest, `replies resend`):
    so a row found `sending` is one a crashed sender left. A lock of its own, not the processing lock, so
    replies already decided go out while a poll is busy (or stalled) on a message."""
    if db.engine.url.get_backend_name() == "postgresql":
        with _advisory(db, wait_seconds, SEND_KEY):
            yield
    else:
        with _file_lock(_lock_path(db, ".send"), wait_seconds):
            yield


def _lock_path(db: Database, suffix: str) -> Path:
    database = db.engine.url.database
    if not database or database == ":memory:":
        return Path(f"/tmp/mailintake-memory-{os.getpid()}{suffix}.lock")
    return Path(f"{database}{suffix}.lock")


@contextmanager
def _file_lock(path: Path, wait_seconds: float) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        _retry(lambda: _try_flock(fd), wait_seconds, lambda: _holder(fd))
        os.ftruncate(fd, 0)
        os.write(fd, f"pid {os.getpid()} since {dt.datetime.now().astimezone():%Y-%m-%d %H:%M:%S}\n".encode())
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _try_flock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        if exc.errno in (errno.EAGAIN, errno.EACCES):
            return False
        raise
    return True


def _holder(fd: int) -> str:
    os.lseek(fd, 0, os.SEEK_SET)
    said = os.read(fd, 200).decode(errors="replace").strip()
    return f" ({said})" if said else ""


@contextmanager
def _advisory(db: Database, wait_seconds: float, key: int) -> Iterator[None]:
    with db.engine.connect() as conn:  # its own session: the lock lives and dies with this connection
        conn.execution_options(isolation_level="AUTOCOMMIT")

        def attempt() -> bool:
            return bool(conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar())

        _retry(attempt, wait_seconds, lambda: "")
        try:
            yield
        finally:
            with contextlib.suppress(OperationalError):  # the server went away: the lock went with it
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})


def _retry(attempt, wait_seconds: float, holder) -> None:
    deadline = time.monotonic() + wait_seconds
    while not attempt():
        if time.monotonic() >= deadline:
            raise Busy(f"another mailintake process is processing this mailbox{holder()}; "
                       + ("this poll stops here, the next one carries on" if wait_seconds == 0
                          else f"gave up after waiting {wait_seconds:.0f} s, try again shortly"))
        time.sleep(_RETRY_SECONDS)
