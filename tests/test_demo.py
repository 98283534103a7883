"""`mailintake demo`: the embedded default, from an empty folder to per-unit verdicts."""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from types import SimpleNamespace

import pytest
from alembic import command
from sqlalchemy import inspect

from mailintake.store.db import alembic_config, make_engine

GOLDEN = Path(__file__).resolve().parent / "golden" / "demo-status.json"


def mailintake(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mailintake.ingest.cli", *args], capture_output=True, text=True,
                          timeout=600, env={**os.environ})


def mailbox_digest(folder: Path) -> str:
    h = hashlib.sha256()
    for p in sorted((folder / "mailbox").rglob("*")):
        if p.is_file():
            h.update(p.name.encode() + p.read_bytes())
    return h.hexdigest()


def run_demo(target: Path) -> SimpleNamespace:
    """One demo run into `target` and the `status --json` of the folder it leaves."""
    run = mailintake("demo", "--dir", str(target))
    status = mailintake("-c", str(target / "mailintake.toml"), "status", "--json") if run.returncode == 0 else None
    return SimpleNamespace(target=target, run=run, status=status)


def comparable(status: dict) -> dict:
    """`status --json` minus what may differ from the golden file: the time it ran, and findings' params."""
    def strip(v):
        if isinstance(v, dict):
            return {k: strip(x) for k, x in v.items() if k != "params"}
        return [strip(x) for x in v] if isinstance(v, list) else v
    return strip({k: v for k, v in status.items() if k != "generated_at"})


def dump(d: dict) -> str:
    return json.dumps(d, ensure_ascii=False, indent=1, sort_keys=True)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The demo runs once (about 30 s) for the tests of this module."""
    return run_demo(tmp_path_factory.mktemp("demo") / "demo")


def test_the_demo_ingests_a_sample_mailbox_and_leaves_an_explorable_folder(demo):
    target, run = demo.target, demo.run
    assert run.returncode == 0, run.stderr
    out = run.stdout
    assert "收到邮件 10 封" in out and "各推荐单位结论" in out
    assert "沙坪坝区（district，名额3）：complete" in out
    assert "重庆大学（institution，名额2）：complete，逾期" in out
    assert "photo_not_jpeg" in out and "report_unsealed" in out and "cloud_attachment" in out
    assert "沙坪坝区推荐材料.zip/沙坪坝区/张伟1.jpg" in out  # a GBK zip decoded as the sender saw it
    assert f"Intake workbook as of 2021-05-29: {target / 'reports' / '报送情况-2021-05-29.xlsx'}" in out
    assert (target / "reports" / "决定-2021-05-29.xlsx").is_file()
    assert (target / "export" / "沙坪坝区" / "张伟" / "证件照.jpg").is_file() and (target / "export.zip").is_file()

    status = demo.status
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


def test_the_demo_status_matches_the_golden_file(demo):
    """tests/golden/demo-status.json is the contract for `status --json`.

    Only `generated_at` and findings' `params` (an addition) are ignored; any other change fails here.
    A change that alters the output on purpose regenerates the file and says why in its commit:
        .venv/bin/python tests/test_demo.py    # rewrites tests/golden/demo-status.json
    """
    assert demo.run.returncode == 0, demo.run.stderr
    assert demo.status.returncode == 0, demo.status.stderr
    got = dump(comparable(json.loads(demo.status.stdout)))
    want = dump(comparable(json.loads(GOLDEN.read_text(encoding="utf-8"))))
    diff = list(difflib.unified_diff(want.splitlines(), got.splitlines(), "golden", "now", lineterm=""))
    assert got == want, "status --json differs from tests/golden/demo-status.json:\n" + "\n".join(diff[:80])


def test_a_database_made_before_findings_kept_params_upgrades_and_reprocessing_changes_nothing(demo, tmp_path):
    """Schema 0001 stored each finding's sentence, not its parameters. Such a database (the demo's, taken
    back to 0001 with its data) upgrades, shows the same status, and a dry-run reprocess finds no change."""
    assert demo.run.returncode == 0, demo.run.stderr
    copy = tmp_path / "old"
    shutil.copytree(demo.target, copy)  # the demo's config names its paths relative to itself
    conf = str(copy / "mailintake.toml")
    engine = make_engine(f"sqlite:///{copy / 'mailintake.db'}")
    command.downgrade(alembic_config(engine), "0001")
    with engine.connect() as conn:
        columns = {c["name"] for c in inspect(conn).get_columns("finding")}
        unrendered = conn.exec_driver_sql("SELECT count(*) FROM finding WHERE detail IS NULL").scalar()
    engine.dispose()
    assert "params" not in columns and "candidate_id" not in columns and unrendered == 0
    refused = mailintake("-c", conf, "status")
    assert refused.returncode == 1 and "run `mailintake db upgrade`" in refused.stderr

    assert mailintake("-c", conf, "db", "upgrade").returncode == 0
    status = mailintake("-c", conf, "status", "--json")
    assert status.returncode == 0, status.stderr
    # sender_name and kind_reason stay null until a message is reprocessed; schema 0001 kept one outbox row
    # per message, so a reply that covered a burst keeps only its first message on the way down
    later = ("sender_name", "kind_reason", "reply")

    def before_0003(d: dict) -> dict:
        return {**d, "messages": [{k: v for k, v in m.items() if k not in later} for m in d["messages"]]}
    upgraded, golden = (before_0003(comparable(json.loads(t))) for t in (status.stdout, GOLDEN.read_text("utf-8")))
    assert dump(upgraded) == dump(golden)
    dry = mailintake("-c", conf, "reprocess", "--all", "--dry-run")
    assert (dry.returncode, dry.stdout.strip()) == (0, "no changes"), dry.stderr


def test_the_demo_refuses_a_folder_it_did_not_make(tmp_path):
    (tmp_path / "precious.txt").write_text("keep me", encoding="utf-8")
    run = mailintake("demo", "--dir", str(tmp_path))
    assert run.returncode == 1
    assert "was not made by `mailintake demo`" in run.stderr
    assert (tmp_path / "precious.txt").read_text(encoding="utf-8") == "keep me"


if __name__ == "__main__":  # regenerate the golden file (on purpose, saying why in the commit)
    with tempfile.TemporaryDirectory() as d:
        done = run_demo(Path(d) / "demo")
        assert done.run.returncode == 0 and done.status.returncode == 0, done.run.stderr + done.status.stderr
        with GOLDEN.open("w", encoding="utf-8") as f:
            json.dump(comparable(json.loads(done.status.stdout)), f, ensure_ascii=False, indent=1, sort_keys=True)
    print(f"wrote {GOLDEN}")
