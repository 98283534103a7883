"""Replies end to end through the Maildir desk (files mode): one reply per submission, of the right kind,
never to a robot, never twice; the .eml parsed back with the stdlib parser and checked on its raw bytes."""

from __future__ import annotations

import datetime as dt
import email
import re
from email import policy
from pathlib import Path

import pytest

from mailintake.ingest.replies import decide as D
from mailintake.ingest.reprocess import reprocess
from mailintake.ingest.samples import clients, documents
from mailintake.ingest.samples.mailbox import candidate_files, person, sealed_report, summary
from testkit.desk import BEFORE_DEADLINE, MaildirDesk
from testkit.mail import MAILBOX, SHANGHAI
from testkit.materials import materials

ENCODED_WORD = re.compile(rb"=\?([^?]+)\?([bBqQ])\?([^?]*)\?=")


def mail(**kw) -> bytes:
    kw.setdefault("to", MAILBOX)
    kw.setdefault("body", "请查收推荐材料。")
    kw.setdefault("sender_name", "推荐单位")
    return clients.build_message(**kw)


def replies(desk: MaildirDesk) -> list[Path]:
    folder = Path(desk.cfg.replies.dir)
    return sorted(folder.glob("*.eml")) if folder.exists() else []


def parsed(path: Path) -> email.message.EmailMessage:
    return email.message_from_bytes(path.read_bytes(), policy=policy.default)


def text_of(m: email.message.EmailMessage) -> str:
    return m.get_body(("plain",)).get_content()


def check_raw(raw: bytes) -> None:
    """Every header ASCII, encoded words at most 75 characters and whole UTF-8, bodies base64 or QP."""
    head, _, _ = raw.partition(b"\r\n\r\n")
    head.decode("ascii")  # raises on any 8-bit header byte
    for word in ENCODED_WORD.finditer(head):
        assert len(word.group(0)) <= 75, word.group(0)
        assert word.group(1).lower() == b"utf-8"
        if word.group(2) in b"bB":
            import base64
            base64.b64decode(word.group(3)).decode("utf-8")  # no character split between two words
    m = email.message_from_bytes(raw, policy=policy.default)
    for part in m.walk():
        if not part.is_multipart():
            assert part["Content-Transfer-Encoding"] in ("base64", "quoted-printable")
    assert max(len(line) for line in raw.split(b"\r\n")) <= 998
    assert b"\n" not in raw.replace(b"\r\n", b"")


@pytest.fixture
def desk(tmp_path):
    d = MaildirDesk(tmp_path)
    yield d
    d.close()


def test_a_complete_submission_gets_one_receipt_listing_every_file(desk):
    files = materials("沙坪坝区科协", ["张伟"])
    desk.deliver(mail(sender="spbkx@163.com", subject="回复：【沙坪坝区】推荐材料", client="netease163",
                      message_id="<spb-1@163.com>", attachments=files))
    status = desk.poll()
    [msg] = status["messages"]
    assert msg["reply"] == {"kind": "receipt", "state": "sent", "reference": 1, "covered_by": msg["reference"]}
    [path] = replies(desk)
    assert path.name == "outbox-000001.eml"
    raw = path.read_bytes()
    check_raw(raw)
    m = parsed(path)
    assert m["Subject"] == "回执：【沙坪坝区】推荐材料"  # the reply prefix of the original is gone
    assert m["To"] == "spbkx@163.com" and m["Auto-Submitted"] == "auto-replied"
    assert m["In-Reply-To"] == "<spb-1@163.com>" and m["References"] == "<spb-1@163.com>"
    assert re.fullmatch(r"<mailintake\.[0-9a-f]{32}@[^>]+>", m["Message-ID"])
    text = text_of(m)
    reference = D.display_reference(2021, msg["reference"])
    assert reference == f"2021-{msg['reference']:04d}" and f"参考编号：{reference}" in text
    assert "材料齐全" in text and "纸质材料" in text and desk.cfg.replies.paper_address in text
    assert desk.cfg.replies.contact_lines[0] in text
    assert "2021年05月20日 10:00:00" in text  # the server's arrival time
    for a in msg["attachments"]:
        assert a["name"] in text and a["sha256"][:8] in text
    html = m.get_body(("html",)).get_content()
    assert all(a["sha256"][:8] in html for a in msg["attachments"])


