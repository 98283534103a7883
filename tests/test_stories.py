"""Realistic stories, end to end through a real Dovecot: what the organisers see in `status --json`, and
the replies the submitters get (written as .eml files, parsed back with the stdlib parser)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import email
from email import policy
from pathlib import Path

import pytest

from mailintake.ingest.config import UnitOverride
from mailintake.ingest.decisions import record_decision
from mailintake.ingest.poll import poll
from mailintake.ingest.reprocess import reprocess
from mailintake.ingest.samples import clients, documents, images
from mailintake.ingest.samples.mailbox import candidate_files, person, sealed_report, summary
from mailintake.reports.status import build_status
from testkit.config import open_context
from testkit.materials import materials

CST = dt.timezone(dt.timedelta(hours=8))
BEFORE = dt.datetime(2021, 5, 20, 10, 0, tzinfo=CST)
MAILBOX = "834396688@qq.com"


class Desk:
    """The campaign mailbox as a test sees it: mail arrives in Dovecot, a poll runs, status is read."""

    def __init__(self, dovecot, cfg):
        self.dovecot, self.cfg = dovecot, cfg
        self.ctx = open_context(cfg)

    def send(self, when: dt.datetime = BEFORE, **mail) -> None:
        mail.setdefault("to", MAILBOX)
        mail.setdefault("body", "请查收推荐材料。")
        mail.setdefault("sender_name", "推荐单位")
        self.dovecot.append(self.cfg.mailbox.folder, clients.build_message(**mail), when)

    def poll(self) -> dict:
        summary = poll(self.ctx)
        assert summary.failed == []
        return self.status()

    def status(self) -> dict:
        with self.ctx.db.session() as s:
            return build_status(s, self.ctx.scope)

    def unit(self, name: str) -> dict:
        [unit] = [u for u in self.status()["units"] if u["name"] == name]
        return unit

    def at(self, when: dt.datetime) -> None:
        """The service's clock reads `when` from now on (as if it ran live, not years later)."""
        self.ctx = dataclasses.replace(self.ctx, clock=lambda: when)

    def replies(self) -> list[tuple[str, str]]:
        """(subject, plain text) of every reply written so far, in the order they were made."""
        folder = Path(self.cfg.replies.dir)
        mails = [email.message_from_bytes(p.read_bytes(), policy=policy.default)
                 for p in sorted(folder.glob("*.eml"))] if folder.exists() else []
        return [(m["Subject"], m.get_body(("plain",)).get_content()) for m in mails]


@pytest.fixture
def desk(dovecot, imap_config):
    d = Desk(dovecot, imap_config)
    yield d
    d.ctx.close()


def codes(findings: list[dict]) -> list[str]:
    return sorted(f["code"] for f in findings)


def test_a_complete_district_submission_in_one_mail_is_complete(desk):
    desk.send(sender="spbkx@163.com", subject="【沙坪坝区】推荐材料", client="netease163",
              attachments=materials("沙坪坝区科协", ["张伟", "李娜"]))
    status = desk.poll()
    [msg] = status["messages"]
    assert (msg["kind"], msg["unit"], msg["late"], msg["findings"]) == ("submission", "沙坪坝区", False, [])
    unit = desk.unit("沙坪坝区")
    assert (unit["category"], unit["status"], unit["late"], unit["quota"]) == ("district", "complete", False, 3)
    assert unit["findings"] == []
    assert [(c["name"], c["form"], c["id_photo"], c["life_photos"]) for c in unit["candidates"]] == [
        ("张伟", True, True, 3), ("李娜", True, True, 3)]
    assert "沙坪坝区" not in status["missing_units"] and len(status["missing_units"]) == 40
    [(subject, body)] = desk.replies()
    assert subject == "回执：【沙坪坝区】推荐材料" and "材料齐全" in body
    assert all(f"{name}1.jpg" in body for name in ("张伟", "李娜")) and "纸质材料" in body


