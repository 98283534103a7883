"""Stages "judge" and "save": gather a unit's current material, apply the rules, store the verdict whole.

The verdict is a pure function of the unit's files and messages (`rules.judge`); this module only reads
them from the store and writes the result, in the caller's transaction. Candidate findings are tied to
their candidate row by identity. A quarantined message's files never reach the rules: only the names of
the candidates they concern (`rules.sealed_names`) do.
"""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from mailintake.common import findings as F
from mailintake.common.vocab import Role
from mailintake.ingest import rules
from mailintake.ingest.context import Context
from mailintake.ingest.record import finding_row
from mailintake.store.models import Attachment, Candidate, Dossier, Finding, Message, Unit
from mailintake.store.queries import LATE_DECISIONS, counted_messages, effective_quota, latest_decision


def recompute(s: Session, ctx: Context, unit: Unit) -> rules.Verdict:
    """Judge the unit's dossier from its counted messages and save the verdict."""
    messages = counted_messages(s, unit.id)
    decisions = {m.key: _late_decision(s, m.key) for m in messages if m.late}
    kept = [m for m in messages if decisions.get(m.key) != "reject_late"]
    files = [_file_row(m, a) for m in kept if not m.quarantined for a in _rows(s, Attachment, m)]
    rows = [rules.MessageRow(m.key, m.late and decisions.get(m.key) is None, m.quarantined,
                             [stored_finding(f) for f in _rows(s, Finding, m) if f.scope == "message"],
                             _sealed_names(s, m)) for m in kept]
    quota = effective_quota(unit, ctx.config.campaign.quotas.model_dump())
    verdict = rules.judge(unit.category, quota, files, rows, ctx.config.campaign)
    _save(s, ctx, unit, verdict)
    return verdict


def _sealed_names(s: Session, m: Message) -> list[str]:
    if not m.quarantined:
        return []
    return rules.sealed_names([_file_row(m, a) for a in _rows(s, Attachment, m)])


def _late_decision(s: Session, key: str) -> str | None:
    decision = latest_decision(s, key, LATE_DECISIONS)
    return decision.kind if decision else None


def _rows(s: Session, model: type, m: Message) -> list:
    """Fresh from the database: bulk deletes earlier in this transaction bypass loaded collections."""
    return list(s.scalars(select(model).where(model.message_id == m.id).order_by(model.id)))


def _file_row(m: Message, a: Attachment) -> rules.FileRow:
    return rules.FileRow(a.id, m.key, a.display_name, Role(a.role), a.person, a.seq, a.sealed,
                         a.facts.get("summary"), [stored_finding(f) for f in a.findings], a.sha256, a.phash)


def stored_finding(f: Finding) -> F.Finding:
    """A stored row back as a finding (rows from before schema 0002 carry their sentence, not params)."""
    if f.params is None:
        return F.Finding(f.code, f.subject, {}, legacy_detail=f.detail)
    return F.Finding(f.code, f.subject, f.params)


def _save(s: Session, ctx: Context, unit: Unit, verdict: rules.Verdict) -> None:
    s.execute(delete(Finding).where(Finding.unit_id == unit.id))
    s.execute(delete(Candidate).where(Candidate.unit_id == unit.id))
    s.flush()
    ids: dict[str, int] = {}
    for c in verdict.candidates:
        row = Candidate(unit_id=unit.id, name=c.name, fields=c.fields, id_photo=c.id_photo,
                        life_photos=c.life_photos, form=c.form)
        s.add(row)
        s.flush()
        ids[c.name] = row.id
    for judged in verdict.findings:
        candidate_id = ids[judged.candidate] if judged.candidate is not None else None
        s.add(finding_row(judged.finding, judged.scope, unit_id=unit.id, candidate_id=candidate_id))
    d = s.get(Dossier, unit.id) or Dossier(unit_id=unit.id)
    d.status, d.late, d.current_files = verdict.status, verdict.late, verdict.current
    d.computed_at = ctx.clock()
    s.add(d)
