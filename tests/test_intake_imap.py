"""Durable IMAP intake against a real Dovecot: fetched once, checkpointed, re-scanned safely."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import tracemalloc
from pathlib import Path

from sqlalchemy import func, select

from mailintake.ingest import fetch
from mailintake.ingest.context import Context
from mailintake.ingest.poll import fetch_new, poll
from mailintake.ingest.sources.imap import ImapSource
from mailintake.store.models import Message, SyncState
from testkit.cli import run as cli
from testkit.config import make_config, open_context, write_config
from testkit.mail import SHANGHAI, plain_mail
from testkit.servers import IMAP_PASSWORD_ENV, free_port, start_dovecot


def fetch_once(ctx: Context, progress=None) -> fetch.FetchResult:
    return fetch_new(ctx, progress)


def records(ctx: Context) -> list[Message]:
    with ctx.db.session() as s:
        return list(s.scalars(select(Message).order_by(Message.id)))


def test_new_mail_is_fetched_once_with_its_arrival_time(dovecot, imap_config):
    when = dt.datetime(2021, 5, 27, 16, 30, 5, tzinfo=SHANGHAI)
    dovecot.append(imap_config.mailbox.folder, plain_mail(1), when)
    ctx = open_context(imap_config)
    assert len(fetch_once(ctx).recorded) == 1
    assert fetch_once(ctx).recorded == []
    [msg] = records(ctx)
    assert msg.internaldate == when  # same instant, timezone-aware
    assert msg.internaldate.tzinfo is not None
    assert ctx.blobs.get("raw", msg.sha256).startswith(b"From:") or b"Subject" in ctx.blobs.get("raw", msg.sha256)


def test_restart_resumes_from_the_checkpoint(dovecot, imap_config):
    folder = imap_config.mailbox.folder
    now = dt.datetime(2021, 5, 20, 9, 0, tzinfo=SHANGHAI)
    for n in range(3):
        dovecot.append(folder, plain_mail(n), now)
    ctx = open_context(imap_config)
    assert len(fetch_once(ctx).recorded) == 3
    ctx.close()
    dovecot.append(folder, plain_mail(3), now)
    ctx = open_context(imap_config)  # a new process: only the checkpoint carries over
    assert len(fetch_once(ctx).recorded) == 1
    with ctx.db.session() as s:
        state = s.scalars(select(SyncState)).one()
        assert state.last_uid == max(dovecot.uids(folder))
    assert len(records(ctx)) == 4


def test_uidvalidity_change_rescans_without_duplicates(dovecot, imap_config):
    folder = imap_config.mailbox.folder
    now = dt.datetime(2021, 5, 21, 9, 0, tzinfo=SHANGHAI)
    dovecot.append(folder, plain_mail(1), now)
    dovecot.append(folder, plain_mail(1), now)  # two identical copies: two records, matched as a multiset
    dovecot.append(folder, plain_mail(2), now)
    ctx = open_context(imap_config)
    fetch_once(ctx)
    keys_before = [m.key for m in records(ctx)]
    dovecot.set_uidvalidity(folder, 4242)
    dovecot.append(folder, plain_mail(3), now)
    result = fetch_once(ctx)
    assert result.uidvalidity_changed
    assert result.rematched == 3
    assert len(result.recorded) == 1
    after = records(ctx)
    assert [m.key for m in after][:3] == keys_before
    assert {m.uidvalidity for m in after} == {4242}
    assert sorted(m.uid for m in after) == dovecot.uids(folder)


def test_post_action_marks_only_recorded_messages_and_never_sets_seen(dovecot, imap_config):
    folder = imap_config.mailbox.folder
    now = dt.datetime(2021, 5, 22, 9, 0, tzinfo=SHANGHAI)
    dovecot.append(folder, plain_mail(1), now)
    ctx = open_context(imap_config)
    late_uids = []

    def append_during_poll(done, total):
        if not late_uids:
            late_uids.append(dovecot.append(folder, plain_mail(2), now))

    fetch_once(ctx, append_during_poll)
    flags = dovecot.flags(folder)
    first = min(flags)
    assert b"$Ingested" in flags[first]
    assert b"\\Seen" not in flags[first]
    assert flags[late_uids[0]] == ()  # appended during the poll: untouched until recorded
    assert len(fetch_once(ctx).recorded) == 1  # ...and picked up by the next poll
    assert b"$Ingested" in dovecot.flags(folder)[late_uids[0]]


def test_move_to_moves_recorded_messages_and_deletes_nothing(dovecot, imap_config):
    folder = imap_config.mailbox.folder
    archive = dovecot.new_folder()
    cfg = imap_config.model_copy(update={"mailbox": imap_config.mailbox.model_copy(update={"move_to": archive})})
    dovecot.append(folder, plain_mail(1), dt.datetime(2021, 5, 22, tzinfo=SHANGHAI))
    ctx = open_context(cfg)
    assert len(fetch_once(ctx).recorded) == 1
    assert dovecot.uids(folder) == []
    assert len(dovecot.uids(archive)) == 1
    assert fetch_once(ctx).recorded == []


def test_large_messages_are_fetched_in_bounded_chunks(dovecot, imap_config):
    folder = imap_config.mailbox.folder
    big = plain_mail(9, body="大" * 400_000)  # ~1.2 MB of UTF-8 body, base64 in transit
    dovecot.append(folder, big, dt.datetime(2021, 5, 22, tzinfo=SHANGHAI))
    mailbox = imap_config.mailbox.model_copy(update={"chunk_bytes": 256 * 1024, "batch_bytes": 1024 * 1024})
    ctx = open_context(imap_config.model_copy(update={"mailbox": mailbox}))
    fetch_once(ctx)
    [msg] = records(ctx)
    with ImapSource(mailbox, "alicepass") as src:
        [(entry, pieces)] = list(src.bodies(src.entries(src.uids_after(0))))
        raw = b"".join(pieces)
    assert ctx.blobs.get("raw", msg.sha256) == raw
    assert msg.size == len(raw) > 256 * 1024


def test_a_big_message_goes_to_the_store_piece_by_piece_never_whole_in_memory(dovecot, imap_config):
    big = plain_mail(8, body="大" * 1_500_000)  # ~6 MB in transit
    dovecot.append(imap_config.mailbox.folder, big, dt.datetime(2021, 5, 22, tzinfo=SHANGHAI))
    mailbox = imap_config.mailbox.model_copy(update={"chunk_bytes": 256 * 1024, "batch_bytes": 1024 * 1024})
    ctx = open_context(imap_config.model_copy(update={"mailbox": mailbox}))
    tracemalloc.start()
    try:
        fetch_once(ctx)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    [msg] = records(ctx)
    assert msg.size == len(ctx.blobs.get("raw", msg.sha256)) > 4_000_000
    assert peak < msg.size / 4, f"{peak} bytes held at once for a {msg.size}-byte message"


def test_bad_password_gives_one_clear_line(dovecot, imap_config, tmp_path):
    conf = write_config(tmp_path / "m.toml", imap_config)
    assert cli("-c", str(conf), "db", "upgrade").returncode == 0
    run = cli("-c", str(conf), "poll", env={"MAILINTAKE_TEST_IMAP_PASSWORD": "wrong"})
    assert run.returncode == 1
    assert run.stderr.strip().splitlines() == [
        f"error: IMAP 127.0.0.1:{dovecot.tls_port}: login failed for alice: "
        "wrong username or password (QQ Mail needs an authorisation code); "
        "the server said: [AUTHENTICATIONFAILED] Authentication failed."]


def test_unreachable_server_gives_one_clear_line(imap_config, tmp_path):
    conf = write_config(tmp_path / "m.toml", imap_config, port=free_port())
    cli("-c", str(conf), "db", "upgrade")
    run = cli("-c", str(conf), "poll")
    assert run.returncode == 1
    [line] = run.stderr.strip().splitlines()
    assert line.startswith("error: IMAP 127.0.0.1:") and "cannot connect" in line


def test_untrusted_certificate_is_refused_by_default(dovecot, imap_config, tmp_path):
    conf = write_config(tmp_path / "m.toml", imap_config, ca_file="")
    cli("-c", str(conf), "db", "upgrade")
    run = cli("-c", str(conf), "poll")
    assert run.returncode == 1
    assert "certificate not trusted" in run.stderr


CRASHING_FETCH = """
import os, sys
from mailintake.store.blobs import BlobStore
from mailintake.ingest import config, fetch
from mailintake.ingest.context import Context
from mailintake.ingest.poll import fetch_new, poll
real_put = BlobStore.put_stream
def put_then_die(self, kind, pieces):
    data = b"".join(pieces)
    stored = real_put(self, kind, [data])
    if kind == "raw" and b"<m2@" in data:
        os._exit(9)   # killed after the raw file is durable, before its row commits
    return stored
