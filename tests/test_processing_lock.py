"""One writer at a time: two polls never work on the same mailbox at once, and a killed holder frees it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from testkit.cli import box_config, mailintake, status

STUCK_POLL = """
import sys, time
from mailintake.ingest import pipeline
def stuck(*args):
    open(sys.argv[2], "w").close()   # tell the test we are inside the locked cycle
    time.sleep(600)
pipeline.record = stuck
from mailintake.ingest.cli import main
sys.exit(main(["-c", sys.argv[1], "poll"]))
"""


def wait_for(path: Path, proc: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        assert proc.poll() is None, proc.stderr.read()
        assert time.monotonic() < deadline, "the first poll never reached its processing stage"
        time.sleep(0.05)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_second_poll_says_the_mailbox_is_busy_and_a_killed_holder_leaves_nothing_locked(backend, tmp_path, request):
    url = f"sqlite:///{tmp_path}/m.db" if backend == "sqlite" else request.getfixturevalue("pg_url")
    conf = box_config(tmp_path, "【綦江区】推荐材料", url, "[schedule]\nlock_wait_seconds = 1\n")
    inside = tmp_path / "inside"
    first = subprocess.Popen([sys.executable, "-c", STUCK_POLL, str(conf), str(inside)], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, env={**os.environ}, start_new_session=True)
    try:
        wait_for(inside, first)
        second = mailintake(conf, "poll")
        assert second.returncode == 75, second.stderr
        [line] = second.stderr.strip().splitlines()
        assert line.startswith("busy: another mailintake process is processing this mailbox")
        assert line.endswith("this poll stops here, the next one carries on")
        if backend == "sqlite":
            assert f"(pid {first.pid} since " in line
        organiser = mailintake(conf, "reprocess", "--all")  # waits lock_wait_seconds, then says so
        assert organiser.returncode == 75 and "gave up after waiting 1 s" in organiser.stderr
    finally:
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=30)
    after = mailintake(conf, "poll")
    assert after.returncode == 0, after.stderr
    [msg] = status(conf)["messages"]
    assert (msg["state"], msg["unit"]) == ("processed", "綦江区")
    assert mailintake(conf, "assign", "1", "綦江区").returncode == 0  # organiser commands take it too
