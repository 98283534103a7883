"""The backstop behind the parsers' counted limits: a file that stalls the parse is set aside, not the mailbox.

Each message is parsed in a child process with a wall-clock and a memory limit. The hostile inputs are
real ones, made in milliseconds (`mailintake.ingest.samples.hostile`): a 10 KB PDF whose 50 pages share
one 1 MiB text stream (pdfium needs about half a second per page to read its text), and a 300 KB PNG of
100 Mpx, under the pixel cap, that decodes to 300 MB.
"""

from __future__ import annotations

import functools
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mailintake.ingest.samples import clients, hostile
from mailintake.ingest.samples.mailbox import candidate_files, person, sealed_report, summary
from testkit.desk import MaildirDesk, by_name
from testkit.mail import MAILBOX


@functools.cache
def big_png() -> bytes:
    return hostile.large_flat_png()


def submission(unit: str, people: list[str], seed: int, replace: dict[str, bytes] | None = None) -> bytes:
    files = [sealed_report(unit, seed), summary(unit, [person(p, "女", "1980.05", "研究员") for p in people])]
    for n, p in enumerate(people):
        files += candidate_files(p, seed + n)
    files = [(name, (replace or {}).get(name, data)) for name, data in files]
    return clients.build_message(sender=f"u{seed}@qq.com", sender_name="推荐单位", to=MAILBOX,
                                 subject=f"【{unit}】推荐材料", body="请查收。", attachments=files)


def findings_of(attachment_name: str, msg: dict) -> list[dict]:
    return [f for f in msg["findings"] if f["subject"] == attachment_name]


@pytest.fixture
def bounded_desk(tmp_path):
    desk = MaildirDesk(tmp_path, limits={"parse_seconds": 3, "parse_memory_mb": 256})
    yield desk
    desk.close()


def test_a_pdf_whose_text_layer_outlasts_the_limit_is_set_aside_and_the_rest_is_judged(bounded_desk):
    heavy = hostile.heavy_text_pdf(line_words=70)  # under the page-object budget for 20 pages: ~12 s of text
    assert len(heavy) < 20_000  # a small mail...
    bounded_desk.deliver(submission("江北区科协", ["刘洋"], 5, {"推荐工作情况报告.pdf": heavy}))
    bounded_desk.deliver(submission("渝北区科协", ["王敏"], 9))  # a good one right behind it
    started = time.monotonic()
    status = bounded_desk.poll()
    assert time.monotonic() - started < 60  # one stall of 3 s, not 20 pages x 0.6 s x 3 attempts
    stalled, good = status["messages"]
    [limit] = findings_of("推荐工作情况报告.pdf", stalled)
    assert (limit["code"], limit["severity"]) == ("processing_limit", "error")
    assert limit["params"] == {"reason": "limit_time", "limit": 3}
    assert "过于复杂，系统未能完整检查（处理时间超过3秒）" in limit["detail"]
    files = by_name(stalled)
    assert files["刘洋1.jpg"]["role"] == "id_photo" and files["附件2：推荐人选汇总表.xlsx"]["role"] == "summary"
    assert [f["code"] for f in stalled["findings"]] == ["processing_limit"]  # nothing else was wrong
    units = {u["name"]: u for u in status["units"]}
    assert units["江北区"]["status"] == "incomplete" and units["渝北区"]["status"] == "complete"
    assert good["state"] == "processed" and good["findings"] == []


def test_an_image_that_decodes_past_the_memory_limit_is_set_aside(bounded_desk, caplog):
    """It is inspected beside the candidate's other photos, so the parse is repeated one file at a time to
    learn which one overran: only that one is set aside."""
    bounded_desk.deliver(submission("江北区科协", ["刘洋"], 5, {"刘洋3.jpg": big_png()}))
    with caplog.at_level("WARNING", logger="mailintake.ingest.worker"):
        msg = bounded_desk.poll()["messages"][0]
    assert "read again one file at a time" in caplog.text
    [limit] = findings_of("刘洋3.jpg", msg)
    assert limit["code"] == "processing_limit" and limit["params"]["reason"] == "limit_memory"
    assert by_name(msg)["刘洋2.jpg"]["role"] == "life_photo"


