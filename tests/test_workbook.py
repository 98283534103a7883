"""The organisers' daily workbook, generated from a campaign's mail through the real pipeline (Maildir desk)
and read back with openpyxl: the figures, one row per unit, candidate, finding and message, the districts
still to chase, and a file LibreOffice opens and prints.

One mailbox for the module (ingesting real photos takes a while); tests that change rows roll back.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import select

from mailintake.ingest.samples import clients, documents, images
from mailintake.ingest.samples.mailbox import candidate_files, person, sealed_report, summary
from mailintake.reports import queries
from mailintake.reports.overview import UNKNOWN_AGE, overview
from mailintake.reports.workbook import SHEETS, build_workbook, write_workbook
from mailintake.store import queries as store_queries
from mailintake.store.models import Decision, Dossier, Finding, Message, Unit
from testkit.desk import MaildirDesk
from testkit.mail import MAILBOX, SHANGHAI

DAY = dt.date(2021, 5, 29)  # the morning after the deadline: the late mail counts, the one of 30 May not


def at(day: int, hour: int = 10, minute: int = 0, second: int = 0) -> dt.datetime:
    return dt.datetime(2021, 5, day, hour, minute, second, tzinfo=SHANGHAI)


def mail(**kw) -> bytes:
    kw.setdefault("to", MAILBOX)
    kw.setdefault("body", "请查收推荐材料。")
    return clients.build_message(**kw)


def unit_files(unit: str, people: list[tuple[str, str]], seed: int, post: str = "研究员") -> list[tuple[str, bytes]]:
    """Report, summary table (each person with the birth month given) and each person's form and photos."""
    files = [sealed_report(unit, seed), summary(unit, [person(n, "女", birth, post) for n, birth in people])]
    for n, (name, _) in enumerate(people):
        files += candidate_files(name, seed + n)
    return files


def stories(desk: MaildirDesk) -> None:
    spb = unit_files("沙坪坝区科协", [("张伟", "1990.01")], seed=1)
    desk.deliver(mail(sender="spbkx@163.com", sender_name="沙坪坝区科协", subject="【沙坪坝区】推荐材料",
                      attachments=spb, message_id="<spb@163.com>"), at(20))
    small = images.life_photo_jpeg(77, width=1200, height=800, min_bytes=0)
    yz = [(n, small) if n == "赵强4.jpg" else (n, d) for n, d in unit_files("渝中区科协", [("赵强", "1980.05")], 3)
          if not n.endswith("推荐表.docx")]  # and no form
    desk.deliver(mail(sender="yzkx@cq.gov.cn", sender_name="渝中区科协", subject="【渝中区】推荐材料",
                      attachments=yz, message_id="<yz@cq.gov.cn>"), at(21))
    link = ("从QQ邮箱发来的超大附件\n\n渝中区补充材料.zip (1.2G, 2021年6月20日 10:00 到期)\n"
            "进入下载页面：https://mail.qq.com/cgi-bin/ftnExs_download?k=2b6630&t=exs_ftn_download\n")
    desk.deliver(mail(sender="yzkx@cq.gov.cn", sender_name="渝中区科协", subject="【渝中区】补充材料（超大附件）",
                      body=link, message_id="<yz-link@cq.gov.cn>"), at(21, 10, 5))
    mes = unit_files("重庆市机械工程学会", [("王芳", "1970.03")], seed=5, post="重庆市某厅副厅长")
    shared = dict(spb)["张伟2.jpg"]  # the society sends one of 沙坪坝区's photos as its own
    mes = [(n, shared) if n == "王芳2.jpg" else (n, d) for n, d in mes]
    desk.deliver(mail(sender="cqmes@qq.com", sender_name="机械工程学会 秘书处", subject="重庆市机械工程学会-推荐材料",
                      attachments=mes, message_id="<mes@qq.com>"), at(22))
    form = documents.form_docx("孙磊", "", None, "机密★1年")
    xnu = [(n, form) if n.endswith("推荐表.docx") else (n, d)
           for n, d in unit_files("西南大学科协", [("孙磊", "1985.01")], 7)]
    desk.deliver(mail(sender="swukx@swu.edu.cn", sender_name="西南大学科协", subject="西南大学科协机密★推荐材料",
                      attachments=xnu, message_id="<swu@swu.edu.cn>"), at(24))
    desk.deliver(mail(sender="someone@126.com", sender_name="某单位", subject="请问推荐表可以用WPS格式吗？",
                      body="请问推荐表可以用WPS格式吗？谢谢。", message_id="<ask@126.com>"), at(25))
    cqu = unit_files("重庆大学科协", [("陈静", "1960.07")], seed=9)
    desk.deliver(mail(sender="cqmes@qq.com", sender_name="重庆大学科协", subject="重庆大学科协推荐材料",
                      attachments=cqu, message_id="<cqu@qq.com>"), at(29, 0, 0, 1))
    bb = unit_files("北碚区科协", [("李娜", "1988.02")], seed=11)
    desk.deliver(mail(sender="bbkx@qq.com", sender_name="北碚区科协", subject="【北碚区】推荐材料",
                      attachments=bb, message_id="<bb@qq.com>"), at(30, 9))


