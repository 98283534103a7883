"""A message that crashes the process is set aside after a few tries; the rest of the mailbox goes on."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.test_cli import setup_box, status

CRASH_ON_FIRST_MESSAGE = """
import os, sys
import parsers.message
from ingest import process
real = process.parse_message
def crash_on_poison(raw, settings):
    if b"POISON" in raw:
        os._exit(9)   # a native library taking the whole process down
    return real(raw, settings)
process.parse_message = crash_on_poison
from ingest.cli import main
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
    retry = subprocess.run([sys.executable, "-m", "ingest.cli", "-c", str(conf), "reprocess", poisoned[0]["key"]],
                           capture_output=True, text=True, timeout=120, env={**os.environ})
    assert retry.stdout.strip() == "reprocessed 1 message(s)"  # once fixed, the operator retries it
