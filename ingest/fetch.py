"""Stage 1: mailbox -> raw store -> message row, advancing the checkpoint in the same transaction.

Order per message: raw bytes durable on disk, then the row and the checkpoint commit together, then
(after the commit) the post-action. A crash anywhere leaves at most an unreferenced raw file, which the
next fetch of the same entry reuses (same sha256). After a UIDVALIDITY change the folder is re-read and
each entry is matched to a not-yet-matched earlier record with the same sha256 (a multiset match), so
nothing is recorded twice.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from imapclient.exceptions import IMAPClientError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mailintake.common.vocab import MessageState
from mailintake.ingest.arrivals import Arrivals
from mailintake.ingest.context import Context
from mailintake.ingest.sources.imap import Entry, ImapSource
from mailintake.ingest.sources.maildir import FileSource
from mailintake.store.db import Database
from mailintake.store.models import Message, SyncState

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]  # (done, total)


@dataclass
class FetchResult:
    recorded: list[int] = field(default_factory=list)  # message ids of new records
    rematched: int = 0  # entries matched to earlier records after a UIDVALIDITY change
    uidvalidity_changed: bool = False


def fetch_imap(ctx: Context, source: ImapSource, progress: Progress | None = None,
               stop: Callable[[], bool] = lambda: False, arrivals: Arrivals | None = None) -> FetchResult:
    """One pass over an opened IMAP source; `arrivals` hears what is coming and what is stored."""
    db, arrivals = ctx.db, arrivals or Arrivals()
    result = FetchResult()
    with db.session() as s:
        state = _sync_state(s, source)
        if state.uidvalidity != source.uidvalidity:
            result.uidvalidity_changed = state.uidvalidity != 0
            _begin_rescan(source, state)
        last_uid, rescan_until = state.last_uid, state.rescan_until
    _retry_post_actions(db, source)
    entries = source.entries(source.uids_after(last_uid))
    arrivals.expect([e.internaldate for e in entries])
    done: list[int] = []
    for n, (entry, pieces) in enumerate(ctx.times.timed("fetch", source.bodies(entries)), 1):
        if stop():
            break
        with ctx.times.measure("store", excluding="fetch"):  # a big message's later pieces arrive in here
            msg_id, rematched = _record_imap(ctx, source, entry, ctx.times.timed("fetch", pieces),
                                             rematch=entry.uid <= rescan_until)
        ctx.faults.reached("recorded")
        result.rematched += rematched
        if msg_id is not None:
            result.recorded.append(msg_id)
        done.append(entry.uid)
        arrivals.stored(n)
        if progress:
            progress(n, len(entries))
        if len(done) >= 100:
            _post_action(db, source, done)
            done = []
    _post_action(db, source, done)
    return result


def _sync_state(s: Session, source: ImapSource) -> SyncState:
    state = s.scalars(select(SyncState).filter_by(source=source.identity, folder=source.folder)).first()
    if state is None:
        state = SyncState(source=source.identity, folder=source.folder, uidvalidity=0, last_uid=0, rescan_until=0)
        s.add(state)
    return state


def _begin_rescan(source: ImapSource, state: SyncState) -> None:
    if state.uidvalidity:
        log.warning("%s %s: UIDVALIDITY changed %s -> %s; re-reading the folder and matching by content",
                    source.identity, source.folder, state.uidvalidity, source.uidvalidity)
    highest = source.uids_after(0)
    state.uidvalidity = source.uidvalidity
    state.last_uid = 0
    state.rescan_until = highest[-1] if highest else 0


def _record_imap(ctx: Context, source: ImapSource, entry: Entry, pieces: Iterable[bytes],
                 rematch: bool) -> tuple[int | None, int]:
    sha, size = ctx.blobs.put_stream("raw", pieces)  # durable before any row refers to it
    ctx.faults.reached("raw_stored")
    with ctx.db.session() as s:
        state = _sync_state(s, source)
        where = dict(source=source.identity, folder=source.folder)
        if s.scalars(select(Message.id).filter_by(**where, uidvalidity=source.uidvalidity, uid=entry.uid)).first():
            state.last_uid = max(state.last_uid, entry.uid)
            return None, 0
        if rematch:
            earlier = s.scalars(
                select(Message).filter_by(**where, sha256=sha)
                .where(Message.uidvalidity != source.uidvalidity).order_by(Message.id).limit(1)
            ).first()
            if earlier is not None:
                earlier.uidvalidity, earlier.uid = source.uidvalidity, entry.uid
                state.last_uid = max(state.last_uid, entry.uid)
                return None, 1
        msg = new_message(s, sha=sha, size=size, internaldate=entry.internaldate, **where,
                          uidvalidity=source.uidvalidity, uid=entry.uid)
        state.last_uid = max(state.last_uid, entry.uid)
        s.flush()
        return msg.id, 0


def new_message(s: Session, *, sha: str, size: int, internaldate: dt.datetime, **where: object) -> Message:
    """A new record with a stable key: the content hash prefix, suffixed for identical copies."""
    stem = sha[:12]
    copies = s.scalar(select(func.count()).select_from(Message).where(Message.key.like(f"{stem}%")))
    key = stem if not copies else f"{stem}-{copies + 1}"
    msg = Message(key=key, sha256=sha, size=size, internaldate=internaldate, state=MessageState.STORED, **where)
    s.add(msg)
    return msg


def _post_action(db: Database, source: ImapSource, uids: list[int]) -> None:
    """Applied only to committed records; remembered so a failure is retried on the next poll."""
    if not uids:
        return
    try:
        source.post_action(uids)
    except IMAPClientError as exc:  # the server said no: the mail is recorded, so retry on the next poll
        log.warning("%s: post-action on %d message(s) refused: %s", source.where, len(uids), exc)
        return
    with db.session() as s:
        for msg in s.scalars(select(Message).filter_by(source=source.identity, folder=source.folder,
                                                        uidvalidity=source.uidvalidity)
                             .where(Message.uid.in_(uids))):
            msg.post_action_done = True


def _retry_post_actions(db: Database, source: ImapSource) -> None:
    if not (source.can_keyword or source.can_move):
        return
    with db.session() as s:
        pending = list(s.scalars(select(Message.uid).filter_by(
            source=source.identity, folder=source.folder, uidvalidity=source.uidvalidity,
            post_action_done=False)))
    live = source.present(pending)
    _post_action(db, source, sorted(u for u in pending if u in live))


def fetch_files(ctx: Context, source: FileSource, progress: Progress | None = None,
                stop: Callable[[], bool] = lambda: False, arrivals: Arrivals | None = None) -> FetchResult:
    """One pass over a Maildir / .eml folder; entries already recorded (by file name) are skipped."""
    db, blobs, arrivals = ctx.db, ctx.blobs, arrivals or Arrivals()
    result = FetchResult()
    with db.session() as s:
        known = set(s.scalars(select(Message.file_name).filter_by(source=source.identity)))
    todo = [e for e in source.entries() if e.name not in known]
    arrivals.expect([e.internaldate for e in todo])
    for n, entry in enumerate(todo, 1):
        if stop():
            break
        raw = entry.path.read_bytes()
        sha = blobs.put("raw", raw)
        ctx.faults.reached("raw_stored")
        with db.session() as s:
            msg = new_message(s, sha=sha, size=len(raw), internaldate=entry.internaldate,
                              source=source.identity, folder=source.folder, file_name=entry.name,
                              post_action_done=True)
            s.flush()
            result.recorded.append(msg.id)
        ctx.faults.reached("recorded")
        arrivals.stored(n)
        if progress:
            progress(n, len(todo))
    return result