def decide(desk: MaildirDesk) -> None:
    """Paper copies the organisers logged, and their decision on the late mail."""
    made = dt.datetime(2021, 5, 26, 16, 0, tzinfo=SHANGHAI)
    with desk.ctx.db.session() as s:
        late = s.scalars(select(Message).where(Message.message_id == "<cqu@qq.com>")).one()
        s.add_all([
            Decision(kind="paper_received", unit_name="沙坪坝区", value="2021-05-26", decided_on=dt.date(2021, 5, 26),
                     made_by="test", made_at=made),
            Decision(kind="paper_received", unit_name="渝中区", value="2021-05-26", decided_on=dt.date(2021, 5, 26),
                     made_by="test", made_at=made),
            Decision(kind="paper_received", unit_name="渝中区", value="no", decided_on=dt.date(2021, 5, 27),
                     made_by="test", made_at=made + dt.timedelta(days=1)),  # a mistake, taken back
            Decision(kind="paper_received", unit_name="万州区", value="2021-05-28", decided_on=dt.date(2021, 5, 28),
                     made_by="test", made_at=made + dt.timedelta(days=2)),  # paper, but no mail yet
            Decision(kind="accept_late", message_key=late.key, decided_on=dt.date(2021, 5, 29), made_by="test",
                     made_at=made + dt.timedelta(days=3)),
        ])
        s.commit()


@pytest.fixture(scope="module")
def desk(tmp_path_factory):
    d = MaildirDesk(tmp_path_factory.mktemp("campaign"))
    stories(d)
    d.poll()
    decide(d)
    yield d
    d.close()


@pytest.fixture(scope="module")
def saved(desk, tmp_path_factory) -> Path:
    with desk.ctx.db.session() as s:
        return write_workbook(s, desk.ctx.scope, DAY, tmp_path_factory.mktemp("out") / "日报.xlsx")


@pytest.fixture(scope="module")
def book(saved) -> openpyxl.Workbook:
    return openpyxl.load_workbook(saved)


def table(ws) -> list[dict[str, object]]:
    """A sheet's rows as header -> value."""
    rows = list(ws.iter_rows(values_only=True))
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def by(rows: list[dict], column: str) -> dict[object, dict]:
    return {row[column]: row for row in rows}


def figures(book) -> dict[str, dict[str, object]]:
    ws = book["总览"]
    headers = [c.value for c in ws[5]]
    rows = ws.iter_rows(min_row=6, max_row=9, values_only=True)
    return {row[0]: dict(zip(headers, row, strict=True)) for row in rows}


def test_the_workbook_has_six_sheets_with_frozen_headers_and_filters(book):
    assert book.sheetnames == list(SHEETS)
    for name in SHEETS[1:]:
        ws = book[name]
        assert ws.freeze_panes is not None and ws.freeze_panes.endswith("2")
        assert ws.auto_filter.ref.startswith("A1:")
    assert book["总览"].freeze_panes == "A6"


