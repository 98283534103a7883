"""What the service makes of one whole mail: every attachment and archive member named as the sender saw it,
typed from its bytes, given a role with a reason, and checked, whichever client sent it and whatever
state the files arrive in.

All messages are real bytes from the sample generators the demo uses; the 2 MiB photos are made once
(`ingest.samples.mailbox` caches them) and shared by every case.
"""

from __future__ import annotations

import dataclasses
import io
import struct
import zipfile
from functools import cache

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from mailintake.common.findings import REASONS
from mailintake.ingest.samples import documents, images
from mailintake.ingest.samples.clients import (
    CLIENTS,
    build_auto_reply,
    build_bounce,
    build_html_with_logo,
    build_message,
)
from mailintake.ingest.samples.mailbox import candidate_files, person, sealed_report, summary
from mailintake.ingest.samples.zips import gbk_zip
from mailintake.parsers.archives import CORRUPT, ENCRYPTED
from mailintake.parsers.facts import ROLES, ExtractedFile, MessageFacts, ParserSettings
from mailintake.parsers.message import parse_message
from testkit.config import default_settings

UNIT = "沙坪坝区科协"
SUBJECT = "【沙坪坝区】2021年重庆市最美科技工作者推荐材料"
DEFAULTS = default_settings()
NO_SIZE_RULE = dataclasses.replace(DEFAULTS, photo_min_bytes={})  # for cases about roles, built from small photos
QQ_LARGE_ATTACHMENT = (
    "从QQ邮箱发来的超大附件\n\n沙坪坝区推荐材料.zip (1.2G, 2021年6月20日 10:00 到期)\n"
    "进入下载页面：https://mail.qq.com/cgi-bin/ftnExs_download?k=2b6630&t=exs_ftn_download\n"
)


# --- building mails ----------------------------------------------------------------------------------


def mail(attachments=(), client: str = "qqmail", body: str = "附件为推荐材料，请查收。", **extra) -> bytes:
    return build_message(sender="spbkx@163.com", sender_name=UNIT, to="834396688@qq.com", subject=SUBJECT,
                         body=body, attachments=attachments, client=client, **extra)


def parsed(attachments=(), client: str = "qqmail", parser_settings: ParserSettings = DEFAULTS, **extra) -> MessageFacts:
    return parse_message(mail(attachments, client, **extra), parser_settings)


@cache
def complete_materials() -> tuple[tuple[str, bytes], ...]:
    """A unit's whole submission: sealed report, summary, 张三's form, ID photo (张三1) and 3 life photos."""
    return (
        sealed_report(UNIT, 1),
        summary(UNIT, [person("张三", "男", "1980.01", "重庆某研究院高级工程师")]),
        *candidate_files("张三", 1),
    )


@cache
def small_photo(seed: int, width: int, height: int, plain: bool = False) -> bytes:
    """Photos well under 2 MiB: cheap to make, for cases where only shape and backdrop matter."""
    make = images.id_photo_jpeg if plain else images.life_photo_jpeg
    return make(seed, width, height, min_bytes=0)


def uncompressed_png(jpeg: bytes) -> bytes:
    """A photo re-saved as PNG by a screenshot tool: over 2 MiB, so only its format is wrong."""
    out = io.BytesIO()
    Image.open(io.BytesIO(jpeg)).save(out, "PNG", compress_level=0)
    return out.getvalue()


def with_member(package: bytes, member: str, content: bytes) -> bytes:
    """An OOXML package with one part replaced: a spreadsheet an editor crashed while saving."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(package)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            target.writestr(info, content if info.filename == member else source.read(info))
    return out.getvalue()


def password_flagged(data: bytes) -> bytes:
    """The zip as a password-protecting tool marks it: bit 0 of every entry's general-purpose flags."""
    out = bytearray(data)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        entries, position = zf.infolist(), zf.start_dir
    for info in entries:
        out[info.header_offset + 6] |= 0x1
        out[position + 8] |= 0x1
        name, extra, comment = struct.unpack_from("<3H", out, position + 28)
        position += 46 + name + extra + comment
    return bytes(out)


