"""What a bounce of one of our receipts says: which message came back, to whom it failed, and why.

The bounces are written by hand in the shapes real MTAs send, after public fixtures: RFC 3464 and the
Postfix, sendmail and Office 365 reports in sisimai's set-of-emails and mailgun/flanker's bounce fixtures;
CPython's Lib/test/test_email/data/msg_16.txt (a report whose text quotes the Message-id); qmail's QSBMF
(cr.yp.to/proto/qsbmf.txt) as flufl.bounce reads it; Exchange 2007's text NDR; QQ Mail's and NetEase
Coremail's HTML 系统退信. The returned receipt is built as `ingest.replies.compose` builds ours.
"""

from __future__ import annotations

import base64
from email import policy
from email.message import EmailMessage

import pytest

from mailintake.parsers.bounces import MAX_IDS, MAX_PART_BYTES
from mailintake.parsers.envelope import Overrun, parse_envelope
from mailintake.parsers.facts import BounceFacts
from mailintake.parsers.message import parse_message
from testkit.config import default_settings
from testkit.mail import MAILBOX

SETTINGS = default_settings()
OUR_ID = "<mailintake.3f2a9c1e5b7d4a6f8e0c2b4d6f8a1c3e@cqast.cn>"
UNIT_ID = "<tencent_6A7B8C9D0E1F2A3B4C5D6E7F@qq.com>"  # the unit's submission our receipt answers
GONE = "bgs@nosuchunit.cq.gov.cn"
RECEIPT_SUBJECT = "回执：沙坪坝区推荐材料已收到"


RECEIPT_TEXT = "您报送的材料已收到。\n原因：照片小于 2 MB，请补报。\n550 字以内的事迹简介已收到。\n"


def receipt(cte: str = "base64") -> str:
    """One of our receipts, as `ingest.replies.compose.build` makes it (base64; its text gives a reason
    and a number a careless reader takes for an SMTP reply)."""
    m = EmailMessage(policy=policy.SMTP)
    m["From"] = MAILBOX
    m["To"] = GONE
    m["Subject"] = RECEIPT_SUBJECT
    m["Date"] = "Tue, 11 May 2021 09:31:08 +0800"
    m["Message-ID"] = OUR_ID
    m["In-Reply-To"] = UNIT_ID
    m["References"] = UNIT_ID
    m["Auto-Submitted"] = "auto-replied"
    m["X-Auto-Response-Suppress"] = "All"
    m.set_content(RECEIPT_TEXT, subtype="plain", charset="utf-8", cte=cte)
    m.add_alternative("<p>您报送的材料已收到。</p>", subtype="html", charset="utf-8", cte=cte)
    return m.as_bytes().decode("utf-8")


def receipt_headers() -> str:
    return receipt().split("\r\n\r\n", 1)[0].replace("\r\n", "\n")


def crlf(text: str) -> bytes:
    return text.replace("\r\n", "\n").replace("\n", "\r\n").encode("utf-8")


def b64(data: str, charset: str = "utf-8") -> str:
    encoded = base64.b64encode(data.encode(charset)).decode("ascii")
    return "\n".join(encoded[i : i + 76] for i in range(0, len(encoded), 76))


def ew(text: str) -> str:
    return f"=?UTF-8?B?{base64.b64encode(text.encode()).decode()}?="


def bounce_of(raw: bytes) -> BounceFacts:
    facts = parse_message(raw, SETTINGS)
    assert facts.kind == "bounce"
    assert facts.bounce is not None
    return facts.bounce


def report(*parts: tuple[str, str], headers: str = "", boundary: str = "9F1A2B3C.1620696672/mx.nosuchunit.cq.gov.cn",
           sender: str = "MAILER-DAEMON@mx.nosuchunit.cq.gov.cn (Mail Delivery System)",
           subject: str = "Undelivered Mail Returned to Sender") -> bytes:
    """A multipart/report; report-type=delivery-status as Postfix sends it: (part headers, part body)."""
    body = "".join(f"--{boundary}\n{head}\n\n{text}\n" for head, text in parts)
    return crlf(f"""\
Return-Path: <>
Date: Tue, 11 May 2021 09:31:12 +0800 (CST)
From: {sender}
Subject: {subject}
To: {MAILBOX}
{headers}Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
\tboundary="{boundary}"
Content-Transfer-Encoding: 8bit
Message-Id: <20210511013112.9F1A2B3C@mx.nosuchunit.cq.gov.cn>

This is a MIME-encapsulated message.

{body}--{boundary}--
""")