def test_a_society_completes_over_three_mails(desk):
    unit, sender = "重庆市机械工程学会", "cqmes@qq.com"
    files = candidate_files("王芳", 3)
    desk.send(sender=sender, subject=f"{unit}-推荐材料（1/3）",
              attachments=[sealed_report(unit, 1), summary(unit, [person("王芳", "女", "1980.03", "高级工程师")])])
    desk.at(BEFORE + dt.timedelta(minutes=1))  # polled live, a minute after each mail arrives
    first = desk.poll()
    assert codes(desk.unit(unit)["findings"]) == ["missing_form", "missing_id_photo", "photo_count"]
    assert desk.unit(unit)["status"] == "incomplete" and desk.unit(unit)["category"] == "society"
    desk.send(BEFORE + dt.timedelta(hours=1), sender=sender, subject=f"{unit}-推荐材料（2/3）", attachments=files[:2])
    desk.at(BEFORE + dt.timedelta(hours=1, minutes=1))
    desk.poll()
    assert codes(desk.unit(unit)["findings"]) == ["photo_count"]
    assert desk.replies() == [], "a marked series waits for its last part"
    desk.send(BEFORE + dt.timedelta(hours=2), sender=sender, subject="补充照片（3/3）", attachments=files[2:])
    desk.at(BEFORE + dt.timedelta(hours=2, minutes=11))
    status = desk.poll()
    [(subject, body)] = desk.replies()
    assert subject == "回执：补充照片（3/3）"
    assert all(f"邮件 {m['display_reference']}" in body for m in status["messages"])
    assert desk.unit(unit)["status"] == "complete" and desk.unit(unit)["findings"] == []
    assert [m["unit"] for m in status["messages"]] == [unit] * 3  # the third named by its sender only
    assert len(desk.unit(unit)["messages"]) == 3 and first["messages"][0]["key"] in desk.unit(unit)["messages"]


def test_a_corrected_photo_sent_later_fixes_the_finding(desk):
    unit = "江北区"
    files = materials("江北区科协", ["刘洋"], seed=5)
    small = images.life_photo_jpeg(55, width=1200, height=800, min_bytes=0)
    first = [(n, small) if n == "刘洋3.jpg" else (n, d) for n, d in files]
    desk.send(sender="jbkx@qq.com", subject="【江北区】推荐材料", attachments=first)
    desk.poll()
    [too_small] = desk.unit(unit)["findings"]
    assert (too_small["code"], too_small["subject"]) == ("photo_too_small", "刘洋3.jpg")
    assert too_small["params"] == {"size": len(small), "minimum": 2 * 1024 * 1024}  # bytes, for every reader
    assert "小于要求的2.0 MB" in too_small["detail"]
    desk.send(BEFORE + dt.timedelta(days=1), sender="jbkx@qq.com", subject="【江北区】更正照片",
              attachments=[(n, d) for n, d in files if n == "刘洋3.jpg"])
    status = desk.poll()
    assert desk.unit(unit)["status"] == "complete" and desk.unit(unit)["findings"] == []
    assert codes(status["messages"][0]["findings"]) == ["photo_too_small"]  # history stays on the message
    (first_subject, first_body), (second_subject, _) = desk.replies()
    assert first_subject == "回执（材料不全）：【江北区】推荐材料" and too_small["detail"] in first_body
    assert second_subject == "回执：【江北区】更正照片"


def test_an_institution_with_three_candidates_exceeds_its_quota(desk):
    desk.send(sender="kx@cqmu.edu.cn", subject="重庆医科大学附属第一医院科协推荐材料", client="foxmail",
              attachments=materials("重庆医科大学附属第一医院科协", ["周敏", "吴刚", "郑洁"], seed=7))
    desk.poll()
    unit = desk.unit("重庆医科大学附属第一医院")
    assert (unit["category"], unit["quota"], unit["status"]) == ("institution", 2, "incomplete")
    assert codes(unit["findings"]) == ["quota_exceeded"]
    assert unit["findings"][0]["params"] == {"count": 3, "category": "institution", "quota": 2}
    assert unit["findings"][0]["detail"] == "推荐人选3名，超过企事业单位推荐名额（不超过2名）。"
    [(subject, body)] = desk.replies()
    assert subject.startswith("回执（材料不全）") and unit["findings"][0]["detail"] in body


