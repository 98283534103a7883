"""Organiser decisions (assign a unit, accept or reject late material, paper copy received): stored, then
applied — from the CLI, from a decisions workbook dropped in the reports folder, or (decisions_mail) by mail.

Decisions are never derived data: reprocessing reads them and never deletes them; the latest of a
kind for a message wins.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from mailintake.common.errors import UnknownMessage
from mailintake.common.vocab import MessageState, display_reference, parse_reference
from mailintake.ingest.context import Context
from mailintake.ingest.decisions_mail import apply_sheet
from mailintake.ingest.pipeline import run_stages
from mailintake.parsers.decision_sheet import read_decision_sheet
from mailintake.store.effects import settle, sweep
from mailintake.store.lock import processing_lock
from mailintake.store.models import Decision, Message, Unit


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
        if msg.state == MessageState.PURGED:
            raise UnknownMessage(f"message {ref!r} was purged after the campaign: nothing is left to decide on")
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


def apply_dropped(ctx: Context) -> list[str]:
    """Decisions workbooks an organiser dropped into `<reports.dir>/decisions/`: each applied like one sent
    by mail (made_by "file:NAME"), then moved to `applied/` beside a .txt of what it did (or to
    `rejected/` when it is not a decisions workbook). The caller holds the processing lock."""
    inbox = ctx.config.resolve(ctx.config.reports.dir) / "decisions"
    if not inbox.is_dir():
        return []
    lines = []
    for path in sorted(p for p in inbox.iterdir() if p.is_file() and p.suffix.lower() == ".xlsx"):
        sheet = read_decision_sheet(path.read_bytes())
        stamp = ctx.clock().strftime("%Y%m%dT%H%M%S")
        if sheet is None:
            _move(path, inbox / "rejected" / f"{stamp}-{path.name}")
            lines.append(f"{path.name}: not a decisions workbook (moved to rejected/)")
            continue
        with ctx.db.session() as s:
            outcome = apply_sheet(s, ctx, sheet, f"file:{path.name}"[:320], run_stages)
        settle(ctx.db, ctx.blobs, outcome.effects)
        done = _move(path, inbox / "applied" / f"{stamp}-{path.name}")
        report = ["已记录的更改：", *outcome.applied, "未作更改：", *outcome.unchanged, "无法处理：", *outcome.problems]
        done.with_suffix(".txt").write_text("\n".join(report) + "\n", encoding="utf-8")
        lines.append(f"{path.name}: {len(outcome.applied)} applied, {len(outcome.unchanged)} unchanged, "
                     f"{len(outcome.problems)} bad rows (see {done.with_suffix('.txt')})")
    return lines


def _move(path: Path, to: Path) -> Path:
    to.parent.mkdir(parents=True, exist_ok=True)
    os.replace(path, to)
    return to


def record_paper(ctx: Context, unit: str, received: dt.date | None) -> str:
    """The unit's paper copy arrived on `received` (None: recorded as not received)."""
    name = ctx.registry.normalise(unit) or unit
    with processing_lock(ctx.db, ctx.config.schedule.lock_wait_seconds), ctx.db.session() as s:
        if s.scalars(select(Unit.id).where(Unit.name == name)).first() is None and name not in ctx.scope.expected_units:
            raise UnknownMessage(f"no unit {unit!r} (a unit that has sent mail, or a district-level unit)")
        now = ctx.clock()
        s.add(Decision(kind="paper_received", unit_name=name, value=received.isoformat() if received else "",
                       made_by="cli", made_at=now, decided_on=now.astimezone(ctx.config.campaign.tz).date()))
    return f"unit {name}: paper copy {'received ' + received.isoformat() if received else 'not received'} recorded"
