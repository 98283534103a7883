"""Who sent it, from mail as submitters really write it: the district offices the notice addresses,
organisations that merely lie in a district, names nobody knows, replies to our own mail and sealed
material. Each message is built here, delivered to a Maildir and polled through the real pipeline."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from mailintake.ingest.decisions import record_decision
from mailintake.ingest.reprocess import reprocess
from mailintake.ingest.samples import clients, documents
from mailintake.ingest.samples.mailbox import candidate_files, person, sealed_report, summary
from testkit.desk import BEFORE_DEADLINE

MAILBOX = "834396688@qq.com"


def mail(sender: str, sender_name: str, subject: str, attachments: list[tuple[str, bytes]], client: str = "qqmail",
         body: str = "您好，附件为我单位推荐材料，请查收。") -> bytes:
    return clients.build_message(sender=sender, sender_name=sender_name, to=MAILBOX, subject=subject, body=body,
                                 attachments=attachments, client=client)


def materials(unit: str, people: list[str], seed: int, photos: bool = True) -> list[tuple[str, bytes]]:
    """What a unit sends: the sealed report, the summary table (推荐单位 as written) and each candidate's files."""
    files = [sealed_report(unit, seed), summary(unit, [person(p, "男", "1979.06", "高级工程师") for p in people])]
    if photos:
        for n, p in enumerate(people):
            files += candidate_files(p, seed + n)
    return files


def findings(msg_or_unit: dict) -> list[tuple[str, str | None]]:
    return sorted((f["code"], f["subject"]) for f in msg_or_unit["findings"])


def units(status: dict) -> dict[str, tuple[str, str, int]]:
    return {u["name"]: (u["category"], u["status"], u["quota"]) for u in status["units"]}


def candidates(unit: dict) -> list[tuple]:
    return [(c["name"], c["form"], c["id_photo"], c["life_photos"], c["findings"]) for c in unit["candidates"]]


def test_liangjiang_party_working_committee_propaganda_department_is_liangjiang_and_every_notice_office_is_its_district(
        maildir_desk):
    """两江新区党工委宣传部 is 两江新区: each office the notice addresses, as submitters write it."""
    desk = maildir_desk
    desk.deliver(mail("ljxq_xcb@163.com", "两江新区党工委宣传部",
                      "两江新区党工委宣传部关于报送2021年重庆市最美科技工作者推荐材料的函",
                      materials("两江新区党工委宣传部（办公室）", ["邓宏"], seed=31), client="netease163"))
    sent = [  # (sender, what the unit writes everywhere, its candidate, the unit)
        ("ybwmb@qq.com", "渝北区文明办", "邹平", "渝北区"),
        ("wskj@163.com", "万盛经开区科技部门", "石磊", "万盛经开区"),
        ("nkwxcb@cq.gov.cn", "南川区委宣传部", "任静", "南川区"),
        ("zxkjj@qq.com", "忠县科学技术局", "熊伟", "忠县"),
        ("wxxcb@qq.com", "巫溪县委宣传部", "谭军", "巫溪县"),
        ("gxqkx@qq.com", "重庆高新区党工委宣传部", "廖红", "重庆高新区"),
    ]
    for n, (sender, office, candidate, _) in enumerate(sent, 1):
        files = materials(office, [candidate], 40 + n, photos=False)
        desk.deliver(mail(sender, office, f"{office}-最美科技工作者推荐材料", files, client="foxmail"),
                     BEFORE_DEADLINE + dt.timedelta(minutes=n))
    status = desk.poll()
    assert [(m["sender_name"], m["unit"], m["findings"]) for m in status["messages"]] == [
        ("两江新区党工委宣传部", "两江新区", []), *[(office, unit, []) for _, office, _, unit in sent]]
    assert units(status) == {"两江新区": ("district", "complete", 3),
                             **{unit: ("district", "incomplete", 3) for *_, unit in sent}}
    for _, _, candidate, unit in sent:  # photos and forms follow in a later mail
        [u] = [u for u in status["units"] if u["name"] == unit]
        assert [c["name"] for c in u["candidates"]] == [candidate]
    [liangjiang] = [u for u in status["units"] if u["name"] == "两江新区"]
    assert liangjiang["findings"] == [] and candidates(liangjiang) == [("邓宏", True, True, 3, [])]
    assert len(status["missing_units"]) == 41 - 7 and "两江新区" not in status["missing_units"]
    assert not [u for u in status["units"] if "党工委" in u["name"] or u["name"].endswith("委")]


