"""A message that crashes the process is set aside after a few tries; the rest of the mailbox goes on."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from mailintake.ingest.samples import clients, documents
from testkit.cli import mailintake, setup_box, status
from testkit.mail import MAILBOX

CRASH_ON_FIRST_MESSAGE = """
import os, sys
from mailintake.ingest import pipeline
real = pipeline.record
def crash_on_poison(s, ctx, msg, facts):
    if facts.subject == "POISON":
        os._exit(9)   # the service itself killed while recording this message (the parse worker is separate)
    return real(s, ctx, msg, facts)
pipeline.record = crash_on_poison
from mailintake.ingest.cli import main
sys.exit(main(["-c", sys.argv[1], "poll"]))
"""


def test_a_message_that_kills_the_process_is_set_aside_after_three_attempts(tmp_path):
    conf = setup_box(tmp_path)
    box = tmp_path / "box"
    (box / "new" / "1621500000.M2P1.host").write_bytes(b"Subject: POISON\r\nFrom: a@b.cn\r\n\r\nboom\r\n")
    (box / "new" / "1621600000.M3P1.host").write_bytes(b"Subject: fine\r\nFrom: c@d.cn\r\n\r\nhello\r\n")
    codes = [subprocess.run([sys.executable, "-c", CRASH_ON_FIRST_MESSAGE, str(conf)], capture_output=True,
                            timeout=120, env={**os.environ}).returncode for _ in range(4)]
    assert codes == [9, 9, 9, 0]
    messages = {m["subject"] or "": m for m in status(conf)["messages"]}
    poisoned = [m for m in status(conf)["messages"] if m["state"] == "failed"]
    assert len(poisoned) == 1 and "3 attempts" in poisoned[0]["error"]
    assert messages["fine"]["state"] == "processed" and messages["fine"]["kind"] == "other"
    retry = mailintake(conf, "reprocess", poisoned[0]["key"])
    assert retry.stdout.strip() == "reprocessed 1 message(s)"  # once fixed, the operator retries it


CRASH_AFTER_COMMIT = """
import os, sys
from mailintake.ingest import pipeline
def die(*args):
    os._exit(9)   # killed after the commit, before the blob effects it implies
pipeline.settle = die
from mailintake.ingest.cli import main
sys.exit(main(["-c", sys.argv[1], "poll"]))
"""


def blobs_in(root: Path, area: str) -> list[Path]:
    return sorted((root / area).rglob("*.*"))


def test_a_crash_between_the_commit_and_the_quarantine_move_is_finished_by_the_next_poll(tmp_path):
    conf = setup_box(tmp_path)  # one ordinary submission, processed
    root = tmp_path / "store"
    kept = blobs_in(root, "files")
    secret = ("附件1：孙磊推荐表.docx", documents.form_docx("孙磊", "", None, "机密★1年"))
    raw = clients.build_message(sender="nakx@qq.com", sender_name="南岸区科协", to=MAILBOX,
                                subject="【南岸区】推荐材料", body="见附件", attachments=[secret])
    (tmp_path / "box" / "new" / "1621500000.M2P1.host").write_bytes(raw)
    crash = subprocess.run([sys.executable, "-c", CRASH_AFTER_COMMIT, str(conf)], capture_output=True,
                           timeout=120, env={**os.environ})
    assert crash.returncode == 9
    quarantined = [m for m in status(conf)["messages"] if m["quarantined"]]
    assert len(quarantined) == 1 and quarantined[0]["state"] == "processed"  # the rows committed...
    assert len(blobs_in(root, "raw")) == 2 and blobs_in(root, "quarantine") == []  # ...the move did not happen
    orphan = root / "files" / "ab" / ("ab" * 32 + ".bin")  # what a crash between a write and its commit leaves
    orphan.parent.mkdir(parents=True, exist_ok=True)
    orphan.write_bytes(b"left behind")
    assert mailintake(conf, "poll").returncode == 0
    assert len(blobs_in(root, "raw")) == 1 and len(blobs_in(root, "quarantine")) == 1
    assert blobs_in(root, "files") == kept  # the orphan is gone, the first message's files stay
    assert [m["quarantined"] for m in status(conf)["messages"]] == [False, True]
