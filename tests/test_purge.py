"""`purge --before DATE`: after the campaign, materials and personal data go, the counts stay.

A small campaign through the real pipeline (Maildir desk, replies written to files): two districts that
finished before the cut-off, one of them quarantined, an enquiry, and a district still writing after the
cut-off, whose older mail is therefore kept whole with the rest of its dossier.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import pytest
from sqlalchemy import select

from mailintake.common.vocab import MessageState
from mailintake.ingest import purge as purge_mod
from mailintake.ingest.digest import make_report
from mailintake.ingest.purge import purge
from mailintake.ingest.reprocess import reprocess
from mailintake.ingest.samples import clients, documents
from mailintake.reports.export import export
from mailintake.store.models import Base, Candidate, Message, Outbox, SenderUnit
from testkit.desk import MaildirDesk
from testkit.mail import MAILBOX, SHANGHAI
from testkit.materials import materials

BEFORE = dt.date(2021, 7, 1)
MAY = dt.datetime(2021, 5, 20, 10, 0, tzinfo=SHANGHAI)
JULY = dt.datetime(2021, 7, 2, 9, 0, tzinfo=SHANGHAI)  # after the cut-off


def mail(sender: str, unit: str, subject: str, files: list[tuple[str, bytes]]) -> bytes:
    return clients.build_message(sender=sender, sender_name=f"{unit}联系人", to=MAILBOX, subject=subject,
                                 body="请查收推荐材料。", attachments=files)


def campaign(desk: MaildirDesk) -> None:
    spb = materials("沙坪坝区科协", ["张伟"], seed=3)
    desk.deliver(mail("spbkx@163.com", "沙坪坝区科协", "【沙坪坝区】推荐材料", spb), when=MAY)
    sealed = documents.form_docx("孙磊", "", None, "机密★1年")
    files = [(n, sealed) if n.endswith("推荐表.docx") else (n, d)
             for n, d in materials("南岸区科协", ["孙磊"], seed=11)]
    desk.deliver(mail("nakx@qq.com", "南岸区科协", "【南岸区】机密★推荐材料", files), when=MAY + dt.timedelta(hours=1))
    desk.deliver(mail("wzkx@qq.com", "万州区科协", "【万州区】推荐材料", materials("万州区科协", ["冯军"], seed=29)),
                 when=MAY + dt.timedelta(hours=2))
    desk.deliver(mail("someone@qq.com", "王老师", "请问邮寄地址？", []), when=MAY + dt.timedelta(hours=3))
    desk.poll()
    desk.at(dt.datetime(2021, 5, 29, 8, 0, tzinfo=SHANGHAI))  # the morning digest, its workbooks attached
    assert make_report(desk.ctx, dt.date(2021, 5, 28), send=True).queued
    desk.at(dt.datetime.now(dt.UTC))
    note = [("补充说明.txt", "补充".encode())]
    desk.deliver(mail("wzkx@qq.com", "万州区科协", "【万州区】补充说明", note), when=JULY)
    desk.poll()


def snapshot_db(desk: MaildirDesk) -> dict:
    with desk.ctx.db.engine.connect() as conn:
        return {t.name: sorted(map(repr, conn.execute(select(t)).all())) for t in Base.metadata.sorted_tables}


def snapshot_files(root: Path) -> dict[str, str]:
    """Every file but the database's own (compared by rows) and the lock file."""
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.rglob("*"))
            if p.is_file() and ".db" not in p.name}


def open_desk(tmp_path: Path, **sections: dict) -> MaildirDesk:
    return MaildirDesk(tmp_path, reports={"recipients": ["xcb@cqast.cn"]}, **sections)


@pytest.fixture
def desk(tmp_path):
    d = open_desk(tmp_path)
    campaign(d)
    yield d
    d.close()


def test_the_dry_run_changes_nothing_and_counts_what_the_purge_does(desk, tmp_path):
    db, files = snapshot_db(desk), snapshot_files(tmp_path)
    dry = purge(desk.ctx, BEFORE, dry_run=True)
    assert snapshot_db(desk) == db and snapshot_files(tmp_path) == files
    assert dry.record_path is None and not purge_mod.record_path(desk.ctx, BEFORE).exists()
    assert "dry run" in dry.lines()[0] and "messages: 3 would be purged" in dry.lines()[1]
    done = purge(desk.ctx, BEFORE)
    for kind in ("messages", "attachments", "findings", "units", "candidates", "sender_ties", "outbox", "blobs",
                 "reply_files", "kept_units"):
        assert getattr(dry, kind) == getattr(done, kind), kind
    assert [line.replace("would be ", "") for line in dry.lines()[1:-3]] == done.lines()[1:-3]