POSTFIX_NOTICE = ("Content-Description: Notification\nContent-Type: text/plain; charset=utf-8", f"""\
This is the mail system at host mx.nosuchunit.cq.gov.cn.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients. It's attached below.

                   The mail system

<{GONE}>: host mail.nosuchunit.cq.gov.cn[10.20.30.40] said: 550
    5.1.1 <{GONE}>: Recipient address rejected: User unknown in local
    recipient table (in reply to RCPT TO command)
""")


def postfix_status(diagnostic: str, status: str = "5.1.1") -> tuple[str, str]:
    return ("Content-Description: Delivery report\nContent-Type: message/delivery-status", f"""\
Reporting-MTA: dns; mx.nosuchunit.cq.gov.cn
X-Postfix-Queue-ID: 9F1A2B3C
X-Postfix-Sender: rfc822; {MAILBOX}
Arrival-Date: Tue, 11 May 2021 09:31:10 +0800 (CST)

Final-Recipient: rfc822; {GONE}
Original-Recipient: rfc822;{GONE}
Action: failed
Status: {status}
Remote-MTA: dns; mail.nosuchunit.cq.gov.cn
Diagnostic-Code: {diagnostic}
""")


RETURNED = ("Content-Description: Undelivered Message\nContent-Type: message/rfc822", receipt())


# --- RFC 3464 reports ---------------------------------------------------------------------------------


def test_a_postfix_bounce_names_the_returned_message_and_the_reason():
    raw = report(POSTFIX_NOTICE, postfix_status("smtp; 550 5.1.1 <bgs@nosuchunit.cq.gov.cn>: Recipient address "
                                                "rejected: User unknown in local recipient table"), RETURNED)
    assert bounce_of(raw) == BounceFacts(
        original_ids=(OUR_ID,),  # not the receipt's In-Reply-To, nor the bounce's own Message-Id
        recipients=(GONE,),
        status="5.1.1",
        diagnostic=f"550 5.1.1 <{GONE}>: Recipient address rejected: User unknown in local recipient table",
    )


def test_a_folded_diagnostic_code_is_read_as_one_line():
    """sisimai's lhost-postfix-30.eml: Postfix folds a long Diagnostic-Code with four spaces."""
    folded = ("smtp; 550 5.4.1 <bgs@nosuchunit.cq.gov.cn>: Recipient\n    address rejected: Access denied\n"
              "\t[BL2NAM02FT061.eop-nam02.prod.protection.outlook.com]")
    bounce = bounce_of(report(POSTFIX_NOTICE, postfix_status(folded, "5.4.1"), RETURNED))
    assert (bounce.status, bounce.diagnostic) == (
        "5.4.1", f"550 5.4.1 <{GONE}>: Recipient address rejected: Access denied "
                 "[BL2NAM02FT061.eop-nam02.prod.protection.outlook.com]")


def test_a_sendmail_report_returning_headers_only_names_the_message_they_belong_to():
    """RFC 3464 §10.1's sendmail shape (RET=HDRS): text/rfc822-headers, type names in capitals."""
    notice = ("Content-Type: text/plain", f"""\
The original message was received at Tue, 11 May 2021 09:31:10 +0800
from mail.cqast.cn [222.178.10.5]

   ----- The following addresses had permanent fatal errors -----
<{GONE}>
    (reason: 550 5.1.1 <{GONE}>... User unknown)
""")
    status = ("Content-Type: message/delivery-status", f"""\
Reporting-MTA: dns; mx.nosuchunit.cq.gov.cn
Received-From-MTA: DNS; mail.cqast.cn
Arrival-Date: Tue, 11 May 2021 09:31:10 +0800

Final-Recipient: RFC822; BGS@nosuchunit.cq.gov.cn
Action: failed
Status: 5.1.1
Remote-MTA: DNS; mail.nosuchunit.cq.gov.cn
Diagnostic-Code: SMTP; 550 5.1.1 <{GONE}>... User unknown
Last-Attempt-Date: Tue, 11 May 2021 09:31:12 +0800""")
    headers = ("Content-Type: text/rfc822-headers", receipt_headers())
    raw = report(notice, status, headers, boundary="14B9VCaj003125.1620696672/mx.nosuchunit.cq.gov.cn",
                 sender="Mail Delivery Subsystem <MAILER-DAEMON@mx.nosuchunit.cq.gov.cn>",
                 subject="Returned mail: see transcript for details")
    assert bounce_of(raw) == BounceFacts(original_ids=(OUR_ID,), recipients=(GONE,), status="5.1.1",
                                         diagnostic=f"550 5.1.1 <{GONE}>... User unknown")


