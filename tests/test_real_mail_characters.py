"""What users see of the characters in real mail: undeclared bytes are read by evidence, never invented.

Every message is raw bytes written here (Office files and photos from the sample generators, headers and
structure by hand or by the sample clients), modelled on the public fixture or client named in each test's
docstring, delivered to a Maildir and polled through the real pipeline; the assertions read `status --json`.
"""

from __future__ import annotations

import base64

from mailintake.ingest.samples import clients
from mailintake.ingest.samples.mailbox import candidate_files, person, sealed_report, summary
from testkit.desk import by_name, one_message
from testkit.mail import MAILBOX

NOTES = "Relatório de Formação — turma de Setembro, 12 participantes.\r\n"


def crlf(text: str) -> bytes:
    """The message as it travels over SMTP and IMAP: every line ends in CRLF; surrogates are raw 8-bit."""
    return text.replace("\r\n", "\n").replace("\n", "\r\n").encode("ascii", "surrogateescape")


def raw8(text: str, charset: str) -> str:
    """Text whose bytes go on the wire unencoded, in `charset`, as the client wrote them."""
    return text.encode(charset).decode("ascii", "surrogateescape")


def b64(data: bytes) -> str:
    return base64.encodebytes(data).decode().rstrip("\n")


def codes(findings: list[dict]) -> list[str]:
    return sorted(f["code"] for f in findings)


def test_an_undeclared_portuguese_name_stays_portuguese(maildir_desk):
    """imap_tools' tests/messages_data/error_emails/invalid_subject_characters: a Portuguese mailer writes
    the Subject as raw windows-1252 ("Forma\\xe7\\xe3o FrenetikPolis: ... Ver\\xe3o | Cursos de Setembro")
    and declares no charset anywhere; imap_tools drops the letters ("Formao"), GB18030 would read
    "Forma玢o". Here the sender's name, an attachment's name and its text are raw windows-1252 too."""
    raw = crlf(f"""\
From: {raw8("João Gonçalves", "cp1252")} <info@formacaofrenetik.info>
To: {MAILBOX}
Subject: {raw8("Formação FrenetikPolis: Mega Campanha Final Verão | Cursos de Setembro", "cp1252")}
Date: Thu, 20 May 2021 09:12:00 -0300
Message-ID: <20210520121200.4711@formacaofrenetik.info>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="frenetik-b1"

--frenetik-b1
Content-Type: text/plain
Content-Transfer-Encoding: 7bit

TEST
--frenetik-b1
Content-Type: text/plain; name="{raw8("Relatório de Formação.txt", "cp1252")}"
Content-Disposition: attachment; filename="{raw8("Relatório de Formação.txt", "cp1252")}"
Content-Transfer-Encoding: 8bit

{raw8(NOTES, "cp1252")}
--frenetik-b1--
""")
    maildir_desk.deliver(raw)
    msg = one_message(maildir_desk.poll())

    assert msg["subject"] == "Formação FrenetikPolis: Mega Campanha Final Verão | Cursos de Setembro"
    assert (msg["sender"], msg["sender_name"]) == ("info@formacaofrenetik.info", "João Gonçalves")
    assert [a["name"] for a in msg["attachments"]] == ["Relatório de Formação.txt"]
    assert codes(msg["findings"]) == ["unknown_unit"]  # no undecodable_text: nothing was left unread


def test_a_big5_subject_is_read_as_big5(maildir_desk):
    """imap_tools' tests/messages_data/error_emails/content_transfer_encoding_empty: mail from
    msa.hinet.net (Taiwan) with a raw 8-bit Big5 Subject and `text/html; charset="big5"` with an empty
    Content-Transfer-Encoding. Read as GBK those bytes are kana and private-use code points
    ("(干獁难盡芥)"). Here a society's contact in Taiwan sends a short Big5 subject that, alone, is also
    plausible GBK ("謝謝" reads as "谅谅"): the message's own big5 declaration decides."""
    body = "<html><body>附件為推薦材料，謝謝！</body></html>"
    raw = crlf(f"""\
From: {raw8("陳志明", "big5")} <3712f2@msa.hinet.net>
To: {MAILBOX}
Subject: {raw8("謝謝", "big5")}
MIME-Version: 1.0
Content-Type: text/html; charset="big5"
Content-Transfer-Encoding:
Message-ID: <11107978796724623@msa.hinet.net>
Date: Thu, 20 May 2021 10:01:00 +0800

{raw8(body, "big5")}
""")
    maildir_desk.deliver(raw)
    msg = one_message(maildir_desk.poll())

    assert (msg["subject"], msg["sender"], msg["sender_name"]) == ("謝謝", "3712f2@msa.hinet.net", "陳志明")
    assert msg["findings"] == []


def test_undecodable_bytes_stay_u_fffd_with_a_warning(maildir_desk):
    """The repo's raw_gbk client (Outlook Express 6.00.2900.5512 writes the Subject as raw GBK), with the
    Subject cut inside its last character, as a relay that truncates long raw headers leaves it: the
    lead byte of "）" has no trail. The whole characters stay, the cut one is U+FFFD, and a warning
    names the header; the unit is still read from the subject."""
    files = [sealed_report("沙坪坝区科协", 3)]
    raw = clients.build_message(
        sender="spbkx@163.com", sender_name="沙坪坝区科协", to=MAILBOX, subject="【沙坪坝区】推荐材料（第一批）",
        body="请查收。", attachments=files, client="raw_gbk")
    cut = "【沙坪坝区】推荐材料（第一批）".encode("gbk")
    raw = raw.replace(b"Subject: " + cut, b"Subject: " + cut[:-1])
    maildir_desk.deliver(raw)
    msg = one_message(maildir_desk.poll())

    assert msg["subject"] == "【沙坪坝区】推荐材料（第一批\ufffd"
    [warning] = [f for f in msg["findings"] if f["code"] == "undecodable_text"]
    assert (warning["severity"], warning["subject"]) == ("warning", "Subject")
    assert warning["params"] == {"where": "邮件主题", "text": "【沙坪坝区】推荐材料（第一批\ufffd"}
    assert warning["detail"] == "“Subject”中有无法识别的字符（邮件主题），系统未作猜测，以“\ufffd”原样保留，请核对。"
    assert msg["unit"] == "沙坪坝区"
    assert [a["name"] for a in msg["attachments"]] == ["推荐工作情况报告.pdf"]


