"""Which mails are submissions, auto-replies or bounces (and why), and which bodies hold download links
instead of attachments."""

from __future__ import annotations

import re

import pytest

from mailintake.common.vocab import Kind
from mailintake.ingest.samples.clients import build_auto_reply, build_bounce, build_message
from mailintake.parsers.cloud_links import find_cloud_links
from mailintake.parsers.kinds import KindVerdict, classify_kind
from mailintake.parsers.mime import parse_mime

QQ_LARGE = """从QQ邮箱发来的超大附件

沙坪坝区推荐材料.zip (1.52G, 2021年06月20日 10:30 到期)
进入下载页面：https://mail.qq.com/cgi-bin/ftnExs_download?t=exs_ftn_download&k=2b3c4d&code=7f1a

候选人照片.rar (860.3M, 2021年06月25日 到期)
进入下载页面：http://mail.qq.com/cgi-bin/ftnExs_download?t=exs_ftn_download&k=99aa01&code=c2d4
"""


def mail(subject: str = "【沙坪坝区】推荐材料", sender: str = "unit@cq.gov.cn", **headers: str):
    message_id = headers.pop("Message-ID", None)
    raw = build_message(sender=sender, sender_name="科协", to="kxj@cq.gov.cn", subject=subject, body="见附件",
                        attachments=[("张三1.jpg", b"\xff\xd8\xff")], message_id=message_id,
                        extra_headers=headers or None)
    return parse_mime(raw)


def test_qq_large_attachments_are_found_with_their_own_expiry_dates():
    links = find_cloud_links(QQ_LARGE)
    expected = [("mail.qq.com", "2021-06-20"), ("mail.qq.com", "2021-06-25")]
    assert [(link.host, link.expires) for link in links] == expected
    assert links[0].url.endswith("k=2b3c4d&code=7f1a")


def test_a_link_in_both_bodies_is_reported_once_and_html_entities_are_decoded():
    html = ('<div>超大附件</div><a href="https://wx.mail.qq.com/ftn/download?func=3&amp;k=ab12&amp;key=cd34">'
            "下载</a><span>30天后过期</span>")
    text = "超大附件 下载：https://wx.mail.qq.com/ftn/download?func=3&k=ab12&key=cd34 30天后过期"
    links = find_cloud_links(text, html)
    assert [(link.url, link.host, link.expires) for link in links] == [
        ("https://wx.mail.qq.com/ftn/download?func=3&k=ab12&key=cd34", "wx.mail.qq.com", "30天")]


def test_netease_large_attachments_are_found_with_the_stated_expiry():
    text = ("从网易163邮箱发来的超大附件：推荐表汇总.zip (620M)\n下载地址：http://fs.163.com/fs/display/?p=X-NETEASE-HUGE-"
            "ATTACHMENT&file=Q2ZRk1x\n过期时间：2021年6月30日\n"
            "https://mail.126.com/large-attachment-download/index.html?p=X-NETEASE-HUGE-ATTACHMENT&file=Zx9")
    links = find_cloud_links(text)
    assert [(link.host, link.expires) for link in links] == [("fs.163.com", "2021-06-30"), ("mail.126.com", None)]


@pytest.mark.parametrize(
    ("pasted", "host"),
    [
        ("链接：https://pan.baidu.com/s/1AbCdEfGh 提取码：x7k2", "pan.baidu.com"),
        ("pan.baidu.com/s/1AbCdEfGh?pwd=x7k2", "pan.baidu.com"),
        ("https://share.weiyun.com/Ab12Cd34", "share.weiyun.com"),
        ("https://cloud.189.cn/t/AbCdEf（访问码：1234）", "cloud.189.cn"),
        ("https://www.aliyundrive.com/s/AbCdEf", "www.aliyundrive.com"),
        ("https://www.alipan.com/s/AbCdEf", "www.alipan.com"),
        ("https://115.com/s/sw3abc?password=x1", "115.com"),
        ("https://wwi.lanzoui.com/iAbc123 密码:ab12", "wwi.lanzoui.com"),
        ("https://dashi.163.com/html/cloud-attachment-download/index.html?id=9", "dashi.163.com"),
    ],
)
def test_netdisk_shares_are_recognised_by_host(pasted, host):
    links = find_cloud_links(f"材料太大，放在网盘：{pasted}，请下载。")
    assert [link.host for link in links] == [host]


def test_ordinary_mail_has_no_cloud_links():
    text = "联系人：张三 13800000000 zhangsan@qq.com，单位主页 https://www.cqast.cn/news/1.html ，见附件张三1.jpg。"
    assert find_cloud_links(text, '<a href="https://mail.163.com/">163</a>') == []


