"""`mailintake web`: the organisers' web view on its own, and its accounts (`web add-user NAME`,
`web disable-user NAME`, `web users`); `web_view` runs the view inside `serve` when `[web] enabled = true`.

A password is read from standard input only (twice, without echo, on a terminal; one line when piped), never
from the command line, where `ps` and the shell history would keep it. The web stack (Starlette, uvicorn,
argon2) is imported only when it is used, so `serve` without the view starts as quickly as before.
"""

from __future__ import annotations

import getpass
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, TextIO

from mailintake.common.errors import ConfigError
from mailintake.ingest.config import split_listen
from mailintake.ingest.context import Context

if TYPE_CHECKING:
    from starlette.applications import Starlette

log = logging.getLogger("mailintake.web")


def make_view(ctx: Context) -> Starlette:
    from mailintake.reports.web.app import make_app

    return make_app(ctx.config, ctx.db, ctx.blobs, ctx.scope, ctx.clock)


@contextmanager
def web_view(ctx: Context) -> Iterator[None]:
    """Inside `serve`: the view runs in a thread while the block does, when `[web] enabled = true`. A view that
    cannot start (its port taken) is one error line and the mailbox is served without it: the mail matters
    more than the page about it."""
    if not ctx.config.web.enabled:
        yield
        return
    from mailintake.reports.web.server import WebError, start_in_thread

    host, port = ctx.config.web.address
    try:
        running = start_in_thread(make_view(ctx), host, port)
    except WebError as exc:
        log.error("%s; serving the mailbox without it", exc)
        running = None
    try:
        yield
    finally:
        if running is not None:
            running.stop()


def run(ctx: Context, action: str, name: str | None, listen: str | None, stdin: TextIO | None = None) -> int:
    """One `mailintake web …` command; prints its one line (or the accounts) and returns the exit code."""
    from mailintake.reports.web.auth import AccountError, Accounts
    from mailintake.reports.web.server import run_in_foreground

    if action == "serve":
        try:
            host, port = split_listen(listen) if listen else ctx.config.web.address
        except ValueError as exc:
            raise ConfigError([f"--listen: {exc}"]) from None
        return run_in_foreground(make_view(ctx), host, port)
    accounts = Accounts(ctx.db, ctx.clock)
    if action == "users":
        for a in accounts.accounts():
            state = "disabled" if a.disabled else f"{a.sessions} open session(s)"
            print(f"{a.name}\tsince {a.created_at:%Y-%m-%d}\t{state}")
        return 0
    if not name:
        raise AccountError(f"web {action} needs the organiser's user name: mailintake web {action} NAME")
    if action == "add-user":
        created = accounts.set_password(name, read_password(stdin or sys.stdin))
        print(f"web user {name.strip()}: {'added' if created else 'password changed, enabled, sessions ended'}")
        return 0
    accounts.disable(name)
    print(f"web user {name.strip()}: disabled, sessions ended")
    return 0


def read_password(stdin: TextIO) -> str:
    """Twice without echo on a terminal (a typo is caught), else the first line of the input."""
    from mailintake.reports.web.auth import MIN_PASSWORD, AccountError

    if stdin.isatty():
        first = getpass.getpass(f"password for the web view (at least {MIN_PASSWORD} characters): ")
        if getpass.getpass("the same again: ") != first:
            raise AccountError("the two passwords differ: nothing changed")
        return first
    line = stdin.readline().rstrip("\r\n")
    if not line:
        raise AccountError("no password on standard input (e.g. `printf '%s\\n' \"$PASSWORD\" | mailintake web "
                           "add-user NAME`)")
    return line
