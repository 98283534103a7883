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


# --- bytes and parts (issue 8) -------------------------------------------------------------------------


def crlf(text: str, codec: str = "utf-8") -> bytes:
    return text.replace("\r\n", "\n").replace("\n", "\r\n").encode(codec)


def b64_lines(data: bytes) -> str:
    return base64.encodebytes(data).decode()


GBK_LIST = "序号,姓名,工作单位\r\n1,张三,重庆大学\r\n2,李四,重庆邮电大学\r\n".encode("gbk")


def test_7bit_and_8bit_parts_are_their_bytes_as_they_stand_crlf_and_all():
    """CPython's Lib/test/test_email/data/msg_44.txt (two 7bit text/plain; name="msg.txt" parts), here with
    the CRLF every SMTP hop uses, plus a Notepad file in raw 8-bit GBK as Outlook Express 6 sends it. The
    CRLF before each boundary line belongs to the boundary (RFC 2046), not to the file."""
    raw = crlf('''\
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="h90VIIIKmx"
Content-Transfer-Encoding: 7bit
From: barry@python.org (Barry A. Warsaw)
Subject: a simple multipart

--h90VIIIKmx
Content-Type: text/plain; name="msg.txt"
Content-Transfer-Encoding: 7bit

a simple kind of mirror
to reflect upon our own

--h90VIIIKmx
Content-Type: text/plain; charset="gb2312"; name="list.txt"
Content-Transfer-Encoding: 8bit

''') + GBK_LIST + b"\r\n--h90VIIIKmx--\r\n"
    msg = parse_mime(raw)

    assert [(p.filename, p.content) for p in msg.parts] == [
        ("msg.txt", b"a simple kind of mirror\r\nto reflect upon our own\r\n"), ("list.txt", GBK_LIST)]


@pytest.mark.parametrize("eol", ["\r\n", "\n"], ids=["crlf", "lf-only maildir file"])
def test_quoted_printable_is_decoded_per_rfc_2045_with_crlf_hard_line_breaks(eol):
    """Outlook 2000's quoted-printable as in Thunderbird's test fixture messages/sample02.eml ("=20" before
    a line end, a blank "=20" line), with a soft line break, transport padding and an escaped "=": soft
    breaks vanish, padding goes, and every hard line break is CRLF whatever the raw line end was."""
    body = ("Die Hasen und die Fr=F6sche=20\n=20\nline one   \nlong line that was cut=\n here, a=3Db\n"
            "last line without break=")
    raw = (f'Content-Type: text/plain; charset="iso-8859-1"; name="hasen.txt"\n'
           f"Content-Transfer-Encoding: quoted-printable\n\n{body}").replace("\n", eol).encode()

    [part] = parse_mime(raw).parts
    assert part.content == (b"Die Hasen und die Fr\xf6sche \r\n \r\nline one\r\nlong line that was cut here, a=b\r\n"
                            b"last line without break")


def test_a_body_in_crlf_or_quoted_printable_reads_with_plain_line_feeds():
    raw = crlf('Content-Type: text/plain; charset="utf-8"\nContent-Transfer-Encoding: quoted-printable\n\n'
               "=E6=82=A8=E5=A5=BD=EF=BC=9A\n\n=E6=9D=90=E6=96=99=E8=A7=81=E9=99=84=E4=BB=B6=E3=80=82\n")
    assert parse_mime(raw).body_text == "您好：\n\n材料见附件。\n"


