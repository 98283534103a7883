"""Proof by fault injection: `mailintake serve` ingests a backlog of 50 submissions from Dovecot and answers
them over SMTP while it is SIGKILLed again and again at counted events inside every stage (`ingest/faults.py`:
raw stored, row committed, message processed, reply claimed, reply accepted by the server, reply marked sent)
and restarted each time. Two parse workers run, so kills also land while the next message is read ahead.
One unit's report is a scan (read by the OCR child) and another's form a Word 97
.doc (converted by LibreOffice): the test also kills the service while each of those children runs. At the
end nothing is lost or doubled: every message recorded once, every stored file intact, no temporary or
orphaned file (no half-written cache entry, no LibreOffice work folder), every dossier as a crash-free run
makes it, no message answered twice at the SMTP server and every one answered that is owed a reply (unless a
kill fell inside its send window: then the row is `uncertain`), and no worker, OCR child or LibreOffice
outlives its service."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections import Counter
from email import message_from_bytes, policy
from functools import cache
from pathlib import Path

from mailintake.ingest.faults import POINTS
from mailintake.ingest.samples import clients, documents, images
from mailintake.ingest.samples.mailbox import person, sealed_report, summary
from testkit.cli import mailintake, status
from testkit.config import SMTP_FROM, SMTP_PASSWORD_ENV, write_config
from testkit.desk import BEFORE_DEADLINE
from testkit.mail import MAILBOX
from testkit.scans import image_pdf, report_page
from testkit.word97 import word97_bytes

UNITS = ["渝中区", "大渡口区", "江北区", "沙坪坝区", "九龙坡区", "南岸区", "北碚区", "渝北区", "巴南区", "万州区",
         "涪陵区", "黔江区", "长寿区", "江津区", "合川区", "永川区", "南川区", "綦江区", "大足区", "璧山区",
         "铜梁区", "潼南区", "荣昌区", "开州区", "梁平区"]
STAGES = {"fetch": ("raw_stored", "recorded"), "process": ("processed",), "send": ("claimed", "delivered", "sent")}
ROUNDS = 44  # lives with a crash point armed; at least 30 of them must end in the kill (30-34 do at 40)
MARKER = "MAILINTAKE_FAULT_RUN"
SCANNED, LEGACY = 4, 9  # the unit whose report is a scan, the one whose form is a Word 97 .doc
# children of the service the test kills it under, by what their command line shows
HUNTED = {"ocr": b"mailintake.parsers.ocr", "soffice": b"soffice"}
KILL_AFTER = {"ocr": (0.2, 1.5), "soffice": (0.1, 0.5)}  # seconds into the child's life (models load ~2 s)


@cache
def _photo(seed: int, id_photo: bool) -> bytes:
    make = images.id_photo_jpeg if id_photo else images.life_photo_jpeg
    return make(seed, width=360, height=480, min_bytes=0)


def backlog() -> list[bytes]:
    """Two mails per unit, as units send them: report and summary first, then the candidate's form and photos.
    Small photos (the config lowers the size rule to match) keep the run fast; each unit's are its own. Unit
    SCANNED sends its report printed, stamped and scanned (an image-only PDF), unit LEGACY its form as Word 97."""
    mails = []
    for n, district in enumerate(UNITS):
        unit, name = f"{district}科协", ["张", "王", "李", "赵", "刘"][n % 5] + "伟" + "一二三四五六七八九十"[n % 10]
        report = ("推荐工作情况报告.pdf", image_pdf([report_page(unit)])) if n == SCANNED else sealed_report(unit, n)
        first = [report, summary(unit, [person(name, "男", "1978.05", "教授")])]
        form = documents.form_docx(name, "", None, None)
        second = [(f"附件1：{name}推荐表.doc", word97_bytes({"form": form})["form"]) if n == LEGACY
                  else (f"附件1：{name}推荐表.docx", form), (f"{name}1.jpg", _photo(n, True))]
        second += [(f"{name}{k}.jpg", _photo(100 * n + k, False)) for k in (2, 3, 4)]
        for part, files in enumerate((first, second), 1):
            mails.append(clients.build_message(sender=f"unit{n}@163.com", sender_name=unit, to=MAILBOX,
                                               subject=f"【{district}】推荐材料（{part}/2）", body="请查收。",
                                               attachments=files, message_id=f"<fault-{n}-{part}@163.com>"))
    return mails


def config(path: Path, imap_config, smtp_server) -> Path:
    conf = write_config(path, imap_config)
    conf.write_text(conf.read_text(encoding="utf-8") + f"""
