"""A reply's content, fixed when it is decided: the snapshot of what it covers and says, and its text.

The snapshot (plain JSON, stored on the outbox row) holds every fact the templates use, so what was sent
can be shown later even after the dossier changed. Templates are Jinja2, shipped in `templates/`.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined
from sqlalchemy import select
from sqlalchemy.orm import Session

from mailintake.common import findings as F
from mailintake.common.vocab import ROLE_LABELS
from mailintake.ingest.config import Config
from mailintake.ingest.dossier import stored_finding
from mailintake.ingest.replies import decide as D
from mailintake.parsers.subjects import strip_reply_prefixes
from mailintake.store.models import Attachment, Dossier, Finding, Message, Unit

MAX_FILES = 200
MAX_NAME = 80
MAX_SUBJECT = 120
MISSING = frozenset({"missing_report", "missing_summary", "missing_form", "missing_id_photo", "photo_count"})
QUARANTINE_SUBJECT = "涉密材料提醒"
LIMIT_SUBJECT = "今日自动回复已达上限"
DECISIONS_SUBJECT = "决定已处理"
_SUBJECT_LEADS = {D.RECEIPT: "回执：", D.DEFICIENCY: "回执（材料不全）：", D.LATE_NOTICE: "回执（逾期）：",
                  D.ACKNOWLEDGEMENT: "来信已收到："}
_FIXED_SUBJECTS = {D.QUARANTINE_NOTICE: QUARANTINE_SUBJECT, D.LIMIT_NOTICE: LIMIT_SUBJECT,
                   D.DECISIONS_CONFIRMATION: DECISIONS_SUBJECT}


def snapshot(s: Session, cfg: Config, kind: str, covered: list[Message], unit: Unit | None,
             dossier: Dossier | None, prefixes: tuple[str, ...]) -> dict:
    """Everything the reply says, as plain JSON. A quarantine notice keeps nothing of the message."""
    year = cfg.campaign.deadline.year
    latest = covered[-1]
    out = {
        "kind": kind,
        "reference": D.display_reference(year, latest.id),
        "references_covered": [D.display_reference(year, m.id) for m in covered],
        "in_reply_to": latest.message_id,
        "references": [m.message_id for m in covered if m.message_id],
        "unit": unit.name if unit else None,
        "status": dossier.status if dossier else None,
        "contact_lines": list(cfg.replies.contact_lines),
        "paper_address": cfg.replies.paper_address,
        "deadline": _local(cfg, cfg.campaign.deadline),
        "received_at": _local(cfg, latest.internaldate),
    }
    if kind == D.QUARANTINE_NOTICE:
        return out
    out["original_subject"] = strip_reply_prefixes(latest.subject, prefixes)[:MAX_SUBJECT]
    out["messages"], shown = [], 0
    for m in covered:
        rows = list(s.scalars(select(Attachment).where(Attachment.message_id == m.id).order_by(Attachment.ordinal)))
        files = [_file(a) for a in rows[:max(0, MAX_FILES - shown)]]
        shown += len(files)
        out["messages"].append({"reference": D.display_reference(year, m.id),
                                "received_at": _local(cfg, m.internaldate), "files": files, "files_total": len(rows)})
    out["files_omitted"] = sum(x["files_total"] for x in out["messages"]) - shown
    said = _findings(s, covered, unit)
    out["missing"] = [f.detail for f in said if f.severity == F.ERROR and f.code in MISSING]
    out["errors"] = [f.detail for f in said if f.severity == F.ERROR and f.code not in MISSING]
    out["warnings"] = [f.detail for f in said if f.severity == F.WARNING]
    return out


def render(cfg: Config, kind: str, snap: dict) -> tuple[str, str, str]:
    """(subject, text body, HTML body), by the shipped templates or the config's own."""
    if kind in _FIXED_SUBJECTS:
        subject = _FIXED_SUBJECTS[kind]
    else:
        subject = _SUBJECT_LEADS[kind] + (snap["original_subject"] or "（无主题）")
    env, base = _env(_templates(cfg)), "decisions" if kind == D.DECISIONS_CONFIRMATION else "reply"
    text, html = (env.get_template(f"{base}.{form}.j2").render(**snap) for form in ("txt", "html"))
    return subject, text, html


def limit_snapshot(cfg: Config, latest: Message) -> dict:
    """The daily-limit notice: it says only that, threaded to the mail that reached the limit."""
    year = cfg.campaign.deadline.year
    return {"kind": D.LIMIT_NOTICE, "reference": D.display_reference(year, latest.id), "limit": cfg.replies.daily_limit,
            "in_reply_to": latest.message_id, "references": [latest.message_id] if latest.message_id else [],
            "contact_lines": list(cfg.replies.contact_lines)}


def decisions_snapshot(cfg: Config, msg: Message, applied: list[str], unchanged: list[str],
                       problems: list[str]) -> dict:
    """A decisions confirmation: every row's fate, threaded to the organiser's mail."""
    return {"kind": D.DECISIONS_CONFIRMATION, "reference": D.display_reference(cfg.campaign.deadline.year, msg.id),
            "received_at": _local(cfg, msg.internaldate), "in_reply_to": msg.message_id,
            "references": [msg.message_id] if msg.message_id else [], "applied": applied[:MAX_FILES],
            "unchanged": unchanged[:MAX_FILES], "problems": problems[:MAX_FILES],
            "contact_lines": list(cfg.replies.contact_lines)}


@cache
def _env(override: str) -> Environment:
    """The shipped templates, behind the config's `replies.templates_dir` when it names a folder."""
    shipped = FileSystemLoader(Path(__file__).parent / "templates")
    loader = ChoiceLoader([FileSystemLoader(override), shipped]) if override else shipped
    return Environment(loader=loader, undefined=StrictUndefined,
                       autoescape=lambda name: bool(name) and name.endswith(".html.j2"), keep_trailing_newline=True,
                       trim_blocks=True, lstrip_blocks=True)


def _templates(cfg: Config) -> str:
    return str(cfg.resolve(cfg.replies.templates_dir)) if cfg.replies.templates_dir else ""


def _file(a: Attachment) -> dict:
    name = a.display_name if len(a.display_name) <= MAX_NAME else a.display_name[:MAX_NAME - 1] + "…"
    return {"name": name, "size": a.size, "size_text": F.human_size(a.size), "role": a.role,
            "role_label": ROLE_LABELS.get(a.role, a.role),
            "sha8": a.sha256[:8]}


def _findings(s: Session, covered: list[Message], unit: Unit | None) -> list[F.Finding]:
    """The unit's dossier findings (or, with no unit, the messages' own), then the covered messages' own
    message-level findings the dossier does not already state."""
    ids = [m.id for m in covered]
    if unit is not None:
        rows = list(s.scalars(select(Finding).where(Finding.unit_id == unit.id).order_by(Finding.id)))
        rows += list(s.scalars(select(Finding).where(Finding.message_id.in_(ids), Finding.scope == "message")
                               .order_by(Finding.id)))
    else:
        rows = list(s.scalars(select(Finding).where(Finding.message_id.in_(ids)).order_by(Finding.id)))
    seen: set[tuple] = set()
    out = []
    for row in rows:
        f = stored_finding(row)
        if (f.code, f.subject, f.detail) not in seen:
            seen.add((f.code, f.subject, f.detail))
            out.append(f)
    return out


def _local(cfg: Config, instant) -> str:
    return instant.astimezone(cfg.campaign.tz).strftime("%Y年%m月%d日 %H:%M:%S")
