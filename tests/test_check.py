"""`mailintake check`: one line per part — database, mailbox, SMTP — saying what works."""

from __future__ import annotations

from mailintake.ingest.cli import main
from testkit.config import write_config


def smtp_lines(smtp_server, password_env: str) -> str:
    return (f'[smtp]\nhost = "127.0.0.1"\nport = {smtp_server["port"]}\nsecurity = "starttls"\n'
            f'ca_file = "{smtp_server["cafile"]}"\nusername = "bot"\npassword_env = "{password_env}"\n'
            '[replies]\nmode = "smtp"\n')


def test_check_reports_each_part_on_one_line(dovecot, imap_config, smtp_server, tmp_path, capsys, monkeypatch):
    conf = write_config(tmp_path / "m.toml", imap_config)
    conf.write_text(conf.read_text(encoding="utf-8") + smtp_lines(smtp_server, "T_SMTP_PW"), encoding="utf-8")
    monkeypatch.setenv("T_SMTP_PW", "botpass")
    assert main(["-c", str(conf), "check"]) == 1  # database not migrated yet
    assert "database: the database has no schema yet: run `mailintake db upgrade`" in capsys.readouterr().out
    assert main(["-c", str(conf), "db", "upgrade"]) == 0
    capsys.readouterr()
    assert main(["-c", str(conf), "check"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"config: ok ({conf})", "database: ok", "mailbox: ok", "smtp: ok", "converter: ok", "ocr: ok"]
    monkeypatch.setenv("T_SMTP_PW", "wrong")
    assert main(["-c", str(conf), "check"]) == 1
    assert capsys.readouterr().out.splitlines()[3] == (
        f"smtp: SMTP 127.0.0.1:{smtp_server['port']}: login failed for bot: wrong username or password")
