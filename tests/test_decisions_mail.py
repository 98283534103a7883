"""Decisions by e-mail, end to end on Dovecot and the SMTP capture server: the organisers fill in the 决定.xlsx
they were sent and mail it back; good rows are applied, a bad row is reported back, an old copy reverts
nothing, a stranger's workbook (or one without our provider's passing Authentication-Results) is ignored."""

from __future__ import annotations

import datetime as dt
import email
import io
from email import policy

from mailintake.common import decision_form as form
from mailintake.ingest.poll import poll
from mailintake.ingest.samples import clients
from mailintake.reports.decisions_form import build_decision_form
from mailintake.reports.status import build_status
from mailintake.store.models import Decision
from testkit.config import open_context, with_smtp
from testkit.mail import MAILBOX
from testkit.materials import materials

CST = dt.timezone(dt.timedelta(hours=8))
ORGANISER = "zzb@cqast.cn"
LATE_ARRIVAL = dt.datetime(2021, 5, 29, 9, 0, tzinfo=CST)


class Office:
    """The campaign mailbox on Dovecot, the organisers' address, and the SMTP server replies go to."""

    def __init__(self, dovecot, imap_config, smtp_server, monkeypatch, **decisions):
        self.dovecot, self.smtp = dovecot, smtp_server
        self.cfg = with_smtp(imap_config, smtp_server, monkeypatch, replies={"settle_minutes": 0},
                             reports={"recipients": [ORGANISER]},
                             decisions={"require_authentication": False, **decisions})
        self.ctx = open_context(self.cfg)

    def arrive(self, raw: bytes, when: dt.datetime) -> None:
        self.dovecot.append(self.cfg.mailbox.folder, raw, when)

    def poll(self) -> dict:
        assert poll(self.ctx).failed == []
        with self.ctx.db.session() as s:
            return build_status(s, self.ctx.scope)

    def form(self) -> object:
        with self.ctx.db.session() as s:
            return build_decision_form(s, self.ctx.scope)

    def sent(self) -> list[email.message.EmailMessage]:
        return [email.message_from_bytes(raw, policy=policy.default) for _, _, raw in self.smtp["handler"].messages]


def submissions(office: Office) -> None:
    office.arrive(clients.build_message(sender="spbkx@163.com", sender_name="沙坪坝区科协", to=MAILBOX,
                                        subject="【沙坪坝区】推荐材料", body="请查收。",
                                        attachments=materials("沙坪坝区科协", ["张伟"])),
                  dt.datetime(2021, 5, 20, 10, 0, tzinfo=CST))
    office.arrive(clients.build_message(sender="cqukx@cqu.edu.cn", sender_name="重庆大学科协", to=MAILBOX,
                                        subject="重庆大学科协推荐材料", body="请查收。",
                                        attachments=materials("重庆大学科协", ["陈静"], seed=9)), LATE_ARRIVAL)
    unnamed = [(n, d) for n, d in materials("", ["林峰"], seed=19) if not n.startswith("附件2")]
    office.arrive(clients.build_message(sender="anon@qq.com", sender_name="某单位", to=MAILBOX, subject="推荐材料",
                                        body="请查收。", attachments=unnamed),
                  dt.datetime(2021, 5, 21, 10, 0, tzinfo=CST))


def fill(book, sheet: form.FormSheet, key: str, decision: object, day: object) -> None:
    ws = book[sheet.title]
    headers = [c.value for c in ws[1]]
    for row in ws.iter_rows(min_row=2):
        if str(row[headers.index(sheet.key)].value) == key:
            row[headers.index(sheet.decision)].value = decision
            row[headers.index(sheet.date)].value = day
            return
    raise AssertionError(f"no row {key!r} on {sheet.title}")


def workbook_mail(book, sender: str = ORGANISER, extra_headers: dict | None = None) -> bytes:
    data = io.BytesIO()
    book.save(data)
    return clients.build_message(sender=sender, sender_name="市科协组织方", to=MAILBOX, subject="决定表",
                                 body="见附件。", attachments=[(form.FILE_NAME, data.getvalue())],
                                 extra_headers=extra_headers or {})


