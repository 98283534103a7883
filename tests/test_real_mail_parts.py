"""What users see of a message's bytes and parts: files keep their exact bytes and sha256, a forwarded
message's attachments are opened, a photo pasted into the body is judged and told why it is too small,
signature art is listed but counts for nothing, and what is not a file is not listed.

Every message is raw bytes written here (images and Office files from the sample generators, the
structure and headers by hand), modelled on the public fixture or client named in each test's docstring,
delivered to a Maildir and polled through the real pipeline; the assertions read `status --json` and the
bytes the store kept.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io

import pytest
from PIL import Image

from mailintake.common.findings import human_size
from mailintake.ingest.samples import images
from mailintake.ingest.samples.mailbox import candidate_files, person, summary
from mailintake.ingest.samples.zips import gbk_zip
from testkit.desk import by_name, one_message
from testkit.mail import MAILBOX

UNIT_ADDRESS = "spbkx@163.com"  # 沙坪坝区科协
MIN_PHOTO = 2 * 1024 * 1024


def ew(text: str, charset: str = "utf-8") -> str:
    """An RFC 2047 encoded word, as the clients write non-ASCII header text (QQ Mail: gb18030)."""
    return f"=?{charset}?B?{base64.b64encode(text.encode(charset)).decode()}?="


def b64(data: bytes | str, charset: str = "utf-8") -> str:
    raw = data.encode(charset) if isinstance(data, str) else data
    return base64.encodebytes(raw).decode().rstrip("\n")


def crlf(text: str) -> bytes:
    """The message as it travels over SMTP and IMAP: every line ends in CRLF."""
    return text.replace("\r\n", "\n").replace("\n", "\r\n").encode("ascii", "surrogateescape")


def raw8(data: bytes) -> str:
    """Bytes that go on the wire unencoded (8bit), carried through `crlf` untouched."""
    return data.decode("ascii", "surrogateescape")


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def listed(msg: dict) -> list[tuple[str, str, str, str | None]]:
    return [(a["name"], a["role"], a["type"], a["person"]) for a in msg["attachments"]]


def attachment_findings(msg: dict) -> dict[str, list[tuple[str, dict]]]:
    names = {a["name"] for a in msg["attachments"]}
    out: dict[str, list[tuple[str, dict]]] = {}
    for f in msg["findings"]:
        if f["subject"] in names:
            out.setdefault(f["subject"], []).append((f["code"], f["params"]))
    return out


def assert_kept(desk, msg: dict, originals: dict[str, bytes]) -> None:
    """Each named attachment is listed with the sender's size and sha256, and the store holds those bytes."""
    files = by_name(msg)
    for name, data in originals.items():
        assert (files[name]["size"], files[name]["sha256"]) == (len(data), sha(data)), name
        assert desk.stored(sha(data)) == data, name


# --- line endings are part of the file --------------------------------------------------------------------

MIRROR = b"a simple kind of mirror\r\nto reflect upon our own\r\n"
NAME_LIST = ("序号,姓名,工作单位,联系电话\r\n1,张三,重庆大学,023-65102222\r\n"
             "2,李四,重庆邮电大学,023-62461111\r\n").encode("gbk")
CONTACT = ("联系人：王老师 \r\n电话：023-65321234\r\n地址：重庆市沙坪坝区沙正街174号重庆大学A区主教学楼二楼办公室，"
           "工作日上午九点至下午五点可来电或来访\r\n\r\n").encode()