ORPHANED_WORKER = """
import sys
from mailintake.ingest.samples import hostile
from mailintake.ingest.worker import ParseWorker, WorkerLimits
from testkit.config import default_settings
worker = ParseWorker(default_settings(), WorkerLimits(wall_seconds=600, memory_bytes=2 << 30))
worker._ensure()
print(worker._proc.pid, flush=True)
raw = b"Subject: x\\r\\nContent-Type: application/pdf\\r\\nContent-Disposition: attachment; filename=a.pdf\\r\\n"
raw += b"Content-Transfer-Encoding: base64\\r\\n\\r\\n" + __import__("base64").encodebytes(hostile.heavy_text_pdf())
worker.parse(raw, {})   # busy for ~25 s when the test kills this process
"""


def test_a_killed_service_leaves_no_parse_worker_running(tmp_path):
    service = subprocess.Popen([sys.executable, "-c", ORPHANED_WORKER], stdout=subprocess.PIPE, text=True,
                               env={**os.environ, "PYTHONPATH": str(Path(__file__).parent / "support")})
    worker = int(service.stdout.readline())
    time.sleep(1)
    assert Path(f"/proc/{worker}").exists()
    service.send_signal(signal.SIGKILL)
    service.wait(timeout=30)
    deadline = time.monotonic() + 20
    while alive(worker) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not alive(worker)


