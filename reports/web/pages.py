"""The web view's handlers: the login, the pages and the files.

Pages and files run in Starlette's thread pool (the store is read with ordinary sessions); the login and
logout read their form first, then do the same. `page(...)` and `file(...)` wrap every handler that shows
anything: without a live session a page redirects to the login and a file is refused with 401, so nothing
leaves without a login. Files are looked up by attachment id only and served only when
`StoredFile.withheld` is false and the stored bytes exist.
"""

from __future__ import annotations

import datetime as dt
import hmac
import re
import shutil
import tempfile
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from urllib.parse import quote, urlsplit

from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, RedirectResponse, Response

from mailintake.common.findings import CATEGORY_LABELS
from mailintake.common.vocab import PHOTO_ROLES, DossierStatus
from mailintake.reports.export import ExportError, export
from mailintake.reports.overview import summarise
from mailintake.reports.queries import DaySnapshot, StoredFile, snapshot, stored_file
from mailintake.reports.web import views
from mailintake.reports.web.auth import AUDIT, SessionUser, csrf_token, said
from mailintake.reports.web.context import Web
from mailintake.store.models import Attachment, Message

COOKIE = "mailintake_session"
WRONG = "用户名或密码不正确。"
LOCKED = "登录失败次数过多，已暂停登录，请{minutes}分钟后再试。"
REFUSED = "来源不符，已拒绝。"
FILE_CSP = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"  # a file never runs anything
_UNSAFE_NAME = re.compile(r'[\x00-\x1f\x7f\\/:*?"<>|;]')

Handler = Callable[[Request, SessionUser], Response]


