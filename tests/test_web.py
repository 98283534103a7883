"""The organisers' web view over HTTP, as the telephone calls of the last days need it and as no one else may
see it: nothing without a login, a wrong password refused and then rate-limited, sessions that end, files
only by id with a safe name, and nothing of quarantined material ever served. The app runs for real under
uvicorn on 127.0.0.1 (testkit/webview.py) over a campaign built by the real pipeline."""

from __future__ import annotations

import dataclasses
import io
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from urllib.parse import unquote

import pytest
from PIL import Image

from mailintake.common.errors import ConfigError
from mailintake.ingest.cli import main
from mailintake.ingest.config import Web, from_dict
from mailintake.ingest.demo import web_hint
from mailintake.ingest.web import web_view
from mailintake.reports.web.thumbs import Thumbnails
from mailintake.store.models import Attachment, Message, Unit
from testkit.config import write_config
from testkit.desk import MaildirDesk
from testkit.servers import free_port
from testkit.serving import start_serve, stop, wait_for
from testkit.webview import ORGANISER, PASSWORD, Clock, add_organiser, campaign, config_file, start_view

PAGES = ("/", "/units", "/units?q=李娜")


@pytest.fixture(scope="module")
def desk(tmp_path_factory):
    d = MaildirDesk(tmp_path_factory.mktemp("web"))
    campaign(d)
    add_organiser(d.ctx)
    yield d
    d.close()


@pytest.fixture
def view(desk):
    v = start_view(desk.ctx)
    yield v
    v.stop()


def files_of(desk: MaildirDesk, sender: str) -> list[tuple[int, str, str]]:
    """(attachment id, display name, sha256) of every file the sender mailed."""
    with desk.ctx.db.session() as s:
        rows = s.query(Attachment, Message).join(Message).filter(Message.sender == sender).all()
        return [(a.id, a.display_name, a.sha256) for a, _ in rows]


def unit_id(desk: MaildirDesk, name: str) -> int:
    with desk.ctx.db.session() as s:
        return s.query(Unit).filter(Unit.name == name).one().id


def message_id(desk: MaildirDesk, sender: str) -> int:
    with desk.ctx.db.session() as s:
        return s.query(Message).filter(Message.sender == sender).one().id


def test_without_a_login_no_page_and_no_file_is_given_out(desk, view):
    [(fid, _, sha), *_] = files_of(desk, "yzkx@qq.com")
    stored = desk.stored(sha)
    for path in (*PAGES, f"/units/{unit_id(desk, '渝中区')}", f"/messages/{message_id(desk, 'yzkx@qq.com')}"):
        reply = view.request(path)
        assert reply.status == 303 and reply.headers["location"].startswith("/login?next="), path
        assert reply.body == b""
    for path in (f"/files/{fid}", f"/photos/{fid}", f"/thumbs/{fid}", "/export.zip", "/units/1/export.zip"):
        reply = view.request(path)
        assert reply.status == 401 and stored not in reply.body and b"PK" not in reply.body, path
    forged = view.request(f"/files/{fid}", cookie="not-a-session")
    assert forged.status == 401


def test_an_organiser_logs_in_and_sees_the_overview_with_the_same_figures_as_the_workbook(desk, view):
    reply = view.login()
    assert reply.status == 303 and reply.headers["location"] == "/"
    cookie = reply.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict")
    assert "Secure" not in cookie, "plain http on loopback: no Secure flag (auto)"
    page = view.request("/", cookie=reply.cookie())
    assert page.status == 200
    html = page.text
    assert "总览" in html and "每日来信" in html and "<svg" in html
    assert "尚未报送的区县级单位（38）" in html and "万州区" in html
    for name, value in SECURITY_HEADERS.items():
        assert page.headers[name] == value, name
    assert page.headers["cache-control"] == "no-store"
    assert "http://" not in re.sub(r'xmlns="http://www.w3.org/2000/svg"', "", html), "nothing fetched elsewhere"


SECURITY_HEADERS = {
    "content-security-policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                               "frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    "x-content-type-options": "nosniff", "x-frame-options": "DENY", "referrer-policy": "no-referrer"}


def test_behind_a_tls_proxy_on_loopback_the_session_cookie_is_secure(view):
    reply = view.login(**{"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"})
    assert reply.status == 303 and "Secure" in reply.headers["set-cookie"]