def alive(pid: int) -> bool:
    """Running, not merely a zombie waiting for its reaper."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text(encoding="ascii").rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


MEASURED_POLL = """
import json, resource, sys
from mailintake.ingest.cli import main
code = main(["-c", sys.argv[1], "poll"])
# VmHWM, not RUSAGE_SELF: the kernel carries the forking parent's (pytest's) high-water mark across exec
# into ru_maxrss, so that would measure the test runner, which grows over a full run
hwm = next(line for line in open("/proc/self/status") if line.startswith("VmHWM:"))
own = int(hwm.split()[1]) * 1024
workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
print(json.dumps({"code": code, "parent": own, "worker": workers}))
"""


def test_parent_and_worker_memory_stay_bounded_on_an_image_bomb_under_the_pixel_cap(tmp_path):
    """Peak resident memory as the kernel counted it (getrusage of the poll and of its reaped worker)."""
    desk = MaildirDesk(tmp_path, limits={"parse_seconds": 60, "parse_memory_mb": 256})
    desk.deliver(submission("江北区科协", ["刘洋"], 5, {"刘洋3.jpg": big_png()}))
    desk.close()
    conf = tmp_path / "m.toml"
    conf.write_text(f'[mailbox]\nsource = "maildir"\npath = "{desk.box}"\n[database]\nurl = "{desk.cfg.database.url}"\n'
                    f'[storage]\nroot = "{desk.cfg.storage.root}"\n[limits]\nparse_seconds = 60\n'
                    'parse_memory_mb = 256\n', encoding="utf-8")
    run = subprocess.run([sys.executable, "-c", MEASURED_POLL, str(conf)], capture_output=True, text=True,
                         timeout=300, env={**os.environ})
    measured = json.loads(run.stdout.strip().splitlines()[-1])
    mib = 1024 * 1024
    assert measured["code"] == 0, run.stderr
    assert measured["worker"] < 256 * mib + 128 * mib  # killed within one watch interval of the limit
    assert measured["parent"] < 400 * mib  # the parent never decodes anything
    assert measured["parent"] + measured["worker"] < 800 * mib  # vs ~300 MB + parent if decoded unbounded


def test_a_pdf_with_more_page_objects_than_the_budget_is_too_complex_not_damaged(maildir_desk):
    """The counted limit, before any backstop: pages are loaded and their objects counted until the budget
    (100,000) is spent; the text layer of later pages is never built. Same bytes, same finding, any machine."""
    heavy = hostile.heavy_text_pdf()  # 50 pages x ~35,000 text objects
    maildir_desk.deliver(submission("江北区科协", ["刘洋"], 5, {"推荐工作情况报告.pdf": heavy}))
    msg = maildir_desk.poll()["messages"][0]
    codes = [f["code"] for f in findings_of("推荐工作情况报告.pdf", msg)]
    assert "document_too_complex" in codes and "processing_limit" not in codes and "file_corrupt" not in codes


def _multipart(*parts: bytes, close: bool = True, subject: str = "【江北区】推荐材料") -> bytes:
    head = ("From: a@qq.com\r\nTo: 834396688@qq.com\r\nSubject: =?UTF-8?B?" +
            __import__("base64").b64encode(subject.encode()).decode() + "?=\r\nMIME-Version: 1.0\r\n"
            'Content-Type: multipart/mixed; boundary="XX"\r\n\r\n').encode()
    body = b"".join(b"--XX\r\n" + p + b"\r\n" for p in parts)
    return head + body + (b"--XX--\r\n" if close else b"")


def _attachment(name: str, data: bytes) -> bytes:
    b64 = __import__("base64").encodebytes(data).replace(b"\n", b"\r\n")
    return (f'Content-Type: application/octet-stream; name="{name}"\r\nContent-Transfer-Encoding: base64\r\n'
            f'Content-Disposition: attachment; filename="{name}"\r\n\r\n').encode() + b64


def test_a_mail_cut_off_inside_a_part_says_it_is_damaged_and_keeps_what_arrived(maildir_desk):
    """A mail truncated in transit (the shape of CPython's msg_31 / a size-limited relay): the last part
    has no closing boundary."""
    whole = _attachment("附件1：刘洋推荐表.txt", "推荐表 姓名 刘洋".encode())
    cut = _attachment("刘洋2.jpg", b"\xff\xd8\xff" + bytes(range(256)) * 40)[:600]
    maildir_desk.deliver(_multipart(whole, cut, close=False))
    msg = maildir_desk.poll()["messages"][0]
    [damaged] = [f for f in msg["findings"] if f["code"] == "message_damaged"]
    assert damaged["params"] == {"losses": ["unterminated_part"]} and "有未结束的部分" in damaged["detail"]
    assert "附件1：刘洋推荐表.txt" in by_name(msg)


def test_parts_nested_past_the_depth_limit_are_reported_not_silently_dropped(maildir_desk):
    inner = _attachment("张三1.jpg", b"x" * 100)
    for level in range(45):  # MAX_DEPTH is 40
        b = f"N{level}".encode()
        head = b'Content-Type: multipart/mixed; boundary="' + b + b'"\r\n\r\n'
        inner = head + b"--" + b + b"\r\n" + inner + b"\r\n--" + b + b"--"
    maildir_desk.deliver(_multipart(inner))
    msg = maildir_desk.poll()["messages"][0]
    [damaged] = [f for f in msg["findings"] if f["code"] == "message_damaged"]
    assert "too_deep" in damaged["params"]["losses"]


def test_a_subject_of_ten_thousand_characters_is_kept_cut_and_says_so(maildir_desk):
    maildir_desk.deliver(_multipart(_attachment("a.txt", b"hello"), subject="推" * 10_000))
    msg = maildir_desk.poll()["messages"][0]
    assert len(msg["subject"]) == 2000
    [cut] = [f for f in msg["findings"] if f["code"] == "header_cut"]
    assert cut["params"] == {"header": "主题", "length": 10_000, "kept": 2000}


def _zip_of_megabytes(members: int, tag: int) -> bytes:
    """`members` files of 1 MiB that deflate about 50:1 (a repeated random block): under the ratio limit."""
    import io
    import random
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for n in range(members):  # each member its own bytes, so the store cannot deduplicate them away
            block = random.Random(tag * 1000 + n).randbytes(20 * 1024)
            z.writestr(f"材料{tag}/文件{n}.dat", (block * 52)[: 1024 * 1024])
    return out.getvalue()


def test_the_unpacking_budget_is_per_message_and_counts_every_archive(tmp_path):
    """Ten archives of 10 x 1 MiB each: 100 MiB declared from a ~2 MB mail. With a per-message budget of
    20 MiB, the first two unpack and the rest are refused; the store holds no more than the budget."""
    desk = MaildirDesk(tmp_path, campaign={"archives": {"max_total_bytes": 20 * 1024 * 1024}})
    archives = [(f"材料{n}.zip", _zip_of_megabytes(10, n)) for n in range(10)]
    declared = 10 * 10 * 1024 * 1024
    raw = clients.build_message(sender="u@qq.com", sender_name="推荐单位", to=MAILBOX, subject="【江北区】推荐材料",
                                body="请查收。", attachments=archives)
    assert len(raw) < 4 * 1024 * 1024 and declared == 5 * 20 * 1024 * 1024  # the cost without the guard
    desk.deliver(raw)
    msg = desk.poll()["messages"][0]
    refused = [f for f in msg["findings"] if f["code"] == "archive_unsafe"]
    assert len(refused) == 8 and all(f["params"]["limit"] == 20 * 1024 * 1024 for f in refused)
    stored = sum(p.stat().st_size for p in (tmp_path / "store" / "files").rglob("*.bin"))
    archives_bytes = sum(len(data) for _, data in archives)
    assert 20 * 1024 * 1024 <= stored <= 20 * 1024 * 1024 + archives_bytes  # two archives' members, and the archives
    desk.close()
