"""The morning digest, sent through the outbox to a real SMTP server: the key figures and the day's changes
in the body, the units still missing, the replies that need a person, both workbooks attached; `--daily`
sends once per date however often it runs."""

from __future__ import annotations

import datetime as dt
import email
import io
from email import policy

from openpyxl import load_workbook

from mailintake.ingest.digest import make_report
from mailintake.ingest.samples import clients
from mailintake.store.models import Outbox
from testkit.config import smtp_section
from testkit.desk import BEFORE_DEADLINE, MaildirDesk
from testkit.mail import MAILBOX
from testkit.materials import materials

ORGANISERS = ["zzb@cqast.cn", "xcb@cqast.cn"]
DAY = dt.date(2021, 5, 20)


def desk_with_smtp(tmp_path, smtp_server, monkeypatch) -> MaildirDesk:
    return MaildirDesk(tmp_path, smtp=smtp_section(smtp_server, monkeypatch),
                       replies={"mode": "smtp", "settle_minutes": 0}, reports={"recipients": ORGANISERS})


def test_the_digest_goes_once_to_each_organiser_with_figures_changes_and_both_workbooks(
        tmp_path, smtp_server, monkeypatch):
    desk = desk_with_smtp(tmp_path, smtp_server, monkeypatch)
    try:
        desk.deliver(clients.build_message(sender="spbkx@163.com", sender_name="沙坪坝区科协", to=MAILBOX,
                                           subject="【沙坪坝区】推荐材料", body="请查收。",
                                           attachments=materials("沙坪坝区科协", ["张伟"])),
                     when=BEFORE_DEADLINE)
        desk.poll()
        with desk.ctx.db.session() as s:  # a reply that came back: the digest must name it
            row = s.query(Outbox).one()
            row.state, row.last_error = "bounced", "5.1.1 550 User not found"
        replies_sent = len(smtp_server["handler"].messages)
        first = make_report(desk.ctx, DAY, send=True, daily=True)
        again = make_report(desk.ctx, DAY, send=True, daily=True)
        assert len(first.queued) == 2 and again.already_sent and again.queued == []
        digests = smtp_server["handler"].messages[replies_sent:]
        assert sorted(rcpts[0] for _, rcpts, _ in digests) == sorted(ORGANISERS)
        m = email.message_from_bytes(digests[0][2], policy=policy.default)
        assert m["Subject"].endswith("报送日报（2021-05-20）")
        text = m.get_body(("plain",)).get_content()
        assert "区县：已报送 1/41 个单位，齐全 1" in text
        assert "已报送单位：1（+1）" in text and "推荐人选：1（+1）" in text
        assert "江北区" in text and "尚未报送的区县（40 个）" in text
        assert "spbkx@163.com：被退回" in text and "User not found" in text
        files = {part.get_filename(): part.get_content() for part in m.iter_attachments()}
        assert set(files) == {"报送情况-2021-05-20.xlsx", "决定.xlsx"}
        assert "总览" in load_workbook(io.BytesIO(files["报送情况-2021-05-20.xlsx"])).sheetnames
        assert "纸质材料" in load_workbook(io.BytesIO(files["决定.xlsx"])).sheetnames
        assert first.workbook.exists() and first.decisions.exists()
    finally:
        desk.close()