def test_a_text_attachment_keeps_its_crlf_line_endings_and_its_sha256(maildir_desk):
    """Three text files as the clients send them: 7bit like CPython's Lib/test/test_email/data/msg_44.txt
    (text/plain; name="msg.txt", 7bit), raw 8-bit GBK as Outlook Express 6 sends a Notepad file (the repo's
    raw_gbk client), and quoted-printable as Outlook 2000 writes it (Thunderbird's messages/sample02.eml:
    "=20" before a line end; soft line breaks at 76 columns). Each is kept with the sender's CRLFs."""
    contact_qp = binascii.b2a_qp(CONTACT, istext=True).decode()
    assert "=20\r\n" in contact_qp and "=\r\n" in contact_qp  # a kept trailing space and a soft line break
    boundary = "----=_NextPart_000_0007_01D74D2A.3C1E8F60"
    raw = crlf(f"""\
From: {ew("沙坪坝区科协", "gb2312")} <{UNIT_ADDRESS}>
To: <{MAILBOX}>
Subject: {ew("【沙坪坝区】推荐材料补充说明", "gb2312")}
Date: Thu, 20 May 2021 09:12:00 +0800
Message-ID: <000701d74d2a$3c1e8f60$0a01a8c0@spbkx>
MIME-Version: 1.0
Content-Type: multipart/mixed;
\tboundary="{boundary}"
X-Mailer: Microsoft Outlook Express 6.00.2900.5512

This is a multi-part message in MIME format.

--{boundary}
Content-Type: text/plain;
\tcharset="gb2312"
Content-Transfer-Encoding: base64

{b64("补充材料见附件。", "gbk")}

--{boundary}
Content-Type: text/plain; name="msg.txt"
Content-Transfer-Encoding: 7bit

a simple kind of mirror
to reflect upon our own

--{boundary}
Content-Type: text/plain;
\tname="{raw8("候选人名单.txt".encode("gbk"))}"
Content-Transfer-Encoding: 8bit
Content-Disposition: attachment;
\tfilename="{raw8("候选人名单.txt".encode("gbk"))}"

{raw8(NAME_LIST)}
--{boundary}
Content-Type: text/plain;
\tname="{ew("联系方式.txt", "gb2312")}"
Content-Transfer-Encoding: quoted-printable
Content-Disposition: attachment;
\tfilename="{ew("联系方式.txt", "gb2312")}"

{contact_qp}
--{boundary}--
""")
    maildir_desk.deliver(raw)
    msg = one_message(maildir_desk.poll())

    assert listed(msg) == [("msg.txt", "other", "text", None), ("候选人名单.txt", "other", "text", None),
                           ("联系方式.txt", "other", "text", None)]
    assert_kept(maildir_desk, msg, {"msg.txt": MIRROR, "候选人名单.txt": NAME_LIST, "联系方式.txt": CONTACT})
    assert (msg["kind"], msg["findings"]) == ("submission", [])


# --- forwarded mail is opened ------------------------------------------------------------------------------


def qq_submission(attachments: list[tuple[str, bytes]]) -> bytes:
    """What 某研究院 sent the district office from QQ Mail: headers as QQ Mail writes them (X-QQ-MIME,
    ----=_NextPart_ boundaries, 8Bit on the container, gb18030 words), every file base64."""
    boundary = "----=_NextPart_60A5B4C2_0D8E4F90_3A6B1C2D"
    parts = "".join(f"""\
--{boundary}
Content-Type: application/octet-stream;
\tcharset="gb18030";
\tname="{ew(name, "gb18030")}"
Content-Disposition: attachment; filename="{ew(name, "gb18030")}"
Content-Transfer-Encoding: base64

{b64(data)}

""" for name, data in attachments)
    return crlf(f"""\
From: "{ew("重庆某研究院", "gb18030")}" <2276153309@qq.com>
To: "{ew("沙坪坝区科协", "gb18030")}" <{UNIT_ADDRESS}>
Subject: {ew("张三推荐材料", "gb18030")}
Mime-Version: 1.0
Content-Type: multipart/mixed;
\tboundary="{boundary}"
Content-Transfer-Encoding: 8Bit
Date: Mon, 17 May 2021 16:40:05 +0800
X-Priority: 3
Message-ID: <tencent_4AE55DADBCB537681FA35D97D66948F2E209@qq.com>
X-QQ-MIME: TCMime 1.0 by Tencent
X-Mailer: QQMail 2.x
X-QQ-Mailer: QQMail 2.x

This is a multi-part message in MIME format.

--{boundary}
Content-Type: text/plain;
\tcharset="gb18030"
Content-Transfer-Encoding: base64

{b64("附件为张三同志的推荐材料，请审核。", "gb18030")}

{parts}--{boundary}--

""")