# --- reading the result ------------------------------------------------------------------------------


def by_name(facts: MessageFacts) -> dict[str, ExtractedFile]:
    return {f.display_name: f for f in facts.files}


def roles(facts: MessageFacts) -> dict[str, tuple]:
    return {f.display_name: (f.detected_type, f.role, f.person, f.seq) for f in facts.files}


def codes(f: ExtractedFile) -> list[str]:
    return [x.code for x in f.findings]


def all_codes(facts: MessageFacts) -> list[str]:
    return [x.code for x in facts.findings] + [x.code for f in facts.files for x in f.findings]


def complete_roles(prefix: str = "", folder: str = "") -> dict[str, tuple]:
    photos = {f"{prefix}{folder}张三{n}.jpg": ("jpeg", "life_photo", "张三", n) for n in (2, 3, 4)}
    return {
        f"{prefix}推荐工作情况报告.pdf": ("pdf", "report", None, None),
        f"{prefix}附件2：推荐人选汇总表.xlsx": ("xlsx", "summary", None, None),
        f"{prefix}{folder}附件1：张三推荐表.docx": ("docx", "form", "张三", None),
        f"{prefix}{folder}张三1.jpg": ("jpeg", "id_photo", "张三", 1),
        **photos,
    }


# --- complete submissions ----------------------------------------------------------------------------


@pytest.mark.parametrize("client", CLIENTS)
def test_a_complete_submission_is_recognised_file_by_file_whichever_client_sent_it(client):
    facts = parsed(complete_materials(), client)
    assert (facts.kind, facts.subject, facts.sender, facts.sender_name) == (
        "submission", SUBJECT, "spbkx@163.com", UNIT)
    assert roles(facts) == complete_roles()
    assert all(f.role_reason for f in facts.files)
    assert all_codes(facts) == []
    files = by_name(facts)
    assert files["推荐工作情况报告.pdf"].sealed is True
    assert [row.name for row in files["附件2：推荐人选汇总表.xlsx"].summary.rows] == ["张三"]


@pytest.mark.parametrize("client", ["netease163", "outlook"])
def test_materials_zipped_on_chinese_windows_are_unpacked_and_named_by_their_path(client):
    members = [*complete_materials()[:2]] + [(f"张三/{n}", d) for n, d in complete_materials()[2:]]
    facts = parsed([("沙坪坝区材料.zip", gbk_zip(members))], client)
    archive, *inside = facts.files
    assert (archive.display_name, archive.detected_type, archive.role) == ("沙坪坝区材料.zip", "zip", "archive")
    assert roles(facts) == {"沙坪坝区材料.zip": ("zip", "archive", None, None),
                            **complete_roles("沙坪坝区材料.zip/", "张三/")}
    assert all(f.parent == 0 for f in inside)
    assert all(f.role_reason for f in facts.files)
    assert all_codes(facts) == []


def test_a_zip_inside_a_zip_is_opened_and_members_point_at_the_archive_holding_them():
    form, id_photo, life = complete_materials()[2:5]
    photos = gbk_zip([id_photo, life])
    facts = parsed([("材料.zip", gbk_zip([form, ("张三/照片.zip", photos)]))])
    assert [(f.display_name, f.role, f.parent) for f in facts.files] == [
        ("材料.zip", "archive", None),
        ("材料.zip/附件1：张三推荐表.docx", "form", 0),
        ("材料.zip/张三/照片.zip", "archive", 0),
        ("材料.zip/张三/照片.zip/张三1.jpg", "id_photo", 2),
        ("材料.zip/张三/照片.zip/张三2.jpg", "life_photo", 2),
    ]
    assert all_codes(facts) == []