def test_an_exchange_ndr_names_the_message_from_its_report_and_its_own_thread_headers():
    """mailgun/flanker's bounce/office365.eml: multipart/report with an alternative text/HTML notice that
    pastes the original headers, Diagnostic-Code "smtp;550 5.1.10 RESOLVER.ADR.RecipientNotFound; …",
    the original returned, In-Reply-To and References naming it, here with a Chinese subject."""
    notice = ("Content-Type: multipart/alternative; differences=Content-Type;\n\tboundary=\"75454191-alt\"", f"""\
--75454191-alt
Content-Type: text/plain; charset="us-ascii"
Content-Transfer-Encoding: quoted-printable

Your message to {GONE} couldn't be delivered.

bgs wasn't found at nosuchunit.cq.gov.cn.

Original Message Headers

{receipt_headers()}

--75454191-alt
Content-Type: text/html; charset="us-ascii"

<html><body><p>Your message to {GONE} couldn't be delivered.</p>
<pre>Message-ID: &lt;{OUR_ID[1:-1]}&gt;</pre></body></html>
--75454191-alt--""")
    status = ("Content-Type: message/delivery-status", f"""\
Reporting-MTA: dns;DB5PR06MB1800.eurprd06.prod.outlook.com
Received-From-MTA: dns;mail.cqast.cn
Arrival-Date: Tue, 11 May 2021 01:31:10 +0000

Original-Recipient: rfc822;{GONE}
Final-Recipient: rfc822;{GONE}
Action: failed
Status: 5.1.10
Diagnostic-Code: smtp;550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient {GONE} not found by SMTP address lookup
""")
    raw = report(notice, status, ("Content-Type: message/rfc822", receipt()),
                 boundary="22a54575-c842-43f3-83ea-721e8360fb4c", sender="<postmaster@nosuchunit.cq.gov.cn>",
                 subject=ew("未送达: " + RECEIPT_SUBJECT),
                 headers=f"X-MS-Exchange-Message-Is-Ndr:\nIn-Reply-To: {OUR_ID}\nReferences: {UNIT_ID} {OUR_ID}\n")
    assert bounce_of(raw) == BounceFacts(
        original_ids=(OUR_ID, UNIT_ID),  # found everywhere once; the thread headers' others come last
        recipients=(GONE,),
        status="5.1.10",
        diagnostic=f"550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient {GONE} not found by SMTP address lookup",
    )


def test_a_report_on_two_recipients_names_both_and_takes_the_failure_for_status_and_reason():
    """RFC 3464 §10.3's shape: one recipient delayed, one failed; an alias expanded (Original-Recipient)."""
    status = ("Content-Type: message/delivery-status", """\
Reporting-MTA: dns; mx.nosuchunit.cq.gov.cn

Final-Recipient: rfc822; zhang@nosuchunit.cq.gov.cn
Original-Recipient: rfc822; office@nosuchunit.cq.gov.cn
Action: delayed
Status: 4.4.7
Diagnostic-Code: smtp; 421 4.4.7 connection timed out
Will-Retry-Until: Thu, 13 May 2021 09:31:12 +0800

Final-Recipient: rfc822; Li@NoSuchUnit.cq.gov.cn
Action: failed
Status: 5.2.2
Diagnostic-Code: smtp; 552 5.2.2 Mailbox full

Final-Recipient: rfc822; wang@nosuchunit.cq.gov.cn
Action: relayed
Status: 2.0.0""")
    bounce = bounce_of(report(POSTFIX_NOTICE, status, RETURNED))
    assert bounce == BounceFacts(
        original_ids=(OUR_ID,),
        recipients=("zhang@nosuchunit.cq.gov.cn", "office@nosuchunit.cq.gov.cn", "li@nosuchunit.cq.gov.cn"),
        status="5.2.2",
        diagnostic="552 5.2.2 Mailbox full",
    )