def test_an_incomplete_submission_gets_a_deficiency_naming_each_error(desk):
    desk.deliver(mail(sender="cqmes@qq.com", subject="重庆市机械工程学会-推荐材料（1/3）",
                      attachments=[sealed_report("重庆市机械工程学会", 1),
                                   summary("重庆市机械工程学会", [person("王芳", "女", "1980.03", "高级工程师")])]))
    status = desk.poll()
    [msg] = status["messages"]
    assert msg["reply"]["kind"] == "deficiency"
    [unit] = status["units"]
    m = parsed(replies(desk)[0])
    check_raw(replies(desk)[0].read_bytes())
    assert m["Subject"] == "回执（材料不全）：重庆市机械工程学会-推荐材料（1/3）"
    text = text_of(m)
    assert unit["findings"] and all(f["detail"] in text for f in unit["findings"])
    assert "尚缺的材料" in text and "候选人王芳缺少推荐表（附件1）。" in text


def test_an_unknown_unit_is_asked_to_name_itself(desk):
    desk.deliver(mail(sender="someone@example.cn", subject="材料", attachments=candidate_files("赵六", 3)))
    [msg] = desk.poll()["messages"]
    assert msg["unit"] is None and msg["reply"]["kind"] == "deficiency"
    assert "请在邮件主题中注明推荐单位名称" in text_of(parsed(replies(desk)[0]))


def test_a_late_submission_gets_a_late_notice(desk):
    arrived = dt.datetime(2021, 5, 29, 0, 0, 1, tzinfo=SHANGHAI)
    desk.deliver(mail(sender="cqukx@cqu.edu.cn", subject="重庆大学科协推荐材料", client="outlook",
                      attachments=materials("重庆大学科协", ["陈静"], seed=9)), arrived)
    [msg] = desk.poll()["messages"]
    assert msg["reply"]["kind"] == "late_notice"
    m = parsed(replies(desk)[0])
    assert m["Subject"] == "回执（逾期）：重庆大学科协推荐材料"
    assert "晚于报送截止时间" in text_of(m) and "组织方决定" in text_of(m)


def test_a_quarantined_submission_gets_a_notice_quoting_nothing(desk):
    form = documents.form_docx("孙磊", "", None, "机密★1年")
    files = [(n, form) if n.endswith("推荐表.docx") else (n, d) for n, d in materials("南岸区科协", ["孙磊"], seed=11)]
    desk.deliver(mail(sender="nakx@qq.com", subject="【南岸区】机密★推荐材料", attachments=files))
    [msg] = desk.poll()["messages"]
    assert msg["quarantined"] and msg["reply"]["kind"] == "quarantine_notice"
    path = replies(desk)[0]
    check_raw(path.read_bytes())
    m = parsed(path)
    assert m["Subject"] == "涉密材料提醒"
    body = text_of(m) + m.get_body(("html",)).get_content()
    for quoted in ["南岸区", "机密", "孙磊", ".docx", ".jpg", msg["attachments"][0]["sha256"][:8]]:
        assert quoted not in body.replace("涉密材料", "").replace("密级标识", "")
    assert "涉密材料不得通过普通电子邮件报送" in body


@pytest.mark.parametrize("headers, reason", [
    ({"Precedence": "bulk"}, "precedence"),
    ({"List-Id": "<units.cq.example>"}, "list"),
    ({"X-Loop": "cq-kx"}, "x_loop"),
    ({"X-Auto-Response-Suppress": "OOF, AutoReply"}, "auto_response_suppress"),
    ({"Return-Path": "<>"}, "null_return_path"),
])
def test_list_and_robot_mail_gets_no_reply_but_still_counts(desk, headers, reason):
    desk.deliver(mail(sender="spbkx@163.com", subject="【沙坪坝区】推荐材料", extra_headers=headers,
                      attachments=materials("沙坪坝区科协", ["张伟"])))
    status = desk.poll()
    [msg] = status["messages"]
    assert msg["kind"] == "submission" and status["units"][0]["status"] == "complete"  # material counts
    assert msg["reply"] == {"kind": "none", "state": "none", "reference": None, "covered_by": None}
    assert replies(desk) == []
    with desk.ctx.db.session() as s:
        from mailintake.store.models import Message
        assert s.get(Message, msg["reference"]).reply_block == reason


