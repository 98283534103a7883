"""Real servers on loopback for the tests: Dovecot (IMAP) and an SMTP capture handler.

Ports are picked free at run time. Dovecot's directory comes from tempfile.mkdtemp (0755): pytest's
own temp base is 0700 and the dovecot/nobody uids could not traverse it.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

from imapclient import IMAPClient

SERVERS = Path(__file__).resolve().parents[2] / "servers"
IMAP_PASSWORD_ENV = "MAILINTAKE_TEST_IMAP_PASSWORD"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Dovecot:
    def __init__(self, directory: str, port: int, tls_port: int):
        self.dir, self.port, self.tls_port = directory, port, tls_port
        self.host = "127.0.0.1"
        self.cafile = f"{directory}/cert.pem"
        self.user, self.password = "alice", "alicepass"

    def client(self) -> IMAPClient:
        c = IMAPClient(self.host, port=self.port, ssl=False)
        c.normalise_times = False
        c._imap.debug = 0
        c.login(self.user, self.password)
        return c

    def new_folder(self) -> str:
        name = f"t{uuid.uuid4().hex[:10]}"
        with self.client() as c:
            c.create_folder(name)
        return name

    def append(self, folder: str, raw: bytes, when: dt.datetime, flags: tuple = ()) -> int:
        with self.client() as c:
            resp = c.append(folder, raw, flags=flags, msg_time=when)
        # b'[APPENDUID <uidvalidity> <uid>] ...'
        return int(resp.split(b"]")[0].split()[-1])

    def uids(self, folder: str, criteria: list | None = None) -> list[int]:
        with self.client() as c:
            c.select_folder(folder, readonly=True)
            return sorted(c.search(criteria or ["ALL"]))

    def flags(self, folder: str) -> dict[int, tuple]:
        with self.client() as c:
            c.select_folder(folder, readonly=True)
            uids = c.search(["ALL"])
            return {u: v[b"FLAGS"] for u, v in c.fetch(uids, ["FLAGS"]).items()} if uids else {}

    def set_uidvalidity(self, folder: str, value: int) -> None:
        subprocess.run(["doveadm", "-c", f"{self.dir}/dovecot.conf", "mailbox", "update", "-u", self.user,
                        "--uid-validity", str(value), folder], check=True, capture_output=True, timeout=60)

    def start(self) -> None:
        subprocess.run([SERVERS / "dovecot.sh", "start", self.dir], check=True, capture_output=True,
                       env=self._env(), timeout=300)

    def stop(self) -> None:
        subprocess.run([SERVERS / "dovecot.sh", "stop", self.dir], capture_output=True, env=self._env(), timeout=60)

    def crash(self) -> None:
        """A real outage: every process of this instance dies at once, open connections included."""
        pidfile = Path(self.dir) / "run" / "master.pid"
        master = int(pidfile.read_text())
        subprocess.run(["pkill", "-KILL", "-f", f"dovecot-test-{self.port}"], capture_output=True, timeout=30)
        os.kill(master, 9)
        deadline = time.monotonic() + 10
        while Path(f"/proc/{master}").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        pidfile.unlink()

    def _env(self) -> dict:
        return dict(os.environ, IMAP_PORT=str(self.port), IMAPS_PORT=str(self.tls_port))


def start_dovecot() -> Dovecot:
    d = tempfile.mkdtemp(prefix="mailintake-dovecot-")
    os.chmod(d, 0o755)
    server = Dovecot(d, free_port(), free_port())
    server.start()
    return server


class SmtpCapture:
    """An aiosmtpd handler that keeps every message it is given; while `refuse` holds a reply (such as
    "451 4.3.0 try again later" or "550 5.7.1 blocked"), every recipient gets that instead."""

    def __init__(self):
        self.messages: list[tuple[str, list[str], bytes]] = []
        self.refuse: str | None = None

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 - aiosmtpd's hook
        if self.refuse:
            return self.refuse
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
        return "250 OK"
