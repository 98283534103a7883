"""`mailintake check`: try each configured part and say, in one line each, what works."""

from __future__ import annotations

import smtplib
import ssl

from sqlalchemy import text

from mailintake.common.errors import ConfigError, NotMigrated, SourceError
from mailintake.ingest.config import Config
from mailintake.ingest.sources.imap import ImapSource
from mailintake.ingest.tls import client_context
from mailintake.parsers.faces import detector_problem
from mailintake.parsers.ocr import engine_check
from mailintake.store.db import make_engine, require_current


def run_checks(cfg: Config) -> list[tuple[str, str | None]]:
    """(part, problem) for each part; problem None means it works. SMTP is skipped unless replies use it."""
    checks = [("database", _database(cfg)), ("mailbox", _mailbox(cfg))]
    if cfg.replies.mode == "smtp":
        checks.append(("smtp", _smtp(cfg)))
    return [*checks, ("converter", _converter(cfg)), ("ocr", _ocr(cfg)), ("faces", _faces())]


def _converter(cfg: Config) -> str | None:
    """LibreOffice for .doc/.wps/.et (and .xls xlrd cannot read); switched off with `documents.soffice = ""`."""
    wanted = cfg.documents.soffice
    if wanted.strip() and cfg.documents.soffice_path() is None:
        return (f"the converter is missing: LibreOffice not found (documents.soffice = {wanted!r}), so .doc/.wps/.et "
                "files get legacy_format and are not read; install libreoffice-writer-nogui and libreoffice-calc-nogui")
    return None


def _ocr(cfg: Config) -> str | None:
    """The OCR child starts and loads its models within its limits; switched off with `ocr_max_pages = 0`."""
    settings = cfg.document_settings()
    if settings.ocr_max_pages <= 0:
        return None
    problem, _ = engine_check(settings)
    return None if problem is None else f"{problem}: scans get ocr_failed and keep markings_not_checked"


def _faces() -> str | None:
    """OpenCV's Haar cascades load (a classifier that is not empty): else no ID photo is checked for a face."""
    problem = detector_problem()
    return None if problem is None else f"{problem}: ID photos are not checked for one frontal face"


def _database(cfg: Config) -> str | None:
    engine = make_engine(cfg.database_url())
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        require_current(engine)
    except NotMigrated as exc:
        return str(exc)
    except Exception as exc:  # the driver's own words are the useful part
        return f"cannot connect: {str(exc).splitlines()[0]}"
    finally:
        engine.dispose()
    return None


def _mailbox(cfg: Config) -> str | None:
    mb = cfg.mailbox
    if mb.source == "maildir":
        path = cfg.resolve(mb.path)
        return None if path.is_dir() else f"folder {path} does not exist"
    try:
        with ImapSource(mb, mb.password()) as src:
            if mb.move_to and not src.can_move:
                return f"connected, but the server lacks MOVE (move_to = {mb.move_to!r} will be skipped)"
    except (SourceError, ConfigError) as exc:
        return str(exc)
    return None


def _smtp(cfg: Config) -> str | None:
    sm = cfg.smtp
    where = f"SMTP {sm.host}:{sm.port}"
    ctx = client_context(sm)
    try:
        if sm.security == "tls":
            conn = smtplib.SMTP_SSL(sm.host, sm.port, context=ctx, timeout=sm.timeout_seconds)
        else:
            conn = smtplib.SMTP(sm.host, sm.port, timeout=sm.timeout_seconds)
            if sm.security == "starttls":
                conn.starttls(context=ctx)
        with conn:
            if sm.username:
                conn.login(sm.username, sm.password())
    except smtplib.SMTPAuthenticationError:
        return f"{where}: login failed for {sm.username}: wrong username or password"
    except ssl.SSLCertVerificationError as exc:
        return f"{where}: TLS certificate not trusted ({exc.verify_message}); set smtp.ca_file"
    except (TimeoutError, OSError, smtplib.SMTPException, ConfigError) as exc:
        return f"{where}: cannot connect: {exc}"
    return None
