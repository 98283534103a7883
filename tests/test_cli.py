"""Organiser commands on the command line: messages by key or reference number, dry runs, clear errors."""

from __future__ import annotations

import subprocess
import sys

from testkit.cli import mailintake, setup_box, status


def test_an_organiser_places_a_message_by_reference_number_and_a_dry_run_changes_nothing(tmp_path):
    conf = setup_box(tmp_path)
    [msg] = status(conf)["messages"]
    assert msg["unit"] is None and [f["code"] for f in msg["findings"]] == ["unknown_unit"]
    dry = mailintake(conf, "reprocess", "--all", "--dry-run")
    assert dry.returncode == 0 and dry.stdout.strip() == "no changes"
    assert msg["display_reference"] == "2021-0001"
    placed = mailintake(conf, "assign", msg["display_reference"], "綦江区科协")  # the form people quote
    assert placed.returncode == 0, placed.stderr
    assert placed.stdout.strip() == f"message 2021-0001 ({msg['key']}): assign recorded; now 綦江区"
    after = status(conf)
    assert after["messages"][0]["unit"] == "綦江区" and [u["name"] for u in after["units"]] == ["綦江区"]
    again = mailintake(conf, "reprocess", msg["key"])
    assert again.returncode == 0 and again.stdout.strip() == "reprocessed 1 message(s)"
    assert status(conf)["messages"][0]["unit"] == "綦江区"


def test_an_unknown_message_is_one_clear_line(tmp_path):
    conf = setup_box(tmp_path)
    run = mailintake(conf, "accept-late", "nosuchkey")
    assert run.returncode == 1
    assert run.stderr.strip() == "error: no message with key or reference number 'nosuchkey'"


def test_status_piped_into_a_reader_that_leaves_early_exits_quietly(tmp_path):
    """`mailintake status | head -1`: the reader closes the pipe; no BrokenPipeError traceback."""
    conf = setup_box(tmp_path)
    for args in (["status"], ["status", "--json"]):
        proc = subprocess.Popen([sys.executable, "-m", "mailintake.ingest.cli", "-c", str(conf), *args],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        proc.stdout.close()  # gone before the first line is written
        err = proc.stderr.read().decode()
        assert proc.wait(timeout=120) == 0
        assert "Traceback" not in err and "BrokenPipe" not in err