def test_an_outlook_forward_as_attachment_brings_its_photos_under_the_forwarded_messages_name(maildir_desk):
    """Outlook 16's "forward as attachment" (the message/rfc822 part with Content-Disposition: attachment
    and creation-date/modification-date, no name; Exchange's _004_… boundaries; Thread-Topic) of a unit's QQ
    Mail submission: the forwarded .eml is listed as itself (role other) and its form, ID photo and zip of
    life photos are the district office's material, named under it."""
    form, id_photo, *life = candidate_files("张三", 1)
    photos = gbk_zip([(f"张三生活照/{name}", data) for name, data in life])
    inner = qq_submission([form, id_photo, ("张三生活照.zip", photos)])
    boundary = "_004_TYAPR01MB29904C6B2E1F0A9D3C8B7A65TYAPR01MB2990jpnp_"
    raw = crlf(f"""\
From: {ew("沙坪坝区科协")} <{UNIT_ADDRESS}>
To: "{MAILBOX}" <{MAILBOX}>
Subject: {ew("转发: 【沙坪坝区】张三推荐材料")}
Thread-Topic: {ew("【沙坪坝区】张三推荐材料")}
Thread-Index: AddNMc2kYb1q8l9yRbeQy7dKcT4xUA==
Date: Thu, 20 May 2021 01:58:12 +0000
Message-ID: <TYAPR01MB29904C6B2E1F0A9D3C8B7A65@TYAPR01MB2990.jpnprd01.prod.outlook.com>
Accept-Language: zh-CN, en-US
Content-Language: zh-CN
X-MS-Has-Attach: yes
X-MS-TNEF-Correlator:
Content-Type: multipart/mixed;
\tboundary="{boundary}"
MIME-Version: 1.0

--{boundary}
Content-Type: text/plain; charset="utf-8"
Content-Transfer-Encoding: base64

{b64("市科协：转发某研究院报送的张三推荐材料，请查收。")}

--{boundary}
Content-Type: message/rfc822
Content-Disposition: attachment;
\tcreation-date="Thu, 20 May 2021 01:58:12 GMT";
\tmodification-date="Thu, 20 May 2021 01:58:12 GMT"

{raw8(inner)}
--{boundary}--
""")
    maildir_desk.deliver(raw)
    status = maildir_desk.poll()
    msg = one_message(status)

    eml = "张三推荐材料.eml"
    assert listed(msg) == [
        (eml, "other", "text", None),
        (f"{eml}/附件1：张三推荐表.docx", "form", "docx", "张三"),
        (f"{eml}/张三1.jpg", "id_photo", "jpeg", "张三"),
        (f"{eml}/张三生活照.zip", "archive", "zip", None),
        *[(f"{eml}/张三生活照.zip/张三生活照/{name}", "life_photo", "jpeg", "张三") for name, _ in life],
    ]
    assert by_name(msg)[eml]["role_reason"] == "转发的邮件，其中的附件逐一识别"
    assert_kept(maildir_desk, msg, {eml: inner, f"{eml}/张三1.jpg": id_photo[1], f"{eml}/张三生活照.zip": photos,
                                    **{f"{eml}/张三生活照.zip/张三生活照/{n}": d for n, d in life}})
    assert (msg["kind"], msg["unit"], attachment_findings(msg)) == ("submission", "沙坪坝区", {})
    [unit] = status["units"]
    assert [(c["name"], c["form"], c["id_photo"], c["life_photos"]) for c in unit["candidates"]] == [
        ("张三", True, True, 3)]


# --- inline photos are never dropped silently --------------------------------------------------------------


def jpeg_portrait() -> bytes:
    """An ID photo as QQ Mail leaves it after pasting: shrunk to a few dozen KB."""
    return images.id_photo_jpeg(7, 330, 480, min_bytes=0)


def png_portrait() -> bytes:
    """A screenshot of an ID photo pasted as PNG."""
    out = io.BytesIO()
    Image.open(io.BytesIO(images.id_photo_jpeg(8, 132, 192, min_bytes=0))).save(out, "PNG")
    return out.getvalue()


