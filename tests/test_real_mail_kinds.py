"""What users see of a message's kind: only material opens a dossier, and reports, receipts, challenges
and vacation replies never do, however many attachments they carry; a unit's mail relayed through a
mailing list still counts.

Every message is raw bytes written here (with a small generator for encoded words and base64 bodies),
modelled on the public fixture or client named in each test's docstring, delivered to a Maildir and
polled through the real pipeline; the assertions read `status --json`.
"""

from __future__ import annotations

import base64
import io

import pytest
from docx import Document

from testkit import portraits
from testkit.desk import one_message
from testkit.mail import MAILBOX

UNIT = "kjxh@spb.cq.gov.cn"  # 沙坪坝区科协


def ew(text: str) -> str:
    """An RFC 2047 encoded word, as QQ Mail, Foxmail and Outlook write non-ASCII header text."""
    return f"=?UTF-8?B?{base64.b64encode(text.encode()).decode()}?="


def b64(data: bytes | str) -> str:
    raw = data.encode() if isinstance(data, str) else data
    text = base64.b64encode(raw).decode()
    return "\n".join(text[i:i + 76] for i in range(0, len(text), 76))


def crlf(text: str) -> bytes:
    return text.replace("\r\n", "\n").replace("\n", "\r\n").encode("utf-8")


def jpeg() -> bytes:
    return portraits.jpeg(portraits.id_photo(width=120, height=160), min_bytes=0)  # a real face, as ID photos have


def docx(text: str) -> bytes:
    buf = io.BytesIO()
    document = Document()
    document.add_paragraph(text)
    document.save(buf)
    return buf.getvalue()


PHOTO = jpeg()  # a candidate's ID photo, far below the 2 MB the rules ask for

# The campaign's notice, as the organisers sent it from the mailbox with its templates attached: what a
# bounce or a challenge returns, and the reason neither may count as material.
NOTICE_SUBJECT = "关于推荐2021年重庆市“最美科技工作者”人选的通知"
TEMPLATE_DOCX = docx("2021年重庆市“最美科技工作者”推荐表（模板）\n姓名：    工作单位：    推荐单位（盖章）：")
NOTICE = f"""\
From: {ew("市科协组宣部")} <{MAILBOX}>
To: <bgs@nosuchunit.cq.gov.cn>
Subject: {ew(NOTICE_SUBJECT)}
Date: Mon, 10 May 2021 09:30:00 +0800
Message-ID: <tencent_0A1B2C3D4E5F60718293A4B5C6D7E8F9@qq.com>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="----=_NextPart_60989A18_0C4E1F80_2B7E4F1A"

------=_NextPart_60989A18_0C4E1F80_2B7E4F1A
Content-Type: text/plain; charset="utf-8"
Content-Transfer-Encoding: base64

{b64("各推荐单位：现将推荐工作有关事项通知如下，请于5月28日前报送。")}

------=_NextPart_60989A18_0C4E1F80_2B7E4F1A
Content-Type: application/octet-stream; name="{ew("附件1：推荐表.docx")}"
Content-Disposition: attachment; filename="{ew("附件1：推荐表.docx")}"
Content-Transfer-Encoding: base64

{b64(TEMPLATE_DOCX)}

------=_NextPart_60989A18_0C4E1F80_2B7E4F1A--
"""
NOTICE_HEADERS = NOTICE.split("\n\n", 1)[0]  # what a text/rfc822-headers part returns
NOTICE_EML = f"{NOTICE_SUBJECT}.eml"  # the returned notice, as the parser names a message/rfc822 part


def outer_names(msg: dict) -> list[str]:
    """The message's own attachments; the returned notice's template may be listed under it
    ("….eml/附件1：推荐表.docx") and counts for no unit either."""
    return [a["name"] for a in msg["attachments"] if not a["name"].startswith(NOTICE_EML + "/")]