def test_the_overview_counts_complete_and_incomplete_units_per_category(book):
    f = figures(book)
    assert f["区县"]["已报送单位"] == 2 and f["区县"]["应报送单位"] == 41
    assert (f["区县"]["材料齐全"], f["区县"]["材料不全"], f["区县"]["涉密隔离"]) == (1, 1, 0)
    assert f["学会"]["已报送单位"] == 1 and f["学会"]["应报送单位"] == "—" and f["学会"]["材料齐全"] == 1
    inst = f["企事业单位"]
    assert (inst["已报送单位"], inst["材料齐全"], inst["涉密隔离"], inst["含逾期材料"]) == (2, 1, 1, 1)
    assert f["合计"]["已报送单位"] == 5 and f["合计"]["推荐人选"] == 5
    assert f["区县"]["纸质材料已收"] == 1  # 沙坪坝区; 渝中区's was taken back


def test_the_overview_charts_intake_per_day_and_candidates_by_category_and_age(desk, book, saved):
    with desk.ctx.db.session() as s:
        o = overview(s, desk.ctx.scope, DAY)
    days = {d.day: (d.messages, d.submissions) for d in o.intake}
    assert min(days) == dt.date(2021, 5, 20) and max(days) == dt.date(2021, 5, 28)  # up to the deadline
    assert days[dt.date(2021, 5, 21)] == (2, 2) and days[dt.date(2021, 5, 25)] == (1, 0)  # two mails; an enquiry
    assert days[dt.date(2021, 5, 23)] == (0, 0)
    assert o.after_deadline == 1 and o.messages == 7  # the late mail counts, 30 May's does not
    bands = {b.label: b.candidates for b in o.age_bands}
    # 1990 → 31, 1980 → 41, 1970 → 51, 1960 → 61; the quarantined unit's candidate has a name only
    assert bands == {"35岁及以下": 1, "36–45岁": 1, "46–55岁": 1, "56岁及以上": 1, UNKNOWN_AGE: 1}
    assert [c.candidates for c in o.categories] == [2, 1, 2]
    cells = [c.value for row in book["总览"].iter_rows() for c in row]  # the charts' data, under the charts
    assert "5月21日" in cells and "截止后" in cells and "56岁及以上" in cells
    with zipfile.ZipFile(saved) as z:
        charts = [n for n in z.namelist() if n.startswith("xl/charts/chart")]
        assert len(charts) == 3 and "每日来信" in z.read(sorted(charts)[0]).decode()


def test_the_overview_figures_are_one_typed_value(desk):
    with desk.ctx.db.session() as s:
        o = overview(s, desk.ctx.scope, DAY)
    district, society, institution = o.categories
    assert (district.label, district.expected, society.expected) == ("区县", 41, None)
    assert o.total.submitted == district.submitted + society.submitted + institution.submitted
    assert len(o.missing_units) == 39 and o.unplaced == 0 and o.cloud_links == 1


def test_a_units_row_says_what_is_missing_and_when_its_paper_copy_arrived(book):
    units = by(table(book["单位"]), "单位")
    assert list(units) == ["沙坪坝区", "渝中区", "重庆市机械工程学会", "西南大学", "重庆大学"]  # by category
    spb = units["沙坪坝区"]
    assert spb["状态"] == "材料齐全" and spb["纸质材料收到"] == dt.datetime(2021, 5, 26)
    assert spb["首封送达"] == dt.datetime(2021, 5, 20, 10, 0) and spb["参考编号"] == "2021-0001"
    assert spb["发件地址"] == "spbkx@163.com" and spb["发件人"] == "沙坪坝区科协" and spb["人选数"] == 1
    yz = units["渝中区"]
    assert yz["状态"] == "材料不全" and yz["纸质材料收到"] == "未收到" and yz["邮件数"] == 2
    assert yz["尚缺材料"] == "候选人赵强缺少推荐表（附件1）。"
    assert yz["首封送达"] == dt.datetime(2021, 5, 21, 10, 0) and yz["末封送达"] == dt.datetime(2021, 5, 21, 10, 5)
    assert yz["参考编号"] == "2021-0002\n2021-0003"
    assert units["西南大学"]["状态"] == "涉密隔离" and units["重庆大学"]["逾期"] == "逾期"
    assert units["重庆市机械工程学会"]["尚缺材料"] is None and units["重庆市机械工程学会"]["名额"] == 2
    ws = book["单位"]
    fills = {ws.cell(r, 1).value: ws.cell(r, 3).fill.fgColor.rgb[-6:] for r in range(2, ws.max_row + 1)}
    assert fills == {"沙坪坝区": "C6EFCE", "渝中区": "FFEB9C", "重庆市机械工程学会": "C6EFCE", "西南大学": "FFC7CE",
                     "重庆大学": "C6EFCE"}  # green, amber, red
    assert ws.cell(6, 4).fill.fgColor.rgb[-6:] == "D9D9D9"  # 重庆大学 is late: grey