def test_a_report_without_a_diagnostic_code_takes_the_reason_and_the_id_its_text_gives():
    """CPython's msg_16.txt (Sun Internet Mail Server): the text quotes "Message-id:" indented and says
    "Reason:", the status part has no Diagnostic-Code and comments its Status; nothing returned."""
    notice = ("Content-Type: text/plain; charset=ISO-8859-1", f"""\
This report relates to a message you sent with the following header fields:

  Message-id: {OUR_ID}
  Date: Tue, 11 May 2021 09:31:08 +0800
  Subject: {ew(RECEIPT_SUBJECT)}

Your message cannot be delivered to the following recipients:

  Recipient address: {GONE}
  Reason: recipient reached disk quota
""")
    status = ("Content-Type: message/DELIVERY-STATUS", f"""\
Original-envelope-id: 0GK500B4HD0888@mail.nosuchunit.cq.gov.cn
Reporting-MTA: dns; mail.nosuchunit.cq.gov.cn

Action: failed
Status: 5.0.0 (recipient reached disk quota)
Original-recipient: rfc822;{GONE}
Final-recipient: rfc822;{GONE}""")
    raw = report(notice, status, boundary="Boundary_(ID_PGS2F2a+z+/jL7hupKgRhA)",
                 sender="Internet Mail Delivery <postmaster@mail.nosuchunit.cq.gov.cn>",
                 subject="Delivery Notification: Delivery has failed")
    assert bounce_of(raw) == BounceFacts(original_ids=(OUR_ID,), recipients=(GONE,), status="5.0.0",
                                         diagnostic="recipient reached disk quota")


# --- bounces without a report structure ---------------------------------------------------------------


def qmail_bounce(recipient_paragraph: str, returned: str) -> bytes:
    """QSBMF: the intro paragraph, one paragraph per recipient ("<address>:" then the reason), the break
    paragraph, then the original message pasted whole, headers and body."""
    return crlf(f"""\
Return-Path: <>
Date: 11 May 2021 01:31:12 -0000
From: MAILER-DAEMON@mx.nosuchunit.cq.gov.cn
To: {MAILBOX}
Subject: failure notice
Message-ID: <20210511013112.2210.qmail@mx.nosuchunit.cq.gov.cn>

Hi. This is the qmail-send program at mx.nosuchunit.cq.gov.cn.
I'm afraid I wasn't able to deliver your message to the following addresses.
This is a permanent error; I've given up. Sorry it didn't work out.

{recipient_paragraph}

--- Below this line is a copy of the message.

{returned}
""")


@pytest.mark.parametrize(
    ("paragraph", "status", "diagnostic"),
    [
        (f"<{GONE}>:\nSorry, no mailbox here by that name. (#5.1.1)", "5.1.1",
         "Sorry, no mailbox here by that name. (#5.1.1)"),
        (f"<{GONE}>:\n10.20.30.40 does not like recipient.\nRemote host said: 550 5.1.1 <{GONE}>: User unknown\n"
         "Giving up on 10.20.30.40.", "5.1.1", f"Remote host said: 550 5.1.1 <{GONE}>: User unknown"),
    ],
    ids=["local-delivery", "remote-host"],
)
@pytest.mark.parametrize("cte", ["base64", "8bit"])
def test_a_qmail_bounce_names_the_message_pasted_below_it(paragraph, status, diagnostic, cte):
    """The reason comes from qmail's own words, never from the text of the copy pasted below them
    (readable when the copy's body is 8-bit: "原因：…", "550 字以内…")."""
    assert bounce_of(qmail_bounce(paragraph, receipt(cte))) == BounceFacts(
        original_ids=(OUR_ID,), recipients=(GONE,), status=status, diagnostic=diagnostic)


