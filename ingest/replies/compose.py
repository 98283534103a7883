"""An outbox row as the bytes that go out: headers per RFC 3834 and 5322, UTF-8 that every client reads.

The stdlib email package with policy SMTP: CRLF line ends, RFC 2047 encoded words (UTF-8, each at most
75 characters, never splitting a character) for a non-ASCII subject, base64 bodies, every header ASCII;
attachment names RFC 2231-encoded (filename*=utf-8''…), which QQ Mail, 163 and Outlook all read.
"""

from __future__ import annotations

import datetime as dt
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime

from mailintake.store.blobs import BlobStore
from mailintake.store.models import Outbox


def build(row: Outbox, sender: str, when: dt.datetime, blobs: BlobStore) -> bytes:
    m = EmailMessage(policy=policy.SMTP)
    m["From"] = sender
    m["To"] = row.to_address
    m["Subject"] = row.subject
    m["Date"] = format_datetime(when)
    m["Message-ID"] = row.rfc822_message_id
    snap = row.snapshot or {}
    if snap.get("in_reply_to"):
        m["In-Reply-To"] = snap["in_reply_to"]
    if snap.get("references"):
        m["References"] = " ".join(snap["references"])
    m["Auto-Submitted"] = "auto-replied"
    m["X-Auto-Response-Suppress"] = "All"
    m.set_content(row.text_body, subtype="plain", charset="utf-8", cte="base64")
    m.add_alternative(row.html_body, subtype="html", charset="utf-8", cte="base64")
    for f in row.attachments or []:  # only the service's own files (the digest's); replies carry none
        maintype, _, subtype = f["content_type"].partition("/")
        m.add_attachment(blobs.get("outbox", f["sha256"]), maintype=maintype, subtype=subtype, filename=f["name"])
    return m.as_bytes()
