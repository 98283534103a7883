"""Fixtures: real servers on loopback (Dovecot, PostgreSQL, an SMTP capture server), free ports.

The helpers behind them live in `tests/support/testkit`."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

import pytest

from testkit.config import make_config
from testkit.servers import IMAP_PASSWORD_ENV, SERVERS, SmtpCapture, free_port, start_dovecot


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


@pytest.fixture
def maildir_desk(tmp_path):
    """The campaign mailbox as a Maildir, polled through the real pipeline (see testkit.desk)."""
    from testkit.desk import MaildirDesk

    desk = MaildirDesk(tmp_path)
    yield desk
    desk.close()
