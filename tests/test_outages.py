"""What the operator sees when the world misbehaves for a while, and what nobody loses meanwhile: an SMTP
server refusing then accepting, a sending account whose replies all fail, a disk filling up or full, a
database locked or gone. Each is one line when it starts and one when it ends, an e-mail where it will not
pass by itself, and never a lost or doubled message or reply."""

from __future__ import annotations

import logging
import os
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import func, select

from mailintake.common.vocab import MessageState
from mailintake.ingest.serve import Service
from mailintake.store.models import Message, Outbox
from testkit.cli import mailintake, status
from testkit.config import make_config, open_context, with_smtp
from testkit.mail import plain_mail
from testkit.servers import free_port
from testkit.serving import start_serve, stop, wait_for

OPERATOR = "ops@example.org"
SERVERS = Path(__file__).parent / "servers"


def maildir(tmp_path: Path, mails: int, first: int = 0, body: str = "") -> Path:
    box = tmp_path / "box"
    for sub in ("new", "cur", "tmp"):
        (box / sub).mkdir(parents=True, exist_ok=True)
    for n in range(first, first + mails):
        (box / "new" / f"{1621400000 + n}.M{n}P1.host").write_bytes(plain_mail(n, body))
    return box


def smtp_service(tmp_path, smtp_server, monkeypatch, mails: int) -> Service:
    cfg = make_config(tmp_path, mailbox={"source": "maildir", "path": str(maildir(tmp_path, mails))})
    cfg = with_smtp(cfg, smtp_server, monkeypatch, replies={"settle_minutes": 0, "retry_minutes": 0.01},
                    schedule={"operators": [OPERATOR], "failed_replies_alert": 3})
    return Service(open_context(cfg))


def outbox(service: Service, kind: str | None = None) -> list[Outbox]:
    with service.ctx.db.session() as s:
        query = select(Outbox).order_by(Outbox.id)
        rows = list(s.scalars(query if kind is None else query.where(Outbox.kind == kind)))
        s.expunge_all()
    return rows


def retry_now(service: Service, what: str) -> None:
    service.outages[what].retry_at = 0
    time.sleep(1.2)  # past the outbox rows' own back-off (retry_minutes = 0.01)


def test_an_smtp_server_refusing_for_a_while_gets_every_reply_once_when_it_accepts(
        tmp_path, smtp_server, monkeypatch, caplog):
    service = smtp_service(tmp_path, smtp_server, monkeypatch, mails=3)
    capture = smtp_server["handler"]
    capture.refuse = "451 4.3.0 Mailbox temporarily unavailable, try again later"
    caplog.set_level(logging.INFO)
    service.guarded("mailbox", service.poll_once)()
    send = service.guarded("smtp", service.send_once)
    send()
    for _ in range(3):
        retry_now(service, "smtp")
        send()
    assert capture.messages == [] and {r.state for r in outbox(service)} == {"pending"}
    capture.refuse = None
    retry_now(service, "smtp")
    send()
    replies = outbox(service)
    assert len(replies) == 3 and {r.state for r in replies} == {"sent"}
    assert sorted(rcpt for _, [rcpt], _ in capture.messages) == ["unit0@example.cn", "unit1@example.cn",
                                                                  "unit2@example.cn"]
    assert caplog.text.count("smtp unavailable") == 1 and caplog.text.count("smtp available again") == 1


def test_replies_failing_in_a_row_are_mailed_to_the_operator_once_and_their_recovery_too(
        tmp_path, smtp_server, monkeypatch):
    service = smtp_service(tmp_path, smtp_server, monkeypatch, mails=4)
    capture = smtp_server["handler"]
    capture.refuse = "550 5.7.1 Sender account blocked for spam"
    poll = service.guarded("mailbox", service.poll_once)
    poll()
    poll()
    assert [r.state for r in outbox(service) if r.kind != "alert"] == ["failed"] * 4
    [alert] = outbox(service, "alert")
    assert alert.subject == "mailintake：回执连续发送失败" and alert.to_address == OPERATOR
    capture.refuse = None
    maildir(tmp_path, 1, first=4)  # one more submission, once the account is unblocked
    poll()
    assert [a.subject for a in outbox(service, "alert")] == ["mailintake：回执连续发送失败",
                                                             "mailintake：replies 已恢复"]
    service.guarded("smtp", service.send_once)()
    told = [raw for _, [rcpt], raw in capture.messages if rcpt == OPERATOR]
    assert len(told) == 1, "the first alert met the same blocked account; its recovery gets through"


def test_a_disk_filling_up_is_mailed_at_once_and_its_end_too(tmp_path):
    cfg = make_config(tmp_path, mailbox={"source": "maildir", "path": str(maildir(tmp_path, 0))},
                      schedule={"operators": [OPERATOR], "min_free_mb": 10 ** 9})
    service = Service(open_context(cfg))
    housekeeping = service.guarded("housekeeping", service.housekeeping)
    housekeeping()
    [alert] = outbox(service, "alert")
    assert alert.subject == "mailintake：存储磁盘空间不足" and "min_free_mb" in alert.text_body
    service.ctx.config.schedule.min_free_mb = 1  # the operator made room
    retry_now(service, "housekeeping")
    housekeeping()
    assert [a.subject for a in outbox(service, "alert")][-1] == "mailintake：housekeeping 已恢复"


