"""The organisers' web view: a read-only Starlette app over the store, for the telephone calls of the last days
("did you get our mail?", "is our material complete?").

    app = make_app(config, database, blobs, scope)        # then served by uvicorn (`reports.web.server`)

Every page and file needs a login (`auth.py`); files are fetched only by their database id, and nothing of
quarantined material is ever shown or served (`queries.StoredFile.withheld`). The pages are rendered on the
server from `reports/queries.py` (one snapshot per request, as the workbook reads it); the one stylesheet
and the one small script ship in the package, so nothing is fetched from anywhere else.
"""

from __future__ import annotations

import datetime as dt
import logging
import shutil

import jinja2
from starlette.applications import Starlette
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mailintake.ingest.config import Config
from mailintake.reports.queries import ReportScope
from mailintake.reports.web.auth import Accounts, LoginThrottle, SessionPolicy, Sessions
from mailintake.reports.web.context import Clock, Web, utc_now
from mailintake.reports.web.pages import Pages
from mailintake.reports.web.thumbs import Thumbnails
from mailintake.store.blobs import BlobStore
from mailintake.store.db import Database

log = logging.getLogger("mailintake.web")

CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; "
       "form-action 'self'; base-uri 'none'")
SECURITY_HEADERS = {"content-security-policy": CSP, "x-content-type-options": "nosniff", "x-frame-options": "DENY",
                    "referrer-policy": "no-referrer", "cross-origin-opener-policy": "same-origin"}
MAX_BODY = 64 * 1024  # the only bodies are the login and logout forms


def make_app(config: Config, db: Database, blobs: BlobStore, scope: ReportScope, clock: Clock = utc_now) -> Starlette:
    """The app, reading `db` and `blobs` (never writing material; it writes only its own sessions, thumbnails
    and temporary exports under `<storage root>/cache/`)."""
    web = build(config, db, blobs, scope, clock)
    pages = Pages(web)
    routes = [
        Route("/login", pages.login_form, methods=["GET"]),
        Route("/login", pages.login, methods=["POST"]),
        Route("/logout", pages.logout, methods=["POST"]),
        Route("/", pages.page(pages.overview)),
        Route("/units", pages.page(pages.units)),
        Route("/units/{id:int}", pages.page(pages.unit)),
        Route("/messages/{id:int}", pages.page(pages.message)),
        Route("/files/{id:int}", pages.file(pages.download)),
        Route("/photos/{id:int}", pages.file(pages.photo)),
        Route("/thumbs/{id:int}", pages.file(pages.thumbnail)),
        Route("/export.zip", pages.file(pages.export_all)),
        Route("/units/{id:int}/export.zip", pages.file(pages.export_unit)),
        Mount("/static", StaticFiles(packages=[("mailintake.reports.web", "static")]), name="static"),
    ]
    return Starlette(routes=routes, middleware=[Middleware(SecurityHeaders)], max_body_size=MAX_BODY,
                     exception_handlers={HTTPException: pages.error, Exception: _failed})


def build(config: Config, db: Database, blobs: BlobStore, scope: ReportScope, clock: Clock) -> Web:
    w = config.web
    cache = blobs.root / "cache"
    thumbs = Thumbnails(cache / "thumbs", config.campaign.photos.max_pixels)
    gone = thumbs.prune(lambda sha: blobs.exists("files", sha))
    if gone:
        log.info("web view: %d thumbnail(s) of material no longer stored removed", gone)
    exports = cache / "web-exports"
    shutil.rmtree(exports, ignore_errors=True)  # downloads a stopped process left half-built
    exports.mkdir(mode=0o700, parents=True, exist_ok=True)
    env = jinja2.Environment(loader=jinja2.PackageLoader("mailintake.reports.web", "templates"), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    return Web(config, db, blobs, scope, clock, Accounts(db, clock),
               Sessions(db, clock, SessionPolicy(dt.timedelta(hours=w.session_hours),
                                                 dt.timedelta(minutes=w.idle_minutes))),
               LoginThrottle(w.login_attempts, dt.timedelta(minutes=w.lockout_minutes), clock), thumbs, exports,
               Jinja2Templates(env=env))


class SecurityHeaders:
    """The headers every response carries (a route may set a stricter policy of its own first); pages and files
    are never cached, the shipped stylesheet and script for an hour."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = scope["path"].startswith("/static/")

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
                headers["cache-control"] = "private, max-age=3600" if static else "no-store"
            await send(message)

        await self.app(scope, receive, with_headers)


def _failed(request: Request, exc: Exception) -> Response:
    """A bug: uvicorn logs the traceback; the browser gets one sentence (and the headers)."""
    return PlainTextResponse("服务器内部错误，请稍后再试或联系管理员。", 500, headers=SECURITY_HEADERS)