class Pages:
    def __init__(self, web: Web):
        self.web = web
        self.placeholder = resources.files("mailintake.reports.web").joinpath("static/no-preview.svg").read_bytes()

    # --- who may see it ------------------------------------------------------------------------------------

    def page(self, handler: Handler) -> Callable[[Request], Response]:
        """A page: without a login, the login form (coming back here afterwards)."""
        def endpoint(request: Request) -> Response:
            user = self.web.sessions.find(request.cookies.get(COOKIE))
            if user is None:
                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                return RedirectResponse(f"/login?next={quote(target, safe='')}", 303)
            return handler(request, user)
        return endpoint

    def file(self, handler: Handler) -> Callable[[Request], Response]:
        """A file: without a login, 401 and nothing else."""
        def endpoint(request: Request) -> Response:
            user = self.web.sessions.find(request.cookies.get(COOKIE))
            if user is None:
                return PlainTextResponse("需要登录。", 401)
            return handler(request, user)
        return endpoint

    def login_form(self, request: Request) -> Response:
        if self.web.sessions.find(request.cookies.get(COOKIE)) is not None:
            return RedirectResponse(local_target(request.query_params.get("next")), 303)
        return self._login_page(request, "", local_target(request.query_params.get("next")))

    async def login(self, request: Request) -> Response:
        if not same_origin(request):
            return PlainTextResponse(REFUSED, 403)
        form = await request.form(max_files=0, max_fields=10)
        name, password = str(form.get("name") or "")[:200], str(form.get("password") or "")
        return await run_in_threadpool(self._login, request, name, password, local_target(form.get("next")))

    def _login(self, request: Request, name: str, password: str, target: str) -> Response:
        w, address = self.web, client_address(request)
        keys = (f"name:{name.strip().lower()}", f"address:{address}")
        locked = w.throttle.locked_for(keys)
        if locked is not None:
            AUDIT.warning("login locked: user=%s from=%s", said(name), address)
            return self._locked(request, name, target, locked)
        user_id = w.accounts.check(name, password)
        if user_id is None:
            now_locked = w.throttle.failed(keys)
            AUDIT.warning("login refused: user=%s from=%s%s", said(name), address,
                          " (now locked)" if now_locked else "")
            if now_locked:
                return self._locked(request, name, target, dt.timedelta(minutes=w.config.web.lockout_minutes))
            return self._login_page(request, name, target, WRONG, 401)
        w.throttle.succeeded(keys)
        cookie, _ = w.sessions.open(user_id)
        AUDIT.info("login ok: user=%s from=%s", said(name.strip()), address)
        response = RedirectResponse(target, 303)
        response.set_cookie(COOKIE, cookie, max_age=int(w.config.web.session_hours * 3600), path="/",
                            secure=self._secure(request), httponly=True, samesite="strict")
        return response

    def _locked(self, request: Request, name: str, target: str, left: dt.timedelta) -> Response:
        minutes = max(1, -(-int(left.total_seconds()) // 60))
        return self._login_page(request, name, target, LOCKED.format(minutes=minutes), 429,
                                {"Retry-After": str(int(left.total_seconds()) + 1)})

    def _login_page(self, request: Request, name: str, target: str, error: str = "", status: int = 200,
                    headers: dict[str, str] | None = None) -> Response:
        return self.web.templates.TemplateResponse(
            request, "login.j2", {"campaign": self.web.scope.campaign.name, "name": name, "next": target,
                                  "error": error}, status_code=status, headers=headers)

    async def logout(self, request: Request) -> Response:
        cookie = request.cookies.get(COOKIE)
        form = await request.form(max_files=0, max_fields=10)
        if not same_origin(request) or not cookie or not hmac.compare_digest(str(form.get("csrf") or ""),
                                                                             csrf_token(cookie)):
            return PlainTextResponse(REFUSED, 403)
        user = await run_in_threadpool(self.web.sessions.find, cookie)
        await run_in_threadpool(self.web.sessions.close, cookie)
        if user is not None:
            AUDIT.info("logout: user=%s from=%s", said(user.name), client_address(request))
        response = RedirectResponse("/login", 303)
        response.delete_cookie(COOKIE, path="/", secure=self._secure(request), httponly=True, samesite="strict")
        return response

    def _secure(self, request: Request) -> bool:
        """The cookie's Secure flag: as configured, or ("auto") when the browser came over https (uvicorn
        takes X-Forwarded-Proto from a proxy on loopback into the request's scheme)."""
        wanted = self.web.config.web.secure_cookies
        return request.url.scheme == "https" if wanted == "auto" else bool(wanted)

    # --- pages --------------------------------------------------------------------------------------------

    def overview(self, request: Request, user: SessionUser) -> Response:
        with self.web.db.session() as s:
            snap = self._snapshot(s)
            page = views.overview_page(summarise(snap), snap)
        return self._render(request, user, "overview.j2", {"page": page, "o": page.figures}, "overview")

    def units(self, request: Request, user: SessionUser) -> Response:
        q = request.query_params.get("q", "")[:100]
        status = request.query_params.get("status", "")
        category = request.query_params.get("category", "")
        status = status if status in views.STATUS_NAMES else ""
        category = category if category in CATEGORY_LABELS else ""
        with self.web.db.session() as s:
            rows = views.filter_units(self._snapshot(s), q, status, category)
        return self._render(request, user, "units.j2", {
            "rows": rows, "q": q, "status": status, "category": category, "statuses": views.STATUS_NAMES,
            "categories": CATEGORY_LABELS}, "units")

    def unit(self, request: Request, user: SessionUser) -> Response:
        with self.web.db.session() as s:
            snap = self._snapshot(s)
            found = next((u for u in snap.units if u.unit.id == request.path_params["id"]), None)
            if found is None:
                return self._missing(request, user, "没有这个单位的材料。")
            page = views.unit_page(found, snap, self._servable(snap))
        return self._render(request, user, "unit.j2", {"page": page, "u": page.row}, "units")

    def message(self, request: Request, user: SessionUser) -> Response:
        with self.web.db.session() as s:
            snap = self._snapshot(s)
            found = next((m for m in snap.messages if m.id == request.path_params["id"]), None)
            if found is None:
                return self._missing(request, user, "没有这封邮件。")
            quarantined_units = {u.unit.id for u in snap.units if u.dossier.status == DossierStatus.QUARANTINED}
            page = views.message_view(found, snap, self._servable(snap), found.unit_id in quarantined_units)
        return self._render(request, user, "message.j2", {"m": page}, "units")

    def error(self, request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        said_ = {404: "没有这个页面。", 405: "不支持这种请求。"}.get(status, "请求未能完成。")
        return PlainTextResponse(said_, status)

    def _missing(self, request: Request, user: SessionUser, text: str) -> Response:
        return self._render(request, user, "missing.j2", {"text": text}, "", 404)

    def _render(self, request: Request, user: SessionUser, template: str, context: dict, section: str,
                status: int = 200) -> Response:
        tz = self.web.scope.campaign.tz
        base = {"user": user.name, "csrf": user.csrf, "campaign": self.web.scope.campaign.name, "section": section,
                "now": self.web.clock().astimezone(tz).strftime("%Y-%m-%d %H:%M")}
        return self.web.templates.TemplateResponse(request, template, {**base, **context}, status_code=status)

    def _snapshot(self, s) -> DaySnapshot:
        """Live: the intake as of the end of today (campaign timezone), so everything arrived so far counts."""
        today = self.web.clock().astimezone(self.web.scope.campaign.tz).date()
        return snapshot(s, self.web.scope, today)

    def _servable(self, snap: DaySnapshot) -> Callable[[Attachment, Message], bool]:
        status = {u.unit.id: u.dossier.status for u in snap.units}

        def servable(a: Attachment, m: Message) -> bool:
            unit = m.unit
            record = StoredFile(a, m, unit, status.get(unit.id) if unit else None)
            return not record.withheld and self.web.blobs.exists("files", a.sha256)
        return servable

    # --- files --------------------------------------------------------------------------------------------

    def download(self, request: Request, user: SessionUser) -> Response:
        found = self._stored(request.path_params["id"])
        if isinstance(found, Response):
            return found
        self._audit("download", user, found)
        a = found.attachment
        return FileResponse(self.web.blobs.path("files", a.sha256), media_type="application/octet-stream",
                            headers={"content-disposition": disposition("attachment", _basename(a)),
                                     "content-security-policy": FILE_CSP})

    def photo(self, request: Request, user: SessionUser) -> Response:
        """A photo full size, shown by the browser; its type is what the file is, never what the mail said."""
        found = self._stored(request.path_params["id"])
        if isinstance(found, Response):
            return found
        a = found.attachment
        if a.role not in PHOTO_ROLES or a.detected_type not in views.VIEWABLE:
            return RedirectResponse(f"/files/{a.id}", 303)
        self._audit("view photo", user, found)
        return FileResponse(self.web.blobs.path("files", a.sha256), media_type=views.VIEWABLE[a.detected_type],
                            headers={"content-disposition": disposition("inline", _basename(a)),
                                     "content-security-policy": FILE_CSP})

    def thumbnail(self, request: Request, user: SessionUser) -> Response:
        found = self._stored(request.path_params["id"])
        if isinstance(found, Response):
            return found
        a = found.attachment
        made = self.web.thumbs.get(a.sha256, self.web.blobs.path("files", a.sha256)) \
            if a.role in PHOTO_ROLES else None
        if made is None:
            return Response(self.placeholder, media_type="image/svg+xml")
        return FileResponse(made, media_type="image/jpeg", headers={"content-security-policy": FILE_CSP})

    def _stored(self, attachment_id: int) -> StoredFile | Response:
        """The file, or the refusal: 404 when there is no such file (or its bytes are gone), 403 when it is
        withheld (quarantined material, a quarantined unit, a purged message)."""
        with self.web.db.session() as s:
            found = stored_file(s, attachment_id)
        if found is None:
            return PlainTextResponse("没有这个文件。", 404)
        if found.withheld:
            return PlainTextResponse("该文件属于已隔离（涉密）或已清除的材料，不能查看或下载。", 403)
        if not self.web.blobs.exists("files", found.attachment.sha256):
            self.web.thumbs.drop(found.attachment.sha256)
            return PlainTextResponse("这个文件已不在存储中。", 404)
        return found

    def _audit(self, what: str, user: SessionUser, found: StoredFile) -> None:
        AUDIT.info("%s: user=%s file=%d unit=%s message=%d", what, said(user.name), found.attachment.id,
                   said(found.unit.name) if found.unit else "-", found.message.id)

    def export_all(self, request: Request, user: SessionUser) -> Response:
        return self._export(user, None, "全部单位")

    def export_unit(self, request: Request, user: SessionUser) -> Response:
        with self.web.db.session() as s:
            snap = self._snapshot(s)
            found = next((u for u in snap.units if u.unit.id == request.path_params["id"]), None)
            name = found.unit.name if found else None
            quarantined = found is not None and found.dossier.status == DossierStatus.QUARANTINED
        if name is None:
            return PlainTextResponse("没有这个单位的材料。", 404)
        if quarantined:
            return PlainTextResponse("该单位的材料已隔离（涉密），不能导出。", 403)
        return self._export(user, name, name)

    def _export(self, user: SessionUser, unit: str | None, label: str) -> Response:
        """The panel's export (reports/export.py) built in a private temp folder, streamed, then removed."""
        folder = Path(tempfile.mkdtemp(dir=self.web.exports, prefix="export-"))
        try:
            with self.web.db.session() as s:
                done = export(s, self.web.blobs, self.web.scope, folder / "export", make_zip=True, unit=unit)
        except ExportError as exc:
            shutil.rmtree(folder, ignore_errors=True)
            return PlainTextResponse(f"导出失败：{exc}", 500)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        AUDIT.info("download export: user=%s unit=%s files=%d", said(user.name), said(unit) if unit else "all",
                   done.files)
        return FileResponse(done.zip, media_type="application/zip",
                            headers={"content-disposition": disposition("attachment", f"推荐材料-{label}.zip")},
                            background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True))


def disposition(kind: str, name: str) -> str:
    """Content-Disposition with the UTF-8 name (RFC 5987/6266) and an ASCII fallback for old clients; the name
    is the file's own (no folders), with characters no file system takes replaced."""
    name = _UNSAFE_NAME.sub("_", name).strip(" .") or "file"
    return f"{kind}; filename=\"{_ascii(name)}\"; filename*=UTF-8''{quote(name, safe='')}"


def _ascii(name: str) -> str:
    """推荐表.docx -> file.docx: the ASCII letters of the name, else "file", with its extension."""
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    kept = stem.encode("ascii", "ignore").decode().strip(" _-.")
    ext = ext.encode("ascii", "ignore").decode()
    return (kept or "file") + (f".{ext}" if ext else "")


def local_target(value: object) -> str:
    """Where to go after the login: a path on this site only (never another host: no open redirect)."""
    text = str(value or "")
    if not text.startswith("/") or text.startswith("//") or "\\" in text or any(ord(c) < 32 for c in text):
        return "/"
    parts = urlsplit(text)
    return "/" if parts.scheme or parts.netloc else text


def same_origin(request: Request) -> bool:
    """A form posted from another site is refused (a guard beside the SameSite=Strict cookie and the logout's
    token). Browsers say where a request comes from in Sec-Fetch-Site; older ones send Origin (which is
    "null" under our Referrer-Policy: no-referrer, so Sec-Fetch-Site is asked first). A client that sends
    neither is not a browser, so no other site can be driving it."""
    site = request.headers.get("sec-fetch-site")
    if site is not None:
        return site in ("same-origin", "none")
    origin = request.headers.get("origin")
    if origin is None:
        return True
    return urlsplit(origin).netloc.lower() == request.headers.get("host", "").lower()


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _basename(a: Attachment) -> str:
    return a.display_name.replace("\\", "/").rsplit("/", 1)[-1]
