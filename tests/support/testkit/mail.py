"""Small messages for intake tests (the realistic ones come from `mailintake.ingest.samples`)."""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage

SHANGHAI = dt.timezone(dt.timedelta(hours=8))
MAILBOX = "834396688@qq.com"


def plain_mail(n: int, body: str = "") -> bytes:
    m = EmailMessage()
    m["From"] = f"unit{n}@example.cn"
    m["To"] = MAILBOX
    m["Subject"] = f"推荐材料 {n}"
    m["Message-ID"] = f"<m{n}@example.cn>"
    m.set_content(body or f"第{n}封")
    return m.as_bytes()
