"""The systemd units in deploy/: systemd itself (`systemd-analyze verify`) must accept them without a word.

`verify` exits 0 on an unknown directive and only says so on stderr, so any output counts as a failure.
It also refuses an ExecStart binary that does not exist, so the units are checked in a copy whose
binary is this checkout's own `mailintake` script; the shipped path is checked as text.
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"
SHIPPED_BINARY = "/opt/mailintake/.venv/bin/mailintake"
GUIDE = DEPLOY / "OPERATIONS.md"
UNITS = ("mailintake.service", "mailintake-health.service", "mailintake-health.timer")
ANALYZE = shutil.which("systemd-analyze")

needs_systemd = pytest.mark.skipif(ANALYZE is None, reason="systemd-analyze is not installed")


def local_copy(tmp_path: Path, change: tuple[str, str] | None = None) -> Path:
    """The units with ExecStart pointing at an executable that exists here (and `change` applied)."""
    binary = Path(sys.executable).with_name("mailintake")
    assert binary.exists(), binary
    for name in UNITS:
        text = (DEPLOY / name).read_text(encoding="utf-8").replace(SHIPPED_BINARY, str(binary))
        if change:
            text = text.replace(*change)
        (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


def verify(folder: Path, *names: str) -> str:
    done = subprocess.run([ANALYZE, "verify", *(str(folder / n) for n in names)], capture_output=True,
                          text=True, timeout=60)
    return f"{done.stdout}{done.stderr}".strip() + ("" if done.returncode == 0 else f"\nexit {done.returncode}")


@needs_systemd
def test_systemd_accepts_the_units_without_a_warning(tmp_path):
    assert verify(local_copy(tmp_path), *UNITS) == ""


@needs_systemd
@pytest.mark.parametrize(("typo", "named"), [(("ProtectHome=", "ProtectHomme="), "ProtectHomme"),
                                             (("[Service]", "[Servise]"), "Servise"),
                                             (("KillMode=mixed", "KillMode=mixt"), "mixt")])
def test_the_check_would_catch_a_typo(tmp_path, typo, named):
    """A misspelt directive, section or value: systemd says so (and `verify` above would fail)."""
    assert named in verify(local_copy(tmp_path, typo), "mailintake.service")


def test_the_service_runs_serve_as_its_own_user_in_a_sandbox():
    unit = (DEPLOY / "mailintake.service").read_text(encoding="utf-8")
    lines = {line.strip() for line in unit.splitlines()}
    assert f"ExecStart={SHIPPED_BINARY} -c /etc/mailintake/mailintake.toml serve" in lines
    for directive in ("Type=simple", "Restart=on-failure", "User=mailintake", "Group=mailintake",
                      "ProtectSystem=strict", "ProtectHome=yes", "PrivateTmp=yes", "NoNewPrivileges=yes",
                      "PrivateDevices=yes", "ProtectKernelTunables=yes", "ProtectKernelModules=yes",
                      "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX", "StateDirectory=mailintake",
                      "StateDirectoryMode=0700", "UMask=0077", "MemoryMax=3G", "KillSignal=SIGTERM",
                      "TimeoutStopSec=30", "KillMode=mixed", "EnvironmentFile=/etc/mailintake/secrets.env"):
        assert directive in lines, directive
    health = (DEPLOY / "mailintake-health.service").read_text(encoding="utf-8")
    assert f"ExecStart={SHIPPED_BINARY} -c /etc/mailintake/mailintake.toml health" in health.splitlines()


def test_the_operations_guide_names_only_commands_that_exist():
    from mailintake.ingest.cli import _parser

    [sub] = [a for a in _parser()._actions if isinstance(a, argparse._SubParsersAction)]
    named = set(re.findall(r"(?:\bmi|bin/mailintake)(?: -c \S+)? ([a-z][a-z-]+)", GUIDE.read_text(encoding="utf-8")))
    assert {"check", "db", "health", "status", "purge"} <= named
    assert named - set(sub.choices) - {"purge"} == set()  # purge: being wired into the command line


def test_the_guides_database_copy_moves_a_campaign_from_sqlite_to_postgresql(tmp_path, pg_url):
    """The script in OPERATIONS.md, run as written: the same status on PostgreSQL, the store untouched,
    and the service carries on there (new rows get new numbers, stored messages can be re-read)."""
    import dataclasses

    from mailintake.ingest.context import Context
    from mailintake.ingest.reprocess import reprocess
    from mailintake.ingest.samples import clients
    from mailintake.store.db import make_engine, upgrade
    from testkit.desk import BEFORE_DEADLINE, MaildirDesk
    from testkit.mail import MAILBOX
    from testkit.materials import materials

    def mail(sender: str, unit: str, people: list[str], seed: int) -> bytes:
        return clients.build_message(sender=sender, sender_name=unit, to=MAILBOX, subject=f"【{unit}】推荐材料",
                                     body="请查收。", attachments=materials(unit, people, seed=seed))

    desk = MaildirDesk(tmp_path)
    desk.deliver(mail("spbkx@163.com", "沙坪坝区科协", ["张伟"], 3))
    desk.deliver(mail("wzkx@qq.com", "万州区科协", ["冯军", "韩梅"], 29), when=BEFORE_DEADLINE + dt.timedelta(hours=1))
    before = desk.poll()
    desk.close()
    engine = make_engine(pg_url)
    upgrade(engine)
    engine.dispose()
    [script] = re.findall(r"```python\n(.*?)```", GUIDE.read_text(encoding="utf-8"), re.S)
    (tmp_path / "copy_db.py").write_text(textwrap.dedent(script), encoding="utf-8")
    run = [sys.executable, str(tmp_path / "copy_db.py"), desk.cfg.database_url(), pg_url]
    done = subprocess.run(run, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "message: 2 rows" in done.stdout

    cfg = desk.cfg.model_copy(update={"database": desk.cfg.database.model_copy(update={"url": pg_url})})
    ctx = Context.open(cfg)
    try:
        desk.ctx = ctx
        after = desk.status()
        assert [{**m, "reply": None} for m in after["messages"]] == [{**m, "reply": None} for m in before["messages"]]
        assert after["units"] == before["units"]
        assert list(reprocess(ctx, None)) == ["reprocessed 2 message(s)"]
        desk.ctx = dataclasses.replace(ctx)
        desk.deliver(mail("dzkx@qq.com", "大足区科协", ["陈静"], 5), when=BEFORE_DEADLINE + dt.timedelta(hours=2))
        status = desk.poll()
        assert [m["reference"] for m in status["messages"]] == [1, 2, 3]
    finally:
        ctx.close()
    again = subprocess.run(run, capture_output=True, text=True, timeout=300)
    assert again.returncode != 0 and "already holds rows" in again.stderr