def test_a_qq_mail_system_bounce_in_gb18030_names_the_pasted_message_and_the_reason():
    """QQ Mail's 系统退信: HTML only ("很抱歉您发送的邮件被退回，以下是该邮件的相关信息", a 退信原因 row),
    here in GB18030 with the original's headers pasted below the table."""
    pasted = receipt_headers().replace("<", "&lt;").replace(">", "&gt;")
    html = f"""<html><body>
<div>很抱歉您发送的邮件被退回，以下是该邮件的相关信息：</div>
<table><tr><td>被退回邮件</td><td>主 题：{RECEIPT_SUBJECT}<br/>时 间：2021-05-11 09:31:08</td></tr></table>
<table><tr><td colspan="2">无法发送到 {GONE}</td></tr>
<tr><td>退信原因</td><td>收件人邮件地址（{GONE}）不存在，邮件无法送达。</td></tr>
<tr><td>解决方案</td><td>请联系您的收件人，重新核实邮箱地址，或发送到其他收信邮箱。</td></tr></table>
<div>原邮件头：</div><pre>{pasted}</pre>
</body></html>"""
    raw = crlf(f"""\
Return-Path: <>
From: Mail Delivery System <MAILER-DAEMON@qq.com>
To: {MAILBOX}
Subject: {ew("系统退信")}
Date: Tue, 11 May 2021 09:31:41 +0800
Message-ID: <tencent_bounce_5F60718293A4B5C6@qq.com>
X-QQ-MIME: TCMime 1.0 by Tencent
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="----=_NextPart_60989A41_0C4E1F80_7E8F9A0B"

------=_NextPart_60989A41_0C4E1F80_7E8F9A0B
Content-Type: text/html; charset="GB18030"
Content-Transfer-Encoding: base64

{b64(html, "gb18030")}

------=_NextPart_60989A41_0C4E1F80_7E8F9A0B--
""")
    assert bounce_of(raw) == BounceFacts(original_ids=(OUR_ID,), status=None,
                                         diagnostic=f"收件人邮件地址（{GONE}）不存在，邮件无法送达。")


def test_a_qq_mail_bounce_quoting_the_remote_server_gives_the_server_reply_as_reason():
    """QQ Mail's "[Qmail] 来自qq.com的退信": the 退信原因 row says 未知原因, then what the server said."""
    html = f"""<html><body>
<p>很抱歉您发送的邮件被退回，以下是该邮件的相关信息：</p>
<table><tr><td colspan="2">无法发送到 {GONE}</td></tr>
<tr><td>退信原因</td><td> 未知原因 <br /> host mail.nosuchunit.cq.gov.cn[10.20.30.40]
said: 550 5.7.1 Access denied, sending domain QQ.COM does not meet the required
authentication level </td></tr></table></body></html>"""
    raw = crlf(f"""\
From: "PostMaster" <PostMaster@qq.com>
To: {MAILBOX}
Subject: {ew("[Qmail] 来自qq.com的退信")}
Date: Tue, 11 May 2021 09:31:34 +0800
In-Reply-To: {OUR_ID}
MIME-Version: 1.0
Content-Type: text/html; charset="utf-8"
Content-Transfer-Encoding: base64

{b64(html)}
""")
    assert bounce_of(raw) == BounceFacts(
        original_ids=(OUR_ID,), status="5.7.1",
        diagnostic="said: 550 5.7.1 Access denied, sending domain QQ.COM does not meet the required")


def test_a_netease_bounce_that_carries_no_id_gives_its_reason_and_nothing_to_link():
    """NetEase Coremail's 系统退信 (HTML in GB2312, 原邮件信息 and 退信原因 tables): no Message-ID anywhere."""
    html = """<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312" /></head>
<body class="Bdy"><h1>抱歉，您的邮件被退回来了……</h1>
<table><tr><th nowrap>原邮件信息：</th><td><table>
    <tr><th nowrap>时　间：</th><td>2021-05-11 09:31:08</td></tr>
    <tr><th nowrap>收件人：</th><td>bgs@nosuchunit.cq.gov.cn</td></tr></table></td></tr>
<tr class="tr_Rz"><th nowrap>退信原因：</th>
    <td>
        <div class="infoTt">邮差小易抱歉地通知您，您发送的邮件地址不存在。</div>
        <div class="infoDcr">英文说明:User not found.(550 User not found: bgs@nosuchunit.cq.gov.cn)</div>
    </td></tr></table>
<span><br>----------------<br>This message is generated by Coremail.</span></body></html>"""
    raw = crlf(f"""\
From: Postmaster@163.com
To: spbkx@163.com
Subject: {ew("系统退信")}
Date: Tue, 11 May 2021 09:31:44 +0800
Message-ID: <5167AD70.AC0F83.19561@163smtp10>
MIME-Version: 1.0
Content-Type: text/html; charset="gb2312"
Content-Transfer-Encoding: base64

{b64(html, "gb2312")}
""")
    bounce = bounce_of(raw)
    assert (bounce.original_ids, bounce.recipients) == ((), ())
    assert bounce.diagnostic == "英文说明:User not found.(550 User not found: bgs@nosuchunit.cq.gov.cn)"


