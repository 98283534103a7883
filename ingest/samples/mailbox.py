"""The demo's sample mailbox: realistic submissions from several units, some of them faulty.

Deterministic for a given seed, so the demo and the tests see the same bytes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache

from mailintake.ingest.samples import clients, documents, images
from mailintake.ingest.samples.zips import gbk_zip

SHANGHAI = dt.timezone(dt.timedelta(hours=8))
MAILBOX = "834396688@qq.com"


@dataclass(frozen=True)
class SampleMail:
    name: str  # what the story is, for people reading the demo
    arrival: dt.datetime  # server arrival time (INTERNALDATE / Maildir delivery time)
    raw: bytes


def person(name: str, gender: str, birth: str, post: str, category: str = "科研人员") -> dict:
    """A summary-table row (keys as `documents.summary_xlsx` takes them)."""
    return {
        "name": name,
        "gender": gender,
        "birth": birth,
        "ethnicity": "汉族",
        "politics": "中共党员",
        "post": post,
        "category": category,
        "deeds": "长期扎根基层一线开展科技服务。",
        "phone": "13800000000",
    }


@cache
def _life(seed: int) -> bytes:
    return images.life_photo_jpeg(seed)


@cache
def _id(seed: int) -> bytes:
    return images.id_photo_jpeg(seed)


def candidate_files(name: str, seed: int, life: int = 3) -> list[tuple[str, bytes]]:
    """A candidate's form, ID photo (number 1) and life photos (numbers 2..), named 姓名+序号."""
    files = [(f"附件1：{name}推荐表.docx", documents.form_docx(name, "", None, None)), (f"{name}1.jpg", _id(seed))]
    files += [(f"{name}{n + 2}.jpg", _life(seed * 10 + n)) for n in range(life)]
    return files


def summary(unit: str, people: list[dict]) -> tuple[str, bytes]:
    return "附件2：推荐人选汇总表.xlsx", documents.summary_xlsx(unit, people)


def sealed_report(unit: str, seed: int) -> tuple[str, bytes]:
    return "推荐工作情况报告.pdf", documents.report_pdf(unit, images.seal_png(seed), True, None)


def demo_mailbox(seed: int = 2021) -> list[SampleMail]:
    day = dt.datetime(2021, 5, 20, 9, 12, tzinfo=SHANGHAI)
    mails = [
        _complete_district(seed, day),
        *_society_in_three_mails(seed, day),
        _faulty_zip(seed, day),
        _late_institution(seed, day),
        _auto_reply(day),
        _cloud_link(day),
        _enquiry(day),
    ]
    mails.append(SampleMail("同一封邮件被重复投递", mails[-1].arrival + dt.timedelta(minutes=1), mails[-1].raw))
    return sorted(mails, key=lambda m: m.arrival)


def _mail(story: str, when: dt.datetime, **kw) -> SampleMail:
    date = kw.pop("date", when)
    raw = clients.build_message(to=MAILBOX, date=date.strftime("%a, %d %b %Y %H:%M:%S %z"), **kw)
    return SampleMail(story, when, raw)


def _complete_district(seed: int, day: dt.datetime) -> SampleMail:
    people = [
        person("张伟", "男", "1978.05", "重庆大学城市科技学院教授"),
        person("李娜", "女", "1985.11", "沙坪坝区人民医院主任医师"),
    ]
    members = [f for p in ("张伟", "李娜") for f in candidate_files(p, seed + len(p) + ord(p[0]) % 7)]
    attachments = [
        sealed_report("沙坪坝区科协", seed),
        summary("沙坪坝区科协（盖章）", people),
        ("沙坪坝区推荐材料.zip", gbk_zip([(f"沙坪坝区/{n}", d) for n, d in members])),
    ]
    return _mail(
        "沙坪坝区：一封邮件报齐全部材料（照片打包为中文Windows压缩包）",
        day,
        sender="spbkx@163.com",
        sender_name="沙坪坝区科协",
        subject="【沙坪坝区】2021年重庆市最美科技工作者推荐材料",
        body="您好！附件为沙坪坝区推荐材料，纸质材料另行寄送。",
        attachments=attachments,
        client="netease163",
        message_id=f"<spb-{seed}@163.com>",
    )


