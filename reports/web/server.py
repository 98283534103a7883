"""Serving the web view with uvicorn: alone in the foreground (`mailintake web`), or in a daemon thread of
`serve`. Either way uvicorn installs no signal handlers: whoever runs it keeps SIGTERM/SIGINT and stops it
by setting `should_exit`.

The socket is bound before the thread starts, so a port already taken is one clear error at start-up,
not a silent thread death. uvicorn logs through the project's logging (no config of its own), takes
X-Forwarded-For/-Proto only from a proxy on loopback, and gives open requests a few seconds at shutdown.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from types import FrameType

import uvicorn
from starlette.types import ASGIApp

from mailintake.common.errors import MailintakeError

log = logging.getLogger("mailintake.web")

TRUSTED_PROXIES = "127.0.0.1,::1"
GRACE_SECONDS = 5  # open requests (a download) get this long when the view stops
STARTUP_SECONDS = 15


class WebError(MailintakeError):
    """The web view cannot listen where it was told to."""


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield  # the caller owns the signals


def listening_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise WebError(f"the web view cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    return sock


def _server(app: ASGIApp) -> _Server:
    return _Server(uvicorn.Config(app, log_config=None, access_log=False, server_header=False, lifespan="off",
                                  proxy_headers=True, forwarded_allow_ips=TRUSTED_PROXIES,
                                  timeout_graceful_shutdown=GRACE_SECONDS))


def _announce(host: str, port: int) -> None:
    shown = f"[{host}]" if ":" in host else host
    log.info("web view at http://%s:%d/", shown, port)
    if host not in ("127.0.0.1", "::1", "localhost"):
        log.warning("the web view listens on %s, beyond this machine: put a TLS reverse proxy in front "
                    "(deploy/OPERATIONS.md) and set [web] secure_cookies = true", host)


@dataclass
class RunningView:
    """The view in a daemon thread; `stop()` ends it (open requests get GRACE_SECONDS)."""

    server: _Server
    thread: threading.Thread

    def stop(self, timeout: float = GRACE_SECONDS + 5) -> None:
        self.server.should_exit = True
        self.thread.join(timeout)
        if self.thread.is_alive():
            log.warning("the web view did not stop within %.0f s", timeout)


def start_in_thread(app: ASGIApp, host: str, port: int) -> RunningView:
    sock = listening_socket(host, port)
    server = _server(app)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="web-view", daemon=True)
    thread.start()
    deadline = time.monotonic() + STARTUP_SECONDS
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    if not server.started:
        server.should_exit = True
        sock.close()
        raise WebError(f"the web view did not start on {host}:{port}")
    _announce(host, port)
    return RunningView(server, thread)


def run_in_foreground(app: ASGIApp, host: str, port: int) -> int:
    """Serve until SIGTERM or SIGINT, then stop cleanly; returns the exit code (0)."""
    sock = listening_socket(host, port)
    server = _server(app)

    def stop(signum: int, frame: FrameType | None) -> None:
        server.should_exit = True

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        _announce(host, port)
        server.run(sockets=[sock])
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        sock.close()
    log.info("web view stopped")
    return 0