def test_a_late_mail_with_a_forged_early_date_is_late_until_an_organiser_decides(desk):
    arrived = dt.datetime(2021, 5, 29, 0, 0, 1, tzinfo=CST)  # one second after the end of 28 May
    desk.send(arrived, sender="cqukx@cqu.edu.cn", subject="重庆大学科协推荐材料", client="outlook",
              date="Thu, 27 May 2021 09:00:00 +0800", attachments=materials("重庆大学科协", ["陈静"], seed=9))
    status = desk.poll()
    [msg] = status["messages"]
    assert msg["late"] is True and codes(msg["findings"]) == ["late"]
    assert msg["received_at"] == "2021-05-29T00:00:01+08:00"
    assert msg["findings"][0]["params"] == {"received": "2021-05-29T00:00:01+08:00",
                                            "deadline": "2021-05-28T23:59:59+08:00"}  # instants with their offset
    assert msg["findings"][0]["detail"] == "材料于2021年05月29日 00:00送达，晚于报送截止时间2021年05月28日 23:59。"
    unit = desk.unit("重庆大学")
    assert (unit["late"], unit["status"], codes(unit["findings"])) == (True, "complete", ["late"])
    record_decision(desk.ctx, "accept_late", msg["key"], None)
    assert desk.unit("重庆大学")["late"] is False and desk.unit("重庆大学")["findings"] == []
    record_decision(desk.ctx, "reject_late", str(msg["reference"]), None)  # latest decision wins
    rejected = desk.unit("重庆大学")
    assert rejected["candidates"] == [] and codes(rejected["findings"]) == ["missing_report", "missing_summary"]
    desk.poll()
    [(subject, body)] = desk.replies()  # the organisers' decisions send nothing by themselves
    assert subject == "回执（逾期）：重庆大学科协推荐材料" and "组织方决定" in body


def test_auto_replies_and_bounces_open_no_dossier(desk):
    desk.dovecot.append(desk.cfg.mailbox.folder, clients.build_auto_reply(
        sender="wzkx@qq.com", sender_name="万州区科协", to=MAILBOX, original_subject="推荐材料"), BEFORE)
    our_reply = clients.build_message(sender=MAILBOX, sender_name="市科协", to="gone@cq.gov.cn", subject="回执",
                                      body="已收到。")
    bounce = clients.build_bounce(original=our_reply, to=MAILBOX, failed_recipient="gone@cq.gov.cn")
    desk.dovecot.append(desk.cfg.mailbox.folder, bounce, BEFORE)
    status = desk.poll()
    assert sorted(m["kind"] for m in status["messages"]) == ["auto_reply", "bounce"]
    assert all(m["unit"] is None and m["findings"] == [] for m in status["messages"])
    assert status["units"] == [] and len(status["missing_units"]) == 41
    assert desk.replies() == []


def test_a_classified_document_is_quarantined_and_its_files_leave_normal_storage(desk):
    form = documents.form_docx("孙磊", "", None, "机密★1年")
    files = materials("南岸区科协", ["孙磊"], seed=11)
    files = [(n, form) if n.endswith("推荐表.docx") else (n, d) for n, d in files]
    desk.send(sender="nakx@qq.com", subject="【南岸区】推荐材料", attachments=files)
    status = desk.poll()
    [msg] = status["messages"]
    assert msg["quarantined"] is True and "classified_marker" in codes(msg["findings"])
    unit = desk.unit("南岸区")
    assert unit["status"] == "quarantined"
    root = Path(desk.cfg.storage.root)
    assert list((root / "files").rglob("*.bin")) == []
    assert list((root / "raw").rglob("*.eml")) == []
    assert len(list((root / "quarantine").rglob("*.eml"))) == 1
    assert poll(desk.ctx).failed == []  # stays quarantined, nothing re-extracted
    [(subject, body)] = desk.replies()
    assert subject == "涉密材料提醒" and "孙磊" not in body