INVITE = '''\
Message-ID: <invite.eml@mime.sample>
MIME-Version: 1.0
From: John <john@example.com>
Subject: Invite
Content-Type: multipart/mixed; boundary="=_mixed_36138BFC6A7B03EFC2258776003DB5C5_="

This is a multipart message in MIME format.
--=_mixed_36138BFC6A7B03EFC2258776003DB5C5_=
Content-Type: multipart/related; boundary="=_related_36138BFC6A7B03EFC2258776003DB5C5_="

--=_related_36138BFC6A7B03EFC2258776003DB5C5_=
Content-Type: multipart/alternative; boundary="=_alternative 36138BFC6A7B03EFC2258776003DB5C5_="

--=_alternative 36138BFC6A7B03EFC2258776003DB5C5_=
Content-Type: text/plain; charset=windows-1257

You have been invited to a meeting (TEXT)

--=_alternative 36138BFC6A7B03EFC2258776003DB5C5_=
Content-Type: text/html; charset=windows-1257
Content-Disposition: inline

<html><body><p>You have been invited to a meeting (HTML)</p></body></html>

--=_alternative 36138BFC6A7B03EFC2258776003DB5C5_=
Content-Type: text/calendar; method="REQUEST"; charset="UTF-8"

BEGIN:VCALENDAR
VERSION:2.0
BEGIN:VEVENT
DTSTART;TZID="FLE":20211026T090000
UID:36138BFC6A7B03EFC2258776003DB5C5
END:VEVENT
END:VCALENDAR

--=_alternative 36138BFC6A7B03EFC2258776003DB5C5_=--
--=_related_36138BFC6A7B03EFC2258776003DB5C5_=
Content-Type: text/html; charset=windows-1257
Content-Disposition: inline
Content-ID: <FFFF__=4DBB0DE5DFAE33558f9e8a93df938690918c4DB@>

<html><body><p>You have been invited to a meeting (RELATED)</p></body></html>

--=_related_36138BFC6A7B03EFC2258776003DB5C5_=--
--=_mixed_36138BFC6A7B03EFC2258776003DB5C5_=
Content-Type: text/plain; charset="UTF-8"; name="c141520.ics"
Content-Disposition: attachment; filename="c141520.ics"

BEGIN:VCALENDAR
END:VCALENDAR

--=_mixed_36138BFC6A7B03EFC2258776003DB5C5_=--
'''


def test_the_calendar_alternative_is_the_body_and_only_the_named_ics_is_a_file():
    """Thunderbird's test fixture messages/invite.eml: mixed > related > alternative (plain, html, calendar)."""
    msg = parse_mime(crlf(INVITE))
    assert [p.filename for p in msg.parts] == ["c141520.ics"]
    assert msg.body_text == "You have been invited to a meeting (TEXT)\n"


EMPTY_MIXED = 'Content-Type: multipart/mixed; boundary="BOUNDARY"\nMIME-Version: 1.0\nSubject: A subject\n\n'


@pytest.mark.parametrize(
    "raw",
    [
        EMPTY_MIXED + "\n--BOUNDARY\n\n\n--BOUNDARY--\n",
        EMPTY_MIXED + "This is a multi-part message in MIME format.\n\n--BOUNDARY--\n",
        EMPTY_MIXED + "--BOUNDARY\nContent-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\n"
                      "\n--BOUNDARY\nContent-Type: text/plain\nContent-Disposition: attachment\n\n \n--BOUNDARY--\n",
        EMPTY_MIXED + "--BOUNDARY\nContent-Type: multipart/alternative; boundary=\"inner\"\n\n--BOUNDARY--\n",
        EMPTY_MIXED + "--BOUNDARY\nContent-Type: multipart/alternative; boundary=\"alt\"\n\n--alt\n"
                      "Content-Type: text/enriched\n\n<bold>Now</bold> is the time\n--alt\n"
                      "Content-Type: text/richtext\n\n<italic>for all</italic>\n--alt--\n--BOUNDARY--\n",
        "Content-Type: text/calendar; method=REQUEST; charset=UTF-8\nContent-Transfer-Encoding: quoted-printable\n"
        "\nBEGIN:VCALENDAR\nMETHOD:REQUEST\nEND:VCALENDAR\n",
    ],
    ids=["cpython-empty-multipart", "parts-stripped-by-a-gateway", "empty-unnamed-parts", "empty-nested-multipart",
         "enriched-and-richtext-alternatives", "rfc6047-invitation-as-the-message"],
)
def test_parts_that_are_not_files_are_not_listed(raw):
    """CPython's test_email: test_empty_multipart_idempotent and test_no_parts_in_a_multipart_*; the
    same container with only a preamble and its close delimiter (what a virus gateway leaves); unnamed
    empty parts; text/enriched (RFC 1896) and text/richtext (RFC 1341) alternatives; RFC 6047 §2.5's invitation."""
    assert parse_mime(crlf(raw)).parts == []


