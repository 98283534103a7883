"""Organiser decisions (assign a unit, accept or reject late material): stored, then applied.

Decisions are never derived data: reprocessing reads them and never deletes them; the latest of a
kind for a message wins.
"""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from mailintake.common.errors import UnknownMessage
from mailintake.common.vocab import display_reference, parse_reference
from mailintake.ingest.context import Context
from mailintake.ingest.pipeline import run_stages
from mailintake.store.effects import settle, sweep
from mailintake.store.lock import processing_lock
from mailintake.store.models import Decision, Message


def find_message(s: Session, ref: str) -> Message:
    """A message by key or by reference number (2021-0042, #42 or 42)."""
    ref = ref.strip()
    clauses = [Message.key == ref]
    number = parse_reference(ref)
    if number is not None:
        clauses.append(Message.id == number)
    msg = s.scalars(select(Message).where(or_(*clauses))).first()
    if msg is None:
        raise UnknownMessage(f"no message with key or reference number {ref!r}")
    return msg


def record_decision(ctx: Context, kind: str, ref: str, value: str | None, made_by: str = "cli") -> str:
    """Store the decision, re-run the message's stages with it, and say what it now is."""
    with processing_lock(ctx.db, ctx.config.schedule.lock_wait_seconds):
        return _apply(ctx, kind, ref, value, made_by)


def _apply(ctx: Context, kind: str, ref: str, value: str | None, made_by: str) -> str:
    sweep(ctx.db, ctx.blobs)
    with ctx.db.session() as s:
        msg = find_message(s, ref)
        if kind == "assign":
            value = ctx.registry.normalise(value) or value
        now = ctx.clock()
        s.add(Decision(kind=kind, message_key=msg.key, value=value, made_by=made_by, made_at=now,
                       decided_on=now.astimezone(ctx.config.campaign.tz).date()))
        s.flush()
        effects = run_stages(s, ctx, msg)
        unit = msg.unit.name if msg.unit else "no unit"
        note = "" if msg.late or kind == "assign" else " (note: this message was not late)"
        shown = display_reference(ctx.config.campaign.deadline.year, msg.id)
        line = f"message {shown} ({msg.key}): {kind.replace('_', ' ')} recorded; now {unit}{note}"
    settle(ctx.db, ctx.blobs, effects)
    return line
