"""What kind of mail this is, so that only real submissions get a reply and no mail loop can start.

Bounces and auto-replies are recognised from their headers first (RFC 3464, RFC 3834 and the headers
QQ/163 add) and from their subjects second, because some servers set no header at all.
"""

from __future__ import annotations

import re

from mailintake.common.vocab import Kind
from mailintake.parsers.mime import MimeMessage

_DAEMONS = frozenset({"mailer-daemon", "postmaster", "mail-daemon"})
_AUTO_FLAGS = ("x-autoreply", "x-autorespond", "x-qq-auto-reply")
_BULK = frozenset({"bulk", "junk", "list", "auto_reply"})
_AUTO_SUBJECT = re.compile(
    r"自动回复|自动答复|auto[\s_-]?reply|automatic\s+reply|out\s+of\s+(?:the\s+)?office|休假|autoresponse",
    re.IGNORECASE,
)


def classify_kind(msg: MimeMessage, has_materials: bool) -> Kind:
    """"bounce", "auto_reply", "other" (nothing to assess) or "submission", tested in that order."""
    if _is_bounce(msg):
        return Kind.BOUNCE
    if _is_auto_reply(msg):
        return Kind.AUTO_REPLY
    if _null_return_path(msg):
        return Kind.BOUNCE  # null sender without auto-reply marks: a non-standard delivery report
    return Kind.SUBMISSION if has_materials else Kind.OTHER


def _is_bounce(msg: MimeMessage) -> bool:
    ctype = msg.headers.get("content-type", "").lower()
    if ctype.startswith("multipart/report") and "delivery-status" in ctype:
        return True
    local = (msg.sender or "").split("@")[0]
    return local in _DAEMONS


def _is_auto_reply(msg: MimeMessage) -> bool:
    h = msg.headers
    if h.get("auto-submitted", "no").strip().lower().split(";")[0].strip() not in ("no", ""):
        return True
    if any(h.get(name, "").strip().lower() not in ("", "no", "false") for name in _AUTO_FLAGS):
        return True
    if h.get("precedence", "").strip().lower() in _BULK:
        return True
    return bool(_AUTO_SUBJECT.search(msg.subject))


def _null_return_path(msg: MimeMessage) -> bool:
    return msg.headers.get("return-path", "x").replace(" ", "") == "<>"