SUBMISSION = KindVerdict(Kind.SUBMISSION, "material")


def verdict(kind: str, reason: str) -> KindVerdict:
    return KindVerdict(Kind(kind), reason)


def report(content_type: str, *parts: tuple[str, str], **headers: str):
    """A machine-generated report, written the way MTAs write them: top-level headers, then parts given as
    (content type, body); the report's own attachments make it 'have material' as the parser sees it."""
    lines = [f"{k.replace('_', '-')}: {v}" for k, v in {"From": "relay@cq.gov.cn", "To": "kxj@cq.gov.cn",
                                                        "Subject": "Delivery report", **headers}.items()]
    body = "".join(f"--b0\nContent-Type: {ctype}\n\n{text}\n" for ctype, text in parts)
    raw = "\n".join([*lines, "MIME-Version: 1.0", f'Content-Type: {content_type}; boundary="b0"', "",
                     body + "--b0--", ""])
    return parse_mime(raw.replace("\n", "\r\n").encode())


TEXT = ("text/plain", "Your message could not be delivered.")
STATUS = ("message/delivery-status", "Reporting-MTA: dns; mx.cq.gov.cn\n\nFinal-Recipient: rfc822;a@b.cn\n"
          "Action: failed\nStatus: 5.1.1")
MDN = ("message/disposition-notification", "Reporting-UA: pc; Microsoft Outlook 16.0\n"
       "Final-Recipient: rfc822;kxj@spb.cq.gov.cn\nDisposition: manual-action/MDN-sent-manually; displayed")
ORIGINAL = ("message/rfc822", "From: kxj@cq.gov.cn\nTo: a@b.cn\nSubject: notice\n\nbody")
HEADERS_ONLY = ("text/rfc822-headers", "From: kxj@cq.gov.cn\nTo: a@b.cn\nSubject: notice")


def test_submission_and_other():
    assert classify_kind(mail(), has_materials=True) == SUBMISSION
    assert classify_kind(mail(subject="请问报送截止时间？"), has_materials=False) == verdict("other", "no_material")


def test_qq_auto_reply_is_an_auto_reply():
    raw = build_auto_reply(sender="123@qq.com", sender_name="张三", to="kxj@cq.gov.cn", original_subject="回执")
    assert classify_kind(parse_mime(raw), has_materials=False) == verdict("auto_reply", "auto_submitted")


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({"Auto_Submitted": "auto-replied"}, "auto_submitted"),
        ({"Auto_Submitted": "auto-generated; owner-email=x@y"}, "auto_submitted"),
        ({"Auto_Submitted": "auto-notified"}, "auto_submitted"),
        ({"X_Autoreply": "yes"}, "autoreply_header"),
        ({"X_Autorespond": "Out of office"}, "autoreply_header"),
        ({"X_QQ_AUTO_REPLY": "true"}, "autoreply_header"),
        ({"Precedence": "auto_reply"}, "autoreply_header"),
    ],
)
def test_auto_reply_headers_override_material(headers, reason):
    msg = mail(subject="回复：推荐材料", **{k.replace("_", "-"): v for k, v in headers.items()})
    assert classify_kind(msg, has_materials=True) == verdict("auto_reply", reason)


@pytest.mark.parametrize(
    "headers",
    [
        {"Precedence": "bulk"},
        {"Precedence": "junk"},
        {"Precedence": "list"},
        {"List_Id": "推荐工作联络员 <tuijian.lists.cqast.cn>"},
        {"List_Unsubscribe": "<mailto:tuijian-request@lists.cqast.cn?subject=unsubscribe>"},
        {"X_BeenThere": "tuijian@lists.cqast.cn"},
    ],
)
def test_list_and_bulk_headers_leave_material_counting(headers):
    """A relay or mailing list marks the mail bulk; whether to answer it is the reply loop rules' question."""
    msg = mail(**{k.replace("_", "-"): v for k, v in headers.items()})
    assert classify_kind(msg, has_materials=True) == verdict("submission", "list_material")
    assert classify_kind(msg, has_materials=False) == verdict("other", "no_material")


@pytest.mark.parametrize(
    "subject",
    ["自动回复: 【沙坪坝区】推荐材料", "自动回复：材料", "自动答复: 材料", "Auto Reply: 材料",
     "Automatic reply: 材料", "Out of Office: 材料", "Out of Office AutoReply: 材料", "AutoReply", " 自动回复"],
)
def test_auto_reply_subject_prefixes_override_material(subject):
    assert classify_kind(mail(subject=subject), has_materials=True) == verdict("auto_reply", "auto_reply_subject")


