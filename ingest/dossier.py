"""Stage 3: place a message with its unit, then recompute that unit's dossier whole.

The dossier is a pure function of the unit's current facts (see rules.judge); this module only
gathers them from the store and saves the verdict, in the caller's transaction.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from parsers import findings as F
from parsers.facts import Finding as FactFinding
from parsers.facts import MessageFacts
from store.blobs import BlobStore
from store.models import Attachment, Candidate, Decision, Dossier, Finding, Message, SenderUnit, Unit

from . import rules
from .config import Config
from .registry import Registry
from .unit_signals import identify


def after_message(s: Session, cfg: Config, blobs: BlobStore, msg: Message, facts: MessageFacts,
                  previous_unit: int | None) -> None:
    tz = cfg.campaign.tz
    msg.late = msg.kind == "submission" and msg.internaldate > cfg.campaign.deadline
    if msg.late:
        _add(s, msg, F.make("late", None, received=_local(msg.internaldate, tz),
                            deadline=_local(cfg.campaign.deadline, tz)))
    if facts.classified:
        quarantine(s, blobs, msg)
    unit = None
    if msg.duplicate_of_id:
        unit = s.get(Message, msg.duplicate_of_id).unit
    elif msg.kind == "submission":
        unit = _place(s, cfg, msg, facts)
    msg.unit_id = unit.id if unit else None
    s.flush()
    for unit_id in {previous_unit, msg.unit_id} - {None}:
        recompute(s, cfg, s.get(Unit, unit_id))


def _local(when: dt.datetime, tz) -> str:
    return when.astimezone(tz).strftime("%Y年%m月%d日 %H:%M")


def _add(s: Session, msg: Message, f: FactFinding) -> None:
    s.add(Finding(message_id=msg.id, scope="message", code=f.code, severity=f.severity,
                  subject=f.subject, detail=f.detail))


def _place(s: Session, cfg: Config, msg: Message, facts: MessageFacts) -> Unit | None:
    registry = Registry(cfg)
    history = None
    if msg.sender:
        tied = s.get(SenderUnit, msg.sender)
        history = s.get(Unit, tied.unit_id).name if tied else None
    guess = identify(facts, registry, history, latest_decision(s, msg.key, ("assign",)))
    msg.unit_source = guess.source
    if guess.conflict:
        _add(s, msg, guess.conflict)
    if guess.name is None:
        _add(s, msg, F.make("unknown_unit"))
        return None
    unit = s.scalars(select(Unit).filter_by(name=guess.name)).first()
    if unit is None:
        unit = Unit(name=guess.name, category=registry.category(guess.name), quota=registry.quotas.get(guess.name))
        s.add(unit)
        s.flush()
    if msg.sender and guess.source not in ("sender_history", None):
        tie = s.get(SenderUnit, msg.sender) or SenderUnit(sender=msg.sender, unit_id=unit.id)
        tie.unit_id = unit.id
        s.add(tie)
    return unit


def latest_decision(s: Session, key: str, kinds: tuple[str, ...]) -> str | None:
    row = s.scalars(select(Decision).where(Decision.message_key == key, Decision.kind.in_(kinds))
                    .order_by(Decision.made_at.desc(), Decision.id.desc())).first()
    if row is None:
        return None
    return row.value if row.kind == "assign" else row.kind


def quarantine(s: Session, blobs: BlobStore, msg: Message) -> None:
    """Raw message to the 0700 area; extracted files out of normal storage unless shared."""
    msg.quarantined = True
    shared_raw = s.scalars(select(Message.id).where(Message.sha256 == msg.sha256, Message.id != msg.id,
                                                    Message.quarantined.is_(False))).first()
    if shared_raw is None:
        blobs.move("raw", "quarantine", msg.sha256)
    for sha in set(s.scalars(select(Attachment.sha256).where(Attachment.message_id == msg.id))):
        still_used = s.scalars(select(Attachment.id).join(Message).where(
            Attachment.sha256 == sha, Message.id != msg.id, Message.quarantined.is_(False))).first()
        if still_used is None:
            blobs.delete("files", sha)


def recompute(s: Session, cfg: Config, unit: Unit) -> rules.Verdict:
    messages = list(s.scalars(
        select(Message).where(Message.unit_id == unit.id, Message.kind == "submission",
                              Message.duplicate_of_id.is_(None)).order_by(Message.internaldate, Message.id)))
    decisions = {m.key: latest_decision(s, m.key, ("accept_late", "reject_late")) for m in messages if m.late}
    kept = [m for m in messages if decisions.get(m.key) != "reject_late"]
    files = [_file_row(m, a) for m in kept if not m.quarantined for a in _rows(s, Attachment, m)]
    rows = [rules.MessageRow(m.key, m.late and decisions.get(m.key) is None, m.quarantined,
                             [_fact(f) for f in _rows(s, Finding, m) if f.scope == "message"]) for m in kept]
    quota = unit.quota if unit.quota is not None else getattr(cfg.campaign.quotas, unit.category)
    verdict = rules.judge(unit.category, quota, files, rows, cfg.campaign)
    _save(s, unit, verdict)
    return verdict


def _rows(s: Session, model: type, m: Message) -> list:
    """Fresh from the database: bulk deletes earlier in this transaction bypass loaded collections."""
    return list(s.scalars(select(model).where(model.message_id == m.id).order_by(model.id)))


def _file_row(m: Message, a: Attachment) -> rules.FileRow:
    return rules.FileRow(a.id, m.key, a.display_name, a.role, a.person, a.seq, a.sealed,
                         a.facts.get("summary"), [_fact(f) for f in a.findings])


def _fact(f: Finding) -> FactFinding:
    return FactFinding(f.code, f.severity, f.subject, f.detail)


def _save(s: Session, unit: Unit, verdict: rules.Verdict) -> None:
    s.execute(delete(Finding).where(Finding.unit_id == unit.id))
    s.execute(delete(Candidate).where(Candidate.unit_id == unit.id))
    for c in verdict.candidates:
        s.add(Candidate(unit_id=unit.id, name=c.name, fields=c.fields, id_photo=c.id_photo,
                        life_photos=c.life_photos, form=c.form))
    for scope, f in verdict.findings:
        s.add(Finding(unit_id=unit.id, scope=scope, code=f.code, severity=f.severity,
                      subject=f.subject, detail=f.detail))
    d = s.get(Dossier, unit.id) or Dossier(unit_id=unit.id)
    d.status, d.late, d.current_files = verdict.status, verdict.late, verdict.current
    d.computed_at = dt.datetime.now(dt.UTC)
    s.add(d)
