"""Organiser commands on the command line: messages by key or reference number, dry runs, clear errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from ingest.samples import clients, documents

MAILBOX = "834396688@qq.com"


def mailintake(conf: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ingest.cli", "-c", str(conf), *args], capture_output=True,
                          text=True, timeout=300, env={**os.environ})


def setup_box(tmp_path: Path) -> Path:
    box = tmp_path / "box"
    for sub in ("new", "cur", "tmp"):
        (box / sub).mkdir(parents=True)
    form = ("附件1：林峰推荐表.docx", documents.form_docx("林峰", ""))
    raw = clients.build_message(sender="anon@qq.com", sender_name="某人", to=MAILBOX, subject="推荐材料",
                                body="见附件", attachments=[form])
    (box / "new" / "1621400000.M1P1.host").write_bytes(raw)
    conf = tmp_path / "m.toml"
    conf.write_text(f'[mailbox]\nsource = "maildir"\npath = "{box}"\n'
                    f'[database]\nurl = "sqlite:///{tmp_path}/m.db"\n[storage]\nroot = "{tmp_path}/store"\n',
                    encoding="utf-8")
    assert mailintake(conf, "db", "upgrade").returncode == 0
    assert mailintake(conf, "poll").returncode == 0
    return conf


def status(conf: Path) -> dict:
    run = mailintake(conf, "status", "--json")
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


def test_an_organiser_places_a_message_by_reference_number_and_a_dry_run_changes_nothing(tmp_path):
    conf = setup_box(tmp_path)
    [msg] = status(conf)["messages"]
    assert msg["unit"] is None and [f["code"] for f in msg["findings"]] == ["unknown_unit"]
    dry = mailintake(conf, "reprocess", "--all", "--dry-run")
    assert dry.returncode == 0 and dry.stdout.strip() == "no changes"
    placed = mailintake(conf, "assign", str(msg["reference"]), "綦江区科协")
    assert placed.returncode == 0, placed.stderr
    assert placed.stdout.strip() == f"message #1 ({msg['key']}): assign recorded; now 綦江区"
    after = status(conf)
    assert after["messages"][0]["unit"] == "綦江区" and [u["name"] for u in after["units"]] == ["綦江区"]
    again = mailintake(conf, "reprocess", msg["key"])
    assert again.returncode == 0 and again.stdout.strip() == "reprocessed 1 message(s)"
    assert status(conf)["messages"][0]["unit"] == "綦江区"


def test_an_unknown_message_is_one_clear_line(tmp_path):
    conf = setup_box(tmp_path)
    run = mailintake(conf, "accept-late", "nosuchkey")
    assert run.returncode == 1
    assert run.stderr.strip() == "error: no message with key or reference number 'nosuchkey'"