def nested_messages(inner_attachment: str = "") -> bytes:
    """Thunderbird's test fixture messages/nestedMessages.eml: an HTML body, message1.eml (three PNGs and
    message2.eml, itself with one PNG) and yellowPixel.png, all 7bit with CRLF."""
    return crlf(f'''\
Message-ID: <sample.eml@mime.sample>
From: Batman <bruce@wayne-enterprises.com>
Subject: Attached message with attachments
Mime-Version: 1.0
Content-Type: multipart/mixed;
  boundary="------------49CVLb1N6p6Spdka4qq7Naeg"

This is a multi-part message in MIME format.
--------------49CVLb1N6p6Spdka4qq7Naeg
Content-Type: text/html; charset=UTF-8
Content-Transfer-Encoding: 7bit

<html><body><p>This message has one normal attachment and one email attachment.</p></body></html>
--------------49CVLb1N6p6Spdka4qq7Naeg
Content-Type: message/rfc822; charset=UTF-8; name="message1.eml"
Content-Disposition: attachment; filename="message1.eml"
Content-Transfer-Encoding: 7bit

Message-ID: <sample-attached.eml@mime.sample>
From: Superman <clark.kent@dailyplanet.com>
Subject: Test message 1
MIME-Version: 1.0
Content-Type: multipart/mixed;
\tboundary="----=_NextPart_000_0002_01BFC036.AE309650"

This is a multi-part message in MIME format.

------=_NextPart_000_0002_01BFC036.AE309650
Content-Type: text/plain;
\tcharset="iso-8859-1"
Content-Transfer-Encoding: 7bit

Message with multiple attachments.

------=_NextPart_000_0002_01BFC036.AE309650
Content-Type: image/png;
\tname="whitePixel.png"
Content-Transfer-Encoding: base64
Content-Disposition: attachment;
\tfilename="whitePixel.png"

{b64_lines(WHITE)}
------=_NextPart_000_0002_01BFC036.AE309650
Content-Type: image/png;
\tname="greenPixel.png"
Content-Transfer-Encoding: base64
Content-Disposition: attachment

{b64_lines(GREEN)}
------=_NextPart_000_0002_01BFC036.AE309650
Content-Type: message/rfc822; charset=UTF-8; name="message2.eml"
Content-Disposition: attachment; filename="message2.eml"
Content-Transfer-Encoding: 7bit

Message-ID: <sample-nested-attached.eml@mime.sample>
Subject: Test message 2
MIME-Version: 1.0
Content-Type: multipart/mixed;
  boundary="----=_NextPart_000_0003_01BFC036.AE309650"

------=_NextPart_000_0003_01BFC036.AE309650
Content-Type: text/plain;
  charset="iso-8859-1"
Content-Transfer-Encoding: 7bit

This message has an attachment{inner_attachment}

------=_NextPart_000_0003_01BFC036.AE309650
Content-Type: image/png;
  name="whitePixel.png"
Content-Transfer-Encoding: base64
Content-Disposition: attachment;
  filename="whitePixel.png"

{b64_lines(WHITE)}
------=_NextPart_000_0003_01BFC036.AE309650--

------=_NextPart_000_0002_01BFC036.AE309650--

--------------49CVLb1N6p6Spdka4qq7Naeg
Content-Type: image/png;
Content-Transfer-Encoding: base64
Content-Disposition: attachment;
  filename="yellowPixel.png"

{b64_lines(YELLOW)}
--------------49CVLb1N6p6Spdka4qq7Naeg--
''')


def pixel(colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (1, 1), colour).save(out, "PNG")
    return out.getvalue()


WHITE, GREEN, YELLOW = pixel((255, 255, 255)), pixel((0, 255, 0)), pixel((255, 255, 0))


def test_a_forwarded_message_is_read_like_the_outer_one_and_its_parts_hang_under_its_eml():
    msg = parse_mime(nested_messages())
    eml, yellow = msg.parts
    assert [(p.filename, p.content_type) for p in msg.parts] == [("message1.eml", "message/rfc822"),
                                                                ("yellowPixel.png", "image/png")]
    assert [(p.filename, p.content) for p in eml.inner] == [
        ("whitePixel.png", WHITE), ("greenPixel.png", GREEN), ("message2.eml", eml.inner[2].content)]
    assert [(p.filename, p.content) for p in eml.inner[2].inner] == [("whitePixel.png", WHITE)]
    assert eml.content.startswith(b"Message-ID: <sample-attached.eml@mime.sample>\r\nFrom: Superman")
    assert b"\r\n\r\nThis message has an attachment\r\n" in eml.inner[2].content
    assert [p.filename for p in parse_mime(eml.content).parts] == ["whitePixel.png", "greenPixel.png", "message2.eml"]
    assert msg.body_text == "This message has one normal attachment and one email attachment."


