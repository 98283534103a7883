"""Settling and the rate limit, through the Maildir desk: a unit that sends its materials in several mails
gets one reply for the lot; a backlog is answered burst by burst as it would have been live; a marked
series waits for its last part; no address gets more than its daily share of automatic replies."""

from __future__ import annotations

import datetime as dt
import email
from email import policy
from pathlib import Path

import pytest

from mailintake.ingest.samples import clients
from testkit.desk import BEFORE_DEADLINE, MaildirDesk
from testkit.mail import MAILBOX
from testkit.materials import SERIES_UNIT as UNIT
from testkit.materials import series_part as part

T0 = BEFORE_DEADLINE


def minutes(n: float) -> dt.datetime:
    return T0 + dt.timedelta(minutes=n)


def replies(desk: MaildirDesk) -> list[email.message.EmailMessage]:
    folder = Path(desk.cfg.replies.dir)
    paths = sorted(folder.glob("*.eml")) if folder.exists() else []
    return [email.message_from_bytes(p.read_bytes(), policy=policy.default) for p in paths]


def text(m: email.message.EmailMessage) -> str:
    return m.get_body(("plain",)).get_content()


@pytest.fixture
def desk(tmp_path):
    d = MaildirDesk(tmp_path)
    yield d
    d.close()


def test_three_mails_within_the_settle_window_get_one_receipt_covering_all_three(desk):
    for n, at in ((1, 0), (2, 4), (3, 8)):
        desk.deliver(part(n), when=minutes(at))
    status = desk.poll()
    [reply] = replies(desk)
    assert reply["Subject"] == "回执：【沙坪坝区】推荐材料"
    assert reply["In-Reply-To"] == "<spb-part3@163.com>"
    assert reply["References"].split() == ["<spb-part1@163.com>", "<spb-part2@163.com>", "<spb-part3@163.com>"]
    body = text(reply)
    for m in status["messages"]:
        assert f"邮件 {m['display_reference']}" in body
    assert "张伟1.jpg" in body and "推荐工作情况报告.pdf" in body and "材料齐全" in body
    latest = status["messages"][-1]["reference"]
    assert [m["reply"]["covered_by"] for m in status["messages"]] == [latest] * 3
    assert {m["reply"]["kind"] for m in status["messages"]} == {"receipt"}


def test_with_settle_minutes_zero_each_mail_gets_its_own_reply(tmp_path):
    desk = MaildirDesk(tmp_path, replies={"settle_minutes": 0})
    try:
        for n, at in ((1, 0), (2, 4), (3, 8)):
            desk.deliver(part(n), when=minutes(at))
        status = desk.poll()
        kinds = [m["reply"]["kind"] for m in status["messages"]]
        assert kinds == ["deficiency", "deficiency", "receipt"]
        assert [m["reply"]["covered_by"] for m in status["messages"]] == [m["reference"] for m in status["messages"]]
        assert [r["In-Reply-To"] for r in replies(desk)] == [f"<spb-part{n}@163.com>" for n in (1, 2, 3)]
    finally:
        desk.close()


def test_a_backlog_is_answered_burst_by_burst_about_the_dossier_as_it_stood_then(desk):
    desk.deliver(part(1), when=minutes(0))
    desk.deliver(part(2), when=minutes(5))
    desk.deliver(part(3), when=minutes(60))  # an hour later: a burst of its own
    desk.poll()  # all three processed in one poll, long after they arrived
    first, second = replies(desk)
    assert first["Subject"].startswith("回执（材料不全）") and first["In-Reply-To"] == "<spb-part2@163.com>"
    assert "张伟4.jpg" not in text(first), "the first reply is about the dossier before the third mail"
    assert second["Subject"].startswith("回执：") and second["In-Reply-To"] == "<spb-part3@163.com>"
    assert second["References"].split() == ["<spb-part3@163.com>"]


def test_a_burst_still_settling_is_shown_as_settling_and_answered_by_a_later_poll(desk):
    desk.deliver(part(1), when=minutes(0))
    desk.at(minutes(3))
    [msg] = desk.poll()["messages"]
    assert msg["reply"] == {"kind": "none", "state": "settling", "reference": None, "covered_by": None}
    assert replies(desk) == []
    desk.deliver(part(2), when=minutes(9))
    desk.deliver(part(3), when=minutes(15))
    desk.at(minutes(20))
    desk.poll()
    assert replies(desk) == [], "the burst is still open: its last mail is five minutes old"
    desk.at(minutes(26))
    status = desk.poll()
    [reply] = replies(desk)
    assert reply["Subject"].startswith("回执：") and len(reply["References"].split()) == 3
    assert {m["reply"]["state"] for m in status["messages"]} == {"sent"}