def test_an_rfc3464_bounce_of_the_campaign_notice_opens_no_dossier(maildir_desk):
    """Modelled on RFC 3464 §10.1 (the "Simple DSN"): multipart/report; report-type=delivery-status from
    the MTA's MAILER-DAEMON, the returned notice whole in a message/rfc822 part (templates included)."""
    raw = f"""\
Return-Path: <>
Date: Tue, 11 May 2021 09:31:12 +0800
From: Mail Delivery Subsystem <MAILER-DAEMON@newxmesmtplogicsvrsza5.qq.com>
Message-Id: <202105110131.RAA14128@newxmesmtplogicsvrsza5.qq.com>
To: <{MAILBOX}>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
    boundary="RAA14128.773615765/newxmesmtplogicsvrsza5.qq.com"
Subject: Returned mail: Cannot send message for 1 day

--RAA14128.773615765/newxmesmtplogicsvrsza5.qq.com

The original message was received at Mon, 10 May 2021 09:30:00 +0800
----- The following addresses had delivery problems -----
<bgs@nosuchunit.cq.gov.cn>  (unrecoverable error)

--RAA14128.773615765/newxmesmtplogicsvrsza5.qq.com
content-type: message/delivery-status

Reporting-MTA: dns; newxmesmtplogicsvrsza5.qq.com

Original-Recipient: rfc822;bgs@nosuchunit.cq.gov.cn
Final-Recipient: rfc822;bgs@nosuchunit.cq.gov.cn
Action: failed
Status: 4.0.0
Diagnostic-Code: smtp; 426 connection timed out
Last-Attempt-Date: Tue, 11 May 2021 09:31:12 +0800

--RAA14128.773615765/newxmesmtplogicsvrsza5.qq.com
content-type: message/rfc822

{NOTICE}
--RAA14128.773615765/newxmesmtplogicsvrsza5.qq.com--
"""
    maildir_desk.deliver(crlf(raw))
    status = maildir_desk.poll()
    msg = one_message(status)
    assert (msg["kind"], msg["kind_reason"], msg["unit"]) == ("bounce", "dsn", None)
    assert outer_names(msg) == ["未命名附件-1.delivery-status", NOTICE_EML]
    assert msg["findings"] == []
    assert status["units"] == []


def _ucla_dsn(content_type: str) -> str:
    """CPython's Lib/test/test_email/data/msg_16.txt (a Sun Internet Mail Server DSN that came back
    through a Mailman list): Return-Path <>, Precedence: bulk and List-* headers, MESSAGE/DELIVERY-STATUS
    and MESSAGE/RFC822 in capitals, and the top-level Content-Type given by the test."""
    return f"""\
Return-Path: <>
Delivered-To: {MAILBOX}
Date: Tue, 11 May 2021 20:14:35 +0800
From: Internet Mail Delivery <postmaster@mail.nosuchunit.cq.gov.cn>
Subject: Delivery Notification: Delivery has failed
To: {MAILBOX}
Message-id: <0GK500B04D0B8X@mail.nosuchunit.cq.gov.cn>
MIME-version: 1.0
Sender: tuijian-owner@lists.cqast.cn
Errors-To: tuijian-owner@lists.cqast.cn
X-BeenThere: tuijian@lists.cqast.cn
X-Mailman-Version: 2.1.29
Precedence: bulk
List-Id: {ew("推荐工作联络员")} <tuijian.lists.cqast.cn>
List-Unsubscribe: <https://lists.cqast.cn/mailman/listinfo/tuijian>,
\t<mailto:tuijian-request@lists.cqast.cn?subject=unsubscribe>
Content-Type: {content_type} boundary="Boundary_(ID_PGS2F2a+z+/jL7hupKgRhA)"


--Boundary_(ID_PGS2F2a+z+/jL7hupKgRhA)
Content-Type: text/plain; charset=ISO-8859-1

This report relates to a message you sent with the following header fields:

  Message-id: <tencent_0A1B2C3D4E5F60718293A4B5C6D7E8F9@qq.com>
  Date: Mon, 10 May 2021 09:30:00 +0800

Your message cannot be delivered to the following recipients:

  Recipient address: bgs@nosuchunit.cq.gov.cn
  Reason: recipient reached disk quota


--Boundary_(ID_PGS2F2a+z+/jL7hupKgRhA)
Content-Type: message/DELIVERY-STATUS

Original-envelope-id: 0GK500B4HD0888@mail.nosuchunit.cq.gov.cn
Reporting-MTA: dns; mail.nosuchunit.cq.gov.cn

Action: failed
Status: 5.0.0 (recipient reached disk quota)
Original-recipient: rfc822;bgs@nosuchunit.cq.gov.cn
Final-recipient: rfc822;bgs@nosuchunit.cq.gov.cn

--Boundary_(ID_PGS2F2a+z+/jL7hupKgRhA)
Content-Type: MESSAGE/RFC822

{NOTICE}
--Boundary_(ID_PGS2F2a+z+/jL7hupKgRhA)--
"""