def test_a_form_named_for_liu_yan_is_tied_to_liu_yan(maildir_desk):
    """QQ Mail (the repo's qqmail client: RFC 2047 words in GB18030, which encodes every plane) sends a
    complete unit whose candidates are 刘䶮 (䶮, U+4DAE, Extension A) and 王𠇔 (𠇔, U+201D4, Extension
    B): forms named 推荐表（刘䶮）.docx and 附件1：王𠇔推荐表.docx, photos 刘䶮1.jpg…, summary rows. Each
    form, each photo and each row is the same person, so both dossiers are complete."""
    people = ["刘䶮", "王𠇔"]
    rows = [person(p, "男", "1978.05", "研究员") for p in people]
    files = [sealed_report("沙坪坝区科协", 1), summary("沙坪坝区科协", rows)]
    for n, p in enumerate(people):
        files += candidate_files(p, 7 + n)
    renamed = {"附件1：刘䶮推荐表.docx": "推荐表（刘䶮）.docx"}
    files = [(renamed.get(name, name), data) for name, data in files]
    maildir_desk.deliver(clients.build_message(
        sender="spbkx@qq.com", sender_name="沙坪坝区科协", to=MAILBOX, subject="【沙坪坝区】推荐材料",
        body="请查收推荐材料。", attachments=files, client="qqmail"))
    status = maildir_desk.poll()
    msg = one_message(status)

    named = by_name(msg)
    assert (named["推荐表（刘䶮）.docx"]["role"], named["推荐表（刘䶮）.docx"]["person"]) == ("form", "刘䶮")
    assert (named["附件1：王𠇔推荐表.docx"]["role"], named["附件1：王𠇔推荐表.docx"]["person"]) == ("form", "王𠇔")
    assert [(named[f"王𠇔{n}.jpg"]["person"], named[f"王𠇔{n}.jpg"]["role"]) for n in (1, 2)] == [
        ("王𠇔", "id_photo"), ("王𠇔", "life_photo")]
    [unit] = [u for u in status["units"] if u["name"] == "沙坪坝区"]
    assert [(c["name"], c["form"], c["id_photo"], c["life_photos"]) for c in unit["candidates"]] == [
        ("刘䶮", True, True, 3), ("王𠇔", True, True, 3)]
    assert (unit["status"], unit["findings"], msg["findings"]) == ("complete", [], [])


def test_the_senders_display_name_is_shown_beside_the_address(maildir_desk):
    """Two ways Chinese clients write the name organisers know the sender by:
    old Foxmail (6.x, "Foxmail 6, 15, 201, 23 [cn]") writes the display name as raw 8-bit GBK inside
    quotes with a gb2312 body; Coremail (163) splits it into RFC 2047 words, here inside a character and
    under two labels of one family (gb2312, then gbk), laid out like the From header of imap_tools'
    tests/messages_data/error_emails/bad_subject (one name in many short B words, folded)."""
    foxmail = crlf(f"""\
From: "{raw8("张老师", "gbk")}" <12345678@qq.com>
To: {MAILBOX}
Subject: {raw8("【江北区】推荐材料", "gbk")}
Date: Thu, 20 May 2021 09:30:00 +0800
Message-ID: <202105200930001234567@qq.com>
X-Mailer: Foxmail 6, 15, 201, 23 [cn]
MIME-Version: 1.0
Content-Type: text/plain; charset="gb2312"
Content-Transfer-Encoding: 8bit

{raw8("材料稍后补发。", "gbk")}
""")
    name = "渝中区科协办公室".encode("gbk")
    words = [name[:3], name[3:9], name[9:]]  # 中 and 协 are split between words
    labels = ["gb2312", "gbk", "gbk"]
    folded = "\n ".join(f"=?{label}?B?{base64.b64encode(w).decode()}?=" for label, w in zip(labels, words, strict=True))
    coremail = crlf(f"""\
From: {folded}
 <yzkx@163.com>
To: {MAILBOX}
Subject: =?GBK?B?{base64.b64encode("【渝中区】推荐材料".encode("gbk")).decode()}?=
Date: Thu, 20 May 2021 10:30:00 +0800
Message-ID: <4f2a1c3e.9b1.179880a1b2c.Coremail.yzkx@163.com>
X-Mailer: Coremail Webmail Server Version XT5.0.13 build 20210104(ab8c30b6) 163com
MIME-Version: 1.0
Content-Type: text/plain; charset=GBK
Content-Transfer-Encoding: base64

{b64("材料稍后补发。".encode("gbk"))}
""")
    maildir_desk.deliver(foxmail)
    maildir_desk.deliver(coremail)
    status = maildir_desk.poll()

    shown = sorted((m["sender"], m["sender_name"], m["subject"]) for m in status["messages"])
    assert shown == [("12345678@qq.com", "张老师", "【江北区】推荐材料"),
                     ("yzkx@163.com", "渝中区科协办公室", "【渝中区】推荐材料")]
    assert all("undecodable_text" not in codes(m["findings"]) for m in status["messages"])