def test_a_marked_series_waits_for_its_last_part(desk):
    desk.deliver(part(1, "【沙坪坝区】推荐材料（1/3）"), when=minutes(0))
    desk.deliver(part(2, "【沙坪坝区】推荐材料（2/3）"), when=minutes(30))
    desk.at(minutes(45))
    desk.poll()
    assert replies(desk) == [], "part 3 of 3 has not arrived"
    desk.deliver(part(3, "【沙坪坝区】推荐材料（3/3）"), when=minutes(70))
    desk.at(minutes(81))
    desk.poll()
    [reply] = replies(desk)
    assert reply["Subject"] == "回执：【沙坪坝区】推荐材料（3/3）" and len(reply["References"].split()) == 3


def test_a_series_whose_last_part_never_comes_is_answered_after_the_longest_wait(desk):
    desk.deliver(part(1, "推荐材料(1/3)"), when=minutes(0))
    desk.deliver(part(3, "推荐材料(3/3)"), when=minutes(30))  # (2/3) never arrives
    desk.at(minutes(100))
    desk.poll()
    assert replies(desk) == []
    desk.at(minutes(121))
    desk.poll()
    [reply] = replies(desk)
    assert reply["Subject"].startswith("回执（材料不全）") and len(reply["References"].split()) == 2


def test_a_quarantine_notice_is_never_held_back_and_leaves_the_burst_to_settle(desk):
    from mailintake.ingest.samples import documents
    secret = ("附件1：张伟推荐表.docx", documents.form_docx("张伟", "", None, "机密★1年"))
    desk.deliver(part(1), when=minutes(0))
    desk.deliver(clients.build_message(sender="spbkx@163.com", sender_name=UNIT, to=MAILBOX, subject="【沙坪坝区】报告",
                                       body="请查收。", attachments=[secret], message_id="<spb-secret@163.com>"),
                 when=minutes(2))
    desk.at(minutes(4))
    status = desk.poll()
    [notice] = replies(desk)
    assert notice["Subject"] == "涉密材料提醒"
    assert [m["reply"]["state"] for m in status["messages"]] == ["settling", "sent"]


def enquiry(n: int) -> bytes:
    return clients.build_message(sender="asker@163.com", sender_name="咨询", to=MAILBOX, subject=f"请问第{n}个问题",
                                 body="请问报送截止时间？", attachments=[], message_id=f"<ask-{n}@163.com>")


def test_an_address_gets_at_most_ten_automatic_replies_a_day_then_one_notice(desk):
    desk.at(dt.datetime(2021, 5, 20, 23, 0, tzinfo=T0.tzinfo))
    for n in range(12):
        desk.deliver(enquiry(n), when=minutes(n))
    status = desk.poll()
    states = [m["reply"]["state"] for m in status["messages"]]
    assert states == ["sent"] * 10 + ["suppressed"] * 2
    sent = replies(desk)
    assert len(sent) == 11 and sent[-1]["Subject"] == "今日自动回复已达上限"
    assert "10 封" in text(sent[-1]) and sent[-1]["Auto-Submitted"] == "auto-replied"
    desk.at(dt.datetime(2021, 5, 21, 0, 30, tzinfo=T0.tzinfo))  # the next day in Chongqing
    desk.deliver(enquiry(12), when=dt.datetime(2021, 5, 21, 0, 20, tzinfo=T0.tzinfo))
    status = desk.poll()
    assert status["messages"][-1]["reply"]["state"] == "sent" and len(replies(desk)) == 12


def test_templates_from_the_config_folder_replace_the_shipped_ones(tmp_path):
    folder = tmp_path / "my-templates"
    folder.mkdir()
    (folder / "reply.txt.j2").write_text("{{ unit }} 收讫 {{ reference }}\n", encoding="utf-8")
    desk = MaildirDesk(tmp_path, replies={"templates_dir": str(folder), "settle_minutes": 0})
    try:
        desk.deliver(part(1))
        [msg] = desk.poll()["messages"]
        [reply] = replies(desk)
        assert text(reply).strip() == f"{msg['unit']} 收讫 {msg['display_reference']}"
        assert "材料尚不完整" in reply.get_body(("html",)).get_content(), "the HTML falls back to the shipped one"
    finally:
        desk.close()