@pytest.mark.parametrize(
    "content_type",
    [
        "multipart/report;",  # report-type missing, as in the fixture
        "multipart/report; report-type=x-redacted;",  # anonymised by a gateway
        "multipart/mixed;",  # the status part re-wrapped without any multipart/report
    ],
    ids=["report-type-missing", "report-type-anonymised", "no-multipart-report"],
)
def test_a_delivery_report_opens_no_dossier_whatever_its_report_type_says(maildir_desk, content_type):
    """CPython's msg_16.txt, as some MTAs and gateways send it (see `_ucla_dsn`)."""
    maildir_desk.deliver(crlf(_ucla_dsn(content_type)))
    status = maildir_desk.poll()
    msg = one_message(status)
    assert (msg["kind"], msg["kind_reason"], msg["unit"]) == ("bounce", "dsn", None)
    assert msg["findings"] == []
    assert status["units"] == []


@pytest.mark.parametrize(
    ("sender", "subject", "headers", "returned_type", "reason"),
    [
        # Exchange 5.5/2003 IMS (sisimai set-of-emails/maildir/bsd/email-exchange2003-03.eml): no report,
        # no Auto-Submitted, the original in a message/rfc822 part.
        ("System Administrator <postmaster@mail.nosuchunit.cq.gov.cn>", "Undeliverable: " + NOTICE_SUBJECT,
         "Return-Path: <>\n", "message/rfc822", "daemon_sender"),
        # Exchange 2016 in Chinese, from its system mailbox, flagged X-MS-Exchange-Message-Is-Ndr (as in the
        # Office 365 NDR sisimai's lhost/office365 decodes), headers only returned.
        ("Microsoft Outlook <MicrosoftExchange329e71ec88ae4615bbc36ab6ce41109e@nosuchunit.cq.gov.cn>",
         "未送达: " + NOTICE_SUBJECT, "Return-Path: <>\nX-MS-Exchange-Message-Is-Ndr:\n", "text/rfc822-headers",
         "ndr_header"),
        # The same NDR re-sent by a government mail gateway: its own sender and envelope, the flag stripped.
        (f"{ew('邮件系统')} <mailgw@nosuchunit.cq.gov.cn>", "无法投递: " + NOTICE_SUBJECT,
         "Return-Path: <mailgw@nosuchunit.cq.gov.cn>\n", "text/rfc822-headers", "bounce_subject"),
    ],
    ids=["exchange-ims", "exchange-system-mailbox", "gateway-rewritten"],
)
def test_an_exchange_ndr_without_auto_submitted_is_a_bounce(maildir_desk, sender, subject, headers, returned_type,
                                                            reason):
    """Modelled on sisimai's email-exchange2003-03.eml (Exchange IMS: multipart/mixed, "did not reach the
    following recipient(s)", MSEXCH diagnostic, the original attached) with the subjects and senders
    Exchange uses in Chinese installations; no Auto-Submitted in any of them."""
    returned = NOTICE if returned_type == "message/rfc822" else NOTICE_HEADERS + "\n"
    raw = f"""\
{headers}Message-ID: <0000000000000000000000000000000000000000@mail.nosuchunit.cq.gov.cn>
From: {sender}
To: {MAILBOX}
Subject: {ew(subject)}
Date: Mon, 10 May 2021 09:31:00 +0800
MIME-Version: 1.0
Content-Type: multipart/mixed;
\tboundary="----_=_NextPart_000_01D74551.5B3A1C20"

This message is in MIME format. Since your mail reader does not understand
this format, some or all of this message may not be legible.

------_=_NextPart_000_01D74551.5B3A1C20
Content-Type: text/plain;
\tcharset="utf-8"

Your message

  To:      bgs@nosuchunit.cq.gov.cn
  Sent:    Mon, 10 May 2021 09:30:00 +0800

did not reach the following recipient(s):

bgs@nosuchunit.cq.gov.cn on Mon, 10 May 2021 09:31:00 +0800
    The recipient name is not recognized
    MSEXCH:IMS:CQGOV:NOSUCHUNIT:MAIL1 0 (000C05A6) Unknown Recipient


------_=_NextPart_000_01D74551.5B3A1C20
Content-Type: {returned_type}

{returned}
------_=_NextPart_000_01D74551.5B3A1C20--
"""
    maildir_desk.deliver(crlf(raw))
    status = maildir_desk.poll()
    msg = one_message(status)
    assert (msg["kind"], msg["kind_reason"], msg["unit"]) == ("bounce", reason, None)
    assert msg["findings"] == []
    assert status["units"] == []