def test_a_unit_missing_its_report_and_summary_says_so_in_the_sentences_sent(desk, tmp_path):
    with desk.ctx.db.session() as s:
        unit = Unit(name="江北区", category="district")
        s.add(unit)
        s.flush()
        m = s.scalars(select(Message).where(Message.message_id == "<ask@126.com>")).one()
        m.unit_id, m.kind = unit.id, "submission"  # as if the enquiry had been a bare submission
        s.add(Dossier(unit_id=unit.id, status="incomplete", late=False, current_files=[]))
        s.add_all([Finding(unit_id=unit.id, scope="unit", code="missing_report", severity="error", params={}),
                   Finding(unit_id=unit.id, scope="unit", code="missing_summary", severity="error", params={})])
        s.flush()
        row = by(table(_reread(build_workbook(s, desk.ctx.scope, DAY), tmp_path)["单位"]), "单位")["江北区"]
        s.rollback()
    assert row["尚缺材料"] == "缺少推荐工作情况报告（须加盖推荐单位公章）。\n缺少推荐人选汇总表（附件2）。"


def test_each_candidate_has_a_row_with_the_summary_table_fields_and_what_is_present(book):
    rows = table(book["人选"])
    people = by(rows, "姓名")
    assert set(people) == {"张伟", "赵强", "王芳", "孙磊", "陈静"}
    zw = people["张伟"]
    assert (zw["单位"], zw["出生年月"], zw["性别"], zw["政治面貌"]) == ("沙坪坝区", "1990-01", "女", "中共党员")
    assert (zw["推荐表"], zw["证件照"], zw["生活照（张）"]) == ("有", "有", 3) and zw["待解决问题"] is None
    zq = people["赵强"]
    assert (zq["推荐表"], zq["待解决问题"], zq["资格提醒"]) == ("无", "候选人赵强缺少推荐表（附件1）。", None)
    wf = people["王芳"]  # an eligibility warning: a post the campaign does not take
    assert wf["待解决问题"] is None
    assert wf["资格提醒"].startswith("候选人王芳的职务（重庆市某厅副厅长）可能不符合推荐范围")
    sl = people["孙磊"]  # the quarantined unit: a name, nothing of its sealed material
    assert (sl["单位"], sl["推荐表"], sl["证件照"], sl["出生年月"]) == ("西南大学", "无", "无", None)
    headers = list(rows[0])
    assert headers.index("出生年月") < headers.index("工作单位及职务") < headers.index("联系电话")


def test_the_issue_list_puts_cloud_links_first_with_their_expiry(book):
    rows = table(book["问题清单"])
    first = rows[0]
    assert first["代码"] == "cloud_attachment" and first["单位"] == "渝中区"
    assert first["链接有效期"] == "mail.qq.com：2021-06-20" and first["邮件编号"] == "2021-0003"
    assert "超大附件或网盘链接" in first["问题说明（发给报送人的原话）"]
    assert [r["级别"] for r in rows[1:]] == sorted((r["级别"] for r in rows[1:]), key=["错误", "提醒"].index)


