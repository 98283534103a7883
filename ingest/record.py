"""Stage "record": one message's facts into rows, replacing whatever an earlier run derived from it.

Extracted files are written to the blob store here (before the commit; a file left by a crash is
unreferenced and swept), but nothing is moved or deleted: that is a post-commit effect.
"""

from __future__ import annotations

from collections import Counter

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from mailintake.common import findings as F
from mailintake.common.vocab import MessageState
from mailintake.ingest.context import Context
from mailintake.parsers.facts import ExtractedFile, FaceFacts, MessageFacts
from mailintake.store.effects import BlobEffects
from mailintake.store.models import Attachment, Finding, Message

MAX_HEADER_CHARS = 998  # Message-ID column width (RFC 5322 line length)
MAX_SUBJECT_CHARS = 2000  # a subject longer than this is hostile or broken; the finding says it was cut


def record(s: Session, ctx: Context, msg: Message, facts: MessageFacts) -> BlobEffects:
    """Write the message's fields, files and findings; returns the blobs whose fate the commit decides."""
    effects = BlobEffects(raw={msg.sha256})
    effects.files |= set(s.scalars(select(Attachment.sha256).where(Attachment.message_id == msg.id)))
    msg.message_id = (facts.message_id or "")[:MAX_HEADER_CHARS] or None
    # NUL is legal in an encoded word but no PostgreSQL text column stores it
    msg.sender, msg.subject, msg.kind = facts.sender, facts.subject.replace("\x00", "")[:MAX_SUBJECT_CHARS], facts.kind
    msg.sender_name = (facts.sender_name or "").replace("\x00", "")[:320] or None
    msg.kind_reason = facts.kind_reason or None
    s.execute(delete(Attachment).where(Attachment.message_id == msg.id))
    s.execute(delete(Finding).where(Finding.message_id == msg.id))
    s.flush()
    for ordinal, f in enumerate(facts.files):
        row = _attachment(msg, ordinal, f)
        s.add(row)
        s.flush()
        s.add_all(finding_row(x, "attachment", message_id=msg.id, attachment_id=row.id) for x in f.findings)
        if facts.classified:
            effects.files.add(f.sha256)  # recorded for the organisers, never kept
        elif not facts.files_stored:
            ctx.blobs.put("files", f.content, f.sha256)
    msg.duplicate_of_id = _earliest_copy(s, msg, facts)
    findings = list(facts.findings)
    if len(facts.subject) > MAX_SUBJECT_CHARS:
        findings.append(F.make("header_cut", None, header="主题", length=len(facts.subject), kept=MAX_SUBJECT_CHARS))
    if msg.duplicate_of_id:
        original = s.get(Message, msg.duplicate_of_id)
        findings.append(F.make("duplicate_message", None, original_reference=original.id, original_key=original.key))
    s.add_all(finding_row(x, "message", message_id=msg.id) for x in findings)
    s.flush()
    return effects


def finding_row(f: F.Finding, scope: str, **owner: int | None) -> Finding:
    """A finding as stored: code, severity, subject and parameters; the sentence is rendered where shown."""
    return Finding(scope=scope, code=f.code, severity=f.severity, subject=f.subject, params=dict(f.params),
                   detail=f.legacy_detail, **owner)


def _attachment(msg: Message, ordinal: int, f: ExtractedFile) -> Attachment:
    facts: dict = {}
    if f.photo is not None:
        facts["photo"] = {k: getattr(f.photo, k) for k in
                          ("format", "width", "height", "mode", "colour", "plain_background", "problem")}
        if f.photo.faces is not None:
            facts["photo"]["faces"] = _faces(f.photo.faces)
    if f.summary is not None:
        facts["summary"] = {"unit": f.summary.unit,
                            "rows": [{"name": r.name, **r.fields} for r in f.summary.rows]}
    if f.text:
        facts["text_excerpt"] = f.text[:2000]
    return Attachment(
        message_id=msg.id, ordinal=ordinal, parent_ordinal=f.parent, display_name=f.display_name,
        sha256=f.sha256, size=f.size, detected_type=f.detected_type, role=f.role, role_reason=f.role_reason,
        person=f.person, seq=f.seq, inline=f.inline, sealed=f.sealed, facts=facts,
        phash=f.photo.phash if f.photo is not None else None,
    )


def _faces(faces: FaceFacts) -> dict:
    """What the face detector saw, for the organisers and a later look: boxes as shares of the photo."""
    return {"frontal": [[round(v, 3) for v in (b.x, b.y, b.w, b.h)] for b in faces.frontal],
            "profile": faces.profile, "problem": faces.problem}


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
            if theirs == mine and other.state != MessageState.STORED:
                candidates.append(other)
    earlier = [o for o in candidates if (o.internaldate, o.id) < (msg.internaldate, msg.id)]
    if not earlier:
        return None
    first = min(earlier, key=lambda o: (o.internaldate, o.id))
    return first.duplicate_of_id or first.id