def test_a_forwarded_message_without_name_or_subject_is_the_forwarded_mail():
    inner = crlf("From: a@qq.com\nContent-Type: image/jpeg; name=\"张三1.jpg\"\nContent-Transfer-Encoding: base64\n\n"
                 "/9j/4AAQ\n")
    raw = crlf('Content-Type: multipart/mixed; boundary="b"\n\n--b\nContent-Type: message/rfc822\n\n') + inner + \
        b"\r\n--b--\r\n"
    [eml] = parse_mime(raw).parts
    assert (eml.filename, [p.filename for p in eml.inner]) == ("转发的邮件.eml", ["张三1.jpg"])
    assert eml.inner[0].content == base64.b64decode("/9j/4AAQ")


def test_a_forward_base64_encoded_against_rfc_2046_is_still_opened():
    inner = submission("foxmail", ["张三1.jpg"])
    raw = crlf('Content-Type: multipart/mixed; boundary="b"\n\n--b\nContent-Type: message/rfc822\n'
               'Content-Transfer-Encoding: base64\nContent-Disposition: attachment; filename="fwd.eml"\n\n') + \
        base64.encodebytes(inner).replace(b"\n", b"\r\n") + b"\r\n--b--\r\n"
    [eml] = parse_mime(raw).parts
    assert eml.content == inner
    assert [(p.filename, p.content) for p in eml.inner] == [("张三1.jpg", "张三1.jpg".encode() * 3)]


def test_forwards_nested_past_the_depth_limit_are_reported_and_their_copies_bounded():
    """Each level is a forward of the one below (a relay chain); past MAX_DEPTH nothing more is read, and
    the .eml copies kept never pass EML_COPIES message sizes."""
    raw = b"Subject: leaf\r\nContent-Type: image/png; name=\"p.png\"\r\nContent-Transfer-Encoding: base64\r\n\r\n" + \
        base64.b64encode(WHITE) + b"\r\n"
    for level in range(30):
        raw = (f'Subject: level {level}\r\nContent-Type: multipart/mixed; boundary="b{level}"\r\n\r\n--b{level}\r\n'
               f"Content-Type: message/rfc822\r\n\r\n").encode() + raw + f"\r\n--b{level}--\r\n".encode()
    msg = parse_mime(raw)
    chain, part = [], msg.parts[0]
    while part.inner:
        chain.append(part)
        part = part.inner[0]
    kept = sum(len(p.content) for p in chain)
    assert any("nesting deeper" in d for d in msg.defects)
    assert 0 < kept <= 2 * len(raw) and not chain[-1].kept and chain[0].kept


def qq_html(body: str, signature: str) -> str:
    """QQ Mail's HTML: the text, then its signature block <sign signid="0"> under a dashed line."""
    return (f'<div>{body}</div><div><br></div><div><sign signid="0"><div style="color:#909090;font-family:Arial '
            f'Narrow;font-size:12px">------------------</div><div style="font-size:14px;font-family:Verdana;'
            f'color:#000;">{signature}</div></sign></div>')


def related(html: str, images: list[tuple[str, bytes, str]]) -> bytes:
    parts = "".join(f'--rel\nContent-Type: image/jpeg; name="{n}"\nContent-Disposition: inline; filename="{n}"\n'
                    f"Content-ID: <{cid}>\nContent-Transfer-Encoding: base64\n\n{b64_lines(d)}\n"
                    for n, d, cid in images)
    return crlf('Content-Type: multipart/related; type="text/html"; boundary="rel"\n\n--rel\n'
                'Content-Type: text/html; charset="utf-8"\nContent-Transfer-Encoding: base64\n\n'
                f"{b64_lines(html.encode())}\n{parts}--rel--\n")