def test_a_qq_mail_bounce_carrying_the_notice_opens_no_dossier(maildir_desk):
    """QQ Mail's 退信 ("系统退信" from its Mail Delivery System; the reasons are those QQ Mail's help page
    on 退信 lists, e.g. 该用户不存在): HTML only, no report structure, no Auto-Submitted, the notice
    returned with its templates."""
    html = ("<div>很抱歉您的邮件被退回，以下是该邮件的相关信息：</div><div>收件人：bgs@nosuchunit.cq.gov.cn</div>"
            "<div>退信原因：该用户不存在</div><div>550 Mailbox not found</div>")
    raw = f"""\
Return-Path: <>
From: Mail Delivery System <MAILER-DAEMON@qq.com>
To: {MAILBOX}
Subject: {ew("系统退信")}
Date: Mon, 10 May 2021 09:30:41 +0800
Message-ID: <tencent_bounce_5F60718293A4B5C6@qq.com>
X-QQ-MIME: TCMime 1.0 by Tencent
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="----=_NextPart_60989A41_0C4E1F80_7E8F9A0B"

------=_NextPart_60989A41_0C4E1F80_7E8F9A0B
Content-Type: text/html; charset="utf-8"
Content-Transfer-Encoding: base64

{b64(html)}

------=_NextPart_60989A41_0C4E1F80_7E8F9A0B
Content-Type: message/rfc822
Content-Disposition: attachment

{NOTICE}
------=_NextPart_60989A41_0C4E1F80_7E8F9A0B--
"""
    maildir_desk.deliver(crlf(raw))
    status = maildir_desk.poll()
    msg = one_message(status)
    assert (msg["kind"], msg["kind_reason"], msg["unit"]) == ("bounce", "daemon_sender", None)
    assert outer_names(msg) == [NOTICE_EML]
    assert msg["findings"] == []
    assert status["units"] == []


def test_an_outlook_read_receipt_of_the_notice_opens_no_dossier(maildir_desk):
    """RFC 8098 §9's example MDN (multipart/report; report-type=disposition-notification, a
    message/disposition-notification part, the original's headers), with the "已读: " subject and the
    Reporting-UA Outlook 16 puts in the read receipts it sends in Chinese."""
    text = f"您的邮件\n  收件人: {UNIT}\n  主题: {NOTICE_SUBJECT}\n已于 2021/5/11 8:52 被阅读。"
    raw = f"""\
Date: Tue, 11 May 2021 08:52:13 +0800
From: {ew("沙坪坝区科协")} <{UNIT}>
Message-Id: <PSAPR06MB4086A1B2C3D4E5F6@PSAPR06MB4086.apcprd06.prod.outlook.com>
Subject: {ew("已读: " + NOTICE_SUBJECT)}
To: <{MAILBOX}>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=disposition-notification;
   boundary="RAA14128.773615765/spb.cq.gov.cn"

--RAA14128.773615765/spb.cq.gov.cn
Content-Type: text/plain; charset="utf-8"
Content-Transfer-Encoding: base64

{b64(text)}

--RAA14128.773615765/spb.cq.gov.cn
content-type: message/disposition-notification

Reporting-UA: KJXH-PC; Microsoft Outlook 16.0
Original-Recipient: rfc822;{UNIT}
Final-Recipient: rfc822;{UNIT}
Original-Message-ID: <tencent_0A1B2C3D4E5F60718293A4B5C6D7E8F9@qq.com>
Disposition: manual-action/MDN-sent-manually; displayed

--RAA14128.773615765/spb.cq.gov.cn
content-type: text/rfc822-headers

{NOTICE_HEADERS}

--RAA14128.773615765/spb.cq.gov.cn--
"""
    maildir_desk.deliver(crlf(raw))
    status = maildir_desk.poll()
    msg = one_message(status)
    assert (msg["kind"], msg["kind_reason"], msg["unit"]) == ("auto_reply", "mdn", None)
    assert msg["findings"] == []
    assert status["units"] == []