@pytest.mark.parametrize(
    "subject",
    ["【沙坪坝区】关于外出务工人员中推荐人选的材料（邮箱已设自动回复）", "我正在休假，材料请查收",
     "回复：自动回复: 推荐材料", "沙坪坝区推荐材料 out of office hours"],
)
def test_auto_reply_words_inside_a_subject_decide_only_without_material(subject):
    assert classify_kind(mail(subject=subject), has_materials=True) == SUBMISSION
    assert classify_kind(mail(subject=subject), has_materials=False) == verdict("auto_reply", "auto_reply_subject")


def test_auto_submitted_no_and_response_suppress_alone_are_ordinary_mail():
    msg = mail(**{"Auto-Submitted": "no", "X-Auto-Response-Suppress": "All"})
    assert classify_kind(msg, has_materials=True) == SUBMISSION


def test_a_read_receipt_request_is_not_a_read_receipt():
    """Disposition-Notification-To asks for an MDN (RFC 8098 §2.1); Foxmail and QQ Mail users set it."""
    msg = mail(**{"Disposition-Notification-To": "unit@cq.gov.cn", "Return-Receipt-To": "unit@cq.gov.cn"})
    assert classify_kind(msg, has_materials=True) == SUBMISSION


def test_delivery_status_report_from_mailer_daemon_is_a_bounce():
    original = build_message(sender="kxj@cq.gov.cn", sender_name="科协", to="nobody@qq.com", subject="回执",
                             body="已收到", attachments=[("附件1：推荐表.docx", b"PK\x03\x04template")])
    raw = build_bounce(original=original, to="kxj@cq.gov.cn", failed_recipient="nobody@qq.com")
    msg = parse_mime(raw)
    assert msg.headers["return-path"] == "<>"
    assert classify_kind(msg, has_materials=True) == verdict("bounce", "dsn")


@pytest.mark.parametrize(
    ("content_type", "parts"),
    [
        ("multipart/report; report-type=delivery-status", [TEXT, STATUS, ORIGINAL]),
        ("multipart/report; report-type=\"DELIVERY-STATUS\"", [TEXT, STATUS]),
        ("multipart/report", [TEXT, ("MESSAGE/DELIVERY-STATUS", STATUS[1]), ("MESSAGE/RFC822", ORIGINAL[1])]),
        ("multipart/report; report-type=x-redacted", [TEXT, STATUS, HEADERS_ONLY]),
        ("multipart/report; report-type=", [TEXT, STATUS]),
        ("multipart/mixed", [TEXT, STATUS, ORIGINAL]),
        ("multipart/mixed", [TEXT, ("message/global-delivery-status", STATUS[1])]),
        ("multipart/report; report-type=delivery-status", [TEXT]),  # the status part lost on the way
    ],
    ids=["rfc3464", "quoted-uppercase", "missing-cpython-msg16", "anonymised", "empty", "no-report",
         "rfc6533-global", "status-part-lost"],
)
def test_a_delivery_report_in_every_form_is_a_bounce(content_type, parts):
    """Relay senders, no Return-Path, no Auto-Submitted: the structure alone decides."""
    assert classify_kind(report(content_type, *parts), has_materials=True) == verdict("bounce", "dsn")


def test_a_multipart_report_of_another_kind_is_never_a_submission():
    """An abuse feedback report (RFC 5965) or any multipart/report without a status part."""
    feedback = ("message/feedback-report", "Feedback-Type: abuse\nUser-Agent: qq-fbl/1.0\nVersion: 1")
    msg = report("multipart/report; report-type=feedback-report", TEXT, feedback, ORIGINAL)
    assert classify_kind(msg, has_materials=True) == verdict("bounce", "report")
    assert classify_kind(report("multipart/report", TEXT, ORIGINAL), has_materials=True) == verdict("bounce", "report")


@pytest.mark.parametrize(
    ("content_type", "parts"),
    [
        ("multipart/report; report-type=disposition-notification", [TEXT, MDN, HEADERS_ONLY]),  # RFC 8098 §9
        ("multipart/report", [TEXT, MDN]),
        ("multipart/mixed", [TEXT, MDN, ORIGINAL]),
        ("multipart/report; report-type=disposition-notification", [TEXT]),
        ("multipart/mixed", [TEXT, ("message/global-disposition-notification", MDN[1])]),
    ],
    ids=["rfc8098", "report-type-missing", "no-report", "mdn-part-lost", "rfc6533-global"],
)
def test_a_disposition_notification_is_an_auto_reply(content_type, parts):
    msg = report(content_type, *parts, Subject="已读: 关于推荐人选的通知", From="kxj@spb.cq.gov.cn")
    assert classify_kind(msg, has_materials=True) == verdict("auto_reply", "mdn")


