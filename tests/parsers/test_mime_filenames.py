"""What the parser makes of real clients' messages: names as the sender saw them, bodies, parts, and
damaged mail that must still yield what can be read."""

from __future__ import annotations

import base64
import io
import os
from email.message import Message
from email.parser import BytesParser
from email.policy import compat32

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from mailintake.ingest.samples.clients import CLIENTS, build_html_with_logo, build_message
from mailintake.parsers.filenames import decode_filename
from mailintake.parsers.mime import parse_mime

LONG_NAME = "重庆市沙坪坝区2021年度最美科技工作者推荐工作情况报告（加盖公章扫描件）终稿.pdf"
NAMES = ["张三1.jpg", "推荐工作情况报告.pdf", "朱镕基.jpg", LONG_NAME]


def jpeg(size: tuple[int, int] = (64, 48), noise: int = 0) -> bytes:
    image = Image.new("RGB", size, (200, 30, 30))
    if noise:
        image = Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=95)
    return out.getvalue()


def png_logo() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (120, 40), (0, 80, 160)).save(out, "PNG")
    return out.getvalue()


def submission(client: str, names: list[str] = NAMES, **extra) -> bytes:
    return build_message(
        sender="ZhangSan@QQ.com", sender_name="朱镕基", to="kxj@cq.gov.cn", subject="【沙坪坝区】朱镕基推荐材料",
        body="您好：朱镕基同志的推荐材料见附件。", attachments=[(n, n.encode() * 3) for n in names],
        client=client, **extra,
    )


def part_with(headers: str) -> Message:
    raw = f"{headers}\r\n\r\nQUJD\r\n".encode("utf-8", "surrogateescape")
    return BytesParser(policy=compat32).parse(io.BytesIO(raw))


@pytest.mark.parametrize("client", CLIENTS)
def test_every_client_style_yields_the_names_subject_and_sender_the_submitter_typed(client):
    msg = parse_mime(submission(client))

    assert [p.filename for p in msg.parts] == NAMES
    assert [p.content for p in msg.parts] == [n.encode() * 3 for n in NAMES]
    assert msg.subject == "【沙坪坝区】朱镕基推荐材料"
    assert (msg.sender, msg.sender_name) == ("zhangsan@qq.com", "朱镕基")
    assert msg.body_text == "您好：朱镕基同志的推荐材料见附件。"
    assert msg.defects == []


@pytest.mark.parametrize(
    ("client", "marker"),
    [
        ("qqmail", b'filename="=?gb18030?B?'),
        ("foxmail", b'filename="=?GBK?B?'),
        ("outlook", b"filename*0*=utf-8''"),
        ("netease163", b'filename="=?GB2312?B?'),
        ("raw_gbk", 'filename="张三1.jpg"'.encode("gbk")),
        ("raw_utf8", 'filename="张三1.jpg"'.encode()),
        ("gb2312_label_gbk_chars", b"=?gb2312?B?" + base64.b64encode("朱镕基.jpg".encode("gbk"))),
    ],
)
def test_sample_messages_carry_each_clients_encoding_on_the_wire(client, marker):
    assert marker in submission(client)


def test_sample_messages_are_a_pure_function_of_their_arguments():
    assert submission("outlook") == submission("outlook")
    assert submission("outlook") != submission("outlook", date="Tue, 11 May 2021 08:00:00 +0800")


def test_name_only_parts_have_no_content_disposition_and_still_get_their_name():
    raw = submission("name_only", ["张三1.jpg"])
    assert b"Content-Disposition" not in raw
    assert [p.filename for p in parse_mime(raw).parts] == ["张三1.jpg"]


def test_rfc2231_in_gbk_and_gb2312_labels_decode_as_gb18030():
    gbk = "Content-Disposition: attachment; filename*=gbk''%D5%C5%C8%FD1.jpg"
    assert decode_filename(part_with(gbk)) == "张三1.jpg"
    zhu = "".join(f"%{b:02X}" for b in "朱镕基.jpg".encode("gbk"))
    assert decode_filename(part_with(f"Content-Disposition: attachment; filename*=gb2312''{zhu}")) == "朱镕基.jpg"


def test_rfc2231_continuations_split_inside_a_character_are_joined_before_decoding():
    header = (
        "Content-Disposition: attachment;\r\n\tfilename*0*=utf-8''%E5%BC%A0%E4;\r\n\tfilename*1*=%B8%89;"
        "\r\n\tfilename*2=1.jpg"
    )
    assert decode_filename(part_with(header)) == "张三1.jpg"


