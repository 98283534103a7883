"""One picture sent twice, as the organisers and the submitters see it: under two candidates of one unit, or a
candidate's ID photo again as a life photo, is a warning in that unit's dossier (and its receipt); one picture
sent by two units is a cross-unit warning of the reports, since a dossier depends only on its own unit's files.
The copy may be the same bytes or the picture re-saved and resized. Neither is ever a deficiency."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from mailintake.common.vocab import Role
from mailintake.ingest.config import Campaign
from mailintake.ingest.rules import FileRow, judge
from mailintake.ingest.samples import clients
from mailintake.parsers.photos import inspect_photo
from mailintake.reports import queries
from mailintake.reports.workbook import build_workbook
from testkit import portraits
from testkit.desk import MaildirDesk
from testkit.mail import MAILBOX, SHANGHAI
from testkit.materials import materials

DAY = dt.date(2021, 5, 22)


def at(day: int) -> dt.datetime:
    return dt.datetime(2021, 5, day, 10, 0, tzinfo=SHANGHAI)


def mail(sender: str, subject: str, files: list[tuple[str, bytes]], n: int) -> bytes:
    return clients.build_message(sender=sender, sender_name=subject, to=MAILBOX, subject=subject, body="请查收。",
                                 attachments=files, message_id=f"<reuse-{n}@example.cn>")


def replaced(files: list[tuple[str, bytes]], **new: bytes) -> list[tuple[str, bytes]]:
    return [(name, new.get(name.removesuffix(".jpg"), data)) for name, data in files]


@pytest.fixture(scope="module")
def desk(tmp_path_factory):
    """沙坪坝区 sends 张伟 and 李娜, with 张伟's ID photo again as his life photo 张伟3 and a re-saved copy of
    张伟2 as 李娜's 李娜4; the 机械工程学会 then sends 王芳 with a re-saved copy of 沙坪坝区's 李娜2 as 王芳3."""
    d = MaildirDesk(tmp_path_factory.mktemp("reuse"))
    spb = materials("沙坪坝区科协", ["张伟", "李娜"])
    photo = dict(spb)
    spb = replaced(spb, 张伟3=photo["张伟1.jpg"], 李娜4=portraits.reencoded(photo["张伟2.jpg"], 0.9, 95))
    d.deliver(mail("spbkx@163.com", "【沙坪坝区】推荐材料", spb, 1), at(20))
    mes = materials("重庆市机械工程学会", ["王芳"], seed=5)
    mes = replaced(mes, 王芳3=portraits.reencoded(photo["李娜2.jpg"], 0.9, 95))
    d.deliver(mail("cqmes@qq.com", "重庆市机械工程学会-推荐材料", mes, 2), at(21))
    d.status_after_poll = d.poll()
    yield d
    d.close()


def unit(status: dict, name: str) -> dict:
    [found] = [u for u in status["units"] if u["name"] == name]
    return found


def reuse(u: dict) -> list[tuple[str, dict]]:
    return [(f["subject"], f["params"]) for f in u["findings"] if f["code"] == "photo_reused"]


def test_a_picture_reused_inside_one_unit_is_a_warning_naming_both_files(desk):
    spb = unit(desk.status_after_poll, "沙坪坝区")
    assert reuse(spb) == [
        ("张伟3.jpg", {"person": "张伟", "other": "张伟1.jpg", "other_person": "张伟", "id_as_life": True}),
        ("李娜4.jpg", {"person": "李娜", "other": "张伟2.jpg", "other_person": "张伟"}),
    ]
    said = {f["subject"]: f for f in spb["findings"] if f["code"] == "photo_reused"}
    assert said["张伟3.jpg"]["severity"] == "warning"
    assert said["张伟3.jpg"]["detail"] == (
        "证件照“张伟1.jpg”又作为生活或工作照片“张伟3.jpg”报送，请另选一张生活或工作照片。")
    assert said["李娜4.jpg"]["detail"] == (
        "照片“李娜4.jpg”（李娜）与“张伟2.jpg”（张伟）是同一张照片，请核实是否误用了其他人选的照片。")


def test_a_reused_picture_is_never_a_deficiency_and_the_receipt_says_it(desk):
    status = desk.status_after_poll
    spb = unit(status, "沙坪坝区")
    assert spb["status"] == "complete"
    assert [f["code"] for f in spb["findings"] if f["severity"] == "error"] == []
    [msg] = [m for m in status["messages"] if m["unit"] == "沙坪坝区"]
    assert msg["reply"]["kind"] == "receipt"


def test_one_picture_sent_by_two_units_is_in_neither_dossier(desk):
    mes = unit(desk.status_after_poll, "重庆市机械工程学会")
    assert reuse(mes) == [] and mes["status"] == "complete"
    assert "王芳3.jpg" not in {s for s, _ in reuse(unit(desk.status_after_poll, "沙坪坝区"))}


def test_the_reports_query_pairs_the_copies_across_units(desk):
    with desk.ctx.db.session() as s:
        pairs = queries.reused_across_units(s, desk.ctx.scope)
    assert [(p.unit, p.file, p.other_unit, p.other_file) for p in pairs] == [
        ("沙坪坝区", "李娜2.jpg", "重庆市机械工程学会", "王芳3.jpg")]
    assert 0 < pairs[0].distance <= desk.ctx.scope.campaign.photos.reuse_distance  # re-saved: not the same bytes


def test_the_workbook_lists_the_cross_unit_copy_once(desk):
    with desk.ctx.db.session() as s:
        book = build_workbook(s, desk.ctx.scope, DAY)
    sheet = book["问题清单"]
    header = [c.value for c in sheet[1]]
    rows = [dict(zip(header, (c.value for c in row), strict=True)) for row in sheet.iter_rows(min_row=2)]
    [photo] = [r for r in rows if r["代码"] == "cross_unit_photo"]
    assert (photo["单位"], photo["文件或对象"], photo["级别"]) == (
        "沙坪坝区、重庆市机械工程学会", "李娜2.jpg、王芳3.jpg", "提醒")
    assert photo["问题说明（发给报送人的原话）"].startswith(
        "照片“李娜2.jpg、王芳3.jpg”是同一张照片（另存或缩放过），同时出现在沙坪坝区、重庆市机械工程学会的材料中")


# --- the rule on its own: what counts as one picture --------------------------------------------------------


@pytest.fixture(scope="module")
def hashes() -> dict[str, str]:
    """Perceptual hashes of real pictures: a portrait, a re-saved and resized copy, the same person mirrored
    (another picture), and two different photos."""
    id_jpeg = portraits.jpeg(portraits.id_photo(width=660, height=960), min_bytes=0)
    pictures = {"id": id_jpeg, "id_resaved": portraits.reencoded(id_jpeg, 0.5, 70),
                "mirrored": portraits.jpeg(portraits.id_photo(portraits.WHITE, mirrored=True, width=660, height=960),
                                           min_bytes=0),
                "life": portraits.jpeg(portraits.life_scene(1, 900, 600), min_bytes=0),
                "coffee": portraits.jpeg(portraits.coffee_scene(900, 600), min_bytes=0)}
    return {k: inspect_photo(v, 10**9).phash for k, v in pictures.items()}


_ids = itertools.count(1)


def photo(name: str, role: Role, phash: str | None, sha: str = "") -> FileRow:
    person, seq = name[:2], int(name[2])
    return FileRow(next(_ids), "k", name, role, person, seq, None, None, [], sha or f"sha-{name}", phash)


def judged_reuse(files: list[FileRow]) -> list[tuple[str, str]]:
    verdict = judge("district", 3, files, [], Campaign())
    return [(j.finding.subject, j.finding.params["other"]) for j in verdict.findings
            if j.finding.code == "photo_reused"]


def test_a_resaved_copy_is_near_and_different_pictures_are_far(hashes):
    distance = Campaign().photos.reuse_distance
    bits = {k: (int(hashes["id"], 16) ^ int(v, 16)).bit_count() for k, v in hashes.items()}
    assert bits["id_resaved"] <= 2 < distance < 4 * distance < min(bits["mirrored"], bits["life"], bits["coffee"])


def test_two_candidates_with_different_pictures_are_not_flagged(hashes):
    files = [photo("张伟1", Role.ID_PHOTO, hashes["id"]), photo("李娜1", Role.ID_PHOTO, hashes["mirrored"]),
             photo("张伟2", Role.LIFE_PHOTO, hashes["life"]), photo("李娜2", Role.LIFE_PHOTO, hashes["coffee"])]
    assert judged_reuse(files) == []


def test_the_same_bytes_count_even_without_a_hash_and_a_missing_hash_is_not_a_match(hashes):
    files = [photo("张伟2", Role.LIFE_PHOTO, None, sha="same"), photo("李娜2", Role.LIFE_PHOTO, None, sha="same"),
             photo("张伟3", Role.LIFE_PHOTO, None), photo("李娜3", Role.LIFE_PHOTO, hashes["life"])]
    assert judged_reuse(files) == [("李娜2", "张伟2")]


def test_an_id_photo_that_comes_after_its_copy_is_still_named_as_the_original(hashes):
    files = [photo("张伟2", Role.LIFE_PHOTO, hashes["id_resaved"]), photo("张伟1", Role.ID_PHOTO, hashes["id"])]
    assert judged_reuse(files) == [("张伟2", "张伟1")]
