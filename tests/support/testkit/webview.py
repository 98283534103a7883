"""The organisers' web view for tests: a campaign built through the real pipeline, the real app under uvicorn
on 127.0.0.1 (a free port, a thread of the test process, as `serve` runs it), a clock the test moves, and
plain HTTP with urllib that never follows a redirect and sends a cookie only when given one."""

from __future__ import annotations

import datetime as dt
import http.cookies
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path

from mailintake.ingest.context import Context
from mailintake.ingest.samples import clients, documents
from mailintake.reports.web.app import make_app
from mailintake.reports.web.auth import Accounts
from mailintake.reports.web.server import RunningView, start_in_thread
from mailintake.store.db import make_engine, upgrade
from testkit.desk import BEFORE_DEADLINE, MaildirDesk
from testkit.mail import MAILBOX
from testkit.materials import materials
from testkit.servers import free_port

ORGANISER, PASSWORD = "xiong", "campaign-2021-secret"
COOKIE = "mailintake_session"


def campaign(desk: MaildirDesk, incomplete: bool = True) -> dict:
    """District units as the organisers see them on the last days: 渝中区 complete (王芳, 李娜), 北碚区 without
    its report (unless not `incomplete`), and 南岸区 whose candidate's form is marked 机密★1年 (quarantined), with
    a second, clean mail of a photo (nakx2@qq.com) that the quarantine withholds too."""
    desk.deliver(clients.build_message(sender="yzkx@qq.com", sender_name="渝中区科协", to=MAILBOX,
                                       subject="【渝中区】推荐材料", body="见附件",
                                       attachments=materials("渝中区科协", ["王芳", "李娜"])))
    if incomplete:
        desk.deliver(clients.build_message(sender="bbkx@qq.com", sender_name="北碚区科协", to=MAILBOX,
                                           subject="【北碚区】推荐材料", body="请查收",
                                           attachments=materials("北碚区科协", ["赵磊"], seed=7, report=False)),
                     when=BEFORE_DEADLINE + dt.timedelta(hours=1))
    secret = documents.form_docx("孙磊", "", None, "机密★1年")
    files = [(n, secret if n.endswith("推荐表.docx") else d) for n, d in materials("南岸区科协", ["孙磊"], seed=11)]
    desk.deliver(clients.build_message(sender="nakx@qq.com", sender_name="南岸区科协", to=MAILBOX,
                                       subject="【南岸区】推荐材料", body="请查收", attachments=files),
                 when=BEFORE_DEADLINE + dt.timedelta(hours=2))
    photos = [(n, d) for n, d in files if n.endswith(".jpg")][:1]  # a clean mail: its bytes are kept, never shown
    desk.deliver(clients.build_message(sender="nakx2@qq.com", sender_name="南岸区科协", to=MAILBOX,
                                       subject="【南岸区】补充照片", body="补充", attachments=photos),
                 when=BEFORE_DEADLINE + dt.timedelta(hours=3))
    return desk.poll()


@dataclass
class Clock:
    """The view's clock: real time plus whatever the test has moved it on by."""

    ahead: dt.timedelta = field(default_factory=dt.timedelta)

    def __call__(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC) + self.ahead

    def move(self, **delta: float) -> None:
        self.ahead += dt.timedelta(**delta)


@dataclass
class Reply:
    status: int
    headers: Message
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def cookie(self) -> str | None:
        """The session cookie this response sets, if any."""
        for line in self.headers.get_all("set-cookie") or []:
            jar = http.cookies.SimpleCookie(line)
            if COOKIE in jar and jar[COOKIE].value:
                return jar[COOKIE].value
        return None


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: ANN001 - urllib's signature
        return None


_OPENER = urllib.request.build_opener(_NoRedirects)


@dataclass
class LiveView:
    base: str
    running: RunningView
    clock: Clock

    def request(self, path: str, cookie: str | None = None, form: dict | None = None,
                headers: dict | None = None) -> Reply:
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        req = urllib.request.Request(self.base + urllib.parse.quote(path, safe="/?=&%:"), data=data,
                                     headers=dict(headers or {}))
        if cookie:
            req.add_header("Cookie", f"{COOKIE}={cookie}")
        try:
            with _OPENER.open(req, timeout=60) as resp:
                return Reply(resp.status, resp.headers, resp.read())
        except urllib.error.HTTPError as err:
            return Reply(err.code, err.headers, err.read())

    def login(self, name: str = ORGANISER, password: str = PASSWORD, **headers: str) -> Reply:
        return self.request("/login", form={"name": name, "password": password, "next": "/"}, headers=headers)

    def session(self) -> str:
        """A logged-in organiser's cookie."""
        reply = self.login()
        assert reply.status == 303, reply.text
        cookie = reply.cookie()
        assert cookie
        return cookie

    def stop(self) -> None:
        self.running.stop()


def add_organiser(ctx: Context, name: str = ORGANISER, password: str = PASSWORD) -> None:
    Accounts(ctx.db, ctx.clock).set_password(name, password)


def start_view(ctx: Context, clock: Clock | None = None) -> LiveView:
    """The app for `ctx`'s store on a free loopback port; stop it with `.stop()`."""
    clock = clock or Clock()
    port = free_port()
    running = start_in_thread(make_app(ctx.config, ctx.db, ctx.blobs, ctx.scope, clock), "127.0.0.1", port)
    return LiveView(f"http://127.0.0.1:{port}", running, clock)


def config_file(tmp_path: Path, extra: str = "") -> Path:
    """A config file for an empty Maildir, its SQLite database migrated in-process (no `db upgrade` run), with
    `extra` TOML appended: for tests that start `mailintake web` or `serve` as the operator does."""
    box = tmp_path / "box"
    for sub in ("new", "cur", "tmp"):
        (box / sub).mkdir(parents=True, exist_ok=True)
    engine = make_engine(f"sqlite:///{tmp_path}/m.db")
    upgrade(engine)
    engine.dispose()
    conf = tmp_path / "m.toml"
    conf.write_text(f'[mailbox]\nsource = "maildir"\npath = "{box}"\n[database]\nurl = "sqlite:///{tmp_path}/m.db"\n'
                    f'[storage]\nroot = "{tmp_path}/store"\n{extra}', encoding="utf-8")
    return conf