def _society_in_three_mails(seed: int, day: dt.datetime) -> list[SampleMail]:
    unit, sender = "重庆市机械工程学会", "cqmes@qq.com"
    files = candidate_files("王芳", seed + 3, life=3)
    small = images.life_photo_jpeg(seed + 99, width=1200, height=800, min_bytes=0)
    first = _mail(
        "学会第1封：报告和汇总表",
        day + dt.timedelta(hours=2),
        sender=sender,
        sender_name=unit,
        subject=f"{unit}-推荐材料（1/3）",
        body="推荐材料分三次发送。",
        attachments=[
            sealed_report(unit, seed + 1),
            summary(unit, [person("王芳", "女", "1980.03", "重庆某研究院高级工程师")]),
        ],
        client="qqmail",
        message_id=f"<mes1-{seed}@qq.com>",
    )
    second = _mail(
        "学会第2封：推荐表和照片，其中一张照片太小",
        day + dt.timedelta(hours=3),
        sender=sender,
        sender_name=unit,
        subject=f"{unit}-推荐材料（2/3）",
        body="",
        client="qqmail",
        message_id=f"<mes2-{seed}@qq.com>",
        attachments=[*files[:4], ("王芳5.jpg", small)],
    )
    third = _mail(
        "学会第3封：更正后的照片",
        day + dt.timedelta(days=1),
        sender=sender,
        sender_name=unit,
        subject=f"{unit}-补充照片（3/3）",
        body="王芳5.jpg已更换为原图。",
        client="foxmail",
        message_id=f"<mes3-{seed}@qq.com>",
        attachments=[("王芳5.jpg", _life(seed + 77))],
    )
    return [first, second, third]


def _faulty_zip(seed: int, day: dt.datetime) -> SampleMail:
    unsealed = documents.report_docx("渝中区科协", None)
    png = images.life_photo_jpeg(seed + 5, width=1600, height=1200, min_bytes=0)
    members = [
        ("推荐工作情况报告.docx", unsealed),
        ("附件1：赵强推荐表.docx", documents.form_docx("赵强", "", None, None)),
        ("赵强1.jpg", _id(seed + 6)),
        ("IMG_0001.jpg", _life(seed + 7)),
        ("赵强3.png", _png(png)),
    ]
    return _mail(
        "渝中区：报告未盖章、缺汇总表、照片命名和格式有误",
        day + dt.timedelta(days=2),
        sender="yzkx@cq.gov.cn",
        sender_name="渝中区科协",
        subject="渝中区科协报送最美科技工作者材料",
        body="请查收。",
        attachments=[("渝中区材料.zip", gbk_zip(members))],
        client="outlook",
        message_id=f"<yz-{seed}@cq.gov.cn>",
    )


def _png(jpeg: bytes) -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.open(io.BytesIO(jpeg)).save(out, "PNG")
    return out.getvalue()


def _late_institution(seed: int, day: dt.datetime) -> SampleMail:
    unit = "重庆大学科协"
    attachments = [
        sealed_report(unit, seed + 8),
        summary(unit, [person("陈静", "女", "1982.07", "重庆大学研究员")]),
        *candidate_files("陈静", seed + 9),
    ]
    late = dt.datetime(2021, 5, 29, 10, 5, tzinfo=SHANGHAI)
    return _mail(
        "重庆大学：截止后送达，Date头伪造为截止前",
        late,
        date=dt.datetime(2021, 5, 27, 9, 0, tzinfo=SHANGHAI),
        sender="cqukx@cqu.edu.cn",
        sender_name="重庆大学科协",
        subject="重庆大学科协推荐材料",
        body="附件为推荐材料。",
        attachments=attachments,
        client="foxmail",
        message_id=f"<cqu-{seed}@cqu.edu.cn>",
    )


def _auto_reply(day: dt.datetime) -> SampleMail:
    raw = clients.build_auto_reply(
        sender="wzkx@qq.com", sender_name="万州区科协", to=MAILBOX, original_subject="关于报送推荐材料的提醒"
    )
    return SampleMail("自动回复（不进入任何单位的材料）", day + dt.timedelta(days=3), raw)


def _cloud_link(day: dt.datetime) -> SampleMail:
    body = (
        "从QQ邮箱发来的超大附件\n\n北碚区推荐材料.zip (1.2G, 2021年6月20日 10:00 到期)\n"
        "进入下载页面：https://mail.qq.com/cgi-bin/ftnExs_download?k=2b6630&t=exs_ftn_download\n"
    )
    return _mail(
        "北碚区：只发了QQ超大附件链接",
        day + dt.timedelta(days=4),
        sender="bbkx@qq.com",
        sender_name="北碚区科协",
        subject="【北碚区】推荐材料（超大附件）",
        body=body,
        attachments=[],
        client="qqmail",
        message_id="<bb-cloud@qq.com>",
    )


def _enquiry(day: dt.datetime) -> SampleMail:
    return _mail(
        "咨询邮件（没有附件）",
        day + dt.timedelta(days=5),
        sender="someone@126.com",
        sender_name="某单位",
        subject="请问推荐表可以用WPS格式吗？",
        body="请问推荐表可以用WPS格式吗？谢谢。",
        attachments=[],
        client="netease163",
        message_id="<ask@126.com>",
    )
