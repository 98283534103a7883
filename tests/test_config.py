"""The config file: validated at start-up, one line per problem, secrets never inside it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from mailintake.ingest import config
from mailintake.ingest.cli import main

ROOT = Path(__file__).resolve().parents[1]


def test_the_example_config_is_valid_and_encodes_the_2021_notice():
    cfg = config.load(ROOT / "config.example.toml")
    assert cfg.mailbox.host == "imap.qq.com" and cfg.mailbox.port == 993 and cfg.mailbox.security == "tls"
    assert cfg.smtp.host == "smtp.qq.com" and cfg.smtp.port == 465
    assert cfg.campaign.deadline == dt.datetime(2021, 5, 28, 23, 59, 59, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    assert (cfg.campaign.quotas.district, cfg.campaign.quotas.society, cfg.campaign.quotas.institution) == (3, 2, 2)
    assert cfg.campaign.photos.min_bytes == 2 * 1024 * 1024
    assert cfg.mailbox.verify_tls and cfg.smtp.verify_tls


def test_an_invalid_config_names_file_key_and_problem_one_line_each(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text('[mailbox]\nhost = "x"\nport = "abc"\npassword = "secret"\n'
                   '[campaign]\ndeadline = "2021-05-28"\n', encoding="utf-8")
    assert main(["-c", str(bad), "check"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines == [
        f"config error: {bad}: mailbox.port: Input should be a valid integer, unable to parse string as an integer",
        f"config error: {bad}: mailbox.password: unknown key (misspelt?)",
        f"config error: {bad}: campaign.deadline: needs a UTC offset, e.g. 2021-05-28T23:59:59+08:00",
    ]


def test_a_quoted_iso_deadline_is_accepted(tmp_path):
    cfg = config.from_dict({"mailbox": {"host": "h"}, "campaign": {"deadline": "2022-05-31T18:00:00+08:00"}})
    assert cfg.campaign.deadline.utcoffset() == dt.timedelta(hours=8)


def test_missing_and_broken_files_are_one_line(tmp_path, capsys):
    assert main(["-c", str(tmp_path / "nope.toml"), "check"]) == 2
    assert capsys.readouterr().err.strip() == f"config error: {tmp_path / 'nope.toml'}: file not found"
    broken = tmp_path / "broken.toml"
    broken.write_text("[mailbox\n", encoding="utf-8")
    assert main(["-c", str(broken), "check"]) == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_secrets_come_from_the_environment_or_a_file(tmp_path, monkeypatch):
    secret = tmp_path / "imap.secret"
    secret.write_text("from-file\n", encoding="utf-8")
    by_file = config.from_dict({"mailbox": {"host": "h", "password_file": str(secret)}})
    assert by_file.mailbox.password() == "from-file"
    monkeypatch.setenv("MY_IMAP_PW", "from-env")
    by_env = config.from_dict({"mailbox": {"host": "h", "password_env": "MY_IMAP_PW"}})
    assert by_env.mailbox.password() == "from-env"
    monkeypatch.delenv("MY_IMAP_PW")
    with pytest.raises(config.ConfigError, match="MY_IMAP_PW"):
        by_env.mailbox.password()


def test_relative_paths_resolve_against_the_config_file(tmp_path):
    conf = tmp_path / "site" / "m.toml"
    conf.parent.mkdir()
    conf.write_text('[mailbox]\nsource = "maildir"\npath = "box"\n[database]\nurl = "sqlite:///db/m.db"\n',
                    encoding="utf-8")
    cfg = config.load(conf)
    assert cfg.resolve(cfg.mailbox.path) == conf.parent / "box"
    assert cfg.database_url() == f"sqlite:///{conf.parent / 'db' / 'm.db'}"