def test_a_unit_named_only_in_the_summary_table(desk):
    desk.send(sender="someone@163.com", subject="推荐材料", attachments=materials("荣昌区科协", ["马丽"], seed=13))
    [msg] = desk.poll()["messages"]
    assert msg["unit"] == "荣昌区" and msg["findings"] == []


def test_a_unit_named_only_in_the_subject(desk):
    files = [(n, d) for n, d in materials("", ["黄涛"], seed=15) if not n.startswith("附件2")]
    desk.send(sender="x@qq.com", subject="石柱县最美科技工作者推荐材料", attachments=files)
    desk.poll()
    unit = desk.unit("石柱土家族自治县")
    assert unit["category"] == "district" and codes(unit["findings"]) == ["missing_summary"]


def test_conflicting_unit_signals_trust_the_summary_and_warn(desk):
    desk.send(sender="x@qq.com", subject="【渝北区】推荐材料", attachments=materials("渝中区科协", ["高峰"], seed=17))
    [msg] = desk.poll()["messages"]
    assert msg["unit"] == "渝中区" and codes(msg["findings"]) == ["unit_conflict"]
    assert codes(desk.unit("渝中区")["findings"]) == ["unit_conflict"]


def test_an_unidentifiable_unit_waits_for_an_organiser_to_assign_it(desk):
    files = [(n, d) for n, d in materials("", ["林峰"], seed=19) if not n.startswith("附件2")]
    desk.send(sender="anon@qq.com", subject="推荐材料", attachments=files)
    [msg] = desk.poll()["messages"]
    assert msg["unit"] is None and codes(msg["findings"]) == ["unknown_unit"]
    record_decision(desk.ctx, "assign", msg["key"], "綦江区科协")
    [msg] = desk.status()["messages"]
    assert msg["unit"] == "綦江区" and codes(msg["findings"]) == []
    assert codes(desk.unit("綦江区")["findings"]) == ["missing_summary"]
    list(reprocess(desk.ctx, None))  # reprocessing keeps the organiser's decision
    assert desk.status()["messages"][0]["unit"] == "綦江区"
    desk.poll()
    [(subject, body)] = desk.replies()  # asked to name the unit; the assignment itself sends nothing
    assert subject.startswith("回执（材料不全）") and "未能识别推荐单位" in body


def test_a_redelivered_message_points_at_the_original_and_changes_nothing(desk):
    raw = clients.build_message(sender="bbkx@qq.com", sender_name="北碚区科协", to=MAILBOX,
                                subject="【北碚区】推荐材料", body="见附件",
                                attachments=materials("北碚区科协", ["徐静"], seed=21))
    desk.dovecot.append(desk.cfg.mailbox.folder, raw, BEFORE)
    desk.dovecot.append(desk.cfg.mailbox.folder, raw, BEFORE + dt.timedelta(minutes=3))
    first, second = desk.poll()["messages"]
    assert second["duplicate_of"] == first["key"] and codes(second["findings"]) == ["duplicate_message"]
    assert second["kind"] == "submission" and first["duplicate_of"] is None
    assert desk.unit("北碚区")["messages"] == [first["key"]] and desk.unit("北碚区")["status"] == "complete"
    [(subject, _)] = desk.replies()
    assert subject == "回执：【北碚区】推荐材料"


def test_reprocessing_is_idempotent_and_follows_a_new_deadline(desk):
    desk.send(dt.datetime(2021, 5, 28, 12, 0, tzinfo=CST), sender="dzkx@qq.com", subject="【大足区】推荐材料",
              attachments=materials("大足区科协", ["曾强"], seed=23))
    desk.poll()
    before = desk.status()
    list(reprocess(desk.ctx, None))
    list(reprocess(desk.ctx, None))
    after = desk.status()
    for doc in (before, after):
        doc.pop("generated_at")
    assert after == before
    earlier = desk.cfg.campaign.model_copy(update={"deadline": dt.datetime(2021, 5, 27, 23, 59, 59, tzinfo=CST)})
    desk.cfg = desk.cfg.model_copy(update={"campaign": earlier})
    desk.ctx = dataclasses.replace(desk.ctx, config=desk.cfg)
    dry = list(reprocess(desk.ctx, None, dry_run=True))
    assert "unit 大足区:" in dry and "  late: False -> True" in dry and "  + late" in dry
    assert desk.unit("大足区")["late"] is False  # a dry run writes nothing
    list(reprocess(desk.ctx, None))
    assert desk.unit("大足区")["late"] is True