def test_auto_replies_read_receipts_and_bounces_get_nothing(desk):
    desk.deliver(clients.build_auto_reply(sender="wzkx@qq.com", sender_name="万州区科协", to=MAILBOX,
                                          original_subject="推荐材料"))
    desk.deliver(mail(sender="wzkx@qq.com", subject="已读: 回执：推荐材料", body="您的邮件已被阅读。"))
    our = clients.build_message(sender=MAILBOX, sender_name="市科协", to="gone@cq.gov.cn", subject="回执",
                                body="已收到。")
    desk.deliver(clients.build_bounce(original=our, to=MAILBOX, failed_recipient="gone@cq.gov.cn"))
    desk.deliver(mail(sender="noreply@notice.example.cn", subject="系统通知", body="您的账户已更新。"))
    status = desk.poll()
    assert len(status["messages"]) == 4
    assert [m["reply"]["kind"] for m in status["messages"]] == ["none"] * 4
    assert replies(desk) == []


def test_an_enquiry_gets_an_acknowledgement_and_a_subject_word_is_not_a_prefix(desk):
    desk.deliver(mail(sender="asker@163.com", subject="关于外出务工人员能否推荐的咨询",
                      body="请问外出务工人员可以推荐吗？"))
    [msg] = desk.poll()["messages"]
    assert msg["kind"] == "other" and msg["reply"]["kind"] == "acknowledgement"
    assert parsed(replies(desk)[0])["Subject"] == "来信已收到：关于外出务工人员能否推荐的咨询"


def test_our_own_reply_coming_back_is_never_answered(desk):
    desk.deliver(mail(sender="spbkx@163.com", subject="【沙坪坝区】推荐材料",
                      attachments=materials("沙坪坝区科协", ["张伟"])))
    desk.poll()
    ours = replies(desk)[0].read_bytes()
    forwarded_back = mail(sender="spbkx@163.com", subject="回复：回执：【沙坪坝区】推荐材料", body="收到，谢谢。",
                          extra_headers={"In-Reply-To": parsed(replies(desk)[0])["Message-ID"]})
    desk.deliver(forwarded_back, BEFORE_DEADLINE + dt.timedelta(hours=1))
    status = desk.poll()
    assert [m["reply"]["kind"] for m in status["messages"]] == ["receipt", "none"]
    assert replies(desk)[0].read_bytes() == ours and len(replies(desk)) == 1


def test_reprocess_and_a_second_poll_send_nothing_new(desk):
    desk.deliver(mail(sender="spbkx@163.com", subject="【沙坪坝区】推荐材料",
                      attachments=materials("沙坪坝区科协", ["张伟"])))
    first = desk.poll()
    list(reprocess(desk.ctx, None))
    again = desk.poll()
    assert [m["reply"] for m in again["messages"]] == [m["reply"] for m in first["messages"]]
    assert len(replies(desk)) == 1
    from sqlalchemy import func, select
    from sqlalchemy.exc import IntegrityError

    from mailintake.store.models import Outbox, OutboxCover
    with desk.ctx.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Outbox)) == 1
    with pytest.raises(IntegrityError), desk.ctx.db.session() as s:  # the database refuses a second cover
        row = Outbox(rfc822_message_id="<x@y>", kind="receipt", state="pending", to_address="a@b", subject="s",
                     text_body="t", html_body="h", snapshot={}, attempts=0)
        row.covers.append(OutboxCover(message_id=first["messages"][0]["reference"]))
        s.add(row)
        s.flush()


def test_mode_off_decides_no_reply(tmp_path):
    desk = MaildirDesk(tmp_path, replies={"mode": "off"})
    try:
        desk.deliver(mail(sender="spbkx@163.com", subject="【沙坪坝区】推荐材料",
                          attachments=materials("沙坪坝区科协", ["张伟"])))
        [msg] = desk.poll()["messages"]
        assert msg["reply"]["kind"] == "none" and replies(desk) == []
    finally:
        desk.close()


def test_schema_0004_downgrades_and_upgrades_again(tmp_path):
    from alembic import command
    from sqlalchemy import inspect

    from mailintake.store.db import alembic_config, make_engine, upgrade
    engine = make_engine(f"sqlite:///{tmp_path}/m.db")
    upgrade(engine)
    assert {"outbox", "outbox_cover"} <= set(inspect(engine).get_table_names())
    command.downgrade(alembic_config(engine), "0003")
    assert "outbox_cover" not in inspect(engine).get_table_names()
    assert "message_id" in {c["name"] for c in inspect(engine).get_columns("outbox")}
    upgrade(engine)
    assert "to_address" in {c["name"] for c in inspect(engine).get_columns("outbox")}
    engine.dispose()