def qq_html_mail(subject: str, html: str, text: str, inline: list[tuple[str, str, bytes, str]],
                 attachments: list[tuple[str, bytes]] = ()) -> bytes:
    """QQ Mail's HTML mail with pictures in the body: multipart/related (RFC 2387) around the text and
    HTML alternatives, each picture a part with Content-ID that the HTML shows as <img src="cid:…">;
    QQ Mail's own headers as its posts in public list archives show them (e.g. a QQ Mail post to
    lists.ozlabs.org/openbmc, July 2020: X-QQ-MIME, ----=_NextPart_ boundaries, 8Bit on the container,
    gb18030 base64 bodies). The Content-ID values are illustrative."""
    outer, rel, alt = (f"----=_NextPart_60A6E1F3_0D8E4F90_{n}" for n in ("1C2D3E4F", "2D3E4F50", "3E4F5061"))
    pictures = "".join(f"""\
--{rel}
Content-Type: {ctype};
\tname="{ew(name, "gb18030")}"
Content-Transfer-Encoding: base64
Content-ID: <{cid}>
Content-Disposition: inline; filename="{ew(name, "gb18030")}"

{b64(data)}

""" for name, ctype, data, cid in inline)
    files = "".join(f"""\
--{outer}
Content-Type: application/octet-stream;
\tcharset="gb18030";
\tname="{ew(name, "gb18030")}"
Content-Disposition: attachment; filename="{ew(name, "gb18030")}"
Content-Transfer-Encoding: base64

{b64(data)}

""" for name, data in attachments)
    return crlf(f"""\
From: "{ew("沙坪坝区科协", "gb18030")}" <{UNIT_ADDRESS}>
To: "{ew("市科协", "gb18030")}" <{MAILBOX}>
Subject: {ew(subject, "gb18030")}
Mime-Version: 1.0
Content-Type: multipart/mixed;
\tboundary="{outer}"
Content-Transfer-Encoding: 8Bit
Date: Fri, 21 May 2021 10:05:33 +0800
X-Priority: 3
Message-ID: <tencent_7C1D2E3F4A5B6C7D8E9F0A1B2C3D4E5F6A07@qq.com>
X-QQ-MIME: TCMime 1.0 by Tencent
X-Mailer: QQMail 2.x
X-QQ-Mailer: QQMail 2.x

This is a multi-part message in MIME format.

--{outer}
Content-Type: multipart/related;
\ttype="multipart/alternative";
\tboundary="{rel}"

--{rel}
Content-Type: multipart/alternative;
\tboundary="{alt}"

--{alt}
Content-Type: text/plain;
\tcharset="gb18030"
Content-Transfer-Encoding: base64

{b64(text, "gb18030")}

--{alt}
Content-Type: text/html;
\tcharset="gb18030"
Content-Transfer-Encoding: base64

{b64(html, "gb18030")}

--{alt}--

{pictures}--{rel}--

{files}--{outer}--

""")