def test_a_zip_that_would_write_outside_its_folder_is_refused_whole_and_the_rest_of_the_mail_still_read():
    report, table, form, id_photo = complete_materials()[:4]
    hostile = gbk_zip([form, ("../../张三1.jpg", id_photo[1])])
    facts = parsed([report, ("材料.zip", hostile), table])
    archive = by_name(facts)["材料.zip"]
    assert codes(archive) == ["archive_unsafe"] and "上级目录" in archive.findings[0].detail
    assert [f.display_name for f in facts.files] == ["推荐工作情况报告.pdf", "材料.zip", "附件2：推荐人选汇总表.xlsx"]
    assert [f.role for f in facts.files] == ["report", "archive", "summary"]


# --- damaged files -----------------------------------------------------------------------------------


@cache
def damaged_mail() -> MessageFacts:
    """Every kind of damaged file in one mail, next to a good form and ID photo."""
    life, xlsx = candidate_files("张三", 1)[2][1], summary(UNIT, [])[1]
    photos = gbk_zip([("张三/张三2.jpg", small_photo(9, 400, 300)), ("张三/张三3.jpg", small_photo(10, 400, 300))])
    attachments = [
        ("李四2.jpg", life[:-200_000]),
        ("李四3.jpg", uncompressed_png(small_photo(7, 1000, 750))),
        ("李四4.jpg", small_photo(8, 800, 600)),
        ("李四5.jpg", b""),
        ("李四6.jpg", b"<html><body>404 Not Found</body></html>"),
        ("IMG_1234.jpg", life),
        ("附件2：推荐人选汇总表.xlsx", with_member(xlsx, "xl/worksheets/sheet1.xml", b"<worksheet><sheetDa")),
        ("照片.zip", photos[: len(photos) // 2]),
        ("加密材料.zip", password_flagged(photos)),
        ("推荐工作情况报告.docx", documents.report_docx(UNIT, None)),
        ("推荐工作情况报告（扫描件）.pdf", documents.report_pdf(UNIT, images.seal_png(2), text=False)),
        ("推荐工作情况报告（照片）.jpg", images.scanned_report_page(3, sealed=True)),
        *candidate_files("张三", 1)[:2],
    ]
    return parsed(attachments, "foxmail")


@pytest.mark.parametrize(
    ("name", "role", "expected"),
    [
        pytest.param("李四2.jpg", "life_photo", ["photo_corrupt"], id="truncated jpeg"),
        pytest.param("李四3.jpg", "life_photo", ["photo_not_jpeg"], id="png named .jpg"),
        pytest.param("李四4.jpg", "life_photo", ["photo_too_small"], id="photo under 2 MiB"),
        pytest.param("李四5.jpg", "life_photo", ["photo_too_small", "photo_corrupt"], id="empty photo"),
        pytest.param("李四6.jpg", "life_photo", ["photo_too_small", "photo_corrupt"], id="error page named .jpg"),
        pytest.param("IMG_1234.jpg", "life_photo", ["photo_bad_name"], id="camera file name"),
        pytest.param("附件2：推荐人选汇总表.xlsx", "summary", ["summary_unreadable"], id="broken xlsx"),
        pytest.param("照片.zip", "archive", ["archive_unreadable"], id="truncated zip"),
        pytest.param("加密材料.zip", "archive", ["archive_unreadable"], id="encrypted zip"),
        pytest.param("推荐工作情况报告.docx", "report", ["report_unsealed"], id="unsealed report"),
        pytest.param("推荐工作情况报告（扫描件）.pdf", "report", [], id="scanned pdf, read by OCR"),
        pytest.param("推荐工作情况报告（照片）.jpg", "report", ["markings_not_checked"], id="strokes, no text"),
    ],
)
def test_each_damaged_file_gets_its_own_finding(name, role, expected):
    f = by_name(damaged_mail())[name]
    assert (f.role, codes(f)) == (role, expected)
    assert f.role_reason


def test_a_summary_cut_off_in_transit_is_reported_as_an_unreadable_summary():
    xlsx = summary(UNIT, [person("张三", "男", "1980.01", "重庆某研究院高级工程师")])[1]
    f = parsed([("附件2：推荐人选汇总表.xlsx", xlsx[: len(xlsx) // 2])]).files[0]
    assert (f.role, codes(f)) == ("summary", ["summary_unreadable"])


def test_damaged_files_do_not_stop_the_rest_of_the_mail_being_read():
    facts = damaged_mail()
    files = by_name(facts)
    assert facts.kind == "submission" and len(facts.files) == 14
    assert not [f for f in facts.files if f.parent is not None]  # nothing came out of the broken zips
    assert (files["附件1：张三推荐表.docx"].role, files["张三1.jpg"].role) == ("form", "id_photo")
    assert codes(files["附件1：张三推荐表.docx"]) == codes(files["张三1.jpg"]) == []


def test_damaged_archives_say_why_they_could_not_be_opened():
    files = by_name(damaged_mail())
    assert REASONS[CORRUPT] in files["照片.zip"].findings[0].detail
    assert REASONS[ENCRYPTED] in files["加密材料.zip"].findings[0].detail


def test_reports_record_whether_a_seal_was_found():
    files = by_name(damaged_mail())
    assert files["推荐工作情况报告.docx"].sealed is False
    assert files["推荐工作情况报告（扫描件）.pdf"].sealed is True
    assert files["推荐工作情况报告（照片）.jpg"].sealed is True


def test_a_photo_cut_off_in_transit_is_still_counted_as_that_persons_photo():
    f = by_name(damaged_mail())["李四2.jpg"]
    assert (f.detected_type, f.person, f.seq) == ("jpeg", "李四", 2)


# --- secrecy -----------------------------------------------------------------------------------------


def test_a_form_marked_secret_is_flagged_and_makes_the_whole_mail_classified():
    form = documents.form_docx("张三", UNIT, marking="机密★1年")
    facts = parsed([("附件1：张三推荐表.docx", form)])
    f = facts.files[0]
    assert (f.role, f.person, codes(f)) == ("form", "张三", ["classified_marker"])
    assert "机密★1年" in f.findings[0].detail
    assert facts.classified is True


def test_a_form_that_only_mentions_trade_secrets_is_not_classified():
    form = documents.form_docx("张三", UNIT, {"deeds": "严格保守商业秘密，主持完成多项重点科研项目。"})
    facts = parsed([("附件1：张三推荐表.docx", form)])
    assert "商业秘密" in facts.files[0].text
    assert codes(facts.files[0]) == [] and facts.classified is False


# --- which photo is the ID photo ---------------------------------------------------------------------


def test_the_plain_backdrop_portrait_is_the_id_photo_whatever_its_number():
    photos = [
        ("张三1.jpg", small_photo(1, 900, 600)),  # busy landscape
        ("张三2.jpg", small_photo(2, 600, 800)),  # busy 3:4 portrait, as phones shoot them
        ("张三3.jpg", small_photo(3, 500, 700, plain=True)),
        ("张三4.jpg", small_photo(4, 600, 800)),
    ]
    facts = parsed(photos, parser_settings=NO_SIZE_RULE)
    assert [f.role for f in facts.files] == ["life_photo", "life_photo", "id_photo", "life_photo"]
    assert "纯色背景" in by_name(facts)["张三3.jpg"].role_reason
    assert all_codes(facts) == []


def test_without_a_studio_portrait_number_1_is_taken_as_the_id_photo_and_its_shape_questioned():
    photos = [("张三1.jpg", small_photo(1, 900, 600)), ("张三2.jpg", small_photo(2, 600, 800))]
    facts = parsed(photos, parser_settings=NO_SIZE_RULE)
    first = by_name(facts)["张三1.jpg"]
    assert (first.role, codes(first)) == ("id_photo", ["id_photo_format"])
    assert "横版" in first.findings[0].detail
    assert by_name(facts)["张三2.jpg"].role == "life_photo"


# --- inline images -----------------------------------------------------------------------------------


def test_a_signature_logo_is_not_taken_for_a_submitted_file():
    raw = build_html_with_logo(sender="spbkx@163.com", sender_name=UNIT, to="834396688@qq.com", subject=SUBJECT,
                               body="附件为推荐材料。", logo=images.seal_png(9, 120),
                               attachments=complete_materials()[2:3], client="outlook")
    facts = parse_message(raw, DEFAULTS)
    assert [(f.display_name, f.role) for f in facts.files] == [("附件1：张三推荐表.docx", "form"),
                                                              ("image001.png", "other")]
    logo = facts.files[1]
    assert (logo.detected_type, logo.inline, logo.findings, logo.photo) == ("png", True, [], None)
    assert "签名" in logo.role_reason


def test_a_photo_pasted_into_the_mail_body_is_kept_as_the_candidates_photo():
    facts = parsed(complete_materials()[2:3], inline_images=[("李四1.jpg", small_photo(5, 330, 480, True), "p1@qq")])
    f = by_name(facts)["李四1.jpg"]
    assert (f.inline, f.detected_type, f.role, f.person, f.seq) == (True, "jpeg", "id_photo", "李四", 1)
    assert codes(f) == ["photo_too_small"]
    assert f.findings[0].params == {"size": f.size, "minimum": 2 * 1024 * 1024, "inline": True}
    assert "粘贴在邮件正文中" in f.findings[0].detail and "作为附件发送" in f.findings[0].detail


def test_a_logo_like_inline_image_named_for_a_candidate_of_the_summary_table_is_that_candidates_photo():
    """A PNG pasted into a Foxmail body as 李四证件照.png looks like signature art by itself; the summary
    table in the same mail lists 李四, so it is his ID photo (too small, pasted, not a JPEG)."""
    table = summary(UNIT, [person("李四", "男", "1979.03", "重庆某研究院研究员")])
    id_png = uncompressed_png(small_photo(5, 99, 144, True))
    assert len(id_png) < 300 * 1024
    facts = parsed([table], "foxmail", inline_images=[("李四证件照.png", id_png, "p1@fox"),
                                                      ("logo.png", images.seal_png(3, 60), "logo@fox")])
    assert [(f.display_name, f.role, f.person, f.inline) for f in facts.files] == [
        ("附件2：推荐人选汇总表.xlsx", "summary", None, False), ("李四证件照.png", "id_photo", "李四", True),
        ("logo.png", "other", None, True)]
    photo = by_name(facts)["李四证件照.png"]
    assert [(x.code, x.params.get("inline")) for x in photo.findings] == [("photo_not_jpeg", None),
                                                                          ("photo_too_small", True)]
    assert by_name(facts)["logo.png"].findings == []


def test_a_mail_whose_only_parts_are_not_files_is_not_a_submission():
    """An Outlook meeting request (the calendar as an alternative of the body, as in Thunderbird's
    invite.eml fixture) with an empty unnamed part after it: no file, so nothing to assess."""
    raw = b"""\
From: =?utf-8?B?5rKZ5Z2q5Z2d5Yy656eR5Y2P?= <spbkx@163.com>\r
Subject: =?utf-8?B?5o6o6I2Q5bel5L2c5Lya6K6u?=\r
MIME-Version: 1.0\r
Content-Type: multipart/mixed; boundary="_000_mixed_"\r
\r
--_000_mixed_\r
Content-Type: multipart/alternative; boundary="_001_alt_"\r
\r
--_001_alt_\r
Content-Type: text/plain; charset="utf-8"\r
Content-Transfer-Encoding: base64\r
\r
5Lya6K6u6YCa55+l\r
--_001_alt_\r
Content-Type: text/calendar; charset="utf-8"; method=REQUEST\r
Content-Transfer-Encoding: 7bit\r
\r
BEGIN:VCALENDAR\r
METHOD:REQUEST\r
END:VCALENDAR\r
--_001_alt_--\r
--_000_mixed_\r
Content-Type: application/octet-stream\r
\r
\r
--_000_mixed_--\r
"""
    facts = parse_message(raw, DEFAULTS)
    assert (facts.kind, facts.files, facts.body_text) == ("other", [], "会议通知")


# --- forwarded mail ----------------------------------------------------------------------------------


@cache
def forwarded_submission() -> bytes:
    """A unit's QQ Mail submission (form, ID photo, a zip of life photos), relayed by the district office
    with Outlook as an attachment; its subject names a report, which the .eml itself is not."""
    form, id_photo = complete_materials()[2:4]
    photos = gbk_zip([("张三2.jpg", small_photo(2, 400, 300)), ("张三3.jpg", small_photo(3, 400, 300))])
    inner = build_message(sender="kjxh@qq.com", sender_name="某学会", to="spbkx@163.com",
                          subject="推荐工作情况报告及材料", body="请审核。",
                          attachments=[form, id_photo, ("照片.zip", photos)], client="qqmail")
    return mail([("转发说明.txt", "转发某学会的材料，请查收。".encode("gbk"))], client="outlook", forwarded=[inner])


def test_a_forwarded_messages_files_are_the_outer_messages_named_under_its_eml():
    facts = parse_message(forwarded_submission(), NO_SIZE_RULE)
    eml = "推荐工作情况报告及材料.eml"
    assert [(f.display_name, f.detected_type, f.role, f.person, f.parent) for f in facts.files] == [
        ("转发说明.txt", "text", "other", None, None),
        (eml, "text", "other", None, None),
        (f"{eml}/附件1：张三推荐表.docx", "docx", "form", "张三", 1),
        (f"{eml}/张三1.jpg", "jpeg", "id_photo", "张三", 1),
        (f"{eml}/照片.zip", "zip", "archive", None, 1),
        (f"{eml}/照片.zip/张三2.jpg", "jpeg", "life_photo", "张三", 4),
        (f"{eml}/照片.zip/张三3.jpg", "jpeg", "life_photo", "张三", 4),
    ]
    assert by_name(facts)[eml].role_reason == "转发的邮件，其中的附件逐一识别"
    assert by_name(facts)[f"{eml}/张三1.jpg"].content == complete_materials()[3][1]
    assert all_codes(facts) == [] and facts.kind == "submission"


def test_a_forwarded_messages_archives_share_the_messages_unpacking_budget():
    members = [("张三2.jpg", small_photo(2, 400, 300)), ("张三3.jpg", small_photo(3, 400, 300))]
    size = sum(len(d) for _, d in members)
    inner = build_message(sender="kjxh@qq.com", sender_name="某学会", to="spbkx@163.com", subject="照片",
                          body="", attachments=[("照片2.zip", gbk_zip(members))], client="qqmail")
    raw = mail([("照片1.zip", gbk_zip(members))], forwarded=[inner])
    limits = dataclasses.replace(DEFAULTS.archives, max_total_bytes=size + size // 2)
    facts = parse_message(raw, dataclasses.replace(NO_SIZE_RULE, archives=limits))

    first, second = by_name(facts)["照片1.zip"], by_name(facts)["照片.eml/照片2.zip"]
    assert codes(first) == [] and codes(second) == ["archive_unsafe"]
    assert second.findings[0].params == {"reason": "declared_too_large", "total": 2 * size,
                                         "limit": limits.max_total_bytes}
    assert [f.display_name for f in facts.files if f.parent is not None and "照片2.zip/" in f.display_name] == []


# --- what kind of mail -------------------------------------------------------------------------------


def test_a_mail_with_only_a_large_attachment_link_is_a_submission_that_cannot_be_received():
    facts = parsed(body=QQ_LARGE_ATTACHMENT)
    assert (facts.kind, facts.files, [x.code for x in facts.findings]) == ("submission", [], ["cloud_attachment"])
    assert [link.host for link in facts.cloud_links] == ["mail.qq.com"]
    assert "2021-06-20" in facts.findings[0].detail


def test_a_mail_without_attachments_or_links_is_not_a_submission():
    facts = parsed(body="请问推荐表可以用WPS格式吗？")
    assert (facts.kind, facts.files, facts.findings) == ("other", [], [])


def test_an_out_of_office_reply_is_an_auto_reply():
    raw = build_auto_reply(sender="wzkx@qq.com", sender_name="万州区科协", to="834396688@qq.com",
                           original_subject="关于报送推荐材料的提醒")
    assert parse_message(raw, DEFAULTS).kind == "auto_reply"


def test_a_bounce_is_recognised_and_the_original_it_carries_is_opened_but_counts_for_nothing():
    """The returned original is read like any forwarded message (issue 8); the mail is a bounce, and only
    submissions count for a unit, so its form is listed, never counted."""
    original = mail(complete_materials()[2:3])
    facts = parse_message(build_bounce(original=original, to="spbkx@163.com", failed_recipient="x@qq.com"), DEFAULTS)
    assert facts.kind == "bounce"
    eml = f"{SUBJECT}.eml"
    assert [(f.display_name, f.role, f.parent) for f in facts.files] == [
        ("未命名附件-1.delivery-status", "other", None), (eml, "other", None),
        (f"{eml}/附件1：张三推荐表.docx", "form", 1)]
    assert facts.files[1].content == original


# --- never an exception ------------------------------------------------------------------------------


@cache
def small_parts() -> dict[str, bytes]:
    return {
        "zip": gbk_zip([("张三/张三2.jpg", small_photo(6, 160, 120)), ("说明.txt", "照片两张".encode("gbk"))]),
        "docx": documents.form_docx("张三", UNIT),
        "jpeg": small_photo(7, 120, 160, plain=True),
    }


def small_mail(parts: dict[str, bytes]) -> bytes:
    names = {"zip": "材料.zip", "docx": "附件1：张三推荐表.docx", "jpeg": "张三1.jpg"}
    return mail([(names[k], v) for k, v in parts.items()], "foxmail")


def mutated(data: bytes, cut: int, flips: list[tuple[int, int]]) -> bytes:
    out = bytearray(data[: max(1, len(data) * cut // 1000)] if cut else data)
    for position, mask in flips:
        out[position % len(out)] ^= mask
    return bytes(out)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    target=st.sampled_from(["message", "zip", "docx", "jpeg"]),
    cut=st.integers(min_value=0, max_value=999),
    flips=st.lists(st.tuples(st.integers(min_value=0, max_value=1 << 20), st.integers(1, 255)), max_size=6),
)
def test_damaged_mails_and_attachments_never_stop_the_parser(target, cut, flips):
    parts = dict(small_parts())
    if target == "message":
        raw = mutated(small_mail(parts), cut, flips)
    else:
        parts[target] = mutated(parts[target], cut, flips)
        raw = small_mail(parts)
    facts = parse_message(raw, NO_SIZE_RULE)
    for index, f in enumerate(facts.files):
        assert f.role in ROLES and f.role_reason
        assert f.parent is None or 0 <= f.parent < index


@pytest.mark.parametrize("subject, mark", [
    ("【渝北区】推荐材料(1/3)", (1, 3)),
    ("推荐材料（2／3）", (2, 3)),
    ("【3/3】补充照片", (3, 3)),
    ("推荐材料第1封，共3封", (1, 3)),
    ("共3封 第2封", (2, 3)),
    ("推荐材料之二", (2, None)),
    ("材料 part 2 of 3", (2, 3)),
    ("关于之前的材料", None),
    ("2021年推荐材料", None),
    ("推荐材料(3/2)", None),  # a part past the total is not a series mark
    ("推荐材料(5/20)", None),  # twenty mails is a date, not a series
])
def test_a_subject_marks_its_place_in_a_series_of_mails(subject, mark):
    from mailintake.parsers.subjects import series_mark
    found = series_mark(subject)
    assert (None if found is None else (found.part, found.total)) == mark