def test_the_issue_list_gives_each_finding_with_the_sentence_the_submitter_was_sent(book):
    rows = table(book["问题清单"])
    small = next(r for r in rows if r["代码"] == "photo_too_small")
    assert (small["单位"], small["文件或对象"], small["级别"]) == ("渝中区", "赵强4.jpg", "错误")
    assert small["问题说明（发给报送人的原话）"].startswith("照片“赵强4.jpg”大小为")
    late = next(r for r in rows if r["代码"] == "late")
    assert (late["单位"], late["级别"], late["邮件编号"]) == ("重庆大学", "提醒", "2021-0007")
    assert "晚于报送截止时间" in late["问题说明（发给报送人的原话）"]
    sealed = [r for r in rows if r["代码"] == "classified_marker"]
    assert sealed and all(r["单位"] == "西南大学" and r["邮件编号"] == "2021-0005" for r in sealed)
    assert "涉密材料不得通过普通电子邮件报送" in sealed[0]["问题说明（发给报送人的原话）"]


def test_the_same_photo_from_two_units_and_one_sender_for_two_units_are_cross_unit_warnings(book):
    rows = [r for r in table(book["问题清单"]) if r["代码"].startswith("cross_unit")]
    photo = next(r for r in rows if r["代码"] == "cross_unit_photo")
    assert photo["单位"] == "沙坪坝区、重庆市机械工程学会" and photo["级别"] == "提醒"
    assert photo["文件或对象"] == "张伟2.jpg、王芳2.jpg" and photo["邮件编号"] == "2021-0001\n2021-0004"
    assert "同时出现在沙坪坝区、重庆市机械工程学会的材料中" in photo["问题说明（发给报送人的原话）"]
    sender = next(r for r in rows if r["代码"] == "cross_unit_sender")
    assert sender["单位"] == "重庆大学、重庆市机械工程学会" and sender["文件或对象"] == "cqmes@qq.com"
    assert len(rows) == 2  # one shared photo (not the other four), one shared address


def test_the_message_log_lists_every_message_with_its_reply_and_the_decision_on_it(book):
    rows = table(book["来信记录"])
    assert [r["参考编号"] for r in rows] == [f"2021-{n:04d}" for n in range(1, 8)]
    log = by(rows, "参考编号")
    assert log["2021-0001"]["送达时间"] == dt.datetime(2021, 5, 20, 10, 0)
    assert (log["2021-0001"]["回复"], log["2021-0001"]["回复状态"]) == ("回执", "已发送")
    assert log["2021-0002"]["回复"] == "材料不全通知" and log["2021-0005"]["涉密"] == "涉密"
    ask = log["2021-0006"]
    assert (ask["类型"], ask["单位"], ask["回复"]) == ("其他（咨询等）", None, "咨询答复")
    late = log["2021-0007"]
    assert (late["逾期"], late["组织方决定"], late["决定日期"]) == ("逾期", "接受逾期材料", dt.datetime(2021, 5, 29))
    assert (late["发件地址"], late["发件人"], late["主题"]) == ("cqmes@qq.com", "重庆大学科协", "重庆大学科协推荐材料")


def test_mail_after_the_end_of_the_day_is_not_counted(desk, book, tmp_path):
    assert "北碚区" not in by(table(book["单位"]), "单位")
    assert "北碚区" in by(table(book["未报送"]), "单位")
    with desk.ctx.db.session() as s:
        earlier = _reread(build_workbook(s, desk.ctx.scope, dt.date(2021, 5, 21)), tmp_path)
        later = _reread(build_workbook(s, desk.ctx.scope, dt.date(2021, 5, 30)), tmp_path)
    assert [r["参考编号"] for r in table(earlier["来信记录"])] == ["2021-0001", "2021-0002", "2021-0003"]
    assert list(by(table(earlier["单位"]), "单位")) == ["沙坪坝区", "渝中区"]
    assert figures(earlier)["合计"]["推荐人选"] == 2 and figures(earlier)["企事业单位"]["已报送单位"] == 0
    assert "北碚区" in by(table(later["单位"]), "单位") and len(table(later["未报送"])) == 38


