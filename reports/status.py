"""`status --json`: the documented, machine-readable view of the store (read only), and its text form."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from mailintake.common.findings import Finding as Said
from mailintake.common.vocab import ROLE_LABELS, display_reference
from mailintake.reports import queries
from mailintake.reports.queries import ReportScope
from mailintake.store.models import Candidate, Dossier, Finding, Message, Outbox, Unit


def build_status(s: Session, scope: ReportScope) -> dict:
    campaign = scope.campaign
    tz = campaign.tz
    messages = queries.messages(s)
    keys = {m.id: m.key for m in messages}
    replies = queries.replies_by_message(s)
    return {
        "campaign": campaign.name,
        "deadline": campaign.deadline.astimezone(tz).isoformat(),
        "generated_at": dt.datetime.now(tz).isoformat(timespec="seconds"),
        "messages": [_message(m, tz, campaign.deadline.year, keys, replies.get(m.id)) for m in messages],
        "units": [_unit(s, scope, unit, d) for unit, d in queries.units_with_dossier(s)],
        "missing_units": queries.missing_units(s, scope),
    }


def _message(m: Message, tz: dt.tzinfo, year: int, keys: dict[int, str], reply: tuple[Outbox, int] | None) -> dict:
    return {
        "key": m.key,
        "reference": m.id,
        "display_reference": display_reference(year, m.id),
        "message_id": m.message_id,
        "received_at": m.internaldate.astimezone(tz).isoformat(),
        "sender": m.sender,
        "sender_name": m.sender_name,
        "subject": m.subject,
        "kind": m.kind,
        "kind_reason": m.kind_reason,
        "state": m.state,
        "error": m.error,
        "late": m.late,
        "quarantined": m.quarantined,
        "unit": m.unit.name if m.unit else None,
        "duplicate_of": keys.get(m.duplicate_of_id) if m.duplicate_of_id else None,
        "attachments": [
            {"name": a.display_name, "role": a.role, "size": a.size, "sha256": a.sha256,
             "type": a.detected_type, "role_reason": a.role_reason, "person": a.person}
            for a in m.attachments
        ],
        "findings": [finding_json(f) for f in m.findings],
        "reply": _reply(reply, m.awaiting_reply),
    }


def _reply(reply: tuple[Outbox, int] | None, awaiting: bool) -> dict:
    """The automatic reply that answers the message: its kind and state, the outbox row's number
    (`reference`, as `replies list` shows it) and the reference number of the message it answers.
    A message whose burst is still settling is owed a reply not yet decided: state `settling`."""
    if reply is None:
        return {"kind": "none", "state": "settling" if awaiting else "none", "reference": None, "covered_by": None}
    row, answered = reply
    return {"kind": row.kind, "state": row.state, "reference": row.id, "covered_by": answered}


def finding_json(f: Finding) -> dict:
    """code, severity, subject, the rendered sentence, and the params it was rendered from."""
    said = Said(f.code, f.subject, f.params or {}, legacy_detail=f.detail if f.params is None else None)
    return {"code": f.code, "severity": f.severity, "subject": f.subject, "detail": said.detail,
            "params": f.params or {}}


def _unit(s: Session, scope: ReportScope, unit: Unit, d: Dossier) -> dict:
    found = queries.unit_findings(s, unit)
    return {
        "name": unit.name,
        "category": unit.category,
        "status": d.status,
        "late": d.late,
        "quota": queries.quota(unit, scope),
        "messages": queries.counted_message_keys(s, unit),
        "candidates": [_candidate(c, found) for c in queries.candidates(s, unit)],
        "findings": [finding_json(f) for f in found],
    }


def _candidate(c: Candidate, found: list[Finding]) -> dict:
    return {"name": c.name, "id_photo": c.id_photo, "life_photos": c.life_photos, "form": c.form,
            "findings": [finding_json(f) for f in found if f.candidate_id == c.id]}


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
    sender = f"{m['sender_name']} <{m['sender']}>" if m.get("sender_name") else (m["sender"] or "")
    kind = f"{m['kind'] or m['state']}{late}{dup}{failed}"
    lines = [f"  {m['display_reference']} {m['key']} {m['received_at'][:16]} {kind} "
             f"{m['unit'] or '（未识别单位）'} · {m['subject'] or ''} · {sender}"]
    lines += [f"      {_role(a['role'])} {a['name']}  ({a['size']:,} B; {a['role_reason']})" for a in m["attachments"]]
    lines += [f"      ! {f['code']}: {f['detail']}" for f in m["findings"]]
    return lines


def _role(role: str) -> str:
    """The role in Chinese, padded to one width (CJK characters take two columns)."""
    label = ROLE_LABELS.get(role, role)
    return label + "\u3000" * (3 - len(label))


def _unit_lines(u: dict) -> list[str]:
    has = {True: "有", False: "无"}
    late = "，逾期" if u["late"] else ""
    lines = [f"  {u['name']}（{u['category']}，名额{u['quota']}）：{u['status']}{late}"]
    for c in u["candidates"]:
        parts = f"推荐表{has[c['form']]}，证件照{has[c['id_photo']]}，生活照{c['life_photos']}张"
        lines.append(f"      候选人 {c['name']}：{parts}")
    lines += [f"      ! [{f['severity']}] {f['code']}: {f['detail']}" for f in u["findings"]]
    return lines
