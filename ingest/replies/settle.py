"""Closing bursts: the messages awaiting a reply whose burst has settled get their one reply.

Run by the pipeline before each message it processes (as of that message's arrival, so a backlog is
answered burst by burst as it would have been live, each reply about the dossier as it stood then) and
once after the last (as of now). Each reply is made in the transaction that clears its messages'
`awaiting_reply`, and the unique cover link makes a second reply for any of them impossible.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from mailintake.common.vocab import Kind
from mailintake.ingest.context import Context
from mailintake.ingest.replies import decide as D
from mailintake.ingest.replies.bursts import Waiting, Window, bursts, is_due
from mailintake.ingest.replies.stage import make_reply
from mailintake.parsers.subjects import series_mark
from mailintake.store.models import Dossier, Message


def window(ctx: Context) -> Window:
    r = ctx.config.replies
    return Window(dt.timedelta(minutes=r.settle_minutes), dt.timedelta(minutes=r.max_wait_minutes))


def close_due(ctx: Context, as_of: dt.datetime) -> int:
    """Make the reply of every burst due at `as_of`; returns how many were made."""
    made = 0
    with ctx.db.session() as s:
        waiting = list(s.scalars(select(Message).where(Message.awaiting_reply)
                                 .order_by(Message.internaldate, Message.id)))
        for group in _by_unit(waiting).values():
            by_id = {m.id: m for m in group}
            marks = [Waiting(m.id, m.internaldate, series_mark(m.subject)) for m in group]
            for burst in bursts(marks, window(ctx)):
                if is_due(burst, as_of, window(ctx)):
                    made += _close(s, ctx, [by_id[w.message_id] for w in burst])
    return made


def _by_unit(waiting: list[Message]) -> dict[object, list[Message]]:
    """A unit's messages settle together; a message whose unit is unknown is its own burst."""
    groups: dict[object, list[Message]] = {}
    for m in waiting:
        groups.setdefault(m.unit_id if m.unit_id is not None else ("alone", m.id), []).append(m)
    return groups


def _close(s, ctx: Context, burst: list[Message]) -> int:
    for m in burst:
        m.awaiting_reply = False
    # a reprocess since may have found a loop sign or a different kind: those are owed nothing now
    covered = [m for m in burst if not m.reply_block and m.kind == Kind.SUBMISSION and not m.duplicate_of_id]
    if not covered:
        return 0
    latest = covered[-1]
    dossier = s.get(Dossier, latest.unit_id) if latest.unit_id else None
    kind = D.reply_kind(Kind.SUBMISSION, False, False, latest.unit_id is not None,
                        dossier.status if dossier else None, ctx.config.replies.acknowledge_enquiries)
    make_reply(s, ctx, kind, covered)
    return 1