@pytest.mark.parametrize(
    "subject",
    ["已读：【沙坪坝区】推荐材料", "已读: 关于推荐人选的通知", "已读回执：关于推荐人选的通知", "已读回执",
     "未读: 通知", "Read: 关于推荐人选的通知", "Not read: 通知", "Read receipt: 通知", "Return Receipt: 通知"],
)
def test_read_receipt_subjects_without_report_structure_are_auto_replies(subject):
    """QQ Mail's 已读回执 and Outlook's "Read:"/"已读:" receipts, also when a gateway flattened the report."""
    assert classify_kind(mail(subject=subject), has_materials=True) == verdict("auto_reply", "read_receipt_subject")


@pytest.mark.parametrize("subject", ["Ready: 沙坪坝区推荐材料", "阅读材料：沙坪坝区", "请查收（需要已读回执）"])
def test_read_words_that_are_no_receipt_prefix_leave_material_counting(subject):
    assert classify_kind(mail(subject=subject), has_materials=True) == SUBMISSION


def test_read_receipt_words_inside_a_subject_decide_only_without_material():
    msg = mail(subject="转发：已读回执")
    assert classify_kind(msg, has_materials=True) == SUBMISSION
    assert classify_kind(msg, has_materials=False) == verdict("auto_reply", "read_receipt_subject")


@pytest.mark.parametrize(
    ("sender", "name"),
    [
        ("MAILER-DAEMON@163.com", "科协"),
        ("postmaster@cq.gov.cn", "科协"),
        ("mailer-daemon@googlemail.com", "Mail Delivery Subsystem"),
        ("MicrosoftExchange329e71ec88ae4615bbc36ab6ce41109e@cqkx.partner.onmschina.cn", "Microsoft Outlook"),
        ("bounces@relay.cq.gov.cn", "Mail Delivery System"),
    ],
)
def test_daemon_senders_are_bounces(sender, name):
    raw = build_message(sender=sender, sender_name=name, to="kxj@cq.gov.cn", subject="Undeliverable: 通知",
                        body="did not reach the following recipient(s)", attachments=[("附件1.docx", b"PK\x03\x04")])
    assert classify_kind(parse_mime(raw), has_materials=True) == verdict("bounce", "daemon_sender")


def test_an_exchange_ndr_flag_is_a_bounce():
    msg = report("multipart/mixed", TEXT, ORIGINAL, **{"X-MS-Exchange-Message-Is-Ndr": "", "Subject": "通知"})
    assert classify_kind(msg, has_materials=True) == verdict("bounce", "ndr_header")


@pytest.mark.parametrize(
    "subject",
    ["Undeliverable: 关于推荐人选的通知", "未送达: 关于推荐人选的通知", "无法投递: 通知", "无法送达：通知",
     "系统退信", "退信：通知", "Undelivered Mail Returned to Sender",
     "Mail delivery failed: returning message to sender", "Delivery Status Notification (Failure)",
     "Returned mail: see transcript for details", "failure notice"],
)
def test_bounce_subjects_with_the_returned_message_are_bounces(subject):
    """Exchange NDRs without Auto-Submitted, gateway-rewritten bounces: subject and returned message."""
    for returned in (ORIGINAL, HEADERS_ONLY):
        msg = report("multipart/mixed", TEXT, returned, Subject=subject)
        assert classify_kind(msg, has_materials=True) == verdict("bounce", "bounce_subject")
    assert classify_kind(mail(subject=subject), has_materials=False) == verdict("bounce", "bounce_subject")
    assert classify_kind(mail(subject=subject, **{"Return-Path": "<>"}), has_materials=True) == verdict(
        "bounce", "bounce_subject")


@pytest.mark.parametrize(
    "subject",
    ["系统退信", "退信重发：【沙坪坝区】推荐材料", "系统退信后重新发送：【沙坪坝区】推荐材料",
     "Undeliverable: 推荐材料"],
)
def test_a_unit_resending_after_a_bounce_still_counts(subject):
    """A bounce subject is not enough when a unit's own mail (real envelope sender, its own attachments and no
    returned message) carries it."""
    assert classify_kind(mail(subject=subject), has_materials=True) == SUBMISSION


def test_a_forwarded_mail_attached_as_eml_is_no_bounce():
    """sisimai set-of-emails/maildir/not/is-not-bounce-02.eml: "original as attachment" (Apple Mail)."""
    msg = report("multipart/mixed", ("text/plain", "it shouldn't be considered as bounce"), ORIGINAL,
                 Subject="original as attachment")
    assert classify_kind(msg, has_materials=True) == SUBMISSION


