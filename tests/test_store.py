"""The store: migrations on SQLite and PostgreSQL, refusal of an un-migrated database, blob safety."""

from __future__ import annotations

import datetime as dt
import os
import stat

import pytest
from alembic import command
from sqlalchemy import select

from mailintake.ingest.cli import main
from mailintake.ingest.context import Context
from mailintake.ingest.poll import fetch_new
from mailintake.store.blobs import BlobStore
from mailintake.store.db import (
    Database,
    NotMigrated,
    alembic_config,
    current_revision,
    head_revision,
    make_engine,
    require_current,
    upgrade,
)
from mailintake.store.models import Finding, Message
from testkit.config import make_config, open_context
from testkit.mail import SHANGHAI, plain_mail


def test_poll_refuses_an_unmigrated_database_with_a_clear_message(tmp_path, capsys):
    conf = tmp_path / "m.toml"
    conf.write_text(f'[mailbox]\nsource = "maildir"\npath = "{tmp_path}"\n'
                    f'[database]\nurl = "sqlite:///{tmp_path}/m.db"\n', encoding="utf-8")
    assert main(["-c", str(conf), "poll"]) == 1
    assert capsys.readouterr().err.strip() == "error: the database has no schema yet: run `mailintake db upgrade`"
    assert main(["-c", str(conf), "db", "upgrade"]) == 0
    assert main(["-c", str(conf), "poll"]) == 0


def test_the_schema_migrates_on_postgresql_and_records_mail_there(pg_url, dovecot, imap_config, tmp_path):
    db = Database(pg_url)
    with pytest.raises(NotMigrated):
        require_current(db.engine)
    upgrade(db.engine)
    assert current_revision(db.engine) == head_revision(db.engine)
    when = dt.datetime(2021, 5, 28, 23, 59, 59, tzinfo=SHANGHAI)
    dovecot.append(imap_config.mailbox.folder, plain_mail(7), when)
    cfg = imap_config.model_copy(update={"database": imap_config.database.model_copy(update={"url": pg_url})})
    ctx = Context.open(cfg)
    assert len(fetch_new(ctx).recorded) == 1
    with ctx.db.session() as s:
        msg = s.scalars(select(Message)).one()
        assert msg.internaldate == when and msg.key == msg.sha256[:12]
    ctx.close()
    db.dispose()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_migration_0002_ties_old_candidate_findings_to_their_candidate_and_keeps_their_sentences(
        backend, tmp_path, request):
    """Rows written by schema 0001 (a sentence, no params) survive the upgrade and the way back."""
    url = f"sqlite:///{tmp_path}/m.db" if backend == "sqlite" else request.getfixturevalue("pg_url")
    engine = make_engine(url)
    command.upgrade(alembic_config(engine), "0001")
    with engine.begin() as conn:
        conn.exec_driver_sql("INSERT INTO unit (id, name, category) VALUES (1, '江北区', 'district')")
        conn.exec_driver_sql("INSERT INTO candidate (id, unit_id, name, fields, id_photo, life_photos, form) "
                             "VALUES (5, 1, '刘洋', '{}', true, 3, false)")
        conn.exec_driver_sql("INSERT INTO finding (unit_id, scope, code, severity, subject, detail) VALUES "
                             "(1, 'candidate', 'missing_form', 'error', '刘洋', '候选人刘洋缺少推荐表（附件1）。'), "
                             "(1, 'unit', 'missing_report', 'error', NULL, '缺少推荐工作情况报告。')")
    upgrade(engine)
    with Database(url).session() as s:
        rows = {f.code: f for f in s.scalars(select(Finding))}
        assert rows["missing_form"].candidate_id == 5 and rows["missing_report"].candidate_id is None
        assert rows["missing_form"].params is None
        assert rows["missing_form"].detail == "候选人刘洋缺少推荐表（附件1）。"
        s.add(Finding(unit_id=1, scope="unit", code="quota_exceeded", severity="error", subject=None,
                      params={"count": 4, "category": "district", "quota": 3}))
    command.downgrade(alembic_config(engine), "0001")  # rows written since get their sentence back
    with engine.connect() as conn:
        detail = conn.exec_driver_sql("SELECT detail FROM finding WHERE code = 'quota_exceeded'").scalar()
    assert detail == "推荐人选4名，超过区县推荐名额（不超过3名）。"
    engine.dispose()


def test_blobs_are_content_addressed_atomic_and_quarantine_is_private(tmp_path):
    blobs = BlobStore(tmp_path / "store").open()
    (tmp_path / "store" / "tmp" / "leftover").write_bytes(b"half a write")
    blobs = BlobStore(tmp_path / "store").open()  # a restart cleans interrupted writes
    assert list((tmp_path / "store" / "tmp").iterdir()) == []
    sha = blobs.put("raw", b"Subject: x\r\n\r\nhello")
    assert blobs.path("raw", sha).name == f"{sha}.eml"
    assert blobs.put("raw", b"Subject: x\r\n\r\nhello") == sha
    blobs.move("raw", "quarantine", sha)
    assert not blobs.exists("raw", sha) and blobs.exists("quarantine", sha)
    mode = stat.S_IMODE(os.stat(tmp_path / "store" / "quarantine").st_mode)
    assert mode == 0o700
    with pytest.raises(ValueError):
        blobs.path("files", "../../etc/passwd")


def test_file_source_reads_a_maildir_without_changing_it(tmp_path):
    box = tmp_path / "box"
    for sub in ("new", "cur", "tmp"):
        (box / sub).mkdir(parents=True)
    (box / "new" / "1622000000.M1P1.host").write_bytes(plain_mail(1))
    (box / "cur" / "1621000000.M2P1.host:2,S").write_bytes(plain_mail(2))
    cfg = make_config(tmp_path, mailbox={"source": "maildir", "path": str(box)})
    ctx = open_context(cfg)
    assert len(fetch_new(ctx).recorded) == 2
    assert fetch_new(ctx).recorded == []
    with ctx.db.session() as s:
        arrivals = [m.internaldate for m in s.scalars(select(Message).order_by(Message.id))]
    assert arrivals == [dt.datetime.fromtimestamp(1621000000, dt.UTC), dt.datetime.fromtimestamp(1622000000, dt.UTC)]
    assert sorted(p.name for p in box.rglob("*") if p.is_file()) == ["1621000000.M2P1.host:2,S", "1622000000.M1P1.host"]


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_the_migrations_build_exactly_the_schema_the_models_describe(backend, tmp_path, request):
    """A column added to a model without its migration (or the other way round) is caught here."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from mailintake.store.models import Base
    url = request.getfixturevalue("pg_url") if backend == "postgresql" else f"sqlite:///{tmp_path}/m.db"
    engine = make_engine(url)
    upgrade(engine)
    with engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    assert differences == []


def test_the_store_is_readable_by_the_service_user_only(tmp_path):
    blobs = BlobStore(tmp_path / "store").open()
    sha = blobs.put("files", b"personal data")
    assert stat.S_IMODE((tmp_path / "store").stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "store" / "quarantine").stat().st_mode) == 0o700
    assert stat.S_IMODE(blobs.path("files", sha).stat().st_mode) == 0o600
