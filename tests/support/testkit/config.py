"""Configs for tests: SQLite and the blob store in the test's own folder, replies written to files."""

from __future__ import annotations

from pathlib import Path

from mailintake.ingest import config as config_mod
from mailintake.ingest.context import Context
from mailintake.parsers.facts import ParserSettings
from mailintake.store.db import make_engine, upgrade


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


def write_config(path: Path, cfg: config_mod.Config, **mailbox: object) -> Path:
    """A TOML file for `cfg`'s mailbox, database and storage (for tests that run the CLI)."""
    mb = {**cfg.mailbox.model_dump(exclude_defaults=True), **mailbox}
    lines = ["[mailbox]"] + [f"{k} = {v!r}".replace("'", '"') if isinstance(v, str) else f"{k} = {v}"
                             for k, v in mb.items()]
    lines += ["[database]", f'url = "{cfg.database.url}"', "[storage]", f'root = "{cfg.storage.root}"']
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def default_settings() -> ParserSettings:
    """The parser settings of a config that sets nothing: the shipped 2021 campaign's."""
    return config_mod.from_dict({"mailbox": {"host": "h"}}).parser_settings()


def open_context(cfg: config_mod.Config) -> Context:
    """A migrated database and an opened store for `cfg`, as a command would have them."""
    engine = make_engine(cfg.database_url())
    upgrade(engine)
    engine.dispose()
    return Context.open(cfg)


SMTP_PASSWORD_ENV = "MAILINTAKE_TEST_SMTP_PASSWORD"
SMTP_FROM = "834396688@qq.com"


def with_smtp(cfg: config_mod.Config, smtp_server: dict, monkeypatch, **sections: dict) -> config_mod.Config:
    """`cfg` sending its replies to the test's aiosmtpd server (STARTTLS, AUTH bot/botpass), with `sections`
    merged over it (e.g. replies={"settle_minutes": 0})."""
    data = cfg.model_dump()
    data["smtp"] = {**data["smtp"], **smtp_section(smtp_server, monkeypatch)}
    data["replies"] = {**data["replies"], "mode": "smtp"}
    for name, values in sections.items():
        data[name] = {**data.get(name, {}), **values}
    return config_mod.Config.model_validate(data)


def smtp_section(smtp_server: dict, monkeypatch) -> dict:
    """The [smtp] section for the test's aiosmtpd server; its password comes from the environment."""
    monkeypatch.setenv(SMTP_PASSWORD_ENV, "botpass")
    return {"host": "127.0.0.1", "port": smtp_server["port"], "security": "starttls", "ca_file": smtp_server["cafile"],
            "username": "bot", "password_env": SMTP_PASSWORD_ENV, "from_address": SMTP_FROM, "timeout_seconds": 20}
