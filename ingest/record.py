"""Writes one message's facts into the store, replacing whatever an earlier run derived from it."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from parsers import findings as F
from parsers.facts import ExtractedFile, MessageFacts
from parsers.facts import Finding as FactFinding
from store.blobs import BlobStore
from store.models import Attachment, Finding, Message

from . import dossier
from .config import Config


def record_facts(s: Session, cfg: Config, blobs: BlobStore, msg: Message, facts: MessageFacts) -> None:
    previous_unit = msg.unit_id
    msg.message_id = (facts.message_id or "")[:998] or None
    msg.sender = facts.sender
    msg.subject = facts.subject
    msg.kind = facts.kind
    s.execute(delete(Attachment).where(Attachment.message_id == msg.id))
    s.execute(delete(Finding).where(Finding.message_id == msg.id))
    s.flush()
    for ordinal, f in enumerate(facts.files):
        row = _attachment(msg, ordinal, f)
        s.add(row)
        s.flush()
        for x in f.findings:
            s.add(_finding(msg, x, "attachment", row.id))
        if not facts.classified:
            blobs.put("files", f.content)
    msg.duplicate_of_id = _earliest_copy(s, msg, facts)
    findings = list(facts.findings)
    if msg.duplicate_of_id:
        original = s.get(Message, msg.duplicate_of_id)
        findings.append(F.make("duplicate_message", None, original=f"{original.id}（{original.key}）"))
    for x in findings:
        s.add(_finding(msg, x, "message", None))
    s.flush()
    dossier.after_message(s, cfg, blobs, msg, facts, previous_unit)


def _finding(msg: Message, f: FactFinding, scope: str, attachment_id: int | None) -> Finding:
    return Finding(message_id=msg.id, attachment_id=attachment_id, scope=scope, code=f.code, severity=f.severity,
                   subject=f.subject, detail=f.detail)


def _attachment(msg: Message, ordinal: int, f: ExtractedFile) -> Attachment:
    facts: dict = {}
    if f.photo is not None:
        facts["photo"] = {k: getattr(f.photo, k) for k in
                          ("format", "width", "height", "mode", "colour", "plain_background", "problem")}
    if f.summary is not None:
        facts["summary"] = {"unit": f.summary.unit,
                            "rows": [{"name": r.name, **r.fields} for r in f.summary.rows]}
    if f.text:
        facts["text_excerpt"] = f.text[:2000]
    return Attachment(
        message_id=msg.id, ordinal=ordinal, parent_ordinal=f.parent, display_name=f.display_name,
        sha256=f.sha256, size=f.size, detected_type=f.detected_type, role=f.role, role_reason=f.role_reason,
        person=f.person, seq=f.seq, inline=f.inline, sealed=f.sealed, facts=facts,
    )


def _earliest_copy(s: Session, msg: Message, facts: MessageFacts) -> int | None:
    """A re-delivery: same raw bytes, or the same Message-ID with the same attachments.

    The earliest copy (by arrival, then reference number) is the original; it points at nothing.
    """
    same_bytes = select(Message).where(Message.sha256 == msg.sha256, Message.id != msg.id)
    candidates = list(s.scalars(same_bytes))
    if msg.message_id:
        mine = Counter(f.sha256 for f in facts.files)
        for other in s.scalars(select(Message).where(Message.message_id == msg.message_id,
                                                     Message.id != msg.id, Message.sha256 != msg.sha256)):
            theirs = Counter(s.scalars(select(Attachment.sha256).where(Attachment.message_id == other.id)))
            if theirs == mine and other.state != "stored":
                candidates.append(other)
    earlier = [o for o in candidates if (o.internaldate, o.id) < (msg.internaldate, msg.id)]
    if not earlier:
        return None
    first = min(earlier, key=lambda o: (o.internaldate, o.id))
    return first.duplicate_of_id or first.id
