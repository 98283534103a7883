"""What can be said of a message from its headers alone, and what stopped a bounded parse.

Kept apart from `parsers.message` so the service's parent process, which parses nothing itself, can
record a message whose structure overran without importing the document, archive and image stack
(about 40 MiB it would hold for weeks and never run).
"""

from __future__ import annotations

from dataclasses import dataclass

from mailintake.common import findings as F
from mailintake.common.vocab import Kind
from mailintake.parsers.bounces import read_bounce
from mailintake.parsers.facts import BounceFacts, MessageFacts
from mailintake.parsers.kinds import KindVerdict, classify_kind
from mailintake.parsers.mime import MimeMessage, parse_mime_headers


@dataclass(frozen=True)
class Overrun:
    """What stopped a bounded parse: the file being read (index in `files`; None before any file) and why."""

    file: int | None
    reason: str  # "time" | "memory" | "died"
    limit: float  # the limit that was passed: seconds or bytes


def parse_envelope(raw: bytes, overrun: Overrun) -> MessageFacts:
    """Headers only, for a message whose structure itself overran the bounded parse: it is recorded, its
    files are not read, and the finding says why."""
    mime = parse_mime_headers(raw)
    verdict = classify_kind(mime, True)
    return MessageFacts(
        message_id=mime.message_id, sender=mime.sender, sender_name=mime.sender_name,
        subject=mime.subject or "", date_header=mime.date_header, headers=mime.headers, body_text="",
        kind=verdict.kind, kind_reason=verdict.reason, findings=[limit_finding("本邮件", overrun)],
        bounce=bounce_of(mime, verdict),  # headers only: what In-Reply-To and References name
    )


def bounce_of(mime: MimeMessage, verdict: KindVerdict) -> BounceFacts | None:
    return read_bounce(mime) if verdict.kind == Kind.BOUNCE else None


def limit_finding(name: str | None, overrun: Overrun) -> F.Finding:
    return F.make("processing_limit", name, reason=f"limit_{overrun.reason}", limit=overrun.limit)
