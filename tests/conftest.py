"""Real servers on loopback for the tests: Dovecot (IMAP), PostgreSQL, an SMTP capture server.

Ports are picked free at run time. Dovecot's directory comes from tempfile.mkdtemp (0755): pytest's
own temp base is 0700 and the dovecot/nobody uids could not traverse it.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import pytest
from imapclient import IMAPClient

from ingest import config as config_mod

SERVERS = Path(__file__).with_name("servers")
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


@pytest.fixture(scope="session")
def dovecot():
    server = start_dovecot()
    yield server
    server.stop()
    shutil.rmtree(server.dir, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_server():
    d = tempfile.mkdtemp(prefix="mailintake-pg-")
    port = free_port()
    env = dict(os.environ, PGPORT=str(port))
    subprocess.run([SERVERS / "postgres.sh", "start", d], check=True, capture_output=True, env=env, timeout=600)
    yield f"postgresql+psycopg://postgres@127.0.0.1:{port}"
    subprocess.run([SERVERS / "postgres.sh", "stop", d], capture_output=True, env=env, timeout=120)
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def pg_url(pg_server):
    """A fresh, empty database on the session's PostgreSQL server."""
    import sqlalchemy

    name = f"t{uuid.uuid4().hex[:12]}"
    admin = sqlalchemy.create_engine(f"{pg_server}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE {name}")
    admin.dispose()
    return f"{pg_server}/{name}"


@pytest.fixture
def imap_config(dovecot, tmp_path, monkeypatch):
    """A config for a fresh folder on the test Dovecot, over verified TLS, SQLite in tmp_path."""
    monkeypatch.setenv(IMAP_PASSWORD_ENV, dovecot.password)
    folder = dovecot.new_folder()
    return make_config(tmp_path, mailbox={
        "host": dovecot.host, "port": dovecot.tls_port, "security": "tls", "ca_file": dovecot.cafile,
        "username": dovecot.user, "password_env": IMAP_PASSWORD_ENV, "folder": folder,
    })


def make_config(tmp_path: Path, **sections: dict) -> config_mod.Config:
    data = {
        "database": {"url": f"sqlite:///{tmp_path}/mailintake.db"},
        "storage": {"root": str(tmp_path / "store")},
        "replies": {"mode": "files", "dir": str(tmp_path / "replies")},
        "reports": {"dir": str(tmp_path / "reports")},
    }
    for name, values in sections.items():
        data[name] = {**data.get(name, {}), **values}
    return config_mod.from_dict(data)


class SmtpCapture:
    """An aiosmtpd handler that keeps every message it is given."""

    def __init__(self):
        self.messages: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
        return "250 OK"


@pytest.fixture(scope="session")
def tls_files():
    d = Path(tempfile.mkdtemp(prefix="mailintake-smtp-tls-"))
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", d / "key.pem",
                    "-out", d / "cert.pem"], check=True, capture_output=True)
    yield d / "cert.pem", d / "key.pem"
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def smtp_server(tls_files):
    """A real SMTP server on 127.0.0.1: STARTTLS required, then AUTH (bot / botpass)."""
    import ssl

    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (b"bot", b"botpass")
        return AuthResult(success=ok, handled=False)  # handled=False: the server answers 535 itself

    cert, key = tls_files
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    handler = SmtpCapture()
    ctl = Controller(handler, hostname="127.0.0.1", port=free_port(), server_hostname="sink.test", tls_context=ctx,
                     require_starttls=True, authenticator=authenticator, auth_required=True, auth_require_tls=True)
    ctl.start()
    yield {"host": "127.0.0.1", "port": ctl.port, "cafile": str(cert), "handler": handler}
    ctl.stop()