def test_a_photo_pasted_into_a_qq_mail_body_gets_photo_too_small_saying_so(maildir_desk):
    """QQ Mail (see `qq_html_mail`): 张三1.jpg pasted into the body, named 姓名+序号, and 李四证件照.png, a
    PNG that alone would pass for an icon but is named for 李四 of the summary table attached to the same
    mail. Both are photos, and photo_too_small says they were pasted and compressed."""
    zhang, li = jpeg_portrait(), png_portrait()
    assert len(zhang) < MIN_PHOTO and len(li) < 300 * 1024
    table = summary("沙坪坝区科协", [person("张三", "男", "1980.01", "重庆大学教授"),
                                     person("李四", "男", "1979.03", "重庆某研究院研究员")])
    html = ('<div>市科协：两位候选人的证件照如下，其余材料见附件。</div>'
            '<div><img src="cid:5F3A1C2B@C2D3E4F5.0A1B2C60.jpg"></div>'
            '<div><img src="cid:6A4B2D3C@C2D3E4F5.0A1B2C60.png"></div>')
    raw = qq_html_mail("【沙坪坝区】推荐人选证件照", html, "市科协：两位候选人的证件照如下，其余材料见附件。", [
        ("张三1.jpg", "image/jpeg", zhang, "5F3A1C2B@C2D3E4F5.0A1B2C60.jpg"),
        ("李四证件照.png", "image/png", li, "6A4B2D3C@C2D3E4F5.0A1B2C60.png"),
    ], [table])
    maildir_desk.deliver(raw)
    msg = one_message(maildir_desk.poll())

    assert listed(msg) == [("张三1.jpg", "id_photo", "jpeg", "张三"),
                           ("附件2：推荐人选汇总表.xlsx", "summary", "xlsx", None),
                           ("李四证件照.png", "id_photo", "png", "李四")]
    assert_kept(maildir_desk, msg, {"张三1.jpg": zhang, "李四证件照.png": li})
    assert (msg["kind"], msg["unit"]) == ("submission", "沙坪坝区")
    assert attachment_findings(msg) == {
        "张三1.jpg": [("photo_too_small", {"size": len(zhang), "minimum": MIN_PHOTO, "inline": True})],
        "李四证件照.png": [("photo_not_jpeg", {"actual": "PNG"}),
                       ("photo_too_small", {"size": len(li), "minimum": MIN_PHOTO, "inline": True})],
    }
    [said] = [f["detail"] for f in msg["findings"] if f["subject"] == "张三1.jpg"]
    assert said == (f"照片“张三1.jpg”是粘贴在邮件正文中的图片，已被邮件客户端压缩为{human_size(len(zhang))}"
                    "（要求不小于2.0 MB），请将原图作为附件发送。")


def test_signature_art_is_listed_as_other_and_counts_for_nothing(maildir_desk):
    """A QQ Mail enquiry whose signature block (<sign signid="0"> under QQ Mail's dashed line, as its
    HTML signatures are written) shows the unit's logo (PNG) and a banner (a JPEG above the 16 KiB icon
    size): both are listed, as other, and the mail, having no material, is no submission."""
    logo = images.seal_png(4, 96)
    banner = images.life_photo_jpeg(5, 480, 90, min_bytes=0)
    assert len(logo) < 300 * 1024 and 16 * 1024 < len(banner) < 300 * 1024
    text = "市科协：请问推荐表可以用WPS格式吗？"
    html = (f'<div>{text}</div><div><br></div><div><sign signid="0"><div style="color:#909090;font-family:Arial '
            'Narrow;font-size:12px">------------------</div><div style="font-size:14px;font-family:Verdana;'
            'color:#000;"><img src="cid:7B5C3E4D@C2D3E4F5.0A1B2C60.png"><br>沙坪坝区科学技术协会<br>'
            '<img src="cid:8C6D4F5E@C2D3E4F5.0A1B2C60.jpg"></div></sign></div>')
    raw = qq_html_mail("咨询推荐表格式", html, text, [
        ("logo.png", "image/png", logo, "7B5C3E4D@C2D3E4F5.0A1B2C60.png"),
        ("banner.jpg", "image/jpeg", banner, "8C6D4F5E@C2D3E4F5.0A1B2C60.jpg"),
    ])
    maildir_desk.deliver(raw)
    status = maildir_desk.poll()
    msg = one_message(status)

    assert listed(msg) == [("logo.png", "other", "png", None), ("banner.jpg", "other", "jpeg", None)]
    assert {a["role_reason"] for a in msg["attachments"]} == {"邮件签名或正文中的小图标，不是推荐材料"}
    assert_kept(maildir_desk, msg, {"logo.png": logo, "banner.jpg": banner})
    assert (msg["kind"], msg["unit"], msg["findings"], status["units"]) == ("other", None, [], [])


# --- no phantom attachments ---------------------------------------------------------------------------------