def test_the_missing_sheet_lists_the_39_districts_not_heard_from(desk, book):
    rows = table(book["未报送"])
    assert len(rows) == 39 and [r["序号"] for r in rows] == list(range(1, 40))
    names = [r["单位"] for r in rows]
    assert "沙坪坝区" not in names and "渝中区" not in names
    assert names == [n for n in desk.ctx.scope.expected_units if n not in ("沙坪坝区", "渝中区")]
    wz = by(rows, "单位")["万州区"]
    assert wz["纸质材料收到"] == dt.datetime(2021, 5, 28) and wz["类别"] == "区县"


def test_reply_problems_are_counted_per_category(desk, tmp_path):
    with desk.ctx.db.session() as s:
        replies = queries.replies_by_message(s)
        by_message = {m.message_id: replies[m.id][0] for m in s.scalars(select(Message)) if m.id in replies}
        by_message["<cqu@qq.com>"].state = "bounced"
        by_message["<ask@126.com>"].state = "uncertain"
        by_message["<spb@163.com>"].state = "failed"
        s.flush()
        f = figures(_reread(build_workbook(s, desk.ctx.scope, DAY), tmp_path))
        s.rollback()
    assert (f["企事业单位"]["回复被退回"], f["区县"]["回复失败"], f["学会"]["回复失败"]) == (1, 1, 0)
    total = f["合计"]  # the enquiry's reply belongs to no unit, but counts in the total
    assert (total["回复被退回"], total["回复待确认"], total["回复失败"]) == (1, 1, 1)


def test_text_that_looks_like_a_formula_stays_text(desk, tmp_path):
    with desk.ctx.db.session() as s:
        m = s.scalars(select(Message).where(Message.message_id == "<ask@126.com>")).one()
        m.subject = '=HYPERLINK("http://example.invalid","点我")\x07'
        s.flush()
        book = _reread(build_workbook(s, desk.ctx.scope, DAY), tmp_path)
        s.rollback()
    cell = next(c for row in book["来信记录"].iter_rows() for c in row if str(c.value).startswith("=HYPERLINK"))
    assert cell.data_type == "s" and cell.value.endswith('"点我")')


def test_the_snapshot_counts_for_a_unit_the_messages_its_dossier_counts(desk):
    with desk.ctx.db.session() as s:
        snap = queries.snapshot(s, desk.ctx.scope, dt.date(2021, 6, 30))
        for u in snap.units:
            assert [m.id for m in u.messages] == [m.id for m in store_queries.counted_messages(s, u.unit.id)]
        assert {u.unit.name for u in snap.units} == {name for name, in s.execute(select(Unit.name))}


def test_writing_replaces_the_file_whole_and_leaves_no_temporary_file(desk, saved, tmp_path):
    target = tmp_path / "日报.xlsx"
    target.write_bytes(b"an older report")
    with desk.ctx.db.session() as s:
        assert write_workbook(s, desk.ctx.scope, DAY, target) == target
    assert openpyxl.load_workbook(target).sheetnames == list(SHEETS)
    assert os.listdir(tmp_path) == ["日报.xlsx"]


@pytest.mark.skipif(shutil.which("soffice") is None,
                    reason="LibreOffice (soffice) is not installed: apt-get install libreoffice-calc-nogui")
def test_libreoffice_opens_the_workbook_and_prints_every_sheet(saved, tmp_path):
    out = tmp_path / "pdf"
    done = subprocess.run(["soffice", "--headless", f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}",
                           "--convert-to", "pdf", "--outdir", str(out), str(saved)],
                          capture_output=True, text=True, timeout=300)
    pdf = out / (saved.stem + ".pdf")
    assert done.returncode == 0 and pdf.exists(), done.stderr
    import pypdfium2

    doc = pypdfium2.PdfDocument(pdf)
    texts = [doc[i].get_textpage().get_text_range() for i in range(len(doc))]
    assert len(texts) >= len(SHEETS)
    for first_header in ("已报送单位", "尚缺材料", "出生年月", "问题说明", "送达时间", "电话催报记录"):
        assert any(first_header in t for t in texts), first_header  # every sheet printed


def _reread(wb: openpyxl.Workbook, folder: Path) -> openpyxl.Workbook:
    path = folder / f"book-{len(list(folder.glob('book-*.xlsx')))}.xlsx"
    wb.save(path)
    return openpyxl.load_workbook(path)
