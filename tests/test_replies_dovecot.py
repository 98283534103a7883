"""Reply stories end to end on real servers: submissions appended to Dovecot (arrival times as the server
records them), polled over verified TLS, replies delivered to an aiosmtpd server over STARTTLS and a copy
kept in the mailbox's Sent folder; our own reply bouncing back is linked to its outbox row."""

from __future__ import annotations

import datetime as dt
import email
import uuid
from email import policy

from mailintake.ingest.config import Config
from mailintake.ingest.poll import poll
from mailintake.ingest.replies.outbox import outbox_lines
from mailintake.reports.status import build_status
from testkit.config import SMTP_FROM, open_context, with_smtp
from testkit.desk import BEFORE_DEADLINE
from testkit.materials import series_part as part

FROM = SMTP_FROM


def configured(imap_config: Config, smtp_server: dict, monkeypatch, **replies) -> Config:
    return with_smtp(imap_config, smtp_server, monkeypatch, replies=replies)


def run_poll(cfg: Config) -> dict:
    ctx = open_context(cfg)
    try:
        summary = poll(ctx)
        assert summary.failed == []
        with ctx.db.session() as s:
            return build_status(s, ctx.scope)
    finally:
        ctx.close()


def sent_mail(smtp_server: dict) -> list[email.message.EmailMessage]:
    return [email.message_from_bytes(raw, policy=policy.default) for _, _, raw in smtp_server["handler"].messages]


def test_three_mails_over_imap_get_one_reply_over_smtp_and_its_copy_in_the_sent_folder(
        dovecot, imap_config, smtp_server, monkeypatch):
    sent_folder = f"Sent-{uuid.uuid4().hex[:6]}"
    cfg = configured(imap_config, smtp_server, monkeypatch, sent_folder=sent_folder)
    for n, minutes in ((1, 0), (2, 3), (3, 7)):
        dovecot.append(cfg.mailbox.folder, part(n), BEFORE_DEADLINE + dt.timedelta(minutes=minutes))
    status = run_poll(cfg)
    [reply] = sent_mail(smtp_server)
    assert reply["Subject"] == "回执：【沙坪坝区】推荐材料" and reply["To"] == "spbkx@163.com"
    assert len(reply["References"].split()) == 3
    assert {m["reply"]["covered_by"] for m in status["messages"]} == {status["messages"][-1]["reference"]}
    with dovecot.client() as c:
        c.select_folder(sent_folder, readonly=True)
        [(uid, data)] = c.fetch(c.search(["ALL"]), ["BODY.PEEK[]", "FLAGS"]).items()
    copy = email.message_from_bytes(data[b"BODY[]"], policy=policy.default)
    assert copy["Message-ID"] == reply["Message-ID"] and b"\\Seen" in data[b"FLAGS"]
    run_poll(cfg)
    assert len(smtp_server["handler"].messages) == 1, "a second poll sends nothing"


def test_with_settle_minutes_zero_each_mail_over_imap_gets_its_own_reply(dovecot, imap_config, smtp_server,
                                                                        monkeypatch):
    cfg = configured(imap_config, smtp_server, monkeypatch, settle_minutes=0)
    for n, minutes in ((1, 0), (2, 3), (3, 7)):
        dovecot.append(cfg.mailbox.folder, part(n), BEFORE_DEADLINE + dt.timedelta(minutes=minutes))
    run_poll(cfg)
    subjects = [m["Subject"] for m in sent_mail(smtp_server)]
    assert subjects == ["回执（材料不全）：【沙坪坝区】推荐材料"] * 2 + ["回执：【沙坪坝区】推荐材料"]


def test_a_sent_folder_that_cannot_be_written_never_causes_a_resend(dovecot, imap_config, smtp_server, monkeypatch,
                                                                    caplog):
    cfg = configured(imap_config, smtp_server, monkeypatch, sent_folder="bad\x00name", settle_minutes=0)
    dovecot.append(cfg.mailbox.folder, part(1), BEFORE_DEADLINE)
    status = run_poll(cfg)
    assert status["messages"][0]["reply"]["state"] == "sent"
    assert "its copy could not be kept" in caplog.text
    run_poll(cfg)
    assert len(smtp_server["handler"].messages) == 1



def postfix_bounce(returned: bytes, recipient: str) -> bytes:
    """A Postfix RFC 3464 report returning our reply whole (message/rfc822), as Postfix writes it."""
    boundary = "8A2B3C4D5E.1621480000/mx.163.com"
    return (
        "Return-Path: <>\r\nFrom: MAILER-DAEMON@mx.163.com (Mail Delivery System)\r\n"
        f"To: {FROM}\r\nSubject: Undelivered Mail Returned to Sender\r\n"
        "Date: Thu, 20 May 2021 11:02:03 +0800 (CST)\r\nMessage-Id: <20210520030203.8A2B3C4D5E@mx.163.com>\r\n"
        "Auto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n"
        f'Content-Type: multipart/report; report-type=delivery-status; boundary="{boundary}"\r\n\r\n'
        f"--{boundary}\r\nContent-Description: Notification\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n"
        "This is the mail system at host mx.163.com.\r\n\r\nI'm sorry to have to inform you that your message "
        "could not\r\nbe delivered to one or more recipients.\r\n\r\n"
        f"<{recipient}>: host 163mx01.mxmail.netease.com said: 550 User not found: {recipient}\r\n\r\n"
        f"--{boundary}\r\nContent-Description: Delivery report\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.163.com\r\nArrival-Date: Thu, 20 May 2021 11:02:01 +0800 (CST)\r\n\r\n"
        f"Final-Recipient: rfc822; {recipient}\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        f"Diagnostic-Code: smtp; 550 User not found: {recipient}\r\n\r\n"
        f"--{boundary}\r\nContent-Description: Undelivered Message\r\nContent-Type: message/rfc822\r\n\r\n"
    ).encode() + returned + f"\r\n--{boundary}--\r\n".encode()


def test_a_bounce_of_our_reply_marks_its_row_bounced_with_the_reason_and_gets_no_reply(
        dovecot, imap_config, smtp_server, monkeypatch):
    cfg = configured(imap_config, smtp_server, monkeypatch, settle_minutes=0)
    dovecot.append(cfg.mailbox.folder, part(1, sender="wrong@163.com"), BEFORE_DEADLINE)
    run_poll(cfg)
    [(_, _, reply)] = smtp_server["handler"].messages
    dovecot.append(cfg.mailbox.folder, postfix_bounce(reply, "wrong@163.com"),
                   BEFORE_DEADLINE + dt.timedelta(minutes=2))
    status = run_poll(cfg)
    submission, bounce = status["messages"]
    assert bounce["kind"] == "bounce" and bounce["reply"]["kind"] == "none"
    assert submission["reply"]["state"] == "bounced"
    assert len(smtp_server["handler"].messages) == 1, "a bounce is never answered"
    ctx = open_context(cfg)
    try:
        [line] = list(outbox_lines(ctx))
    finally:
        ctx.close()
    assert "bounced" in line and "5.1.1" in line and "User not found" in line