def test_encoded_words_split_inside_a_character_and_folded_are_joined():
    gbk = "张三1.jpg".encode("gbk")
    first, second = base64.b64encode(gbk[:3]).decode(), base64.b64encode(gbk[3:]).decode()  # 三 is split
    header = f'Content-Disposition: attachment;\r\n filename="=?GBK?B?{first}?=\r\n =?GBK?B?{second}?="'
    assert decode_filename(part_with(header)) == "张三1.jpg"


def test_raw_8bit_names_are_tried_as_utf8_then_gb18030():
    gbk_raw = 'Content-Disposition: attachment; filename="张三1.jpg"'.encode("gbk").decode("ascii", "surrogateescape")
    utf8_raw = 'Content-Disposition: attachment; filename="张三1.jpg"'.encode().decode("ascii", "surrogateescape")
    assert decode_filename(part_with(gbk_raw)) == "张三1.jpg"
    assert decode_filename(part_with(utf8_raw)) == "张三1.jpg"


def test_filename_on_disposition_wins_and_name_on_content_type_is_the_fallback():
    both = 'Content-Type: image/jpeg; name="a.jpg"\r\nContent-Disposition: attachment; filename="张三2.jpg"'
    only_name = 'Content-Type: image/jpeg; name="=?utf-8?B?5byg5LiJMy5qcGc=?="\r\nContent-Disposition: attachment'
    assert decode_filename(part_with(both)) == "张三2.jpg"
    assert decode_filename(part_with(only_name)) == "张三3.jpg"
    assert decode_filename(part_with("Content-Type: image/jpeg")) is None


@pytest.mark.parametrize(
    "value",
    ['"C:\\Users\\x\\张三1.jpg"', '"C:\\\\Users\\\\x\\\\张三1.jpg"', '"/home/x/张三1.jpg"', '"..\\..\\张三1.jpg"'],
)
def test_directories_in_names_are_dropped(value):
    header = f"Content-Disposition: attachment; filename={value}".encode().decode("ascii", "surrogateescape")
    assert decode_filename(part_with(header)) == "张三1.jpg"


def test_control_and_bidi_characters_are_removed_from_names():
    sneaky = "=?utf-8?B?" + base64.b64encode("张三\u202egpj.exe\t".encode()).decode() + "?="
    assert decode_filename(part_with(f'Content-Disposition: attachment; filename="{sneaky}"')) == "张三gpj.exe"


def test_names_without_extension_are_kept_as_sent():
    assert [p.filename for p in parse_mime(submission("qqmail", ["李四生活照"])).parts] == ["李四生活照"]


def test_signature_logo_is_marked_but_an_inline_candidate_photo_is_not():
    photo = jpeg()
    raw = build_message(
        sender="a@163.com", sender_name="王五", to="kxj@cq.gov.cn", subject="推荐材料", body="见附件",
        client="foxmail", inline_images=[("image001.png", png_logo(), "logo@sig"), ("李四1.jpg", photo, "p1@x")],
    )
    parts = {p.filename: p for p in parse_mime(raw).parts}

    assert parts["image001.png"].signature_image is True
    assert parts["李四1.jpg"].signature_image is False
    assert parts["李四1.jpg"].content == photo


def test_html_mail_with_logo_keeps_attachments_and_marks_only_the_logo():
    raw = build_html_with_logo(
        sender="a@cq.gov.cn", sender_name="科协", to="kxj@cq.gov.cn", subject="推荐材料", body="材料见附件。",
        logo=png_logo(), attachments=[("张三1.jpg", jpeg())], client="outlook",
    )
    msg = parse_mime(raw)

    assert [(p.filename, p.signature_image) for p in msg.parts] == [("image001.png", True), ("张三1.jpg", False)]
    assert msg.parts[0].disposition == "inline" and msg.parts[0].content_id
    assert "cid:" in msg.body_html and msg.body_text == "材料见附件。"


def test_large_inline_images_are_never_signature_art():
    big = jpeg((700, 700), noise=1)
    assert len(big) > 300 * 1024
    raw = build_message(sender="a@qq.com", sender_name="", to="t@x.cn", subject="照片", body="",
                        html_body="<p>见图</p>", inline_images=[("IMG_0001.jpg", big, "img1")])
    assert [p.signature_image for p in parse_mime(raw).parts] == [False]


