"""The `mailintake` command as an operator runs it: a separate process, a config file, its output."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from mailintake.ingest.samples import clients, documents
from testkit.mail import MAILBOX


def run(*args: str, env: dict | None = None, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mailintake.ingest.cli", *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=timeout)


def mailintake(conf: Path, *args: str) -> subprocess.CompletedProcess:
    return run("-c", str(conf), *args)


def box_config(tmp_path: Path, subject: str = "推荐材料", database_url: str = "", extra: str = "") -> Path:
    """A Maildir holding one submission with a form (no unit named unless `subject` names one), and a
    config file for it (SQLite beside it unless `database_url`); the database is migrated, not polled."""
    box = tmp_path / "box"
    for sub in ("new", "cur", "tmp"):
        (box / sub).mkdir(parents=True)
    form = ("附件1：林峰推荐表.docx", documents.form_docx("林峰", ""))
    raw = clients.build_message(sender="anon@qq.com", sender_name="某人", to=MAILBOX, subject=subject,
                                body="见附件", attachments=[form])
    (box / "new" / "1621400000.M1P1.host").write_bytes(raw)
    conf = tmp_path / "m.toml"
    conf.write_text(f'[mailbox]\nsource = "maildir"\npath = "{box}"\n'
                    f'[database]\nurl = "{database_url or f"sqlite:///{tmp_path}/m.db"}"\n'
                    f'[storage]\nroot = "{tmp_path}/store"\n{extra}', encoding="utf-8")
    assert mailintake(conf, "db", "upgrade").returncode == 0
    return conf


def setup_box(tmp_path: Path) -> Path:
    """`box_config`'s unplaceable submission, polled once; returns the config path."""
    conf = box_config(tmp_path)
    assert mailintake(conf, "poll").returncode == 0
    return conf


def status(conf: Path) -> dict:
    done = mailintake(conf, "status", "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)
