"""Authentication-Results (RFC 8601): did the receiving provider see the sender pass SPF, DKIM or DMARC?

Only a header stamped by our own provider means anything (anyone can write one into a message they
send), so the caller names the authserv-id it trusts and every other header is ignored. Pure.
"""

from __future__ import annotations

import re
from email.parser import BytesHeaderParser
from email.policy import compat32

_RESULT = re.compile(r"\b(spf|dkim|dmarc)\s*=\s*([a-z]+)", re.IGNORECASE)
_COMMENT = re.compile(r"\([^()]*\)")


def passed(raw: bytes, authserv_id: str) -> bool:
    """True when an Authentication-Results header from `authserv_id` reports spf, dkim or dmarc = pass."""
    if not authserv_id:
        return False
    head = raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    headers = BytesHeaderParser(policy=compat32).parsebytes(head + b"\r\n\r\n")
    for value in headers.get_all("Authentication-Results") or []:
        text = _COMMENT.sub(" ", " ".join(str(value).split()))
        server, _, results = text.partition(";")
        if server.strip().split(" ")[0].lower() != authserv_id.strip().lower():
            continue
        if any(verdict.lower() == "pass" for _, verdict in _RESULT.findall(results)):
            return True
    return False