def test_html_only_mail_gets_its_text_from_the_html():
    raw = build_message(sender="a@qq.com", sender_name="", to="t@x.cn", subject="s", body="",
                        html_body="<html><style>p{}</style><p>第一行&nbsp;材料</p><div>第二行</div></html>")
    msg = parse_mime(raw)
    assert msg.body_text == "第一行\xa0材料\n第二行"
    assert "<p>" in msg.body_html


def test_forwarded_mail_is_one_part_named_after_its_subject_when_unnamed():
    inner = submission("qqmail", ["张三1.jpg"])
    raw = build_message(sender="b@163.com", sender_name="李四", to="t@x.cn", subject="转发材料", body="请查收",
                        attachments=[("原邮件.eml", inner)], forwarded=[inner], client="netease163")
    msg = parse_mime(raw)

    assert [(p.filename, p.content_type) for p in msg.parts] == [
        ("原邮件.eml", "message/rfc822"), ("【沙坪坝区】朱镕基推荐材料.eml", "message/rfc822")]
    assert msg.parts[1].content == inner
    assert [p.filename for p in parse_mime(msg.parts[1].content).parts] == ["张三1.jpg"]


def test_headers_used_for_kinds_are_decoded():
    raw = submission("qqmail", ["a.pdf"], extra_headers={"Precedence": "bulk", "List-Id": "<x.list>"})
    headers = parse_mime(raw).headers
    assert headers["precedence"] == "bulk" and headers["list-id"] == "<x.list>"
    assert headers["from"] == "\"朱镕基\" <ZhangSan@QQ.com>"
    assert headers["content-type"].startswith("multipart/mixed")
    assert parse_mime(raw).message_id.startswith("<tencent_")


BASE = submission("qqmail", ["张三1.jpg", "推荐表.docx"])


@pytest.mark.parametrize(
    ("damage", "readable"),
    [
        (lambda raw: raw[: len(raw) * 2 // 3], ["张三1.jpg"]),
        (lambda raw: raw.replace(b'boundary="', b'boundary="X', 1), ["张三1.jpg", "推荐表.docx"]),
        (lambda raw: raw.replace(b"Content-Transfer-Encoding: base64\r\n\r\n5byg", b"Content-Transfer-Encoding: "
                                 b"base64\r\n\r\n5by", 1), ["张三1.jpg", "推荐表.docx"]),
    ],
    ids=["truncated", "boundary-mismatch", "bad-base64"],
)
def test_damaged_mime_returns_what_can_be_read_with_defects(damage, readable):
    msg = parse_mime(damage(BASE))
    assert [p.filename for p in msg.parts][: len(readable)] == readable
    assert msg.subject == "【沙坪坝区】朱镕基推荐材料"
    assert msg.defects


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"\r\n\r\nbody without headers",
        bytes(range(256)) * 20,
        b"Content-Type: multipart/mixed\r\n\r\nno boundary at all",
        b"".join(b"Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n" % (i, i) for i in range(2000)),
        b"Subject: =?gb2312?B?!!!?=\r\nFrom: \xff\xfe <\r\nContent-Type: text/plain; charset=\xff\r\n\r\n\xd5\xc5",
    ],
    ids=["empty", "no-headers", "binary-garbage", "multipart-without-boundary", "hostile-nesting", "junk-headers"],
)
def test_garbage_never_raises(raw):
    msg = parse_mime(raw)
    assert isinstance(msg.body_text, str)


def test_hostile_nesting_is_reported():
    raw = b"".join(b"Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n" % (i, i) for i in range(100))
    assert any("nesting" in d for d in parse_mime(raw).defects)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    edits=st.lists(st.tuples(st.integers(min_value=0, max_value=len(BASE) - 1), st.binary(max_size=8)), max_size=12),
    cut=st.one_of(st.none(), st.integers(min_value=0, max_value=len(BASE))),
)
def test_random_mutations_and_truncations_never_raise(edits, cut):
    data = bytearray(BASE)
    for pos, replacement in edits:  # overwrite (or, when empty, delete) bytes at pos
        data[pos : pos + max(len(replacement), 1)] = replacement
    msg = parse_mime(bytes(data[:cut]))
    assert all(isinstance(p.content, bytes) for p in msg.parts)