def test_an_organisers_workbook_is_applied_and_confirmed_with_the_bad_row_reported(
        dovecot, imap_config, smtp_server, monkeypatch):
    office = Office(dovecot, imap_config, smtp_server, monkeypatch)
    submissions(office)
    status = office.poll()
    late, unplaced = status["messages"][2]["display_reference"], status["messages"][1]["display_reference"]
    assert status["messages"][2]["late"] and status["messages"][1]["unit"] is None
    book = office.form()
    fill(book, form.PAPER, "沙坪坝区", dt.date(2021, 5, 26), dt.date(2021, 5, 27))
    fill(book, form.PAPER, "万州区", "下周", "2021-05-27")  # a bad row
    fill(book, form.LATE, late, "受理", "2021年5月30日")
    fill(book, form.ASSIGN, unplaced, "綦江区科协", "2021-05-30")
    office.arrive(workbook_mail(book), dt.datetime(2021, 5, 30, 8, 0, tzinfo=CST))
    replies_before = len(office.sent())
    status = office.poll()
    decisions_mail = status["messages"][-1]
    assert decisions_mail["kind"] == "decisions" and decisions_mail["unit"] is None
    by_ref = {m["display_reference"]: m for m in status["messages"]}
    assert by_ref[late]["late"] is True and by_ref[unplaced]["unit"] == "綦江区"
    assert "late" not in {f["code"] for u in status["units"] if u["name"] == "重庆大学" for f in u["findings"]}
    with office.ctx.db.session() as s:
        paper = s.query(Decision).filter_by(kind="paper_received").one()
        assert (paper.unit_name, paper.value, paper.decided_on) == ("沙坪坝区", "2021-05-26", dt.date(2021, 5, 27))
    [confirmation] = office.sent()[replies_before:]
    assert confirmation["To"] == ORGANISER and confirmation["Subject"] == "决定已处理"
    body = confirmation.get_body(("plain",)).get_content()
    assert "沙坪坝区 纸质材料收到日期记为 2021-05-26" in body and "逾期材料予以受理" in body and "归入綦江区" in body
    assert "纸质材料 第" in body and "下周" in body, "the bad row is reported back"


def test_an_old_copy_sent_back_reverts_nothing(dovecot, imap_config, smtp_server, monkeypatch):
    office = Office(dovecot, imap_config, smtp_server, monkeypatch)
    submissions(office)
    late = office.poll()["messages"][2]["display_reference"]
    newer, older = office.form(), office.form()
    fill(newer, form.LATE, late, "受理", "2021-05-30")
    fill(older, form.LATE, late, "不受理", "2021-05-29")
    office.arrive(workbook_mail(newer), dt.datetime(2021, 5, 30, 8, 0, tzinfo=CST))
    office.arrive(workbook_mail(older), dt.datetime(2021, 5, 30, 9, 0, tzinfo=CST))
    status = office.poll()
    assert [u["candidates"] != [] for u in status["units"] if u["name"] == "重庆大学"] == [True], "still accepted"
    last = office.sent()[-1].get_body(("plain",)).get_content()
    assert "本次没有需要记录的更改" in last and "不比它新" in last


def test_a_strangers_workbook_is_never_applied(dovecot, imap_config, smtp_server, monkeypatch):
    office = Office(dovecot, imap_config, smtp_server, monkeypatch)
    submissions(office)
    late = office.poll()["messages"][2]["display_reference"]
    book = office.form()
    fill(book, form.LATE, late, "受理", "2021-05-30")
    office.arrive(workbook_mail(book, sender="mallory@163.com"), dt.datetime(2021, 5, 30, 8, 0, tzinfo=CST))
    status = office.poll()
    assert status["messages"][-1]["kind"] != "decisions"
    with office.ctx.db.session() as s:
        assert s.query(Decision).count() == 0