def test_an_exchange_text_ndr_names_the_pasted_message_before_the_ones_its_headers_point_to():
    """Exchange 2007's NDR without a status part (sisimai's email-exchange2007 shape): "Original message
    headers:" pasted as text; its References name the unit's submission and our receipt."""
    raw = crlf(f"""\
From: mailer-daemon@nosuchunit.cq.gov.cn
To: {MAILBOX}
Date: Tue, 11 May 2021 09:31:45 +0800
Subject: {ew("未送达: " + RECEIPT_SUBJECT)}
Message-ID: <000000000000000000000000000000000000000000000000@nosuchunit.cq.gov.cn>
References: {UNIT_ID} {OUR_ID}
MIME-Version: 1.0
Content-Type: text/plain; charset="us-ascii"

Delivery has failed to these recipients or distribution lists:

{GONE}
The recipient's e-mail address was not found in the recipient's e-mail system.

Diagnostic information for administrators:

Generating server: mail1.nosuchunit.cq.gov.cn

{GONE}
#550 5.1.1 RESOLVER.ADR.RecipNotFound; not found ##

Original message headers:

{receipt_headers()}
""")
    assert bounce_of(raw) == BounceFacts(original_ids=(OUR_ID, UNIT_ID), status="5.1.1",
                                         diagnostic="#550 5.1.1 RESOLVER.ADR.RecipNotFound; not found ##")


# --- never an exception, always bounded ---------------------------------------------------------------


def test_a_garbage_report_part_gives_empty_facts_and_no_error():
    junk = "\x00\x01Final-Recipient: rfc822;\n\tstray continuation\n::::\nStatus: failed\nDiagnostic-Code:\n" + (
        "\udcff" * 3) + "A" * 5000
    status = ("Content-Type: message/delivery-status\nContent-Transfer-Encoding: base64", "!!not base64!!")
    raw = report(("Content-Type: text/plain", ""), status,
                 ("Content-Type: message/global-delivery-status", junk.encode("utf-8", "surrogateescape")
                  .decode("latin-1")),
                 ("Content-Type: text/rfc822-headers", "Message-ID: <no-at-sign>\nMessage-ID: <>"),
                 ("Content-Type: message/rfc822", ""))
    assert bounce_of(raw) == BounceFacts()


def test_a_bounce_cut_short_still_parses_and_a_broken_structure_says_nothing():
    raw = report(POSTFIX_NOTICE, postfix_status("smtp; 550 5.1.1 unknown"), RETURNED)
    for cut in (len(raw) // 3, len(raw) // 2, len(raw) - 40):
        assert isinstance(bounce_of(raw[:cut]), BounceFacts)


def test_only_the_first_64_kib_of_a_part_and_the_first_50_ids_are_read():
    many = "\n".join(f"Message-ID: <mailintake.{n:032x}@cqast.cn>" for n in range(MAX_IDS + 10))
    bounce = bounce_of(crlf(f"""\
From: MAILER-DAEMON@mx.nosuchunit.cq.gov.cn
To: {MAILBOX}
Subject: failure notice
Content-Type: text/plain

{many}
"""))
    assert bounce.original_ids == tuple(f"<mailintake.{n:032x}@cqast.cn>" for n in range(MAX_IDS))
    far = bounce_of(crlf(f"""\
From: MAILER-DAEMON@mx.nosuchunit.cq.gov.cn
To: {MAILBOX}
Subject: failure notice
Content-Type: text/plain

{"x" * MAX_PART_BYTES}
Message-ID: {OUR_ID}
"""))
    assert far.original_ids == ()


# --- which messages get bounce facts ------------------------------------------------------------------


def test_a_bounce_whose_structure_overran_is_still_linked_through_its_thread_headers():
    raw = report(POSTFIX_NOTICE, postfix_status("smtp; 550 5.1.1 unknown"), RETURNED,
                 headers=f"X-MS-Exchange-Message-Is-Ndr:\nIn-Reply-To: {OUR_ID}\n")
    facts = parse_envelope(raw, Overrun(None, "time", 60.0))
    assert (facts.kind, facts.bounce) == ("bounce", BounceFacts(original_ids=(OUR_ID,)))


def test_mail_that_is_no_bounce_carries_no_bounce_facts():
    unit_mail = crlf(f"""\
From: spbkx@163.com
To: {MAILBOX}
Subject: {ew("关于推荐材料的咨询")}
In-Reply-To: {OUR_ID}
Content-Type: text/plain; charset=utf-8

请问推荐表可以用WPS格式吗？原因：单位没有Office。
""")
    assert parse_message(unit_mail, SETTINGS).bounce is None
    assert parse_message(crlf(receipt()), SETTINGS).bounce is None  # an auto-reply
