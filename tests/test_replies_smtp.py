"""Replies over a real SMTP server (aiosmtpd on 127.0.0.1, STARTTLS required, AUTH, verified TLS): sent once,
4xx deferred with back-off then sent once, 5xx failed with the server's text, a crash after the 250 leaves
the row uncertain and nothing is sent again until an organiser resends it."""

from __future__ import annotations

import dataclasses
import datetime as dt
import email
import os
import subprocess
import sys
import textwrap
from email import policy

import pytest

from mailintake.ingest.replies.outbox import outbox_lines, resend
from mailintake.ingest.samples import clients
from mailintake.ingest.samples.mailbox import candidate_files, person, sealed_report, summary
from testkit.desk import MaildirDesk
from testkit.mail import MAILBOX

PASSWORD_ENV = "MAILINTAKE_TEST_SMTP_PASSWORD"
FROM = "834396688@qq.com"


def submission(sender: str = "spbkx@163.com") -> bytes:
    files = [sealed_report("沙坪坝区科协", 1), summary("沙坪坝区科协", [person("张伟", "男", "1978.05", "教授")]),
             *candidate_files("张伟", 1)]
    return clients.build_message(sender=sender, sender_name="沙坪坝区科协", to=MAILBOX,
                                 subject="【沙坪坝区】推荐材料", body="请查收。", attachments=files,
                                 message_id="<spb-smtp@163.com>")


def smtp_section(server: dict) -> dict:
    return {"host": "127.0.0.1", "port": server["port"], "security": "starttls", "ca_file": server["cafile"],
            "username": "bot", "password_env": PASSWORD_ENV, "from_address": FROM, "timeout_seconds": 20}


@pytest.fixture
def desk(tmp_path, smtp_server, monkeypatch):
    monkeypatch.setenv(PASSWORD_ENV, "botpass")
    d = MaildirDesk(tmp_path, replies={"mode": "smtp"}, smtp=smtp_section(smtp_server))
    yield d
    d.close()


def later(desk: MaildirDesk, minutes: float) -> None:
    now = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=minutes)
    desk.ctx = dataclasses.replace(desk.ctx, clock=lambda: now)


def test_a_receipt_goes_over_starttls_with_auth_exactly_once(desk, smtp_server):
    desk.deliver(submission())
    [msg] = desk.poll()["messages"]
    assert msg["reply"]["kind"] == "receipt" and msg["reply"]["state"] == "sent"
    [(mail_from, rcpts, raw)] = smtp_server["handler"].messages
    assert (mail_from, rcpts) == (FROM, ["spbkx@163.com"])
    m = email.message_from_bytes(raw, policy=policy.default)
    assert m["Subject"] == "回执：【沙坪坝区】推荐材料" and m["From"] == FROM
    assert m["In-Reply-To"] == "<spb-smtp@163.com>" and m["Auto-Submitted"] == "auto-replied"
    raw.split(b"\r\n\r\n", 1)[0].decode("ascii")
    desk.poll()
    assert len(smtp_server["handler"].messages) == 1


def test_a_4xx_defers_with_back_off_then_sends_once(desk, smtp_server):
    handler = smtp_server["handler"]
    answers = ["451 4.3.0 Temporary local problem, try later"]
    original = handler.handle_DATA

    async def flaky(server, session, envelope):
        return answers.pop(0) if answers else await original(server, session, envelope)

    handler.handle_DATA = flaky
    desk.deliver(submission())
    [msg] = desk.poll()["messages"]
    assert msg["reply"]["state"] == "pending" and handler.messages == []
    [line] = outbox_lines(desk.ctx)
    assert "451 4.3.0 Temporary local problem" in line
    desk.poll()  # inside the back-off: not tried again
    assert handler.messages == []
    later(desk, 6)
    [msg] = desk.poll()["messages"]
    assert msg["reply"]["state"] == "sent" and len(handler.messages) == 1
    later(desk, 60)
    desk.poll()
    assert len(handler.messages) == 1


def test_a_5xx_marks_the_reply_failed_with_the_server_text(desk, smtp_server):
    async def refuse(server, session, envelope):
        return "554 5.7.1 Message rejected as spam"

    smtp_server["handler"].handle_DATA = refuse
    desk.deliver(submission())
    [msg] = desk.poll()["messages"]
    assert msg["reply"]["state"] == "failed"
    [line] = outbox_lines(desk.ctx)
    assert "554 5.7.1 Message rejected as spam" in line
    later(desk, 600)
    desk.poll()
    assert desk.status()["messages"][0]["reply"]["state"] == "failed"


def test_a_crash_after_the_250_leaves_the_row_uncertain_and_it_is_never_resent_by_itself(desk, smtp_server, tmp_path):
    desk.deliver(submission())
    conf = tmp_path / "crash.toml"
    s = smtp_section(smtp_server)
    conf.write_text(textwrap.dedent(f"""\
        [mailbox]
        source = "maildir"
        path = "{desk.box}"
        [database]
        url = "{desk.cfg.database.url}"
        [storage]
        root = "{desk.cfg.storage.root}"
        [replies]
        mode = "smtp"
        dir = "{tmp_path / 'replies'}"
        [smtp]
        host = "{s['host']}"
        port = {s['port']}
        security = "starttls"
        ca_file = "{s['ca_file']}"
        username = "bot"
        password_env = "{PASSWORD_ENV}"
        from_address = "{FROM}"
        """), encoding="utf-8")
    crash = textwrap.dedent(f"""\
        import os
        from mailintake.ingest import config
        from mailintake.ingest.context import Context
        from mailintake.ingest.poll import poll
        from mailintake.ingest.replies import send
        send._mark_sent = lambda *a: os._exit(3)  # test-only crash point: after the 250, before `sent`
        poll(Context.open(config.load({str(conf)!r})))
        """)
    done = subprocess.run([sys.executable, "-c", crash], env={**os.environ, PASSWORD_ENV: "botpass"},
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 3, done.stderr[-2000:]
    assert len(smtp_server["handler"].messages) == 1  # it left
    [msg] = desk.poll()["messages"]
    assert msg["reply"]["state"] == "uncertain"
    later(desk, 600)
    desk.poll()
    assert len(smtp_server["handler"].messages) == 1 and desk.status()["messages"][0]["reply"]["state"] == "uncertain"
    said = resend(desk.ctx, str(msg["reply"]["reference"]))
    assert "was uncertain" in said and said.endswith("now sent")
    assert len(smtp_server["handler"].messages) == 2
    first, second = (email.message_from_bytes(raw, policy=policy.default)
                     for _, _, raw in smtp_server["handler"].messages)
    assert first["Message-ID"] == second["Message-ID"]  # the same mail: a client that got both shows one


def test_a_wrong_password_defers_instead_of_failing_the_reply(tmp_path, smtp_server, monkeypatch):
    monkeypatch.setenv(PASSWORD_ENV, "wrong")
    desk = MaildirDesk(tmp_path, replies={"mode": "smtp"}, smtp=smtp_section(smtp_server))
    try:
        desk.deliver(submission())
        [msg] = desk.poll()["messages"]
        assert msg["reply"]["state"] == "pending" and smtp_server["handler"].messages == []
    finally:
        desk.close()