def test_a_full_disk_stops_the_poll_with_a_clear_line_and_loses_nothing(tmp_path):
    box = maildir(tmp_path, 3, body="材料见附件。\n" * 400_000)  # 7.6 MB each
    conf = tmp_path / "m.toml"
    conf.write_text(f'[mailbox]\nsource = "maildir"\npath = "{box}"\n[database]\nurl = "sqlite:///{tmp_path}/m.db"\n'
                    f'[storage]\nroot = "{tmp_path}/store"\n', encoding="utf-8")
    assert mailintake(conf, "db", "upgrade").returncode == 0

    def small_disk() -> None:  # no file this process writes grows past 4 MiB: room for the database only
        resource.setrlimit(resource.RLIMIT_FSIZE, (4 << 20, 4 << 20))

    full = subprocess.run([sys.executable, "-m", "mailintake.ingest.cli", "-c", str(conf), "poll"],
                          capture_output=True, text=True, preexec_fn=small_disk, timeout=300)
    assert full.returncode == 1
    assert full.stderr.strip().splitlines() == [
        f"error: cannot write to the storage root {tmp_path}/store: File too large"]
    assert status(conf)["messages"] == [] and not list((tmp_path / "store" / "tmp").iterdir())
    assert mailintake(conf, "poll").returncode == 0, "room again: the next poll takes everything"
    assert sorted(m["sender"] for m in status(conf)["messages"]) == [f"unit{n}@example.cn" for n in range(3)]


def test_a_database_locked_for_a_while_is_one_outage_and_the_mail_waits(tmp_path, caplog):
    cfg = make_config(tmp_path, mailbox={"source": "maildir", "path": str(maildir(tmp_path, 2))})
    service = Service(open_context(cfg))
    caplog.set_level(logging.INFO)
    locker = sqlite3.connect(tmp_path / "mailintake.db", timeout=0)
    locker.execute("BEGIN EXCLUSIVE")  # a backup tool or a stray sqlite3 shell holding the database
    try:
        service.ctx.db.engine.dispose()
        poll = service.guarded("mailbox", service.poll_once)
        poll()
        retry_now(service, "database")
        poll()
    finally:
        locker.rollback()
        locker.close()
    retry_now(service, "database")
    poll()
    assert caplog.text.count("database unavailable") == 1 and caplog.text.count("database available again") == 1
    with service.ctx.db.session() as s:
        assert len(list(s.scalars(select(Outbox)))) == 2, "both mails answered, once each"


class Postgres:
    """A PostgreSQL of the test's own, so stopping it disturbs no other test."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="mailintake-pg-")
        self.env = {**os.environ, "PGPORT": str(free_port())}
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.env['PGPORT']}/postgres"

    def start(self) -> None:
        subprocess.run([SERVERS / "postgres.sh", "start", self.dir], check=True, capture_output=True, env=self.env,
                       timeout=600)

    def stop(self) -> None:
        subprocess.run([SERVERS / "postgres.sh", "stop", self.dir], capture_output=True, env=self.env, timeout=120)


def test_postgresql_gone_for_a_while_is_one_outage_and_serve_carries_on(tmp_path):
    pg = Postgres()
    pg.start()
    box = maildir(tmp_path, 2)
    conf = tmp_path / "m.toml"
    conf.write_text(f'[mailbox]\nsource = "maildir"\npath = "{box}"\n[database]\nurl = "{pg.url}"\n'
                    f'[storage]\nroot = "{tmp_path}/store"\n[schedule]\npoll_seconds = 10\nsend_seconds = 5\n'
                    '[replies]\nsettle_minutes = 0\n', encoding="utf-8")
    try:
        assert mailintake(conf, "db", "upgrade").returncode == 0
        proc = start_serve(conf)
        try:
            wait_for(lambda: len(status(conf)["messages"]) == 2)
            pg.stop()
            maildir(tmp_path, 1, first=2)  # mail arriving while the database is gone
            time.sleep(25)  # two poll intervals and a few sends
            pg.start()
            wait_for(lambda: len(status(conf)["messages"]) == 3, timeout=120)
            senders = sorted(m["sender"] for m in status(conf)["messages"])
        finally:
            code, err = stop(proc)
    finally:
        pg.stop()
        shutil.rmtree(pg.dir, ignore_errors=True)
    assert code == 0, err
    assert err.count("database unavailable") == 1 and err.count("database available again") == 1, err
    assert senders == [f"unit{n}@example.cn" for n in range(3)]


def test_replies_go_out_while_a_long_backlog_is_still_being_processed(tmp_path, smtp_server, monkeypatch):
    service = smtp_service(tmp_path, smtp_server, monkeypatch, mails=3)
    service.ctx.config.schedule.send_seconds = 0  # every gap between two messages is the sender's turn
    capture, processed_then = smtp_server["handler"], []
    keep = capture.handle_DATA

    async def counting(server, session, envelope):
        with service.ctx.db.session() as s:
            processed_then.append(s.scalar(select(func.count()).select_from(Message)
                                           .where(Message.state == MessageState.PROCESSED)))
        return await keep(server, session, envelope)

    capture.handle_DATA = counting
    service.guarded("mailbox", service.poll_once)()
    assert len(capture.messages) == 3 and processed_then[0] < 3, processed_then