[smtp]
host = "127.0.0.1"
port = {smtp_server["port"]}
security = "starttls"
ca_file = "{smtp_server["cafile"]}"
username = "bot"
password_env = "{SMTP_PASSWORD_ENV}"
from_address = "{SMTP_FROM}"
[replies]
mode = "smtp"
settle_minutes = 0
[schedule]
poll_seconds = 10
send_seconds = 5
[campaign.photos]
min_bytes = 0
[limits]
parse_workers = 2
""", encoding="utf-8")
    assert mailintake(conf, "db", "upgrade").returncode == 0
    return conf


def survivors(run: str, root: Path) -> list[int]:
    """Processes still carrying this run's marker in their environment (the service, its workers, their OCR
    children) or naming the store in their command line (LibreOffice, which gets an environment of its own)."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and (f"{MARKER}={run}".encode() in (proc / "environ").read_bytes()
                                        or os.fsencode(root) in (proc / "cmdline").read_bytes()):
                found.append(int(proc.name))
        except OSError:
            continue
    return found


def hunted_child(service: int, hunt: set[str]) -> tuple[str, int] | None:
    """A descendant of the service whose command line shows one of the `hunt` children, and its pid."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parents[int(stat.parent.name)] = int(stat.read_bytes().rsplit(b")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
    family, frontier = set(), {service}
    while frontier:
        frontier = {pid for pid, parent in parents.items() if parent in frontier} - family
        family |= frontier
    for pid in sorted(family):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        for name in hunt:
            if HUNTED[name] in cmdline:
                return name, pid
    return None


def running(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_bytes().rsplit(b")", 1)[1].split()[0] not in (b"Z", b"X")
    except (OSError, IndexError):
        return False


def last_poll(db: Path) -> float:
    with sqlite3.connect(db) as conn:
        row = conn.execute("SELECT at FROM service_state WHERE name = 'poll_ok'").fetchone()
    return 0.0 if row is None else dt.datetime.fromisoformat(row[0][:19]).replace(tzinfo=dt.UTC).timestamp()


def one_round(conf: Path, db: Path, fault: str, run: str, root: Path, hunt: set[str],
              rng: random.Random) -> str | None:
    """One life of `serve` with one crash point armed. Returns how it ended: "fault" when it was killed at
    the point, a `hunt` child's name when the test SIGKILLed it while that child was running, else None."""
    env = {**os.environ, "MAILINTAKE_FAULTS": fault, MARKER: run}
    started = time.time()
    proc = subprocess.Popen([sys.executable, "-m", "mailintake.ingest.cli", "-c", str(conf), "serve"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.monotonic() + 120
    ended: str | None = None
    while proc.poll() is None and time.monotonic() < deadline:
        if last_poll(db) > started + 1:  # a whole cycle went by without reaching the point: nothing left to kill
            time.sleep(6)  # one more send pass
            break
        child = hunted_child(proc.pid, hunt) if hunt else None
        if child is not None:
            name, pid = child
            time.sleep(rng.uniform(*KILL_AFTER[name]))  # into its work
            if running(pid) and proc.poll() is None:
                proc.kill()  # the service alone, as a crash point does: its children must follow by themselves
                proc.wait()
                ended = name
                break
        time.sleep(0.1 if hunt else 0.3)
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
    proc.stderr.close()
    if ended in HUNTED:  # LibreOffice's tree dies with the launcher at once (soffice.bin used to finish alone)
        time.sleep(1)
        assert [pid for pid in survivors(run, root) if running(pid)] == [], f"{ended} outlived its service"
    deadline = time.monotonic() + 10
    while survivors(run, root) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert survivors(run, root) == [], f"a child outlived its service after {fault or 'no fault'} ({ended})"
    if ended is None and proc.returncode == -signal.SIGKILL:
        ended = "fault"
    return ended


def settled(conf: Path) -> bool:
    data = status(conf)
    return len(data["messages"]) == 2 * len(UNITS) and all(
        m["state"] == "processed" and m["reply"]["state"] in ("sent", "uncertain") for m in data["messages"])


def test_serve_killed_at_every_stage_loses_nothing_and_doubles_nothing(dovecot, imap_config, smtp_server,
                                                                       tmp_path, monkeypatch):
    monkeypatch.setenv(SMTP_PASSWORD_ENV, "botpass")
    mails = backlog()
    conf = config(tmp_path / "m.toml", imap_config, smtp_server)
    db = tmp_path / "mailintake.db"
    rng, run = random.Random(2021), uuid.uuid4().hex
    root = Path(imap_config.storage.root)
    kills: Counter = Counter()
    hunted: Counter = Counter()
    rounds = lives = arrived = 0
    # the backlog arrives while the service is being killed (a few mails per life), so every stage has work
    # whenever a point is armed; then lives without faults finish what is left. A life the test ends itself
    # under an OCR or LibreOffice child is one more, not one of the ROUNDS, and so is the life after it, with
    # no point armed: a scan or a conversion takes seconds, and a message whose processing is killed three
    # times is set aside as failed (which a crash-free run would not do), so that message gets a life to finish
    recovering = False
    while rounds < ROUNDS or not settled(conf):
        upto = (rounds + 1) * len(mails) // ROUNDS if rounds < ROUNDS else len(mails)
        for n in range(arrived, upto):
            dovecot.append(imap_config.mailbox.folder, mails[n],
                           BEFORE_DEADLINE.replace(minute=n % 60, hour=9 + n // 60))
        arrived = max(arrived, upto)
        point = POINTS[rounds % len(POINTS)] if rounds < ROUNDS and not recovering else ""
        lives += 1
        ended = one_round(conf, db, f"{point}:{rng.randint(1, 2)}" if point else "", run, root,
                          {name for name in HUNTED if not hunted[name]} if not recovering else set(), rng)
        if ended in HUNTED:
            hunted[ended] += 1
            recovering = True
        elif recovering:
            recovering = False
        else:
            rounds += 1
            if ended == "fault" and point:
                kills[point] += 1
        assert lives < ROUNDS + 25, f"no progress after {lives} lives: {kills}, {hunted}"
    print(f"\n{sum(kills.values())} kills in {rounds} rounds: {dict(kills)}; "
          f"killed under a child: {dict(hunted)}; {lives} lives")
    for stage, points in STAGES.items():
        assert sum(kills[p] for p in points) >= 3, f"stage {stage} took fewer than three kills: {kills}"
    assert sum(kills.values()) >= 30
    assert hunted == {"ocr": 1, "soffice": 1}, f"never killed while an OCR or LibreOffice child ran: {hunted}"

    data = status(conf)
    assert sorted(m["message_id"] for m in data["messages"]) == sorted(f"<fault-{n}-{p}@163.com>"
                                                                       for n in range(len(UNITS)) for p in (1, 2))
    _store_is_whole(Path(imap_config.storage.root), data)
    _dossiers_equal_a_crash_free_run(data, mails, tmp_path, dovecot)
    _each_message_answered_once(data, smtp_server)


def _store_is_whole(root: Path, data: dict) -> None:
    assert list((root / "tmp").iterdir()) == [], "no temporary file left"
    assert list((root / "cache").rglob("*.tmp")) == [], "no half-written cache entry left"
    assert list((root / "convert").iterdir()) == [], "no LibreOffice work folder left"
    assert list((root / "cache" / "ocr").glob("*.json")) and list((root / "cache" / "legacy").glob("*.docx"))
    raws = {p.stem for p in (root / "raw").rglob("*.eml")}
    assert {r[:12] for r in raws} == {m["key"][:12] for m in data["messages"]}, "a raw file without its row"
    for area in ("raw", "files"):
        for blob in (root / area).rglob("*.*"):
            assert hashlib.sha256(blob.read_bytes()).hexdigest() == blob.stem, f"{blob} does not match its name"
    kept = {a["sha256"] for m in data["messages"] for a in m["attachments"]}
    files = {p.stem for p in (root / "files").rglob("*.bin")}
    assert files <= kept, f"orphaned files: {len(files - kept)}"
    assert len(raws) == len(data["messages"]), "one raw message per recorded message, no orphan"


def _dossiers_equal_a_crash_free_run(data: dict, mails: list[bytes], tmp_path: Path, dovecot) -> None:
    folder = dovecot.new_folder()
    for n, raw in enumerate(mails):
        dovecot.append(folder, raw, BEFORE_DEADLINE.replace(minute=n % 60, hour=9 + n // 60))
    clean = tmp_path / "clean"
    clean.mkdir()
    conf = (tmp_path / "m.toml").read_text(encoding="utf-8")
    conf = conf.replace(str(tmp_path / "mailintake.db"), str(clean / "mailintake.db"))
    conf = conf.replace(str(tmp_path / "store"), str(clean / "store")).replace('mode = "smtp"', 'mode = "off"')
    conf = conf.replace(f'folder = "{_folder(conf)}"', f'folder = "{folder}"')
    (clean / "m.toml").write_text(conf, encoding="utf-8")
    assert mailintake(clean / "m.toml", "db", "upgrade").returncode == 0
    assert mailintake(clean / "m.toml", "poll").returncode == 0
    assert status(clean / "m.toml")["units"] == data["units"]


def _folder(conf: str) -> str:
    return next(line.split('"')[1] for line in conf.splitlines() if line.startswith("folder = "))


def _each_message_answered_once(data: dict, smtp_server: dict) -> None:
    answered: Counter = Counter()
    for _, _, raw in smtp_server["handler"].messages:
        answered[message_from_bytes(raw, policy=policy.default)["In-Reply-To"]] += 1
    assert max(answered.values()) == 1, f"answered twice: {[k for k, v in answered.items() if v > 1]}"
    for m in data["messages"]:
        if m["reply"]["state"] == "sent":
            assert answered[m["message_id"]] == 1, m["display_reference"]
        else:
            assert m["reply"]["state"] == "uncertain" and answered[m["message_id"]] <= 1
