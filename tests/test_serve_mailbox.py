"""`serve` and the provider's mailbox, as the operator of a QQ Mail account needs it: one login kept from poll
to poll, new mail heard within seconds through IMAP IDLE, a refused authorisation code told by e-mail at
once, and a provider that says "too many logins" left alone for longer than an ordinary outage."""

from __future__ import annotations

import datetime as dt
import socketserver
import threading
import time
from pathlib import Path

from sqlalchemy import select

from mailintake.ingest.config import Config
from mailintake.ingest.serve import Service
from mailintake.store.models import Outbox
from testkit.cli import mailintake, status
from testkit.config import open_context, write_config
from testkit.mail import plain_mail
from testkit.servers import IMAP_PASSWORD_ENV, free_port
from testkit.serving import start_serve, stop, wait_for

OPERATOR = "ops@example.org"


def logins(dovecot) -> int:
    return (Path(dovecot.dir) / "dovecot.log").read_text(encoding="utf-8").count(f"Login: user=<{dovecot.user}>")


def with_sections(cfg: Config, **sections: dict) -> Config:
    data = cfg.model_dump()
    for name, values in sections.items():
        data[name] = {**data.get(name, {}), **values}
    return Config.model_validate(data)


def alerts(ctx) -> list[Outbox]:
    with ctx.db.session() as s:
        rows = list(s.scalars(select(Outbox).where(Outbox.kind == "alert").order_by(Outbox.id)))
        s.expunge_all()
    return rows


def test_new_mail_is_heard_within_seconds_and_polls_reuse_one_login(dovecot, imap_config, tmp_path):
    conf = write_config(tmp_path / "imap.toml", imap_config)
    conf.write_text(conf.read_text(encoding="utf-8") + "[schedule]\npoll_seconds = 3600\n", encoding="utf-8")
    assert mailintake(conf, "db", "upgrade").returncode == 0
    before = logins(dovecot)
    proc = start_serve(conf)
    try:
        wait_for(lambda: mailintake(conf, "health").returncode == 0)
        for n in range(3):  # an hour between polls: only IDLE can bring these in
            dovecot.append(imap_config.mailbox.folder, plain_mail(n), dt.datetime.now(dt.UTC))
            wait_for(lambda n=n: len(status(conf)["messages"]) == n + 1, timeout=30)
    finally:
        code, err = stop(proc)
    assert code == 0, err
    appends = 3  # the test's own APPEND connections log in too
    assert logins(dovecot) - before - appends == 2, "one kept connection for the polls, one waiting in IDLE"


def test_a_refused_authorisation_code_is_mailed_to_the_operator_once(dovecot, imap_config, monkeypatch):
    cfg = with_sections(imap_config, schedule={"operators": [OPERATOR]})
    monkeypatch.setenv(IMAP_PASSWORD_ENV, "an-expired-code")
    service = Service(open_context(cfg))
    poll = service.guarded("mailbox", service.poll_once)
    poll()
    assert alerts(service.ctx) == [], "one refusal may be the provider's hiccup"
    tried = logins(dovecot)
    poll()
    assert logins(dovecot) == tried, "backing off: not retried at once"
    for _ in range(3):
        service.outages["mailbox"].retry_at = 0  # the back-off has passed
        poll()
    [alert] = alerts(service.ctx)
    assert alert.to_address == OPERATOR and alert.subject == "mailintake：邮箱登录被拒绝"
    assert "授权码" in alert.text_body and "AUTHENTICATIONFAILED" in alert.text_body
    monkeypatch.setenv(IMAP_PASSWORD_ENV, dovecot.password)  # the operator puts in a new code
    service.outages["mailbox"].retry_at = 0
    poll()
    assert [a.subject for a in alerts(service.ctx)] == ["mailintake：邮箱登录被拒绝", "mailintake：mailbox 已恢复"]


class TooManyLogins(socketserver.StreamRequestHandler):
    """What a throttling provider says: a greeting, then NO [UNAVAILABLE] to every LOGIN (RFC 5530)."""

    def handle(self) -> None:
        self.wfile.write(b"* OK [CAPABILITY IMAP4rev1] ready\r\n")
        for line in self.rfile:
            tag, _, command = line.decode().strip().partition(" ")
            verb = command.split(" ")[0].upper()
            if verb == "CAPABILITY":
                self.wfile.write(f"* CAPABILITY IMAP4rev1\r\n{tag} OK done\r\n".encode())
            elif verb == "LOGIN":
                self.wfile.write(f"{tag} NO [UNAVAILABLE] Too many login attempts, try again later\r\n".encode())
            else:
                self.wfile.write(f"* BYE\r\n{tag} OK bye\r\n".encode())
                return


def test_a_provider_that_says_too_many_logins_is_left_alone_longer_and_no_password_alarm(imap_config, monkeypatch):
    server = socketserver.ThreadingTCPServer(("127.0.0.1", free_port()), TooManyLogins)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        cfg = with_sections(imap_config, mailbox={"port": server.server_address[1], "security": "none"},
                            schedule={"operators": [OPERATOR], "poll_seconds": 60, "busy_backoff_minutes": 10})
        service = Service(open_context(cfg))
        poll = service.guarded("mailbox", service.poll_once)
        poll()
        for _ in range(2):
            service.outages["mailbox"].retry_at = 0  # the back-off has passed
            poll()
    finally:
        server.shutdown()
        server.server_close()
    outage = service.outages["mailbox"]
    assert outage.failures == 3 and outage.retry_at - time.monotonic() > 30 * 60 * 0.9, "10, 20, then 30 min"
    assert alerts(service.ctx) == [], "a busy provider is not a wrong password"