OUTLOOK_MEETING = f"""\
From: {ew("沙坪坝区科协")} <{UNIT_ADDRESS}>
To: <{MAILBOX}>
Subject: {ew("推荐工作协调会")}
Date: Tue, 18 May 2021 08:30:00 +0000
Message-ID: <TYAPR01MB2990AA11BB22CC33@TYAPR01MB2990.jpnprd01.prod.outlook.com>
Content-Type: multipart/alternative;
\tboundary="_000_TYAPR01MB2990AA11BB22CC33TYAPR01MB2990jpnp_"
MIME-Version: 1.0

--_000_TYAPR01MB2990AA11BB22CC33TYAPR01MB2990jpnp_
Content-Type: text/plain; charset="utf-8"
Content-Transfer-Encoding: base64

{b64("时间：2021年5月21日 9:30。地点：区科协三楼会议室。")}

--_000_TYAPR01MB2990AA11BB22CC33TYAPR01MB2990jpnp_
Content-Type: text/html; charset="utf-8"
Content-Transfer-Encoding: base64

{b64("<html><body><p>时间：2021年5月21日 9:30。地点：区科协三楼会议室。</p></body></html>")}

--_000_TYAPR01MB2990AA11BB22CC33TYAPR01MB2990jpnp_
Content-Type: text/calendar; charset="utf-8"; method=REQUEST
Content-Transfer-Encoding: quoted-printable

BEGIN:VCALENDAR
METHOD:REQUEST
PRODID:Microsoft Exchange Server 2010
VERSION:2.0
BEGIN:VEVENT
ORGANIZER;CN=3D=E6=B2=99=E5=9D=AA=E5=9D=9D=E5=8C=BA=E7=A7=91=E5=8D=8F:mailto:spbkx@163.com
DTSTART;TZID=3DChina Standard Time:20210521T093000
SUMMARY;LANGUAGE=3Dzh-CN:=E6=8E=A8=E8=8D=90=E5=B7=A5=E4=BD=9C=E5=8D=8F=E8=B0=83=E4=BC=9A
UID:040000008200E00074C5B7101A82E0080000000010B8A2B14B4BD701000000000000000010
END:VEVENT
END:VCALENDAR

--_000_TYAPR01MB2990AA11BB22CC33TYAPR01MB2990jpnp_--
"""

ENRICHED = f"""\
From: <{UNIT_ADDRESS}>
To: <{MAILBOX}>
Subject: {ew("推荐材料何时截止？")}
Date: Tue, 18 May 2021 08:30:00 +0800
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="Apple-Mail-2--585826337"

--Apple-Mail-2--585826337
Content-Type: text/plain; charset=us-ascii
Content-Transfer-Encoding: 7bit

When is the deadline?
--Apple-Mail-2--585826337
Content-Type: text/enriched; charset=us-ascii
Content-Transfer-Encoding: 7bit

<bold>When</bold> is the <italic>deadline</italic>?
--Apple-Mail-2--585826337
Content-Type: text/richtext; charset=us-ascii

<bold>When</bold> is the deadline?
--Apple-Mail-2--585826337--
"""

EMPTY_MULTIPARTS = f"""\
From: <{UNIT_ADDRESS}>
To: <{MAILBOX}>
Subject: {ew("【沙坪坝区】推荐材料")}
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="BOUNDARY"


--BOUNDARY


--BOUNDARY
Content-Type: multipart/related; boundary="stripped"

This is a multi-part message in MIME format.

--stripped--

--BOUNDARY
Content-Type: application/octet-stream
Content-Transfer-Encoding: base64


--BOUNDARY--
"""


@pytest.mark.parametrize(
    "raw",
    [OUTLOOK_MEETING, ENRICHED, EMPTY_MULTIPARTS],
    ids=["outlook-meeting-request", "enriched-alternatives", "empty-multiparts-and-body"],
)
def test_a_calendar_alternative_is_not_an_attachment(maildir_desk, raw):
    """What is not a file is not listed, and a mail with nothing else is no submission: an Outlook meeting
    request (text/calendar; method=REQUEST as the body's third alternative, laid out like Thunderbird's
    messages/invite.eml fixture, iCalendar as RFC 6047 §2.5 sends it); text/enriched (RFC 1896) and
    text/richtext (RFC 1341) alternatives, in Apple Mail's boundary style; and CPython's test_email empty multipart
    (test_empty_multipart_idempotent) next to a multipart whose parts a gateway stripped (preamble and close
    delimiter only) and an unnamed empty part."""
    maildir_desk.deliver(crlf(raw))
    status = maildir_desk.poll()
    msg = one_message(status)
    assert (msg["attachments"], msg["findings"], msg["kind"], msg["unit"]) == ([], [], "other", None)
    assert status["units"] == []
