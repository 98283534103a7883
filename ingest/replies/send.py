"""The sender step: deliver due outbox rows, at most once.

Each row is claimed `sending` in its own commit (a conditional update: pending -> sending) before the SMTP
transaction and marked `sent` in the next commit right after the server's 250; nothing else happens in
between. A row found `sending` when the step starts may or may not have left (a crash after the 250): it
becomes `uncertain` and is never sent again by itself (`mailintake replies resend` lets an organiser).
A 4xx or a lost connection leaves the row pending with a back-off; a 5xx marks it `failed` with the
server's text. A sent reply is copied to `replies.sent_folder` over IMAP when configured (`SentCopies`).
`replies.mode = "files"` writes each row as `outbox-<id>.eml` into `replies.dir` instead.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import smtplib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from imapclient.exceptions import IMAPClientError
from sqlalchemy import or_, select, update

from mailintake.common.errors import SourceError
from mailintake.ingest.context import Context
from mailintake.ingest.replies import compose
from mailintake.ingest.replies.stage import from_address
from mailintake.ingest.sources.imap import ImapSource
from mailintake.ingest.tls import client_context
from mailintake.store.lock import Busy, sender_lock
from mailintake.store.models import Outbox

log = logging.getLogger(__name__)

MAX_BACKOFF = dt.timedelta(hours=6)


@dataclass
class SendSummary:
    sent: list[int] = field(default_factory=list)
    deferred: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    uncertain: list[int] = field(default_factory=list)


class _Transient(Exception):
    pass


def send_due(ctx: Context) -> SendSummary:
    """One pass of the sender, unless another sender is running (it sends these rows too): nothing then."""
    try:
        with sender_lock(ctx.db):
            return send_pass(ctx)
    except Busy:
        return SendSummary()


def send_pass(ctx: Context) -> SendSummary:
    """One pass of the sender; the caller holds the sender lock."""
    summary = SendSummary()
    mode = ctx.config.replies.mode
    if mode == "off":
        return summary
    summary.uncertain = _mark_uncertain(ctx)
    due = _due(ctx)
    if not due:
        return summary
    with _transport(ctx, mode) as deliver, SentCopies(ctx, mode) as copies:
        for row_id in due:
            if not _claim(ctx, row_id):
                continue
            ctx.faults.reached("claimed")
            with ctx.db.session() as s:
                row = s.get(Outbox, row_id)
                raw, to = compose.build(row, from_address(ctx.config), ctx.clock(), ctx.blobs), row.to_address
            try:
                deliver(row_id, to, raw)
            except _Transient as exc:  # no connection (or login) to the server: try again later
                _defer(ctx, row_id, str(exc))
                summary.deferred.append(row_id)
                break
            except smtplib.SMTPResponseException as exc:
                text = f"{exc.smtp_code} {_text(exc.smtp_error)}"
                (_defer if 400 <= exc.smtp_code < 500 else _fail)(ctx, row_id, text)
                (summary.deferred if 400 <= exc.smtp_code < 500 else summary.failed).append(row_id)
            except smtplib.SMTPRecipientsRefused as exc:
                code, said = next(iter(exc.recipients.values()))
                text = f"{code} {_text(said)}"
                (_defer if 400 <= code < 500 else _fail)(ctx, row_id, text)
                (summary.deferred if 400 <= code < 500 else summary.failed).append(row_id)
            except (smtplib.SMTPException, OSError) as exc:  # connection lost: transient, stop this pass
                _defer(ctx, row_id, f"{type(exc).__name__}: {exc}")
                summary.deferred.append(row_id)
                break
            else:
                ctx.faults.reached("delivered")
                _mark_sent(ctx, row_id)
                ctx.faults.reached("sent")
                summary.sent.append(row_id)
                copies.keep(row_id, raw)
    return summary


class SentCopies:
    """A copy of each reply sent over SMTP, appended to `replies.sent_folder` on the campaign mailbox (one
    connection per pass, opened when first needed). A failure is logged once per pass and never causes a
    resend: the reply has gone; only the copy is missing."""

    def __init__(self, ctx: Context, mode: str):
        mb, folder = ctx.config.mailbox, ctx.config.replies.sent_folder
        self.folder = folder if mode == "smtp" and folder and mb.source == "imap" else ""
        self.mailbox = mb
        self.source: ImapSource | None = None
        self.broken = False

    def __enter__(self) -> SentCopies:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.source is not None:
            self.source.close()

    def keep(self, row_id: int, raw: bytes) -> None:
        if not self.folder or self.broken:
            return
        try:
            if self.source is None:
                self.source = ImapSource(self.mailbox, self.mailbox.password()).connect()
            self.source.append(self.folder, raw)
        except (SourceError, IMAPClientError, OSError) as exc:
            self.broken = True
            log.warning("outbox %d was sent, but its copy could not be kept in %r: %s", row_id, self.folder, exc)


def _mark_uncertain(ctx: Context) -> list[int]:
    with ctx.db.session() as s:
        rows = list(s.scalars(select(Outbox).where(Outbox.state == "sending")))
        for row in rows:
            row.state = "uncertain"
            row.last_error = "the sender stopped after claiming it; it may or may not have been delivered"
            log.warning("outbox %d was left sending: marked uncertain (resend with `mailintake replies resend`)",
                        row.id)
        return [r.id for r in rows]


def _due(ctx: Context) -> list[int]:
    now = ctx.clock()
    with ctx.db.session() as s:
        return list(s.scalars(select(Outbox.id).where(Outbox.state == "pending").where(
            or_(Outbox.next_attempt_at.is_(None), Outbox.next_attempt_at <= now)).order_by(Outbox.id)))


def _claim(ctx: Context, row_id: int) -> bool:
    """pending -> sending in its own commit; False when something else already moved the row."""
    with ctx.db.session() as s:
        done = s.execute(update(Outbox).where(Outbox.id == row_id, Outbox.state == "pending")
                         .values(state="sending", attempts=Outbox.attempts + 1))
        return done.rowcount == 1


def _mark_sent(ctx: Context, row_id: int) -> None:
    with ctx.db.session() as s:
        s.execute(update(Outbox).where(Outbox.id == row_id, Outbox.state == "sending")
                  .values(state="sent", sent_at=ctx.clock(), last_error=None, next_attempt_at=None))


def _defer(ctx: Context, row_id: int, text: str) -> None:
    with ctx.db.session() as s:
        row = s.get(Outbox, row_id)
        wait = min(dt.timedelta(minutes=ctx.config.replies.retry_minutes) * 2 ** max(row.attempts - 1, 0), MAX_BACKOFF)
        row.state, row.last_error, row.next_attempt_at = "pending", text, ctx.clock() + wait
        log.warning("outbox %d deferred (%s); next try after %s", row_id, text, row.next_attempt_at)


def _fail(ctx: Context, row_id: int, text: str) -> None:
    with ctx.db.session() as s:
        row = s.get(Outbox, row_id)
        row.state, row.last_error = "failed", text
        log.error("outbox %d failed permanently: %s", row_id, text)


def _text(said: bytes | str) -> str:
    return said.decode("utf-8", "replace") if isinstance(said, bytes) else str(said)


@contextmanager
def _transport(ctx: Context, mode: str) -> Iterator:
    if mode == "files":
        folder = ctx.config.resolve(ctx.config.replies.dir)
        folder.mkdir(parents=True, exist_ok=True)
        yield lambda row_id, to, raw: _write(folder, row_id, raw)
        return
    sender = from_address(ctx.config)
    conn: smtplib.SMTP | None = None

    def deliver(row_id: int, to: str, raw: bytes) -> None:
        nonlocal conn
        if conn is None:
            try:
                conn = _connect(ctx)
            except (smtplib.SMTPException, OSError) as exc:
                raise _Transient(f"cannot reach the SMTP server: {type(exc).__name__}: {exc}") from exc
        conn.sendmail(sender, [to], raw)

    try:
        yield deliver
    finally:
        if conn is not None:
            try:
                conn.quit()
            except (smtplib.SMTPException, OSError):
                conn.close()


def _connect(ctx: Context) -> smtplib.SMTP:
    cfg = ctx.config.smtp
    if cfg.security == "tls":
        conn = smtplib.SMTP_SSL(cfg.host, cfg.port, timeout=cfg.timeout_seconds, context=client_context(cfg))
    else:
        conn = smtplib.SMTP(cfg.host, cfg.port, timeout=cfg.timeout_seconds)
        if cfg.security == "starttls":
            conn.starttls(context=client_context(cfg))
    if cfg.username:
        conn.login(cfg.username, cfg.password())
    return conn


def _write(folder: Path, row_id: int, raw: bytes) -> None:
    """The reply as an .eml named by its outbox id (never by mail content), written whole or not at all."""
    path = folder / f"outbox-{row_id:06d}.eml"
    tmp = folder / f".outbox-{row_id:06d}.eml.tmp"
    with open(tmp, "wb") as f:
        f.write(raw)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