def test_a_unit_is_found_by_candidate_sender_or_reference_and_its_page_lists_everything(desk, view):
    cookie = view.session()
    for query in ("李娜", "yzkx@qq.com", f"2021-{message_id(desk, 'yzkx@qq.com'):04d}", "渝中"):
        html = view.request(f"/units?q={query}", cookie=cookie).text
        assert "渝中区" in html and "北碚区" not in html, query
    assert "北碚区" in view.request("/units?status=incomplete", cookie=cookie).text
    page = view.request(f"/units/{unit_id(desk, '渝中区')}", cookie=cookie).text
    assert "王芳" in page and "李娜" in page and "材料齐全" in page
    ids = {name.rsplit("/", 1)[-1]: fid for fid, name, _ in files_of(desk, "yzkx@qq.com")}
    photos = [n for n in ids if n.endswith(".jpg")]
    assert photos and all(f'src="/thumbs/{ids[n]}"' in page for n in photos)
    assert "已检测到公章" in page, "the report with its seal check"
    assert f"2021-{message_id(desk, 'yzkx@qq.com'):04d}" in page and "yzkx@qq.com" in page and "回执" in page
    reply_text = re.search(r'<pre class="replytext">(.*?)</pre>', page, re.S)
    assert reply_text and "渝中区" in reply_text.group(1), "the reply as the submitter saw it"
    beibei = view.request(f"/units/{unit_id(desk, '北碚区')}", cookie=cookie).text
    assert "缺少推荐工作情况报告" in beibei, "open findings in the sentence sent to the submitter"


def test_a_file_comes_by_its_id_only_with_its_bytes_and_a_safe_name(desk, view, caplog):
    cookie = view.session()
    [(fid, name, sha)] = [f for f in files_of(desk, "yzkx@qq.com") if f[1].endswith("王芳推荐表.docx")]
    with caplog.at_level(logging.INFO, logger="mailintake.web.audit"):
        reply = view.request(f"/files/{fid}", cookie=cookie)
    assert reply.status == 200 and reply.body == desk.stored(sha)
    disposition = reply.headers["content-disposition"]
    assert disposition.startswith("attachment; filename=\"")
    assert unquote(disposition.split("filename*=UTF-8''")[1]) == name.rsplit("/", 1)[-1]
    assert reply.headers["content-type"] == "application/octet-stream"
    assert reply.headers["x-content-type-options"] == "nosniff"
    assert any(f"download: user={ORGANISER} file={fid} unit=渝中区" in r.getMessage() for r in caplog.records)
    assert view.request("/files/999999", cookie=cookie).status == 404
    assert view.request("/files/..%2F..%2Fetc%2Fpasswd", cookie=cookie).status == 404


def test_a_quarantined_unit_shows_no_file_and_its_attachment_ids_are_refused(desk, view):
    cookie = view.session()
    page = view.request(f"/units/{unit_id(desk, '南岸区')}", cookie=cookie).text
    assert "涉密隔离" in page and "已隔离" in page and "孙磊" in page
    assert "/files/" not in page and "/thumbs/" not in page and "<img" not in page and "export.zip" not in page
    assert "推荐表.docx" not in page and "【南岸区】推荐材料" not in page, "no file name, no subject"
    sealed, clean = files_of(desk, "nakx@qq.com"), files_of(desk, "nakx2@qq.com")
    assert sealed and clean and desk.ctx.blobs.exists("files", clean[0][2]), "the clean photo's bytes are kept"
    for fid, _, _ in sealed + clean:
        for path in (f"/files/{fid}", f"/photos/{fid}", f"/thumbs/{fid}"):
            reply = view.request(path, cookie=cookie)
            assert reply.status == 403 and b"PK" not in reply.body, path
    assert view.request(f"/units/{unit_id(desk, '南岸区')}/export.zip", cookie=cookie).status == 403
    message = view.request(f"/messages/{message_id(desk, 'nakx@qq.com')}", cookie=cookie).text
    assert "已隔离" in message and "推荐表" not in message


def test_a_unit_export_downloads_as_a_zip_of_that_units_files(desk, view, caplog):
    cookie = view.session()
    with caplog.at_level(logging.INFO, logger="mailintake.web.audit"):
        reply = view.request(f"/units/{unit_id(desk, '渝中区')}/export.zip", cookie=cookie)
    assert reply.status == 200 and reply.headers["content-type"] == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(reply.body)).namelist()
    assert "渝中区/李娜/证件照.jpg" in names and "索引.xlsx" in names
    assert not any(n.startswith(("北碚区", "南岸区")) for n in names)
    assert any("download export: user=xiong unit=渝中区" in r.getMessage() for r in caplog.records)
    everything = zipfile.ZipFile(io.BytesIO(view.request("/export.zip", cookie=cookie).body)).namelist()
    assert any(n.startswith("北碚区/") for n in everything) and not any(n.startswith("南岸区") for n in everything)
    temp = desk.ctx.blobs.root / "cache" / "web-exports"
    wait_for(lambda: not any(temp.iterdir()), timeout=10)  # removed once the response is sent


