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
    """The same data for people: every message with its files and findings, then each unit's verdict."""
    lines = [f"{data['campaign']} — 截止 {data['deadline']}", "", f"收到邮件 {len(data['messages'])} 封："]
    for m in data["messages"]:
        lines += _message_lines(m)
    lines += ["", "各推荐单位结论："]
    for u in data["units"]:
        lines += _unit_lines(u)
    lines += ["", f"尚未报送的区县级单位：{len(data['missing_units'])} 个（{'、'.join(data['missing_units'])}）"]
    return "\n".join(lines)


def _message_lines(m: dict) -> list[str]:
    dup = f"（与 {m['duplicate_of']} 重复）" if m["duplicate_of"] else ""
    late = "【逾期】" if m["late"] else ""
    failed = f"【处理失败：{m['error']}】" if m["state"] == "failed" else ""
    lines = [f"  #{m['reference']} {m['key']} {m['received_at'][:16]} {m['kind'] or m['state']}{late}{dup}{failed} "
             f"{m['unit'] or '（未识别单位）'} · {m['subject'] or ''}"]
    lines += [f"      {a['role']:<10} {a['name']}  ({a['size']:,} B; {a['role_reason']})" for a in m["attachments"]]
    lines += [f"      ! {f['code']}: {f['detail']}" for f in m["findings"]]
    return lines


def _unit_lines(u: dict) -> list[str]:
    has = {True: "有", False: "无"}
    late = "，逾期" if u["late"] else ""
    lines = [f"  {u['name']}（{u['category']}，名额{u['quota']}）：{u['status']}{late}"]
    for c in u["candidates"]:
        parts = f"推荐表{has[c['form']]}，证件照{has[c['id_photo']]}，生活照{c['life_photos']}张"
        lines.append(f"      候选人 {c['name']}：{parts}")
    lines += [f"      ! [{f['severity']}] {f['code']}: {f['detail']}" for f in u["findings"]]
    return lines