def test_with_authentication_on_only_our_providers_pass_is_trusted(dovecot, imap_config, smtp_server, monkeypatch):
    office = Office(dovecot, imap_config, smtp_server, monkeypatch, require_authentication=True,
                    authserv_id="mx.qq.com")
    submissions(office)
    late = office.poll()["messages"][2]["display_reference"]
    forged, genuine = office.form(), office.form()
    fill(forged, form.LATE, late, "不受理", "2021-05-30")
    fill(genuine, form.LATE, late, "受理", "2021-05-31")
    office.arrive(workbook_mail(forged, extra_headers={
        "Authentication-Results": "mx.evil.example; spf=pass smtp.mailfrom=cqast.cn; dkim=pass header.d=cqast.cn"}),
        dt.datetime(2021, 5, 30, 8, 0, tzinfo=CST))
    office.poll()
    with office.ctx.db.session() as s:
        assert s.query(Decision).count() == 0, "a header from another server proves nothing"
    office.arrive(workbook_mail(genuine, extra_headers={
        "Authentication-Results": "mx.qq.com; dkim=pass (2048-bit key) header.d=cqast.cn; spf=pass "
                                  "smtp.mailfrom=zzb@cqast.cn"}), dt.datetime(2021, 5, 31, 8, 0, tzinfo=CST))
    status = office.poll()
    assert status["messages"][-1]["kind"] == "decisions"
    with office.ctx.db.session() as s:
        assert [(d.kind, d.made_by) for d in s.query(Decision)] == [("accept_late", ORGANISER)]


def test_a_workbook_dropped_in_the_reports_folder_feeds_the_same_decisions(maildir_desk):
    desk = maildir_desk
    desk.deliver(clients.build_message(sender="spbkx@163.com", sender_name="沙坪坝区科协", to=MAILBOX,
                                       subject="【沙坪坝区】推荐材料", body="请查收。",
                                       attachments=materials("沙坪坝区科协", ["张伟"])))
    desk.poll()
    with desk.ctx.db.session() as s:
        book = build_decision_form(s, desk.ctx.scope)
    fill(book, form.PAPER, "沙坪坝区", "2021-05-26", "2021-05-27")
    fill(book, form.PAPER, "江北区", "未收到", "2021-05-27")
    inbox = desk.ctx.config.resolve(desk.ctx.config.reports.dir) / "decisions"
    inbox.mkdir(parents=True)
    book.save(inbox / "决定-0527.xlsx")
    desk.poll()
    [done] = (inbox / "applied").glob("*.xlsx")
    assert "沙坪坝区 纸质材料收到日期记为 2021-05-26" in done.with_suffix(".txt").read_text(encoding="utf-8")
    with desk.ctx.db.session() as s:
        rows = sorted((d.unit_name, d.value, d.made_by) for d in s.query(Decision))
    assert rows == [("江北区", "", "file:决定-0527.xlsx"), ("沙坪坝区", "2021-05-26", "file:决定-0527.xlsx")]
    assert list(inbox.glob("*.xlsx")) == []


def test_a_decisions_sheet_reads_dates_as_people_type_them_and_reports_what_it_cannot():
    from openpyxl import Workbook

    from mailintake.parsers.decision_sheet import read_decision_sheet
    book = Workbook()
    ws = book.active
    ws.title = form.PAPER.title
    ws.append(list(form.PAPER.headers))
    ws.append(["沙坪坝区", "区县", "2021年5月26日", dt.datetime(2021, 5, 27, 0, 0), ""])
    ws.append(["江北区", "区县", "2021.5.25", "2021/5/27", ""])
    ws.append(["渝中区", "区县", "", "2021-05-27", "blank: no change"])
    ws.append(["北碚区", "区县", "2021-05-26", "", "no decision day"])
    data = io.BytesIO()
    book.save(data)
    sheet = read_decision_sheet(data.getvalue())
    assert [(d.target, d.value, d.decided_on) for d in sheet.decisions] == [
        ("沙坪坝区", "2021-05-26", dt.date(2021, 5, 27)), ("江北区", "2021-05-25", dt.date(2021, 5, 27))]
    [problem] = sheet.problems
    assert problem.where == "纸质材料 第5行" and "决定日期" in problem.text
    assert read_decision_sheet(b"PK\x03\x04 not really a workbook") is None
