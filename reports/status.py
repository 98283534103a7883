"""`status --json`: the documented, machine-readable view of the store (read only)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ingest.config import Config
from ingest.registry import district_names
from store.models import Candidate, Dossier, Finding, Message, Outbox, Unit


def build_status(s: Session, cfg: Config) -> dict:
    tz = cfg.campaign.tz
    messages = list(s.scalars(select(Message).options(selectinload(Message.attachments),
                                                       selectinload(Message.findings))
                              .order_by(Message.internaldate, Message.id)))
    keys = {m.id: m.key for m in messages}
    units = {u.id: u for u in s.scalars(select(Unit))}
    replies = {o.message_id: o for o in s.scalars(select(Outbox))}
    unit_rows = _units(s, cfg, units, messages)
    seen = {u["name"] for u in unit_rows}
    return {
        "campaign": cfg.campaign.name,
        "deadline": cfg.campaign.deadline.astimezone(tz).isoformat(),
        "generated_at": dt.datetime.now(tz).isoformat(timespec="seconds"),
        "messages": [_message(m, tz, keys, units, replies.get(m.id)) for m in messages],
        "units": unit_rows,
        "missing_units": [name for name in district_names(cfg) if name not in seen],
    }


def _message(m: Message, tz, keys: dict[int, str], units: dict[int, Unit], reply: Outbox | None) -> dict:
    return {
        "key": m.key,
        "reference": m.id,
        "message_id": m.message_id,
        "received_at": m.internaldate.astimezone(tz).isoformat(),
        "sender": m.sender,
        "subject": m.subject,
        "kind": m.kind,
        "state": m.state,
        "error": m.error,
        "late": m.late,
        "quarantined": m.quarantined,
        "unit": units[m.unit_id].name if m.unit_id in units else None,
        "duplicate_of": keys.get(m.duplicate_of_id) if m.duplicate_of_id else None,
        "attachments": [
            {"name": a.display_name, "role": a.role, "size": a.size, "sha256": a.sha256,
             "type": a.detected_type, "role_reason": a.role_reason, "person": a.person}
            for a in m.attachments
        ],
        "findings": [finding_json(f) for f in m.findings],
        "reply": {"kind": reply.kind, "state": reply.state} if reply else {"kind": "none", "state": "none"},
    }


def finding_json(f: Finding) -> dict:
    return {"code": f.code, "severity": f.severity, "subject": f.subject, "detail": f.detail}


def _units(s: Session, cfg: Config, units: dict[int, Unit], messages: list[Message]) -> list[dict]:
    dossiers = {d.unit_id: d for d in s.scalars(select(Dossier))}
    out = []
    for unit in sorted(units.values(), key=lambda u: u.name):
        d = dossiers.get(unit.id)
        if d is None:
            continue
        unit_findings = list(s.scalars(select(Finding).where(Finding.unit_id == unit.id).order_by(Finding.id)))
        candidates = list(s.scalars(select(Candidate).where(Candidate.unit_id == unit.id).order_by(Candidate.id)))
        out.append({
            "name": unit.name,
            "category": unit.category,
            "status": d.status,
            "late": d.late,
            "quota": unit.quota if unit.quota is not None else getattr(cfg.campaign.quotas, unit.category),
            "messages": [m.key for m in messages
                         if m.unit_id == unit.id and m.kind == "submission" and m.duplicate_of_id is None],
            "candidates": [{
                "name": c.name, "id_photo": c.id_photo, "life_photos": c.life_photos, "form": c.form,
                "findings": [finding_json(f) for f in unit_findings
                             if f.scope == "candidate" and f.subject == c.name],
            } for c in candidates],
            "findings": [finding_json(f) for f in unit_findings],
        })
    return out


def format_text(data: dict) -> str:
    """A short human summary of the same data."""
    lines = [f"{data['campaign']} — deadline {data['deadline']}", ""]
    lines.append(f"messages: {len(data['messages'])}")
    for m in data["messages"]:
        flag = " (duplicate)" if m["duplicate_of"] else ""
        lines.append(f"  #{m['reference']} {m['key']} {m['received_at'][:16]} {m['kind'] or m['state']}"
                     f"{flag} {m['unit'] or '-'} · {m['subject'] or ''}")
        for a in m["attachments"]:
            lines.append(f"      {a['role']:<10} {a['name']}")
        for f in m["findings"]:
            lines.append(f"      ! {f['code']}: {f['detail']}")
    lines.append("")
    lines.append(f"units: {len(data['units'])}")
    for u in data["units"]:
        late = " late" if u["late"] else ""
        lines.append(f"  {u['name']} [{u['category']}] {u['status']}{late}, "
                     f"{len(u['candidates'])}/{u['quota']} candidates")
        for f in u["findings"]:
            lines.append(f"      ! {f['code']}: {f['detail']}")
    lines.append(f"district-level units with no submission: {len(data['missing_units'])}")
    return "\n".join(lines)
