"""Benchmark: the daily workbook for a large campaign, built from a database made directly through the models.

Run on purpose, never in the test suite:

    .venv/bin/python bench/workbook_build.py                 # 500 units, 1,500 candidates, ~25 s in all
    .venv/bin/python bench/workbook_build.py --units 1000

Writes a temp SQLite database (migrated with Alembic) holding, per unit: 2 submissions (the second a day
later), 11 attachments (report, summary, per candidate a form, an ID photo and a life photo... ), its
candidates with summary-table fields, a dossier (about 1 in 3 incomplete with findings, 1 in 25 quarantined,
1 in 20 late), one outbox row covering both mails (a few failed, uncertain or bounced) and, for half of the
units, a paper-copy decision; plus enquiries, a few photos shared between two units and senders that send
for two. Then times `build_workbook` + `save` (median of 3 runs, each a fresh session) and prints the numbers,
the snapshot query alone and the file size.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mailintake.ingest import config as config_mod  # noqa: E402
from mailintake.ingest.registry import district_names  # noqa: E402
from mailintake.reports import queries  # noqa: E402
from mailintake.reports.queries import ReportScope  # noqa: E402
from mailintake.reports.workbook import build_workbook  # noqa: E402
from mailintake.store.db import Database, make_engine, upgrade  # noqa: E402
from mailintake.store.models import (  # noqa: E402
    Attachment,
    Candidate,
    Decision,
    Dossier,
    Finding,
    Message,
    Outbox,
    OutboxCover,
    Unit,
)

SHANGHAI = dt.timezone(dt.timedelta(hours=8))
START = dt.datetime(2021, 5, 10, 9, 0, tzinfo=SHANGHAI)
DEADLINE = dt.datetime(2021, 5, 28, 23, 59, 59, tzinfo=SHANGHAI)


def sha(*parts: object) -> str:
    return hashlib.sha256("/".join(map(str, parts)).encode()).hexdigest()


def unit_names(n: int, districts: list[str]) -> list[tuple[str, str]]:
    names = [(d, "district") for d in districts[:n]]
    k = 0
    while len(names) < n:
        k += 1
        names.append((f"重庆市第{k}科技学会", "society") if k % 2 else (f"重庆第{k}研究院", "institution"))
    return names


def populate(db: Database, units: int, per_unit: int, districts: list[str]) -> None:
    with db.session() as s:
        ref = 0
        for u, (name, category) in enumerate(unit_names(units, districts)):
            unit = Unit(name=name, category=category)
            s.add(unit)
            s.flush()
            sender = f"unit{u // 50 * 50 if u % 50 == 7 else u}@example.cn"  # every 50th pair shares an address
            msgs = []
            for n in range(2):
                ref += 1
                when = START + dt.timedelta(days=(u * 17 + n * 24) % 19, hours=u % 8, minutes=n * 5)
                if u % 20 == 3 and n == 1:
                    when = DEADLINE + dt.timedelta(hours=2)
                m = Message(key=f"{ref:012x}", source="bench", folder="INBOX", uidvalidity=1, uid=ref,
                            sha256=sha("raw", ref), size=12_000_000, internaldate=when, sender=sender,
                            sender_name=f"{name}科协", subject=f"【{name}】推荐材料（{n + 1}/2）", kind="submission",
                            kind_reason="material", state="processed", unit_id=unit.id, unit_source="subject",
                            late=when > DEADLINE, quarantined=u % 25 == 11 and n == 0)
                s.add(m)
                msgs.append(m)
            s.flush()
            people = [f"人选{u}-{k}" for k in range(per_unit)]
            files = [("推荐工作情况报告.pdf", "report", None), ("附件2：推荐人选汇总表.xlsx", "summary", None)]
            for p in people:
                files += [(f"附件1：{p}推荐表.docx", "form", p), (f"{p}1.jpg", "id_photo", p),
                          (f"{p}2.jpg", "life_photo", p)]
            for i, (file, role, p) in enumerate(files):
                m = msgs[i % 2]
                shared = u % 40 == 5 and role == "life_photo"  # a photo also sent by the next unit
                s.add(Attachment(message_id=m.id, ordinal=i, display_name=file, size=2_500_000, detected_type="jpeg",
                                 sha256=sha("shared", u) if shared else sha("photo", u, file),
                                 role=role, role_reason="bench", person=p, facts={}))
                if u % 40 == 6 and role == "life_photo":
                    s.add(Attachment(message_id=m.id, ordinal=100 + i, display_name=f"x{file}", size=2_500_000,
                                     detected_type="jpeg", sha256=sha("shared", u - 1), role=role, role_reason="bench",
                                     person=p, facts={}))
            cands = []
            for k, p in enumerate(people):
                c = Candidate(unit_id=unit.id, name=p, id_photo=True, life_photos=3, form=bool(k != 1 or u % 3),
                              fields={"seq": str(k + 1), "gender": "女" if k % 2 else "男",
                                      "birth": f"{1960 + (u + k * 7) % 35}-{(u % 12) + 1:02d}", "ethnicity": "汉族",
                                      "politics": "中共党员", "post": f"{name}高级工程师", "category": "科研人员",
                                      "deeds": "长期扎根基层一线开展科技服务，" * 4, "phone": "13800000000"})
                s.add(c)
                cands.append(c)
            s.flush()
            incomplete = u % 3 == 0
            if incomplete:
                s.add(Finding(unit_id=unit.id, candidate_id=cands[1].id, scope="candidate", code="missing_form",
                              severity="error", subject=cands[1].name, params={}))
                s.add(Finding(unit_id=unit.id, scope="attachment", code="photo_too_small", severity="error",
                              subject=f"{people[0]}2.jpg", params={"size": 343_694, "minimum": 2_097_152}))
                s.add(Finding(unit_id=unit.id, scope="unit", code="missing_report", severity="error", params={}))
            if u % 20 == 3:
                params = {"received": msgs[1].internaldate.isoformat(), "deadline": DEADLINE.isoformat()}
                s.add(Finding(message_id=msgs[1].id, scope="message", code="late", severity="warning", params=params))
                s.add(Finding(unit_id=unit.id, scope="unit", code="late", severity="warning", params=params))
            status = "quarantined" if u % 25 == 11 else "incomplete" if incomplete else "complete"
            s.add(Dossier(unit_id=unit.id, status=status, late=u % 20 == 3, current_files=[]))
            row = Outbox(rfc822_message_id=f"<bench.{u}@mailintake>", kind="deficiency" if incomplete else "receipt",
                         state=("failed", "uncertain", "bounced", "suppressed")[u % 4] if u % 30 == 1 else "sent",
                         to_address=sender, subject="回执", text_body="", html_body="", created_at=msgs[1].internaldate)
            s.add(row)
            s.flush()
            s.add_all(OutboxCover(outbox_id=row.id, message_id=m.id) for m in msgs)
            if u % 2:
                s.add(Decision(kind="paper_received", unit_name=name, value="2021-05-26",
                               decided_on=dt.date(2021, 5, 26), made_by="bench", made_at=START))
        for n in range(units // 10):  # enquiries, no unit
            ref += 1
            s.add(Message(key=f"{ref:012x}", source="bench", folder="INBOX", uidvalidity=1, uid=ref,
                          sha256=sha("raw", ref), size=3000, internaldate=START + dt.timedelta(hours=n * 3),
                          sender=f"ask{n}@126.com", subject="请问推荐表可以用WPS格式吗？", kind="other",
                          kind_reason="no_material", state="processed"))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--units", type=int, default=500)
    ap.add_argument("--candidates-per-unit", type=int, default=3)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    cfg = config_mod.from_dict({"mailbox": {"host": "h"}})
    scope = ReportScope(cfg.campaign, tuple(district_names(cfg)))
    day = DEADLINE.date() + dt.timedelta(days=1)
    with tempfile.TemporaryDirectory(prefix="mailintake-bench-") as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        db = Database(url)
        t0 = time.perf_counter()
        populate(db, args.units, args.candidates_per_unit, list(scope.expected_units))
        with db.session() as s:
            counts = {m.__tablename__: s.query(m).count() for m in (Unit, Candidate, Message, Attachment, Finding,
                                                                    Outbox, Decision)}
        print(f"database: {counts} (built in {time.perf_counter() - t0:.1f} s)")
        snaps, builds = [], []
        out = Path(tmp) / "日报.xlsx"
        for _ in range(args.runs):
            with db.session() as s:
                t0 = time.perf_counter()
                queries.snapshot(s, scope, day)
                snaps.append(time.perf_counter() - t0)
            with db.session() as s:
                t0 = time.perf_counter()
                build_workbook(s, scope, day).save(out)
                builds.append(time.perf_counter() - t0)
        print(f"snapshot query alone: median {statistics.median(snaps):.2f} s "
              f"({', '.join(f'{x:.2f}' for x in snaps)})")
        print(f"build_workbook + save: median {statistics.median(builds):.2f} s "
              f"({', '.join(f'{x:.2f}' for x in builds)}); file {out.stat().st_size / 1e6:.2f} MB")
        db.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