@pytest.mark.parametrize("subject", ["已读：" + NOTICE_SUBJECT, "已读回执：" + NOTICE_SUBJECT])
def test_a_qq_mail_read_receipt_opens_no_dossier(maildir_desk, subject):
    """QQ Mail's read receipt (已读回执) as the issue describes it: a plain HTML mail whose subject is
    "已读：<subject>" or "已读回执…", with no report structure and no Auto-Submitted (no public fixture
    of its bytes was found; the envelope follows QQ Mail's own messages, X-QQ-MIME and all)."""
    html = f"<div>这是邮件收条，{UNIT} 已于2021年5月11日 09:02 阅读了您的邮件《{NOTICE_SUBJECT}》。</div>"
    raw = f"""\
From: "{ew("沙坪坝区科协")}" <{UNIT}>
To: "{MAILBOX}" <{MAILBOX}>
Subject: {ew(subject)}
Date: Tue, 11 May 2021 09:02:44 +0800
Message-ID: <tencent_7A6B5C4D3E2F1A0B9C8D7E6F@qq.com>
X-QQ-MIME: TCMime 1.0 by Tencent
X-Mailer: QQMail 2.x
X-QQ-Mailer: QQMail 2.x
MIME-Version: 1.0
Content-Type: text/html; charset="utf-8"
Content-Transfer-Encoding: base64

{b64(html)}
"""
    maildir_desk.deliver(crlf(raw))
    status = maildir_desk.poll()
    msg = one_message(status)
    assert (msg["kind"], msg["kind_reason"], msg["unit"]) == ("auto_reply", "read_receipt_subject", None)
    assert msg["findings"] == []
    assert status["units"] == []


@pytest.mark.parametrize(
    ("subject", "headers"),
    [
        # TMDA's confirmation request (TMDA/AutoResponse.py and templates/confirm_request.txt)
        ("Please confirm your message", "Reply-To: bgs-confirm-1620610260.12345.3f1a2b@nosuchunit.cq.gov.cn\n"
         "Precedence: bulk\nAuto-Submitted: auto-replied\nX-Delivery-Agent: TMDA/1.1.12 (Macallan)\n"),
        # cPanel BoxTrapper (SpamAssassin 20_vbounce.cf: X-Boxtrapper, "Your email requires verification verify:")
        ("Your email requires verification verify:6f1c2e9a0b7d", "X-Boxtrapper: 0a1b2c3d\n"),
        # the same request in Chinese, a gateway's own challenge with no header of its own
        ("请确认您的邮件：" + NOTICE_SUBJECT, ""),
    ],
    ids=["tmda", "boxtrapper", "chinese-subject"],
)
def test_a_challenge_response_confirmation_request_opens_no_dossier(maildir_desk, subject, headers):
    """Modelled on TMDA's confirmation request (TMDA/AutoResponse.py: multipart/mixed, a text/plain
    "Confirmation Request" and the held message whole as message/rfc822 "Original Message"), with the
    signatures SpamAssassin's 20_vbounce.cf recognises for other challenge-response systems."""
    raw = f"""\
Return-Path: <>
From: "bgs" <bgs@nosuchunit.cq.gov.cn>
Subject: {ew(subject)}
{headers}Date: Mon, 10 May 2021 09:31:02 +0800
Message-ID: <1620610262.12345.TMDA@mail.nosuchunit.cq.gov.cn>
In-Reply-To: <tencent_0A1B2C3D4E5F60718293A4B5C6D7E8F9@qq.com>
To: {MAILBOX}
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="===============1620610262=="
Content-Disposition: inline

--===============1620610262==
Content-Type: text/plain; charset="us-ascii"
Content-Transfer-Encoding: 7bit
Content-Description: Confirmation Request
Content-Disposition: inline

This message was created automatically by mail delivery software (TMDA).

Your message attached below is being held because the address
<{MAILBOX}> has not been verified.

To release your message for delivery, please send an empty message
to the following address, or use your mailer's "Reply" feature.

--===============1620610262==
Content-Type: message/rfc822
Content-Description: Original Message
Content-Disposition: inline

{NOTICE}
--===============1620610262==--
"""
    maildir_desk.deliver(crlf(raw))
    status = maildir_desk.poll()
    msg = one_message(status)
    assert (msg["kind"], msg["kind_reason"], msg["unit"]) == ("auto_reply", "challenge", None)
    assert msg["findings"] == []
    assert status["units"] == []