def test_a_wrong_password_is_refused_and_after_five_the_name_is_locked_for_fifteen_minutes(desk, caplog):
    view = start_view(desk.ctx, Clock())
    try:
        with caplog.at_level(logging.INFO, logger="mailintake.web.audit"):
            said = [view.login(password="wrong-password") for _ in range(5)]
            assert [r.status for r in said] == [401, 401, 401, 401, 429]
            assert "用户名或密码不正确" in said[0].text and said[0].cookie() is None
            locked = view.login()
            assert locked.status == 429 and "登录失败次数过多" in locked.text and "15分钟" in locked.text
            assert locked.cookie() is None and int(locked.headers["retry-after"]) > 800
            elsewhere = view.login(name="someone-else")
            assert elsewhere.status == 429, "the client address is locked too"
            view.clock.move(minutes=16)
            assert view.login().status == 303
        audit = [r.getMessage() for r in caplog.records if r.name == "mailintake.web.audit"]
        assert sum("login refused: user=xiong from=127.0.0.1" in m for m in audit) == 5
        assert sum(m.startswith("login locked:") for m in audit) == 2
        assert audit[-1] == "login ok: user=xiong from=127.0.0.1"
        assert PASSWORD not in " ".join(audit) and "wrong-password" not in " ".join(audit)
    finally:
        view.stop()


def test_a_session_ends_after_the_idle_time_and_at_logout(desk):
    view = start_view(desk.ctx, Clock())
    try:
        cookie = view.session()
        view.clock.move(minutes=59)
        assert view.request("/", cookie=cookie).status == 200
        view.clock.move(minutes=59)
        assert view.request("/", cookie=cookie).status == 200, "each request renews the idle time"
        view.clock.move(minutes=61)
        assert view.request("/", cookie=cookie).status == 303, "an hour idle: logged out"

        cookie = view.session()
        token = re.search(r'name="csrf" value="([0-9a-f]+)"', view.request("/", cookie=cookie).text).group(1)
        assert view.request("/logout", cookie=cookie, form={}).status == 403, "no form token: refused"
        assert view.request("/logout", cookie=cookie, form={"csrf": token},
                            headers={"Sec-Fetch-Site": "cross-site"}).status == 403
        assert view.request("/", cookie=cookie).status == 200
        out = view.request("/logout", cookie=cookie, form={"csrf": token})
        assert out.status == 303 and out.headers["location"] == "/login"
        assert view.request("/", cookie=cookie).status == 303
    finally:
        view.stop()


def test_the_login_returns_only_to_a_page_of_this_site(view):
    for target, lands in (("/units?status=missing", "/units?status=missing"), ("//evil.example/", "/"),
                          ("https://evil.example/", "/"), ("/\\evil.example", "/")):
        reply = view.request("/login", form={"name": ORGANISER, "password": PASSWORD, "next": target})
        assert reply.status == 303 and reply.headers["location"] == lands, target
    assert view.request("/login", form={"name": ORGANISER, "password": PASSWORD},
                        headers={"Sec-Fetch-Site": "cross-site"}).status == 403


def exif_rotated_jpeg(path: Path) -> Path:
    """A landscape picture whose EXIF says "rotate 90°" (orientation 6), as phones save portraits."""
    img = Image.new("RGB", (400, 200), "navy")
    exif = Image.Exif()
    exif[0x0112] = 6
    img.save(path, "JPEG", exif=exif.tobytes())
    return path


def test_thumbnails_stand_upright_are_made_once_per_sha256_and_never_decode_a_bomb(tmp_path):
    thumbs = Thumbnails(tmp_path / "thumbs", max_pixels=50_000_000)
    sha = "ab" * 32
    made = thumbs.get(sha, exif_rotated_jpeg(tmp_path / "p.jpg"))
    assert made == tmp_path / "thumbs" / f"{sha}.jpg"
    with Image.open(made) as im:
        assert im.height > im.width and max(im.size) <= 320, im.size
    assert thumbs.get(sha, tmp_path / "gone.jpg") == made, "the cached thumbnail is used, the photo not read again"
    bomb = tmp_path / "bomb.png"
    Image.new("1", (20_000, 20_000)).save(bomb, optimize=True)  # 400 megapixels in a few kilobytes
    started = time.monotonic()
    assert thumbs.get("cd" * 32, bomb) is None and time.monotonic() - started < 2
    assert thumbs.get("ef" * 32, tmp_path / "p.jpg.broken") is None
    assert thumbs.prune(keep=lambda s: False) == 1 and not made.exists()


