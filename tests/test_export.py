"""The export for the expert panel, from stories run through the real pipeline (Maildir desk): each
unit's current materials under canonical names, valid on Windows, with an index, a zip, and never a
quarantined file."""

from __future__ import annotations

import datetime as dt
import hashlib
import zipfile
from pathlib import Path

import openpyxl
import pytest

from mailintake.common.vocab import DossierStatus, Role
from mailintake.ingest.samples import clients, documents, images
from mailintake.ingest.samples.mailbox import candidate_files, person, sealed_report, summary
from mailintake.ingest.samples.zips import gbk_zip
from mailintake.reports.export import HEADER, INDEX, MARKER, ExportError, export
from mailintake.reports.winnames import MAX_BYTES, MAX_COMPONENT, Folder, safe_name
from mailintake.store.models import Attachment, Candidate, Dossier, Message, Unit
from testkit.desk import BEFORE_DEADLINE, MaildirDesk
from testkit.mail import MAILBOX

LIFE = ("生活照1.jpg", "生活照2.jpg", "生活照3.jpg")
CORRECTED = images.life_photo_jpeg(4242)


def mail(sender: str, unit: str, subject: str, files: list[tuple[str, bytes]], client: str = "qqmail") -> bytes:
    return clients.build_message(sender=sender, sender_name=unit, to=MAILBOX, subject=subject, body="请查收推荐材料。",
                                 attachments=files, client=client)


def people(*names: str) -> list[dict]:
    return [person(n, "女", "1980.05", "研究员") for n in names]


def candidate_tree(unit: str, name: str, folder: str | None = None) -> set[str]:
    folder = folder or name
    return {f"{unit}/{folder}/{n}" for n in ("推荐表.docx", "证件照.jpg", *LIFE)}


def unit_tree(unit: str) -> set[str]:
    return {f"{unit}/推荐工作情况报告.pdf", f"{unit}/推荐人选汇总表.xlsx"}


@pytest.fixture(scope="module")
def campaign(tmp_path_factory):
    """Four units: one complete in a single mail (photos in a GBK zip), one that corrects a photo the next
    day, one with classified material, and one whose summary table names people Windows cannot name."""
    desk = MaildirDesk(tmp_path_factory.mktemp("campaign"))
    members = candidate_files("张伟", 3) + candidate_files("李娜", 4)
    desk.deliver(mail("spbkx@163.com", "沙坪坝区科协", "【沙坪坝区】推荐材料", [
        sealed_report("沙坪坝区科协", 1), summary("沙坪坝区科协", people("张伟", "李娜")),
        ("沙坪坝区推荐材料.zip", gbk_zip([(f"沙坪坝区/{n}", d) for n, d in members]))], client="netease163"))
    jlp = [sealed_report("九龙坡区科协", 2), summary("九龙坡区科协", people("陈静")), *candidate_files("陈静", 21)]
    desk.deliver(mail("jlpkx@qq.com", "九龙坡区科协", "【九龙坡区】推荐材料", jlp))
    desk.deliver(mail("jlpkx@qq.com", "九龙坡区科协", "【九龙坡区】更正照片", [("陈静3.jpg", CORRECTED)]),
                 when=BEFORE_DEADLINE + dt.timedelta(days=1))
    sealed = documents.form_docx("孙磊", "", None, "机密★1年")
    nan = [sealed_report("南岸区科协", 3), summary("南岸区科协", people("孙磊")), *candidate_files("孙磊", 31)]
    desk.deliver(mail("nakx@qq.com", "南岸区科协", "【南岸区】推荐材料",
                      [(n, sealed) if n.endswith("推荐表.docx") else (n, d) for n, d in nan]))
    yz = [sealed_report("渝中区科协", 4), summary("渝中区科协", people("刘洋", "CON", "王:芳", "王?芳")),
          *candidate_files("刘洋", 41), ("王:芳2.jpg", images.life_photo_jpeg(51)),
          ("王?芳2.jpg", images.life_photo_jpeg(52))]
    desk.deliver(mail("yzkx@163.com", "渝中区科协", "【渝中区】推荐材料", yz, client="outlook"))
    status = desk.poll()
    yield desk, status
    desk.close()


@pytest.fixture(scope="module")
def exported(campaign, tmp_path_factory):
    desk, status = campaign
    out = tmp_path_factory.mktemp("panel") / "专家评审材料"
    with desk.ctx.db.session() as s:
        result = export(s, desk.ctx.blobs, desk.ctx.scope, out, make_zip=True)
    return result, status