@pytest.mark.parametrize(
    ("subject", "headers", "reason"),
    [
        # QQ Mail (what mailintake.ingest.samples.clients.build_auto_reply sends)
        ("自动回复: " + NOTICE_SUBJECT, "X-QQ-AUTO-REPLY: true\nAuto-Submitted: auto-replied\nX-Autoreply: yes\n",
         "auto_submitted"),
        # 163 Mail: the "自动回复:" prefix and nothing else
        ("自动回复:" + NOTICE_SUBJECT, "", "auto_reply_subject"),
        # Exchange/Outlook Out of Office
        ("Automatic reply: " + NOTICE_SUBJECT, "Auto-Submitted: auto-generated\nX-Auto-Response-Suppress: All\n",
         "auto_submitted"),
        # a Unix vacation(1)-style responder: only X-Autoreply
        ("我正在休假", "X-Autoreply: yes\n", "autoreply_header"),
    ],
    ids=["qqmail", "163", "exchange-oof", "vacation"],
)
def test_a_vacation_reply_opens_no_dossier(maildir_desk, subject, headers, reason):
    """Vacation replies as QQ Mail (X-QQ-AUTO-REPLY, RFC 3834 Auto-Submitted, X-Autoreply, HTML only),
    163 ("自动回复:" prefix only) and Exchange ("Automatic reply:", Auto-Submitted: auto-generated) send them."""
    raw = f"""\
From: "{ew("沙坪坝区科协")}" <{UNIT}>
To: "{MAILBOX}" <{MAILBOX}>
Subject: {ew(subject)}
{headers}Date: Mon, 10 May 2021 09:30:05 +0800
Message-ID: <tencent_AUTO_60718293A4B5C6D7@qq.com>
MIME-Version: 1.0
Content-Type: text/html; charset="utf-8"
Content-Transfer-Encoding: base64

{b64("<div>您好，我目前正在休假，无法及时回复邮件，返回后将尽快与您联系。</div>")}
"""
    maildir_desk.deliver(crlf(raw))
    status = maildir_desk.poll()
    msg = one_message(status)
    assert (msg["kind"], msg["kind_reason"], msg["unit"]) == ("auto_reply", reason, None)
    assert msg["findings"] == []
    assert status["units"] == []