def test_a_null_return_path_overrides_material_only_with_the_returned_message():
    returned = report("multipart/mixed", TEXT, ORIGINAL, **{"Return-Path": "<>", "Subject": "Warnung"})
    assert classify_kind(returned, has_materials=True) == verdict("bounce", "null_return_path")
    plain = mail(subject="【沙坪坝区】推荐材料", **{"Return-Path": "<>"})
    assert classify_kind(plain, has_materials=True) == SUBMISSION
    assert classify_kind(plain, has_materials=False) == verdict("bounce", "null_return_path")


@pytest.mark.parametrize(
    ("subject", "headers"),
    [
        ("Please confirm your message", {"X-Delivery-Agent": "TMDA/1.1.12 (Macallan)", "Auto-Submitted": "auto-replied",
                                         "Precedence": "bulk"}),
        ("Re: 推荐材料", {"X-Delivery-Agent": "TMDA/1.1.12 (Macallan)", "Precedence": "bulk",
                        "Message-ID": "<1620610262.12345.TMDA@mail.nosuchunit.cq.gov.cn>"}),
        ("Your email requires verification verify:6f1c2e9a0b7d", {"X-Boxtrapper": "0a1b2c3d"}),
        ("Re: 推荐材料", {"X-AskVersion": "2.5.3 (http://www.paganini.net/ask)"}),
        ("Re: 推荐材料", {"X-Spamarrest-noauth": "1"}),
        ("Re: 推荐材料", {"X-Bluebottle-Request": "sender-verify"}),
        ("Re: 推荐材料", {"X-Choicemail-Registration-Request": "yes"}),
        ("Please Verify Your Email Address", {}),
        ("Unverified email to kxj@cq.gov.cn", {}),
        ("请确认您的邮件：关于推荐人选的通知", {}),
        ("Re: 推荐材料 [Qurb #7265412]", {}),
        ("Re: 推荐材料", {"Precedence": "spam"}),
    ],
)
def test_challenge_response_requests_are_auto_replies(subject, headers):
    """SpamAssassin's rules/20_vbounce.cf challenge-response signatures and TMDA's own
    (TMDA/AutoResponse.py); challenges quote the held message whole, so they carry its attachments."""
    assert classify_kind(mail(subject=subject, **headers), has_materials=True) == verdict("auto_reply", "challenge")


def test_mail_from_a_tmda_user_is_no_challenge():
    """TMDA stamps X-Delivery-Agent on its users' own outgoing mail too (as on many LKML posts)."""
    msg = mail(**{"X-Delivery-Agent": "TMDA/1.0.3 (Seattle Slew)"})
    assert classify_kind(msg, has_materials=True) == SUBMISSION


def test_bounce_wins_over_auto_reply_marks():
    msg = mail(sender="MAILER-DAEMON@qq.com", subject="自动回复", **{"Auto-Submitted": "auto-replied"})
    assert classify_kind(msg, has_materials=False) == verdict("bounce", "daemon_sender")


def test_an_auto_reply_sent_with_a_null_return_path_stays_an_auto_reply():
    msg = mail(subject="自动回复: 材料", **{"Return-Path": "<>", "Auto-Submitted": "auto-replied"})
    assert classify_kind(msg, has_materials=False) == verdict("auto_reply", "auto_submitted")


def test_an_office365_ndr_with_auto_submitted_is_a_bounce_not_an_auto_reply():
    """Office 365 NDRs carry Auto-Submitted: auto-replied and a multipart/report (sisimai lhost/office365)."""
    msg = report("multipart/report; report-type=delivery-status", TEXT, STATUS, HEADERS_ONLY,
                 **{"Auto-Submitted": "auto-replied", "X-MS-Exchange-Message-Is-Ndr": "",
                    "Subject": "Undeliverable: SERV Volunteer Hours for November 2021"})
    assert classify_kind(msg, has_materials=True) == verdict("bounce", "dsn")


REASONS = {"dsn", "report", "mdn", "ndr_header", "daemon_sender", "bounce_subject", "null_return_path", "challenge",
           "read_receipt_subject", "auto_submitted", "autoreply_header", "auto_reply_subject", "material",
           "list_material", "no_material"}


def test_the_module_documents_exactly_the_reason_codes_it_gives():
    """The README's contract copies the list; every code above is given by one of the tests in this file."""
    import mailintake.parsers.kinds as kinds

    assert set(re.findall(r"^- ``(\w+)``", kinds.__doc__, re.MULTILINE)) == REASONS