def test_a_cut_off_before_the_deadline_is_refused(desk):
    with pytest.raises(purge_mod.TooEarly, match="after the deadline"):
        purge(desk.ctx, dt.date(2021, 5, 28), dry_run=True)


def test_the_purge_removes_materials_and_personal_data_and_keeps_the_counts(desk, tmp_path):
    before = desk.status()
    old = {m["key"]: m for m in before["messages"]}
    kept_keys = {k for k, m in old.items() if m["unit"] == "万州区"}
    purged_keys = set(old) - kept_keys
    with desk.ctx.db.session() as s:
        sha = {m.key: m.sha256 for m in s.scalars(select(Message))}
    purged_files = {a["sha256"] for k in purged_keys for a in old[k]["attachments"]}
    kept_files = {a["sha256"] for k in kept_keys for a in old[k]["attachments"]}
    assert desk.ctx.blobs.listing("quarantine") and purged_files - kept_files
    reply_files = sorted(Path(desk.cfg.replies.dir).glob("outbox-*.eml"))
    cache = desk.ctx.blobs.root / "cache" / "ocr"  # what OCR read from the files: a form's name, say
    converted = desk.ctx.blobs.root / "cache" / "legacy"  # a .doc form as LibreOffice converted it
    gone, stays = sorted(purged_files - kept_files)[0], sorted(kept_files)[0]
    for folder in (cache, converted):
        folder.mkdir(parents=True, exist_ok=True)
    for name in (gone, stays):
        (cache / f"{name}.json").write_text('{"text": "林峰"}', encoding="utf-8")
        (converted / f"{name}.v1.docx").write_bytes(documents.form_docx("林峰", ""))

    done = purge(desk.ctx, BEFORE)
    assert [p.name for p in cache.iterdir()] == [f"{stays}.json"] and done.blobs["cache"] == 2
    assert [p.name for p in converted.iterdir()] == [f"{stays}.v1.docx"]
    assert "cached OCR text, conversions and thumbnails: 2 removed" in done.lines()
    assert (done.messages, done.kept, done.units, done.candidates) == (3, 1, 2, 2)
    assert done.kept_units == ["万州区"]

    blobs = desk.ctx.blobs
    assert blobs.listing("quarantine") == set() and blobs.listing("outbox") == set() and done.blobs["outbox"] == 2
    assert blobs.listing("raw") == {sha[k] for k in kept_keys}
    assert blobs.listing("files") & purged_files == purged_files & kept_files
    assert kept_files - blobs.listing("files") == set()  # the kept unit's files are all there

    after = desk.status()
    now = {m["key"]: m for m in after["messages"]}
    for key in purged_keys:
        m = now[key]
        assert (m["state"], m["sender"], m["sender_name"], m["subject"]) == ("purged", None, None, None)
        assert m["attachments"] == [] and m["findings"] == []
        assert (m["received_at"], m["kind"], m["unit"], m["quarantined"]) == (
            old[key]["received_at"], old[key]["kind"], old[key]["unit"], old[key]["quarantined"])
    for key in kept_keys:
        assert now[key] == old[key]
    units = {u["name"]: u for u in after["units"]}
    was = {u["name"]: u for u in before["units"]}
    assert units["万州区"] == was["万州区"]
    for name in ("沙坪坝区", "南岸区"):
        assert units[name]["status"] == was[name]["status"] and units[name]["findings"] == []
        assert [c["name"] for c in units[name]["candidates"]] == ["人选1"]
    text = json.dumps(after, ensure_ascii=False)
    for personal in ("张伟", "孙磊", "spbkx@163.com", "nakx@qq.com", "王老师", "邮寄地址"):
        assert personal not in text

    with desk.ctx.db.session() as s:
        assert {c.name: c.fields for c in s.scalars(select(Candidate))}["人选1"] == {}
        assert [t.sender for t in s.scalars(select(SenderUnit))] == ["wzkx@qq.com"]
        rows = list(s.scalars(select(Outbox).order_by(Outbox.id)))
        blanked = [r for r in rows if r.id in done.outbox_ids]
        assert blanked and all(r.to_address == "" and r.text_body == "" and r.snapshot == {} for r in blanked)
        assert all(r.to_address == "wzkx@qq.com" for r in rows if r.id not in done.outbox_ids)
    left = sorted(Path(desk.cfg.replies.dir).glob("outbox-*.eml"))
    assert len(left) == len(reply_files) - done.reply_files and done.reply_files == len(blanked)

    record = json.loads(done.record_path.read_text(encoding="utf-8"))
    assert done.record_path.name == "purge-record-20210701.json"
    assert [(u["name"], u["category"], u["candidates"], u["messages"], u["status"]) for u in record["units"]] == [
        ("南岸区", "district", 1, 1, "quarantined"), ("沙坪坝区", "district", 1, 1, was["沙坪坝区"]["status"])]
    assert record["categories"]["district"]["units"] == 2 and record["categories"]["district"]["candidates"] == 2
    assert record["messages_by_kind"] == {"other": 1, "submission": 2} and record["kept_units"] == ["万州区"]