def _submission(extra_headers: str, subject: str = "【沙坪坝区】推荐材料") -> bytes:
    """Foxmail 7.2's submission with a candidate's photo attached (GBK names in RFC 2047 words in the
    original; UTF-8 here), with the headers the test adds."""
    raw = f"""\
Date: Thu, 20 May 2021 09:58:12 +0800
From: "{ew("沙坪坝区科协")}" <{UNIT}>
To: "{MAILBOX}" <{MAILBOX}>
Subject: {ew(subject)}
{extra_headers}X-Mailer: Foxmail 7.2.20.273[cn]
Mime-Version: 1.0
Message-ID: <202105200958121856481@spb.cq.gov.cn>
Content-Type: multipart/mixed;
\tboundary="----=_001_NextPart287456512634_=----"

This is a multi-part message in MIME format.

------=_001_NextPart287456512634_=----
Content-Type: text/plain;
\tcharset="utf-8"
Content-Transfer-Encoding: base64

{b64("您好，沙坪坝区推荐材料见附件，请查收。")}

------=_001_NextPart287456512634_=----
Content-Type: image/jpeg;
\tname="{ew("张三1.jpg")}"
Content-Transfer-Encoding: base64
Content-Disposition: attachment;
\tfilename="{ew("张三1.jpg")}"

{b64(PHOTO)}

------=_001_NextPart287456512634_=------
"""
    return crlf(raw)


SMALL_PHOTO = [("photo_too_small", "张三1.jpg", {"size": len(PHOTO), "minimum": 2 * 1024 * 1024})]


def said(findings: list[dict]) -> list[tuple]:
    return [(f["code"], f["subject"], f["params"]) for f in findings]


def test_a_units_submission_relayed_through_a_mailing_list_still_counts(maildir_desk):
    """A unit's Foxmail submission as Mailman 2.1 relays it (the list headers of CPython's msg_16.txt:
    Sender/Errors-To owner, X-BeenThere, X-Mailman-Version, Precedence, List-Id, List-Unsubscribe, List-Post;
    the list's subject_prefix left empty): its material counts for the unit."""
    headers = (
        "Sender: tuijian-bounces@lists.cqast.cn\nErrors-To: tuijian-bounces@lists.cqast.cn\n"
        "X-BeenThere: tuijian@lists.cqast.cn\nX-Mailman-Version: 2.1.29\nPrecedence: list\n"
        f"List-Id: {ew('推荐工作联络员')} <tuijian.lists.cqast.cn>\n"
        "List-Unsubscribe: <https://lists.cqast.cn/mailman/options/tuijian>,\n"
        "\t<mailto:tuijian-request@lists.cqast.cn?subject=unsubscribe>\n"
        "List-Post: <mailto:tuijian@lists.cqast.cn>\n"
    )
    maildir_desk.deliver(_submission(headers))
    status = maildir_desk.poll()
    msg = one_message(status)
    assert (msg["kind"], msg["kind_reason"], msg["unit"]) == ("submission", "list_material", "沙坪坝区")
    assert said(msg["findings"]) == SMALL_PHOTO
    [unit] = status["units"]
    assert (unit["name"], unit["messages"]) == ("沙坪坝区", [msg["key"]])
    assert [c["name"] for c in unit["candidates"]] == ["张三"]
    assert [f["code"] for f in unit["findings"]] == [
        "missing_form", "photo_count", "missing_report", "missing_summary", "photo_too_small"]


def test_a_submission_asking_for_a_read_receipt_still_counts(maildir_desk):
    """Foxmail's "请求阅读收条" adds Disposition-Notification-To (RFC 8098's request, not an answer): the
    mail is still the unit's submission."""
    maildir_desk.deliver(_submission(f"Disposition-Notification-To: {UNIT}\n"))
    status = maildir_desk.poll()
    msg = one_message(status)
    assert (msg["kind"], msg["kind_reason"], msg["unit"]) == ("submission", "material", "沙坪坝区")
    assert said(msg["findings"]) == SMALL_PHOTO
    assert [u["name"] for u in status["units"]] == ["沙坪坝区"]


def test_a_submission_whose_subject_mentions_auto_replies_still_counts(maildir_desk):
    """Foxmail's submission again, its subject mentioning 自动回复 and 外出 in the middle: only a prefix
    marks an auto-reply."""
    subject = "【沙坪坝区】关于外出务工人员中推荐人选的材料（邮箱已设自动回复，请以本邮件为准）"
    maildir_desk.deliver(_submission("", subject=subject))
    status = maildir_desk.poll()
    msg = one_message(status)
    assert (msg["kind"], msg["kind_reason"], msg["unit"]) == ("submission", "material", "沙坪坝区")
    assert said(msg["findings"]) == SMALL_PHOTO
