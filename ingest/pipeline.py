"""One stored message through the stages, in the order they run:

    parse (pure: raw bytes -> facts; an organiser's decisions workbook is recognised) -> record (rows)
    -> place (late, quarantine, unit)
    -> judge + save (the dossiers it touches) -> reply (made, or left to settle)
    -> decisions (a decisions mail's rows applied, the messages they touch re-run, confirmed) -> commit
    -> blob effects (after the commit)

Before each new message, and after the last, the bursts that have settled get their reply (`settle`).

Facts are a pure function of the raw bytes, the config and the organisers' decisions, so this can be
re-run at any time: it replaces the message's derived rows and recomputes the dossiers. Filesystem
effects (quarantine move, deletion of files no longer needed) follow the commit and are idempotent;
`effects.sweep` finishes any that a crash cut off.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailintake.common.vocab import MessageState
from mailintake.ingest import decisions_mail, dossier
from mailintake.ingest.arrivals import Arrivals, Frontier
from mailintake.ingest.context import Context
from mailintake.ingest.placement import place
from mailintake.ingest.record import record
from mailintake.ingest.replies.settle import close_due
from mailintake.ingest.replies.stage import confirm_decisions, decide_reply
from mailintake.parsers.envelope import Overrun, parse_envelope
from mailintake.parsers.facts import MessageFacts
from mailintake.store.effects import BlobEffects, settle, sweep
from mailintake.store.models import Message, Unit
from mailintake.store.queries import raw_area

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
MAX_SET_ASIDE = 3  # files set aside for one message before only its envelope is kept


def process_pending(ctx: Context, progress: Callable[[int, int], None] | None = None,
                    stop: Callable[[], bool] = lambda: False,
                    arrivals: Arrivals | None = None) -> tuple[int, list[str]]:
    """Process every stored message in arrival order; returns (processed count, keys that failed).
    `stop()` is asked between messages: the message in hand is finished, the rest waits for the next run.
    `arrivals`: a fetch running beside this one (`poll`); messages are taken as it stores them, in the
    same order as once it has finished."""
    arrivals = arrivals or Arrivals.finished()
    sweep(ctx.db, ctx.blobs)
    try:
        return _process_arrivals(ctx, progress, stop, arrivals)
    finally:
        ctx.parser.drop_ahead()  # nothing read ahead outlives this run (its stored files meet the next sweep)


def _process_arrivals(ctx: Context, progress: Callable[[int, int], None] | None, stop: Callable[[], bool],
                      arrivals: Arrivals) -> tuple[int, list[str]]:
    failed: list[str] = []
    handled: set[int] = set()  # every run leaves its message processed or failed; this makes a loop impossible
    done = 0
    seen = arrivals.frontier()
    while True:
        batch = [(i, when) for i, when in _ready(ctx, seen) if i not in handled]
        if batch or seen.waiting:
            ctx.parser.start()  # its imports overlap the download of the first message
        if not batch:
            if seen.final or stop():
                break
            seen = arrivals.wait(seen)
            continue
        for k, (msg_id, arrived) in enumerate(batch, 1):
            if stop():
                return done - len(failed), failed
            if k < len(batch):
                ctx.parser.ahead(_raw_path(ctx, batch[k][0]))  # read while this one is parsed and recorded
            done += 1
            handled.add(msg_id)
            close_due(ctx, as_of=arrived)  # bursts that had settled before this message arrived
            with ctx.times.measure("process"):
                key = process_one(ctx, msg_id, replies=True)
            if key:
                failed.append(key)
            if progress:
                progress(done, done + len(batch) - k + seen.waiting)
        seen = arrivals.frontier()
    close_due(ctx, as_of=ctx.clock())
    return done - len(failed), failed


def _raw_path(ctx: Context, msg_id: int) -> Path:
    with ctx.db.session() as s:
        sha = s.get(Message, msg_id).sha256
        return ctx.blobs.path(raw_area(s, sha), sha)


def _ready(ctx: Context, frontier: Frontier) -> list[tuple[int, dt.datetime]]:
    """Stored messages that may be processed now, in arrival order."""
    if not frontier.listed:
        return []
    query = select(Message.id, Message.internaldate).where(Message.state == MessageState.STORED)
    if frontier.until is not None:
        query = query.where(Message.internaldate <= frontier.until)
    with ctx.db.session() as s:
        return [tuple(row) for row in s.execute(query.order_by(Message.internaldate, Message.id))]


def process_one(ctx: Context, msg_id: int, replies: bool = False) -> str | None:
    """Returns the message key if processing failed (the failure is recorded on the row).

    Each attempt is counted in its own commit first, so a message that kills the process (a crash
    in a native library) is set aside after MAX_ATTEMPTS instead of blocking every later poll.
    """
    with ctx.db.session() as s:
        msg = s.get(Message, msg_id)
        if msg.attempts >= MAX_ATTEMPTS:
            msg.state, msg.error = MessageState.FAILED, f"processing did not finish in {msg.attempts} attempts"
            return msg.key
        msg.attempts += 1
    try:
        with ctx.db.session() as s:
            effects = run_stages(s, ctx, s.get(Message, msg_id), replies)
    except Exception as exc:  # one bad message must never stop the mailbox
        log.exception("processing message %s failed", msg_id)
        with ctx.db.session() as s:
            msg = s.get(Message, msg_id)
            msg.state, msg.error = MessageState.FAILED, f"{type(exc).__name__}: {exc}"
            return msg.key
    ctx.faults.reached("processed")
    settle(ctx.db, ctx.blobs, effects)
    return None


def run_stages(s: Session, ctx: Context, msg: Message, replies: bool = False) -> BlobEffects:
    """Parse, record, place and judge one message inside the caller's transaction; with `replies` (a new
    message's first processing, never `reprocess` or a decision) also decide its automatic reply.

    Returns the blob effects to carry out once the caller has committed.
    """
    previous_unit = msg.unit_id
    facts, sheet = decisions_mail.recognise(s, ctx, msg, parse(s, ctx, msg))
    effects = record(s, ctx, msg, facts)
    place(s, ctx, msg, facts)
    for unit_id in {previous_unit, msg.unit_id} - {None}:
        dossier.recompute(s, ctx, s.get(Unit, unit_id))
    decide_reply(s, ctx, msg, facts, first=replies)
    if sheet is not None:  # an organiser's decisions: applied now, confirmed once
        outcome = decisions_mail.apply_sheet(s, ctx, sheet, msg.sender or "mail", run_stages)
        effects.add(outcome.effects)
        if replies:
            confirm_decisions(s, ctx, msg, outcome)
    msg.state, msg.error, msg.attempts = MessageState.PROCESSED, None, 0
    msg.processed_at = ctx.clock()
    return effects


def parse(s: Session, ctx: Context, msg: Message) -> MessageFacts:
    """The message's facts, from its raw bytes where the committed rows say they are, parsed in the
    bounded worker. A file that stalls the worker is set aside (`processing_limit`) and the message parsed
    again without it; a stall before any file is read leaves the envelope only."""
    with ctx.times.measure("parse"):
        return _parse_bounded(ctx, ctx.blobs.path(raw_area(s, msg.sha256), msg.sha256))


def _parse_bounded(ctx: Context, raw: Path) -> MessageFacts:
    """The worker reads the stored file itself, so a 45 MB message is not also held here while it parses."""
    skip: dict[int, Overrun] = {}
    for _ in range(MAX_SET_ASIDE + 1):
        out = ctx.parser.parse(raw, skip, store_files=ctx.blobs.writable)  # a dry run writes nothing
        if isinstance(out, MessageFacts):
            return out
        if out.file is None or out.file in skip:
            break
        skip[out.file] = out
    return parse_envelope(raw.read_bytes(), out)
