"""Stage 2: raw message -> facts -> recorded rows -> the unit's dossier, in one transaction each.

Facts are a pure function of the raw bytes, the rules and the organisers' decisions, so this stage
can be re-run at any time: it replaces the message's derived rows and recomputes the dossier.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from parsers.message import parse_message
from store.blobs import BlobStore
from store.db import Database
from store.models import Message

from . import record
from .config import Config

log = logging.getLogger(__name__)


def process_pending(cfg: Config, db: Database, blobs: BlobStore,
                    progress: Callable[[int, int], None] | None = None) -> tuple[int, list[str]]:
    """Process every stored message in arrival order; returns (processed count, keys that failed)."""
    with db.session() as s:
        ids = list(s.scalars(select(Message.id).where(Message.state == "stored")
                             .order_by(Message.internaldate, Message.id)))
    failed: list[str] = []
    for n, msg_id in enumerate(ids, 1):
        key = process_one(cfg, db, blobs, msg_id)
        if key:
            failed.append(key)
        if progress:
            progress(n, len(ids))
    return len(ids) - len(failed), failed


MAX_ATTEMPTS = 3


def process_one(cfg: Config, db: Database, blobs: BlobStore, msg_id: int) -> str | None:
    """Returns the message key if processing failed (the failure is recorded on the row).

    Each attempt is counted in its own commit first, so a message that kills the process (a crash
    in a native library) is set aside after MAX_ATTEMPTS instead of blocking every later poll.
    """
    with db.session() as s:
        msg = s.get(Message, msg_id)
        if msg.attempts >= MAX_ATTEMPTS:
            msg.state, msg.error = "failed", f"processing did not finish in {msg.attempts} attempts"
            return msg.key
        msg.attempts += 1
    try:
        with db.session() as s:
            process_in(s, cfg, blobs, s.get(Message, msg_id))
        return None
    except Exception as exc:  # one bad message must never stop the mailbox
        log.exception("processing message %s failed", msg_id)
        with db.session() as s:
            msg = s.get(Message, msg_id)
            msg.state, msg.error = "failed", f"{type(exc).__name__}: {exc}"
            return msg.key


def process_in(s: Session, cfg: Config, blobs: BlobStore, msg: Message) -> None:
    """Parse, record and judge one message inside the caller's transaction."""
    # a crash after the quarantine move but before the commit leaves the raw file there: look in both
    area = "quarantine" if msg.quarantined or not blobs.exists("raw", msg.sha256) else "raw"
    facts = parse_message(blobs.get(area, msg.sha256), cfg.parser_settings())
    record.record_facts(s, cfg, blobs, msg, facts)
    msg.state, msg.error, msg.attempts = "processed", None, 0
    msg.processed_at = dt.datetime.now(dt.UTC)