def test_an_image_in_the_signature_block_is_signature_art_and_the_same_image_in_the_body_a_pasted_photo():
    logo = jpeg((240, 80), noise=1)
    assert 16 * 1024 < len(logo) < 300 * 1024
    pictures = [("logo.jpg", logo, "logo@qq")]
    in_signature = related(qq_html("材料见附件。", '<img src="cid:logo@qq">沙坪坝区科协'), pictures)
    in_body = related(qq_html('<img src="cid:logo@qq">', "沙坪坝区科协"), pictures)
    original = '<div>------------------&nbsp;原始邮件&nbsp;------------------</div><div><img src="cid:logo@qq"></div>'
    quoted = related(qq_html("材料见附件。", "沙坪坝区科协") + original, pictures)  # a reply quoting the original

    assert [(p.signature_image, p.inline) for p in parse_mime(in_signature).parts] == [(True, True)]
    assert [(p.signature_image, p.inline) for p in parse_mime(in_body).parts] == [(False, True)]
    assert [(p.signature_image, p.inline) for p in parse_mime(quoted).parts] == [(False, True)]


@pytest.mark.parametrize(
    "html",
    [
        '<div>见附件</div><hr style="width: 210px; height: 1px;" color="#b5c4df" size="1" align="left">'
        '<div><span><img src="cid:logo@fox"></span></div>',
        '<div>见附件</div><div class="moz-signature">-- <br><img src="cid:logo@fox"></div>',
        '<div>见附件</div><div id="Signature"><img src="cid:logo@fox"></div>',
    ],
    ids=["foxmail-short-rule", "thunderbird-moz-signature", "outlook-signature-div"],
)
def test_each_clients_signature_block_is_recognised(html):
    logo = jpeg((240, 80), noise=1)
    assert [p.signature_image for p in parse_mime(related(html, [("a.jpg", logo, "logo@fox")])).parts] == [True]


# --- characters by evidence (parsers.charsets) ----------------------------------------------------------


def test_a_raw_gbk_display_name_from_old_foxmail_is_read_as_gbk():
    """Foxmail 6 ("Foxmail 6, 15, 201, 23 [cn]") writes the From display name as raw 8-bit GBK in quotes."""
    raw = ('From: "张老师" <12345678@qq.com>\r\nTo: kxj@cq.gov.cn\r\nSubject: 推荐材料\r\n'
           "X-Mailer: Foxmail 6, 15, 201, 23 [cn]\r\nMIME-Version: 1.0\r\n"
           'Content-Type: text/plain; charset="gb2312"\r\n\r\n材料稍后补发。\r\n').encode("gbk")
    msg = parse_mime(raw)
    assert (msg.sender, msg.sender_name, msg.subject) == ("12345678@qq.com", "张老师", "推荐材料")


def test_a_display_name_split_inside_a_character_under_two_labels_of_one_family_is_joined():
    """Coremail (163) folds a long name into short B words, like the From of imap_tools'
    tests/messages_data/error_emails/bad_subject; here 中 and 协 are split, and the labels change."""
    name = "渝中区科协办公室".encode("gbk")
    words = [f"=?{label}?B?{base64.b64encode(w).decode()}?=" for label, w in
             zip(["gb2312", "GBK", "gbk"], [name[:3], name[3:9], name[9:]], strict=True)]
    raw = f"From: {words[0]}\r\n {words[1]}\r\n {words[2]} <yzkx@163.com>\r\nSubject: x\r\n\r\nx\r\n".encode()
    assert parse_mime(raw).sender_name == "渝中区科协办公室"


def test_an_undeclared_latin1_name_is_read_as_latin1_not_gb18030():
    """A raw windows-1252 name, as the Portuguese mailer of imap_tools' invalid_subject_characters writes."""
    header = 'Content-Disposition: attachment; filename="Relatório de Formação.pdf"'.encode("cp1252")
    assert decode_filename(part_with(header.decode("ascii", "surrogateescape"))) == "Relatório de Formação.pdf"


def test_a_parts_own_charset_is_the_first_evidence_for_its_raw_name():
    """QQ Mail puts a charset parameter on attachment parts (the repo's qqmail client); a raw name in that
    part is read in it. Two Big5 characters alone would also be plausible GBK ("推薦" as "崩滤")."""
    name = 'name="推薦.jpg"'.encode("big5").decode("ascii", "surrogateescape")
    assert decode_filename(part_with(f'Content-Type: image/jpeg; charset="big5"; {name}')) == "推薦.jpg"
    assert decode_filename(part_with(f"Content-Type: image/jpeg; {name}")) == "崩滤.jpg"


def test_a_raw_name_no_charset_reads_keeps_u_fffd():
    header = b'Content-Disposition: attachment; filename="\xb0\xb1\xb2.jpg"'.decode("ascii", "surrogateescape")
    assert decode_filename(part_with(header)) == "\ufffd.jpg"
