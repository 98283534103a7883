"""Which mails are submissions, auto-replies or bounces, and which bodies hold download links instead
of attachments."""

from __future__ import annotations

import pytest

from mailintake.ingest.samples.clients import build_auto_reply, build_bounce, build_message
from mailintake.parsers.cloud_links import find_cloud_links
from mailintake.parsers.kinds import classify_kind
from mailintake.parsers.mime import parse_mime

QQ_LARGE = """从QQ邮箱发来的超大附件

沙坪坝区推荐材料.zip (1.52G, 2021年06月20日 10:30 到期)
进入下载页面：https://mail.qq.com/cgi-bin/ftnExs_download?t=exs_ftn_download&k=2b3c4d&code=7f1a

候选人照片.rar (860.3M, 2021年06月25日 到期)
进入下载页面：http://mail.qq.com/cgi-bin/ftnExs_download?t=exs_ftn_download&k=99aa01&code=c2d4
"""


def mail(subject: str = "【沙坪坝区】推荐材料", sender: str = "unit@cq.gov.cn", **headers: str):
    raw = build_message(sender=sender, sender_name="科协", to="kxj@cq.gov.cn", subject=subject, body="见附件",
                        attachments=[("张三1.jpg", b"\xff\xd8\xff")], extra_headers=headers or None)
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


def test_submission_and_other():
    assert classify_kind(mail(), has_materials=True) == "submission"
    assert classify_kind(mail(subject="请问报送截止时间？"), has_materials=False) == "other"


def test_qq_auto_reply_is_an_auto_reply():
    raw = build_auto_reply(sender="123@qq.com", sender_name="张三", to="kxj@cq.gov.cn", original_subject="回执")
    assert classify_kind(parse_mime(raw), has_materials=False) == "auto_reply"


@pytest.mark.parametrize(
    "headers",
    [
        {"Auto_Submitted": "auto-replied"},
        {"Auto_Submitted": "auto-generated; owner-email=x@y"},
        {"X_Autoreply": "yes"},
        {"X_Autorespond": "Out of office"},
        {"Precedence": "bulk"},
        {"Precedence": "junk"},
        {"Precedence": "list"},
        {"X_QQ_AUTO_REPLY": "true"},
    ],
)
def test_auto_reply_headers(headers):
    msg = mail(subject="回复：推荐材料", **{k.replace("_", "-"): v for k, v in headers.items()})
    assert classify_kind(msg, has_materials=True) == "auto_reply"


@pytest.mark.parametrize(
    "subject", ["自动回复: 【沙坪坝区】推荐材料", "Auto Reply: 材料", "Automatic reply: 材料", "Out of Office: 材料",
                "AutoReply", "我正在休假"],
)
def test_auto_reply_subjects(subject):
    assert classify_kind(mail(subject=subject), has_materials=True) == "auto_reply"


def test_auto_submitted_no_and_response_suppress_alone_are_ordinary_mail():
    msg = mail(**{"Auto-Submitted": "no", "X-Auto-Response-Suppress": "All"})
    assert classify_kind(msg, has_materials=True) == "submission"


def test_delivery_status_report_from_mailer_daemon_is_a_bounce():
    original = build_message(sender="kxj@cq.gov.cn", sender_name="科协", to="nobody@qq.com", subject="回执",
                             body="已收到")
    raw = build_bounce(original=original, to="kxj@cq.gov.cn", failed_recipient="nobody@qq.com")
    msg = parse_mime(raw)
    assert msg.headers["return-path"] == "<>"
    assert classify_kind(msg, has_materials=True) == "bounce"


@pytest.mark.parametrize(
    ("sender", "headers"),
    [
        ("MAILER-DAEMON@163.com", {}),
        ("postmaster@cq.gov.cn", {}),
        ("relay@cq.gov.cn", {"Return-Path": "<>"}),
    ],
)
def test_bounce_signals(sender, headers):
    assert classify_kind(mail(subject="系统退信", sender=sender, **headers), has_materials=True) == "bounce"


def test_bounce_wins_over_auto_reply_marks():
    msg = mail(sender="MAILER-DAEMON@qq.com", subject="自动回复", **{"Auto-Submitted": "auto-replied"})
    assert classify_kind(msg, has_materials=False) == "bounce"


def test_an_auto_reply_sent_with_a_null_return_path_stays_an_auto_reply():
    msg = mail(subject="自动回复: 材料", **{"Return-Path": "<>", "Auto-Submitted": "auto-replied"})
    assert classify_kind(msg, has_materials=False) == "auto_reply"
