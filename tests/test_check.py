"""`mailintake check`: one line per part — database, mailbox, SMTP, the converter, OCR, the face detector —
saying what works."""

from __future__ import annotations

from pathlib import Path

import cv2

from mailintake.ingest.cli import main
from mailintake.parsers import faces
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
        f"config: ok ({conf})", "database: ok", "mailbox: ok", "smtp: ok", "converter: ok", "ocr: ok",
        "faces: ok"]
    monkeypatch.setenv("T_SMTP_PW", "wrong")
    assert main(["-c", str(conf), "check"]) == 1
    assert capsys.readouterr().out.splitlines()[3] == (
        f"smtp: SMTP 127.0.0.1:{smtp_server['port']}: login failed for bot: wrong username or password")


def test_check_says_when_the_face_detector_cannot_load_its_cascades(tmp_path):
    """The same loading `check` does, on a folder holding the shipped cascades damaged as a broken install or a
    full disk leaves them: missing, cut short, or an XML file without a cascade in it."""
    shipped = Path(cv2.data.haarcascades)
    assert faces.detector_problem(shipped) is None
    assert faces.detector_problem(tmp_path) == (
        f"the face detector's cascade {tmp_path / faces.FRONTAL} is missing")
    frontal = (shipped / faces.FRONTAL).read_bytes()
    (tmp_path / faces.FRONTAL).write_bytes(frontal[:len(frontal) // 2])
    (tmp_path / faces.PROFILE).write_bytes((shipped / faces.PROFILE).read_bytes())
    assert faces.detector_problem(tmp_path) == (
        f"the face detector's cascade {tmp_path / faces.FRONTAL} does not load")
    (tmp_path / faces.FRONTAL).write_bytes(frontal)
    (tmp_path / faces.PROFILE).write_text('<?xml version="1.0"?>\n<opencv_storage></opencv_storage>\n')
    assert faces.detector_problem(tmp_path) == (
        f"the face detector's cascade {tmp_path / faces.PROFILE} does not load")