def test_after_the_purge_everything_else_still_works_and_a_rerun_is_a_no_op(desk, tmp_path):
    first = purge(desk.ctx, BEFORE)
    kept = {m["key"]: m for m in desk.status()["messages"] if m["state"] != MessageState.PURGED}
    purged = [m for m in desk.status()["messages"] if m["state"] == MessageState.PURGED]

    lines = list(reprocess(desk.ctx, None))
    assert lines == ["reprocessed 2 message(s)"]
    purged_key = next(m["key"] for m in desk.status()["messages"] if m["state"] == MessageState.PURGED)
    assert list(reprocess(desk.ctx, [purged_key])) == [f"message {purged_key}: purged, not reprocessed",
                                                        "reprocessed 0 message(s)"]
    assert list(reprocess(desk.ctx, None, dry_run=True)) == ["no changes"]
    status = desk.status()
    assert [m for m in status["messages"] if m["state"] == MessageState.PURGED] == purged
    assert {m["key"]: m for m in status["messages"] if m["state"] != "purged"}.keys() == kept.keys()

    db, files = snapshot_db(desk), snapshot_files(tmp_path)
    again = purge(desk.ctx, BEFORE)
    assert not again.changed and again.record_path is None and set(again.blobs.values()) == {0}
    assert (again.messages, again.already_purged, again.reply_files) == (0, 3, 0)
    assert snapshot_db(desk) == db and snapshot_files(tmp_path) == files
    assert first.record_path.exists()

    report = make_report(desk.ctx, dt.date(2021, 5, 28))  # the workbook of a purged day still builds
    assert report.workbook.exists()
    with desk.ctx.db.session() as s:  # the panel's export: a purged unit is an empty folder, no missing file
        done = export(s, desk.ctx.blobs, desk.ctx.scope, tmp_path / "panel")
    assert (done.units, done.skipped_quarantined) == (2, 1) and (tmp_path / "panel" / "沙坪坝区" / "人选1").is_dir()
    desk.deliver(mail("dzkx@qq.com", "大足区科协", "【大足区】推荐材料", materials("大足区科协", ["陈静"], seed=5)),
                 when=JULY + dt.timedelta(days=1))
    assert "大足区" in {u["name"] for u in desk.poll()["units"]}


def test_a_crash_after_the_commit_leaves_orphans_that_the_next_run_removes(desk, monkeypatch):
    def crash(*_args):
        raise OSError("power cut")

    with monkeypatch.context() as m:
        m.setattr(purge_mod, "remove_blobs", crash)
        with pytest.raises(OSError):
            purge(desk.ctx, BEFORE)
    assert desk.ctx.blobs.listing("quarantine")  # committed rows, files still there
    again = purge(desk.ctx, BEFORE)
    assert again.messages == 0 and again.blobs["quarantine"] == 1 and again.blobs["raw"] == 2
    assert desk.ctx.blobs.listing("quarantine") == set()


def test_purge_runs_on_postgresql(tmp_path, pg_url):
    desk = open_desk(tmp_path, database={"url": pg_url})
    try:
        campaign(desk)
        db = snapshot_db(desk)
        dry = purge(desk.ctx, BEFORE, dry_run=True)
        assert snapshot_db(desk) == db
        done = purge(desk.ctx, BEFORE)
        assert (done.messages, done.kept, done.units, done.candidates) == (3, 1, 2, 2) == (
            dry.messages, dry.kept, dry.units, dry.candidates)
        assert desk.ctx.blobs.listing("quarantine") == set()
        assert list(reprocess(desk.ctx, None)) == ["reprocessed 2 message(s)"]
        assert not purge(desk.ctx, BEFORE).changed
    finally:
        desk.close()