def test_the_same_message_id_is_a_duplicate_only_with_the_same_attachments(desk):
    files = materials("潼南区科协", ["罗敏"], seed=25)
    common = dict(sender="tnkx@qq.com", subject="【潼南区】推荐材料", message_id="<same-id@qq.com>")
    desk.send(BEFORE, attachments=files, date="Thu, 20 May 2021 10:00:00 +0800", **common)
    desk.send(BEFORE + dt.timedelta(minutes=5), attachments=files, date="Thu, 20 May 2021 10:05:00 +0800", **common)
    later = [(n, d) for n, d in files if n != "罗敏4.jpg"]  # a broken client reusing the Message-ID
    desk.send(BEFORE + dt.timedelta(hours=1), attachments=later, date="Thu, 20 May 2021 11:00:00 +0800", **common)
    first, copy, new = desk.poll()["messages"]
    assert copy["duplicate_of"] == first["key"] and codes(copy["findings"]) == ["duplicate_message"]
    assert new["duplicate_of"] is None and new["findings"] == []
    assert desk.unit("潼南区")["messages"] == [first["key"], new["key"]]


def test_configured_units_aliases_and_sender_addresses_are_honoured(dovecot, imap_config):
    unit = UnitOverride(name="重庆市土木建筑学会", category="society", quota=1, aliases=["市土建学会"],
                        senders=["tujian@163.com"])
    cfg = imap_config.model_copy(update={"campaign": imap_config.campaign.model_copy(update={"units": [unit]})})
    desk = Desk(dovecot, cfg)
    without_report = materials("", ["唐杰", "宋雨"], seed=27)[1:]
    desk.send(sender="tujian@163.com", subject="推荐材料", attachments=without_report)
    desk.send(BEFORE + dt.timedelta(hours=1), sender="other@163.com", subject="【市土建学会】补充材料",
              attachments=[sealed_report("市土建学会", 2)])
    status = desk.poll()
    assert [m["unit"] for m in status["messages"]] == ["重庆市土木建筑学会"] * 2
    found = desk.unit("重庆市土木建筑学会")
    assert (found["category"], found["quota"]) == ("society", 1)
    assert codes(found["findings"]) == ["quota_exceeded"]  # the report came in the second mail
    desk.ctx.close()


def test_the_whole_pipeline_runs_on_postgresql(dovecot, imap_config, pg_url):
    cfg = imap_config.model_copy(update={"database": imap_config.database.model_copy(update={"url": pg_url})})
    desk = Desk(dovecot, cfg)
    first = materials("万州区科协", ["冯军"], seed=29)
    desk.send(sender="wzkx@qq.com", subject="【万州区】推荐材料", attachments=first)
    desk.send(BEFORE + dt.timedelta(hours=1), sender="wzkx@qq.com", subject="【万州区】补充",
              attachments=[summary("万州区科协", [person("冯军", "男", "1975.01", "高级工程师"),
                                                 person("韩梅", "女", "1988.02", "工程师")])])
    status = desk.poll()
    assert [m["unit"] for m in status["messages"]] == ["万州区", "万州区"]
    unit = desk.unit("万州区")
    assert (unit["status"], [c["name"] for c in unit["candidates"]]) == ("incomplete", ["冯军", "韩梅"])
    assert codes(unit["findings"]) == ["missing_form", "missing_id_photo", "photo_count"]
    list(reprocess(desk.ctx, None))
    assert desk.unit("万州区") == unit
    desk.ctx.close()