def test_web_accounts_take_the_password_from_standard_input_only(desk, tmp_path, monkeypatch, capsys):
    conf = write_config(tmp_path / "m.toml", desk.cfg)

    def web(*args: str, stdin: str = "") -> int:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        return main(["-c", str(conf), "web", *args])

    assert web("add-user", "lin", stdin="short\n") == 1
    assert "at least 10 characters" in capsys.readouterr().err
    assert web("add-user", "lin", stdin="a-long-enough-secret\n") == 0
    assert "web user lin: added" in capsys.readouterr().out
    with pytest.raises(SystemExit) as argument:
        web("add-user", "lin", "a-long-enough-secret")
    assert argument.value.code == 2, "a password is never an argument"
    view = start_view(desk.ctx)
    try:
        cookie = view.login("lin", "a-long-enough-secret").cookie()
        assert cookie and view.request("/", cookie=cookie).status == 200
        assert web("disable-user", "lin") == 0
        assert view.request("/", cookie=cookie).status == 303, "a disabled account's sessions end at once"
        assert view.login("lin", "a-long-enough-secret").status == 401
    finally:
        view.stop()
    capsys.readouterr()
    assert web("users") == 0
    listed = capsys.readouterr().out.splitlines()
    assert any(line.startswith("lin\t") and line.endswith("disabled") for line in listed)
    assert web("--listen", "localhost") == 2 and "--listen: must be HOST:PORT" in capsys.readouterr().err


def test_mailintake_web_serves_alone_and_stops_cleanly_on_sigterm(tmp_path):
    conf = config_file(tmp_path)
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "mailintake.ingest.cli", "-c", str(conf), "web", "--listen",
                             f"127.0.0.1:{port}"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=os.environ.copy(), start_new_session=True)
    try:
        wait_for(lambda: _answers(port), timeout=60)
    finally:
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0 and time.monotonic() - started < 10, err
    assert f"web view at http://127.0.0.1:{port}/" in err and "web view stopped" in err


def test_serve_with_the_web_view_enabled_answers_and_stops_within_seconds_on_sigterm(tmp_path):
    port = free_port()
    conf = config_file(tmp_path, f'[schedule]\npoll_seconds = 10\n[web]\nenabled = true\nlisten = "127.0.0.1:{port}"\n')
    proc = start_serve(conf)
    try:
        wait_for(lambda: _answers(port), timeout=90)
        started = time.monotonic()
    finally:
        code, err = stop(proc)
    assert code == 0 and time.monotonic() - started < 10, err
    assert f"web view at http://127.0.0.1:{port}/" in err and err.rstrip().endswith("stopped")
    assert not _answers(port), "the view stopped with the service"


def test_serve_goes_on_without_the_view_when_its_port_is_taken(desk, caplog):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        web = Web(enabled=True, listen=f"127.0.0.1:{port}")
        ctx = dataclasses.replace(desk.ctx, config=desk.cfg.model_copy(update={"web": web}))
        with caplog.at_level(logging.ERROR), web_view(ctx):
            pass
    assert f"the web view cannot listen on 127.0.0.1:{port}" in caplog.text
    assert "serving the mailbox without it" in caplog.text


def test_the_demo_says_how_to_open_the_view(desk, tmp_path):
    hint = web_hint(desk.cfg, tmp_path / "mailintake.toml")
    assert f"mailintake -c {tmp_path / 'mailintake.toml'} web add-user" in hint
    assert "http://127.0.0.1:8025/" in hint


def test_the_web_sections_listen_address_is_validated():
    with pytest.raises(ConfigError) as bad:
        from_dict({"mailbox": {"host": "h"}, "web": {"listen": "0.0.0.0"}})
    assert bad.value.lines == ['<config>: web.listen: must be HOST:PORT, e.g. "127.0.0.1:8025" (got \'0.0.0.0\')']
    assert from_dict({"mailbox": {"host": "h"}, "web": {"listen": "[::1]:9000"}}).web.address == ("::1", 9000)


def _answers(port: int) -> bool:
    import urllib.error
    import urllib.request

    try:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=2).close()
        return True
    except (urllib.error.URLError, OSError):
        return False

