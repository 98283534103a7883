"""The operator upgrades mailintake in the middle of a campaign: the database already holds the units, their
messages, findings and replies. After `db upgrade` everything reads as before, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.script import ScriptDirectory

from mailintake.ingest.samples import clients
from mailintake.store.db import alembic_config, current_revision, head_revision, make_engine, upgrade
from testkit.desk import MaildirDesk
from testkit.materials import materials

MAILBOX = "zgkjgzz@163.com"


def previous_revision(engine) -> str:
    """The schema the release before this one ran: the revision just below head."""
    script = ScriptDirectory.from_config(alembic_config(engine))
    return script.get_revision(script.get_current_head()).down_revision


def campaign(desk: MaildirDesk) -> dict:
    """Two units' submissions, one complete and one lacking a candidate's photos, polled and answered."""
    desk.deliver(clients.build_message(sender="yzkx@qq.com", sender_name="渝中区科协", to=MAILBOX,
                                       subject="渝中区科协 推荐材料", body="见附件",
                                       attachments=materials("渝中区科协", ["王芳", "李娜"])))
    partial = [f for f in materials("北碚区科协", ["赵磊"], seed=7) if "赵磊" not in f[0] or "推荐表" in f[0]]
    desk.deliver(clients.build_message(sender="bbkx@qq.com", sender_name="北碚区科协", to=MAILBOX,
                                       subject="北碚区科协 推荐材料", body="请查收", attachments=partial))
    return desk.poll()


def timeless(status: dict) -> dict:
    return {k: v for k, v in status.items() if k != "generated_at"}


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_database_of_the_previous_release_with_a_campaign_in_it_upgrades_and_reads_the_same(
        backend, tmp_path, request):
    url = request.getfixturevalue("pg_url") if backend == "postgresql" else f"sqlite:///{tmp_path}/m.db"
    desk = MaildirDesk(tmp_path, database={"url": url})
    before = campaign(desk)
    assert len(before["messages"]) == 2 and before["units"], "a campaign worth upgrading"
    desk.close()

    engine = make_engine(url)
    old = previous_revision(engine)
    command.downgrade(alembic_config(engine), old)  # the database as the previous release left it
    assert current_revision(engine) == old
    upgrade(engine)
    assert current_revision(engine) == head_revision(engine)
    engine.dispose()

    again = MaildirDesk(tmp_path, database={"url": url})
    try:
        assert timeless(again.status()) == timeless(before)
        assert timeless(again.poll()) == timeless(before), "nothing is fetched or answered twice after the upgrade"
    finally:
        again.close()