BlobStore.put_stream = put_then_die
ctx = Context.open(config.load(sys.argv[1]))
fetch_new(ctx)
"""


def test_a_kill_between_raw_file_and_row_loses_nothing(dovecot, imap_config, tmp_path):
    folder = imap_config.mailbox.folder
    for n in range(1, 4):
        dovecot.append(folder, plain_mail(n), dt.datetime(2021, 5, 23, tzinfo=SHANGHAI))
    conf = write_config(tmp_path / "m.toml", imap_config)
    assert cli("-c", str(conf), "db", "upgrade").returncode == 0
    crash = subprocess.run([sys.executable, "-c", CRASHING_FETCH, str(conf)], capture_output=True, timeout=120,
                           env={**os.environ})
    assert crash.returncode == 9
    ctx = open_context(imap_config)
    assert len(records(ctx)) == 1  # only the first row committed
    assert len(list((Path(imap_config.storage.root) / "raw").rglob("*.eml"))) == 2  # plus one orphan
    fetch_once(ctx)
    after = records(ctx)
    assert len(after) == 3
    with ctx.db.session() as s:
        assert s.scalar(select(func.count(func.distinct(Message.uid)))) == 3
    assert len(list((Path(imap_config.storage.root) / "raw").rglob("*.eml"))) == 3
    assert len(list((Path(imap_config.storage.root) / "tmp").iterdir())) == 0


def test_a_recreated_folder_renumbers_uids_and_nothing_is_recorded_twice(dovecot, imap_config):
    folder = imap_config.mailbox.folder
    now = dt.datetime(2021, 5, 24, 9, 0, tzinfo=SHANGHAI)
    for n in (1, 2):
        dovecot.append(folder, plain_mail(n), now)
    ctx = open_context(imap_config)
    fetch_once(ctx)
    with dovecot.client() as c:  # an operator deletes and recreates the folder, then restores the mail
        c.delete_folder(folder)
        c.create_folder(folder)
    for n in (0, 2, 1):  # a new message first: UIDs no longer line up with the old ones
        dovecot.append(folder, plain_mail(n), now)
    result = fetch_once(ctx)
    assert (result.uidvalidity_changed, result.rematched, len(result.recorded)) == (True, 2, 1)
    assert len(records(ctx)) == 3
    assert sorted(m.uid for m in records(ctx)) == dovecot.uids(folder)


def test_without_a_post_action_the_mailbox_is_left_untouched(dovecot, imap_config):
    folder = imap_config.mailbox.folder
    mailbox = imap_config.mailbox.model_copy(update={"mark_keyword": "", "move_to": ""})
    dovecot.append(folder, plain_mail(1), dt.datetime(2021, 5, 24, tzinfo=SHANGHAI))
    ctx = open_context(imap_config.model_copy(update={"mailbox": mailbox}))
    assert len(fetch_once(ctx).recorded) == 1
    assert list(dovecot.flags(folder).values()) == [()]
    assert fetch_once(ctx).recorded == []  # the database checkpoint alone prevents a second record


def test_a_server_outage_mid_poll_loses_nothing_and_the_next_poll_resumes(tmp_path, monkeypatch):
    from mailintake.ingest.sources.imap import SourceError

    server = start_dovecot()
    try:
        monkeypatch.setenv(IMAP_PASSWORD_ENV, server.password)
        cfg = make_config(tmp_path, mailbox={
            "host": server.host, "port": server.tls_port, "ca_file": server.cafile, "username": server.user,
            "password_env": IMAP_PASSWORD_ENV, "batch_bytes": 1024 * 1024})
        for n in range(3):  # ~700 KB each: one message per fetch batch
            server.append("INBOX", plain_mail(n, body="材" * 230_000), dt.datetime(2021, 5, 26, tzinfo=SHANGHAI))
        ctx = open_context(cfg)

        def outage(stage, done, total):
            if stage == "fetch" and done == 1:
                server.crash()

        try:
            poll(ctx, outage)
            raise AssertionError("the outage went unnoticed")
        except SourceError as exc:
            assert "connection lost during the poll" in str(exc)
        [first] = records(ctx)
        assert first.state == "processed" and not first.post_action_done  # recorded work is kept
        server.start()
        summary = poll(ctx)
        assert (summary.fetched, summary.failed) == (2, [])
        assert len(records(ctx)) == 3 and all(m.post_action_done for m in records(ctx))
        assert all(b"$Ingested" in f for f in server.flags("INBOX").values())
    finally:
        server.stop()


def test_a_refused_post_action_keeps_the_record_and_is_retried(dovecot, imap_config):
    folder = imap_config.mailbox.folder
    mailbox = imap_config.mailbox.model_copy(update={"mark_keyword": "", "move_to": "NoSuchFolder"})
    dovecot.append(folder, plain_mail(1), dt.datetime(2021, 5, 24, tzinfo=SHANGHAI))
    ctx = open_context(imap_config.model_copy(update={"mailbox": mailbox}))
    assert len(fetch_once(ctx).recorded) == 1  # the server said NO to MOVE: no crash, nothing lost
    [msg] = records(ctx)
    assert not msg.post_action_done and len(dovecot.uids(folder)) == 1
    with dovecot.client() as c:
        c.create_folder("NoSuchFolder")
    assert fetch_once(ctx).recorded == []
    assert records(ctx)[0].post_action_done and dovecot.uids(folder) == []
    assert len(dovecot.uids("NoSuchFolder")) == 1
