"""`mailintake demo`: the embedded default, from an empty folder to per-unit verdicts."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path


def mailintake(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ingest.cli", *args], capture_output=True, text=True,
                          timeout=600, env={**os.environ})


def mailbox_digest(folder: Path) -> str:
    h = hashlib.sha256()
    for p in sorted((folder / "mailbox").rglob("*")):
        if p.is_file():
            h.update(p.name.encode() + p.read_bytes())
    return h.hexdigest()


def test_the_demo_ingests_a_sample_mailbox_and_leaves_an_explorable_folder(tmp_path):
    target = tmp_path / "demo"
    run = mailintake("demo", "--dir", str(target))
    assert run.returncode == 0, run.stderr
    out = run.stdout
    assert "收到邮件 10 封" in out and "各推荐单位结论" in out
    assert "沙坪坝区（district，名额3）：complete" in out
    assert "重庆大学（institution，名额2）：complete，逾期" in out
    assert "photo_not_jpeg" in out and "report_unsealed" in out and "cloud_attachment" in out
    assert "沙坪坝区推荐材料.zip/沙坪坝区/张伟1.jpg" in out  # a GBK zip decoded as the sender saw it

    status = mailintake("-c", str(target / "mailintake.toml"), "status", "--json")
    assert status.returncode == 0, status.stderr
    data = json.loads(status.stdout)
    kinds = sorted(m["kind"] for m in data["messages"])
    assert kinds == ["auto_reply", "other", "other"] + ["submission"] * 7
    assert {u["name"]: u["status"] for u in data["units"]} == {
        "北碚区": "incomplete", "沙坪坝区": "complete", "渝中区": "incomplete", "重庆大学": "complete",
        "重庆市机械工程学会": "complete"}
    roles = {a["role"] for m in data["messages"] for a in m["attachments"]}
    assert roles == {"report", "summary", "form", "id_photo", "life_photo", "archive"}
    assert all(len(a["sha256"]) == 64 for m in data["messages"] for a in m["attachments"])

    first = mailbox_digest(target)
    again = mailintake("demo", "--dir", str(target))  # replaces its own earlier folder
    assert again.returncode == 0, again.stderr
    assert mailbox_digest(target) == first  # deterministic for a given seed


def test_the_demo_refuses_a_folder_it_did_not_make(tmp_path):
    (tmp_path / "precious.txt").write_text("keep me", encoding="utf-8")
    run = mailintake("demo", "--dir", str(tmp_path))
    assert run.returncode == 1
    assert "was not made by `mailintake demo`" in run.stderr
    assert (tmp_path / "precious.txt").read_text(encoding="utf-8") == "keep me"