def tree(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def index_rows(path: Path) -> list[dict]:
    sheet = openpyxl.load_workbook(path).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == HEADER
    return [dict(zip(HEADER, r, strict=True)) for r in rows[1:]]


def attachment(status: dict, reference: str, name: str) -> dict:
    [msg] = [m for m in status["messages"] if m["display_reference"] == reference]
    [a] = [a for a in msg["attachments"] if a["name"] == name]
    return a


def test_each_unit_and_candidate_gets_a_folder_of_its_current_materials_under_canonical_names(exported):
    result, status = exported
    assert {u["name"]: u["status"] for u in status["units"]} == {
        "沙坪坝区": "complete", "九龙坡区": "complete", "南岸区": "quarantined", "渝中区": "incomplete"}
    assert tree(result.out) == {
        INDEX, MARKER,
        *unit_tree("沙坪坝区"), *candidate_tree("沙坪坝区", "张伟"), *candidate_tree("沙坪坝区", "李娜"),
        *unit_tree("九龙坡区"), *candidate_tree("九龙坡区", "陈静"),
        *unit_tree("渝中区"), *candidate_tree("渝中区", "刘洋"), "渝中区/其他/王_芳2.jpg", "渝中区/其他/王_芳2 (2).jpg",
    }
    assert {p.name for p in (result.out / "渝中区").iterdir() if p.is_dir()} == {
        "刘洋", "CON_", "王_芳", "王_芳 (2)", "其他"}  # a candidate of whom nothing came still has a folder
    assert (result.units, result.candidates, result.skipped_quarantined) == (3, 7, 1)
    assert result.files == len(tree(result.out)) - 2
    assert result.bytes == sum((result.out / p).stat().st_size for p in tree(result.out) - {INDEX, MARKER})


def test_every_exported_file_holds_the_bytes_status_reports_for_it(exported):
    result, status = exported
    rows = [r for r in index_rows(result.index) if r["导出路径"] and r["SHA-256"]]
    assert len(rows) == result.files
    for r in rows:
        reported = attachment(status, r["参考编号"], r["原文件名"])
        assert sha(result.out / r["导出路径"]) == r["SHA-256"] == reported["sha256"]
        assert r["大小（字节）"] == reported["size"]


def test_life_photos_are_numbered_in_the_order_of_the_numbers_in_their_names(exported):
    result, _ = exported
    rows = {r["导出路径"]: r["原文件名"] for r in index_rows(result.index)}
    assert [rows[f"沙坪坝区/张伟/{n}"] for n in ("证件照.jpg", *LIFE)] == [
        f"沙坪坝区推荐材料.zip/沙坪坝区/张伟{n}.jpg" for n in (1, 2, 3, 4)]  # the archive path is kept


def test_a_corrected_photo_replaces_the_earlier_one_in_the_export(exported):
    result, status = exported
    first, correction = [m for m in status["messages"] if m["unit"] == "九龙坡区"]
    assert sha(result.out / "九龙坡区/陈静/生活照2.jpg") == hashlib.sha256(CORRECTED).hexdigest()
    earlier = next(a for a in first["attachments"] if a["name"] == "陈静3.jpg")
    assert earlier["sha256"] not in {sha(result.out / p) for p in tree(result.out)}
    rows = {r["导出路径"]: r for r in index_rows(result.index)}
    assert rows["九龙坡区/陈静/生活照2.jpg"]["参考编号"] == correction["display_reference"]
    assert rows["九龙坡区/陈静/生活照1.jpg"]["参考编号"] == first["display_reference"]


def test_a_quarantined_unit_exports_nothing_and_the_index_says_so(exported):
    result, status = exported
    sealed = {a["sha256"] for m in status["messages"] if m["quarantined"] for a in m["attachments"]}
    assert sealed and not any(p.startswith("南岸区") for p in tree(result.out))
    assert sealed.isdisjoint({sha(result.out / p) for p in tree(result.out)})
    with zipfile.ZipFile(result.zip) as zf:
        assert not any("南岸区" in n for n in zf.namelist())
    [row] = [r for r in index_rows(result.index) if r["单位"] == "南岸区"]
    assert row["备注"] == "涉密材料未导出" and not row["导出路径"] and not row["SHA-256"]


def test_the_index_lists_each_file_with_its_origin_and_notes_what_is_missing(exported):
    result, status = exported
    rows = index_rows(result.index)
    by_path = {r["导出路径"]: r for r in rows}
    [spb] = [m for m in status["messages"] if m["unit"] == "沙坪坝区"]
    form = by_path["沙坪坝区/李娜/推荐表.docx"]
    assert (form["单位"], form["候选人"]) == ("沙坪坝区", "李娜")
    assert form["原文件名"] == "沙坪坝区推荐材料.zip/沙坪坝区/附件1：李娜推荐表.docx"
    assert form["参考编号"] == spb["display_reference"] == f"2021-{spb['reference']:04d}"
    assert form["收到时间"] == dt.datetime.fromisoformat(spb["received_at"]).replace(tzinfo=None)  # campaign time
    assert form["收到时间"] == dt.datetime(2021, 5, 20, 10, 0)
    assert by_path["渝中区/CON_"]["备注"] == "未收到材料" and by_path["渝中区/CON_"]["候选人"] == "CON"
    assert by_path["渝中区/其他/王_芳2 (2).jpg"]["原文件名"] == "王?芳2.jpg"
    assert by_path["渝中区/其他/王_芳2 (2).jpg"]["备注"] == "未能归入候选人"
    assert list(dict.fromkeys(r["单位"] for r in rows)) == ["九龙坡区", "南岸区", "沙坪坝区", "渝中区"]  # by name


def test_the_zip_holds_the_same_tree_with_utf8_names(exported):
    result, _ = exported
    assert result.zip == result.out.with_name("专家评审材料.zip")
    with zipfile.ZipFile(result.zip) as zf:
        files = [i for i in zf.infolist() if not i.is_dir()]
        assert {i.filename for i in files} == tree(result.out) - {MARKER}
        assert all(i.flag_bits & 0x800 for i in files if not i.filename.isascii())
        for i in files:
            assert hashlib.sha256(zf.read(i)).hexdigest() == sha(result.out / i.filename)
        assert "渝中区/CON_/" in zf.namelist()  # empty folders travel too


def test_a_second_export_replaces_the_first_but_a_foreign_directory_is_refused(campaign, tmp_path):
    desk, _ = campaign
    out = tmp_path / "panel"
    with desk.ctx.db.session() as s:
        export(s, desk.ctx.blobs, desk.ctx.scope, out, make_zip=True)
        (out / "沙坪坝区" / "stray.txt").write_text("left from before")
        again = export(s, desk.ctx.blobs, desk.ctx.scope, out, make_zip=True)
        assert "沙坪坝区/stray.txt" not in tree(out) and again.files == len(tree(out)) - 2
        assert sorted(p.name for p in tmp_path.iterdir()) == ["panel", "panel.zip"]  # nothing left beside it
        foreign = tmp_path / "mine"
        foreign.mkdir()
        (foreign / "notes.docx").write_bytes(b"the organiser's own file")
        with pytest.raises(ExportError, match="not made by an export"):
            export(s, desk.ctx.blobs, desk.ctx.scope, foreign)
        assert tree(foreign) == {"notes.docx"}
        (tmp_path / "other.zip").write_bytes(b"not ours")
        with pytest.raises(ExportError, match="other.zip"):
            export(s, desk.ctx.blobs, desk.ctx.scope, tmp_path / "other", make_zip=True)
        assert not (tmp_path / "other").exists()
        (tmp_path / "empty").mkdir()
        assert export(s, desk.ctx.blobs, desk.ctx.scope, tmp_path / "empty").files == again.files


# Unit names never pass the registry unchanged, so these units are written to the store directly.

def put_unit(s, desk: MaildirDesk, name: str, n: int, late: bool = False, files: bool = True) -> None:
    unit = Unit(name=name, category="society")
    s.add(unit)
    s.flush()
    if not files:
        s.add(Dossier(unit_id=unit.id, status=DossierStatus.INCOMPLETE, current_files=[]))
        return
    raw = f"message {n}".encode()
    m = Message(key=f"k{n}", source="test", folder="INBOX", sha256=hashlib.sha256(raw).hexdigest(), size=len(raw),
                internaldate=BEFORE_DEADLINE, kind="submission", state="processed", unit_id=unit.id, late=late)
    s.add(m)
    s.flush()
    data = f"{name} photo".encode()
    a = Attachment(message_id=m.id, ordinal=0, display_name="赵六2.jpg", sha256=desk.ctx.blobs.put("files", data),
                   size=len(data), detected_type="unknown", role=Role.LIFE_PHOTO, person="赵六", seq=2)
    s.add_all([a, Candidate(unit_id=unit.id, name="赵六")])
    s.flush()
    s.add(Dossier(unit_id=unit.id, status=DossierStatus.INCOMPLETE, current_files=[a.id]))


def test_unit_names_windows_would_refuse_get_valid_distinct_folders(tmp_path):
    desk = MaildirDesk(tmp_path)
    names = ["aux", 'A<B>:"C"/D\\E|F?G*', "a_b___c__d_e_f_g_", "学会 . . ", "学" * 150, "..", "LPT1.学会"]
    with desk.ctx.db.session() as s:
        for n, name in enumerate(names):
            put_unit(s, desk, name, n, late=n == 0)
    with desk.ctx.db.session() as s:
        result = export(s, desk.ctx.blobs, desk.ctx.scope, tmp_path / "out")
    desk.close()
    folders = {p.name for p in result.out.iterdir() if p.is_dir()}
    assert folders == {"aux_", "A_B___C__D_E_F_G_", "a_b___c__d_e_f_g_ (2)", "学会", "学" * 79, "_",
                       "LPT1_.学会"}
    assert all((result.out / f / "赵六" / "生活照1.jpg").is_file() for f in folders)  # type unknown: the sent .jpg
    rows = {r["单位"]: r for r in index_rows(result.index)}
    assert rows["aux"]["导出路径"] == "aux_/赵六/生活照1.jpg" and rows["aux"]["备注"] == "逾期送达，尚待组织方决定"


def test_a_unit_of_which_no_file_came_has_an_empty_folder_and_a_note(tmp_path):
    desk = MaildirDesk(tmp_path)
    with desk.ctx.db.session() as s:
        put_unit(s, desk, "重庆市科学技术协会", 1, files=False)
        result = export(s, desk.ctx.blobs, desk.ctx.scope, tmp_path / "out")
    desk.close()
    assert (result.units, result.files) == (1, 0) and tree(result.out) == {INDEX, MARKER}
    assert (result.out / "重庆市科学技术协会").is_dir()
    [row] = index_rows(result.index)
    assert (row["单位"], row["导出路径"], row["备注"]) == ("重庆市科学技术协会", "重庆市科学技术协会", "未收到材料")


def test_a_file_missing_from_the_store_fails_the_export_and_keeps_the_previous_one(tmp_path):
    desk = MaildirDesk(tmp_path)
    with desk.ctx.db.session() as s:
        put_unit(s, desk, "重庆市科普作家协会", 1)
    out = tmp_path / "out"
    with desk.ctx.db.session() as s:
        export(s, desk.ctx.blobs, desk.ctx.scope, out)
        before = tree(out)
        desk.ctx.blobs.delete("files", hashlib.sha256("重庆市科普作家协会 photo".encode()).hexdigest())
        with pytest.raises(ExportError, match="missing"):
            export(s, desk.ctx.blobs, desk.ctx.scope, out)
    desk.close()
    assert tree(out) == before and sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


@pytest.mark.parametrize("name, safe", [
    ("张三", "张三"), ("CON", "CON_"), ("con.txt", "con_.txt"), ("NUL .jpg", "NUL_.jpg"), ("COM¹", "COM¹_"),
    ("COM10", "COM10"), ("a:b*c?.jpg", "a_b_c_.jpg"), ("tab\there\x00", "tab_here_"), ("名字. ", "名字"),
    ("", "_"), ("...", "_"), ("..", "_"), ("a/../../b", "a_.._.._b"), ("\u202egpj.exe", "_gpj.exe"),
])
def test_a_name_windows_would_refuse_is_made_valid(name, safe):
    assert safe_name(name) == safe


def test_a_long_name_keeps_its_extension_and_names_windows_takes_for_one_get_numbered():
    long = safe_name("长" * 300 + ".jpeg")
    assert long.endswith(".jpeg") and len(long.encode()) <= MAX_BYTES
    assert len(safe_name("a" * 300 + ".jpeg")) == MAX_COMPONENT - 1
    folder = Folder(["索引.xlsx"])
    assert [folder.claim(n) for n in ("生活照1.jpg", "生活照1.JPG", "生活照1.jpg", "索引.XLSX")] == [
        "生活照1.jpg", "生活照1 (2).JPG", "生活照1 (3).jpg", "索引 (2).XLSX"]
    again = Folder([long]).claim(long)
    assert again.endswith(" (2).jpeg") and len(again.encode()) <= MAX_BYTES