def test_a_company_in_yubei_is_not_yubei(maildir_desk):
    """A company in 渝北区 is not 渝北区; nor is a hospital in 江津区 江津区."""
    desk = maildir_desk
    company = "渝北区宏图智能装备有限公司科协"
    desk.deliver(mail("kx@hongtu-zn.com", company, f"{company}推荐材料", materials(company, ["彭涛"], seed=51)))
    desk.deliver(mail("kjk@jjzxyy.cn", "江津区中心医院科教科", "【江津区中心医院】最美科技工作者推荐材料",
                      materials("江津区中心医院（盖章）", ["何静", "田野", "苏敏"], seed=53, photos=False),
                      client="outlook"), BEFORE_DEADLINE + dt.timedelta(hours=1))
    status = desk.poll()
    assert [(m["unit"], m["findings"]) for m in status["messages"]] == [
        ("渝北区宏图智能装备有限公司", []), ("江津区中心医院", [])]
    assert units(status) == {"渝北区宏图智能装备有限公司": ("institution", "complete", 2),
                             "江津区中心医院": ("institution", "incomplete", 2)}
    [hospital] = [u for u in status["units"] if u["name"] == "江津区中心医院"]
    assert findings(hospital) == sorted([("quota_exceeded", None)] + [  # the institution quota, not 3
        (code, p) for p in ("何静", "田野", "苏敏") for code in ("missing_form", "missing_id_photo", "photo_count")])
    [quota] = [f for f in hospital["findings"] if f["code"] == "quota_exceeded"]
    assert quota["params"] == {"count": 3, "category": "institution", "quota": 2}
    assert {"渝北区", "江津区"} <= set(status["missing_units"]) and len(status["missing_units"]) == 41


def test_an_unknown_office_waits_for_an_organiser(maildir_desk):
    """An unknown office waits for an organiser: no institution is invented for it."""
    desk = maildir_desk
    office = "江北区科学技术委员会"  # the office's name before 2019, still on some templates
    desk.deliver(mail("jbkw@163.com", office, f"{office}推荐材料", materials(office, ["汪洋"], seed=61),
                      client="netease163"))
    status = desk.poll()
    [msg] = status["messages"]
    assert msg["unit"] is None and findings(msg) == [("unknown_unit", office)]
    assert status["units"] == [] and len(status["missing_units"]) == 41
    record_decision(desk.ctx, "assign", msg["key"], "江北区科技局")
    status = desk.status()
    [msg] = status["messages"]
    assert (msg["unit"], msg["findings"]) == ("江北区", [])
    assert units(status) == {"江北区": ("district", "complete", 3)}
    list(reprocess(desk.ctx, None))  # the decision holds
    assert units(desk.status()) == {"江北区": ("district", "complete", 3)}


def test_a_units_own_reply_correction_raises_no_conflict(maildir_desk):
    """A unit's own reply-correction raises no conflict: 回复： is not part of the unit's name."""
    desk = maildir_desk
    unit, sender = "重庆市植物学会", "cqzwxh@126.com"
    first = materials(unit, ["龙飞"], seed=71)
    desk.deliver(mail(sender, unit, f"{unit}推荐材料", first, client="netease163"))
    corrected = summary(unit, [person("龙飞", "男", "1979.06", "研究员")])
    quoted = f"更正：龙飞职称为研究员。\n\n------------------ 原始邮件 ------------------\n主题：{unit}推荐材料"
    desk.deliver(mail(sender, unit, f"回复：{unit}推荐材料（更正汇总表）", [corrected], body=quoted),
                 BEFORE_DEADLINE + dt.timedelta(hours=2))
    desk.deliver(mail(sender, unit, f"Re:回复: {unit}推荐材料（更正汇总表）", [corrected], client="outlook",
                      body=quoted), BEFORE_DEADLINE + dt.timedelta(hours=3))
    status = desk.poll()
    assert [(m["subject"], m["unit"], m["findings"]) for m in status["messages"]] == [
        (f"{unit}推荐材料", unit, []),
        (f"回复：{unit}推荐材料（更正汇总表）", unit, []),
        (f"Re:回复: {unit}推荐材料（更正汇总表）", unit, []),
    ]
    assert units(status) == {unit: ("society", "complete", 2)}
    [society] = status["units"]
    assert society["findings"] == [] and len(society["messages"]) == 3
    assert candidates(society) == [("龙飞", True, True, 3, [])]


def test_a_quarantined_unit_still_names_its_candidates(maildir_desk):
    """A quarantined unit still names its candidates, names only; nothing of the sealed files is kept."""
    desk = maildir_desk
    files = materials("南岸区科协", ["孙磊", "周红"], seed=81)
    sealed_form = documents.form_docx("孙磊", "南岸区科协", None, "机密★1年")
    files = [(n, sealed_form) if n == "附件1：孙磊推荐表.docx" else (n, d) for n, d in files]
    desk.deliver(mail("nakx@qq.com", "南岸区科协", "【南岸区】推荐材料", files))
    status = desk.poll()
    [msg] = status["messages"]
    assert (msg["unit"], msg["quarantined"]) == ("南岸区", True)
    assert findings(msg) == [("classified_marker", "附件1：孙磊推荐表.docx")]
    [unit] = status["units"]
    assert (unit["name"], unit["category"], unit["status"]) == ("南岸区", "district", "quarantined")
    # whom the sealed material concerns, and nothing counted from it
    assert candidates(unit) == [("孙磊", False, False, 0, []), ("周红", False, False, 0, [])]
    assert findings(unit) == [("missing_report", None), ("missing_summary", None)]
    root = Path(desk.cfg.storage.root)
    assert list((root / "files").rglob("*.bin")) == []
    assert list((root / "raw").rglob("*.eml")) == []
    assert len(list((root / "quarantine").rglob("*.eml"))) == 1
    list(reprocess(desk.ctx, None))
    assert candidates([u for u in desk.status()["units"] if u["name"] == "南岸区"][0]) == candidates(unit)
