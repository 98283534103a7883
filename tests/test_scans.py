"""Scans: the report printed, stamped and scanned, a form photographed, a summary printed and scanned. OCR reads
them, so the checks the notice asks for hold on the files people really send.

Every page is drawn here with real Chinese text (Noto Sans CJK, `testkit.scans`) and saved as the scanner or the
phone would: an image-only PDF, a PNG, a JPEG, a TIFF, turned or skewed.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from mailintake.ingest.samples import clients
from mailintake.parsers import ocr
from mailintake.parsers.facts import MessageFacts, ParserSettings
from mailintake.parsers.message import parse_message
from mailintake.parsers.summary import read_scanned_summary
from testkit import scans
from testkit.config import default_settings
from testkit.desk import by_name, one_message
from testkit.mail import MAILBOX

SIGNATORY = "重庆市渝北区科学技术协会"


def mail(files: list[tuple[str, bytes]], subject: str = "推荐材料") -> bytes:
    """From an address no unit is known by, so only what the files say can place the message."""
    return clients.build_message(sender="scanner2021@qq.com", sender_name="扫描室", to=MAILBOX, subject=subject,
                                 body="材料为扫描件，请查收。", attachments=files)


def settings(tmp: Path | None = None, **documents: object) -> ParserSettings:
    base = default_settings()
    cache = {"ocr_cache_dir": str(tmp)} if tmp else {}
    return dataclasses.replace(base, documents=dataclasses.replace(base.documents, **cache, **documents))


def codes(f) -> list[str]:
    return [x.code for x in f.findings]


def by_file(facts: MessageFacts) -> dict:
    return {f.display_name: f for f in facts.files}


# --- through the whole pipeline: parse worker, OCR child, placement, quarantine ------------------------------


def test_a_scanned_report_marked_secret_is_quarantined_like_a_typed_one(maildir_desk):
    page = scans.report_page(SIGNATORY, marking="机密★1年", body=scans.REPORT_LINES[:2])
    maildir_desk.deliver(mail([("推荐工作情况报告.pdf", scans.image_pdf([page]))], "【渝北区】推荐材料"))
    msg = one_message(maildir_desk.poll())
    assert msg["quarantined"] is True
    assert [(x["code"], x["subject"], x["params"]) for x in msg["findings"]] == [
        ("classified_marker", "推荐工作情况报告.pdf", {"marking": "机密★1年"})]  # read, so no markings_not_checked
    assert msg["reply"]["kind"] == "quarantine_notice"
    assert not (Path(maildir_desk.cfg.storage.root) / "cache" / "ocr").exists()  # classified text is kept nowhere


@pytest.mark.parametrize(("name", "scan"), [
    pytest.param("扫描件001.pdf", lambda: scans.image_pdf([scans.report_page(SIGNATORY, body=scans.REPORT_LINES[:2])]),
                 id="image pdf"),
    pytest.param("推荐工作情况报告.tif",
                 lambda: scans.tiff(scans.turned(scans.report_page(SIGNATORY), 90, skew=2)), id="tiff turned 90°"),
])
def test_a_scanned_sealed_report_names_the_unit_that_signed_it(maildir_desk, name, scan):
    maildir_desk.deliver(mail([(name, scan())]))
    msg = one_message(maildir_desk.poll())
    assert msg["unit"] == "渝北区"  # neither the subject, the file name nor the sender says so: the signature does
    report = by_name(msg)[name]
    assert report["role"] == "report"
    assert [x["code"] for x in msg["findings"]] == []  # sealed, its markings checked, its unit known
    cache = Path(maildir_desk.cfg.storage.root) / "cache" / "ocr"
    assert [p.name for p in cache.iterdir()] == [f"{report['sha256']}.json"]  # `reprocess` will not read it again


# --- the parser on its own: one message of scans, read once -------------------------------------------------


@pytest.fixture(scope="module")
def scanned(tmp_path_factory) -> tuple[MessageFacts, ParserSettings, bytes]:
    cache = tmp_path_factory.mktemp("ocr-cache")
    raw = mail([
        ("推荐表.jpg", scans.jpeg(scans.turned(scans.form_page("林峰", "渝北区科协"), 180))),  # upside down
        ("附件2：推荐人选汇总表.png", scans.png(scans.summary_page("渝北区科协", ["张三", "李四", "欧阳晓明"]))),
        ("附件1（空白页）.png", scans.png(scans.blank_page())),
    ])
    chosen = settings(cache)
    return parse_message(raw, chosen), chosen, raw


def test_a_scanned_form_is_tied_to_the_candidate_it_names_inside(scanned):
    form = by_file(scanned[0])["推荐表.jpg"]
    assert (form.role, form.person, form.ocr) == ("form", "林峰", True)  # the file name names nobody
    assert codes(form) == []  # its markings were checked


def test_a_scanned_summary_gives_the_candidates_names_and_says_it_cannot_be_read_exactly(scanned):
    summary = by_file(scanned[0])["附件2：推荐人选汇总表.png"]
    assert summary.role == "summary"
    assert [row.name for row in summary.summary.rows] == ["张三", "李四", "欧阳晓明"]
    assert summary.summary.unit == "渝北区科协"
    [finding] = summary.findings
    assert (finding.code, finding.params["names"]) == ("summary_scanned", ["张三", "李四", "欧阳晓明"])
    assert "扫描件" in finding.detail and "可能不准确" in finding.detail


def test_a_scanned_table_is_read_by_column_whatever_cells_ocr_missed_or_misread():
    def line(*cells: tuple[str, float, float]) -> ocr.OcrLine:
        return ocr.OcrLine(tuple(ocr.OcrCell(*cell) for cell in cells))

    lines = [line(("推荐单位（盖章）：渝北区科协", 100, 700)),
             line(("序号", 110, 170), ("姓名", 300, 360), ("性别", 480, 540), ("工作单位及职务", 800, 1000)),
             line(("1", 130, 150), ("张三", 290, 350), ("女", 500, 520), ("研究员", 850, 940)),
             line(("李四", 305, 365), ("研究员", 850, 940)),  # no 序号 or 性别 read on this row
             line(("3", 130, 150), ("1980.05", 280, 380), ("男", 500, 520)),  # the name misread: not a name
             line(("注：1.人选类别填写“区县”", 100, 800)),
             line(("王五", 300, 360))]  # under the notes: not a candidate
    table = read_scanned_summary(lines)
    assert (table.unit, [row.name for row in table.rows]) == ("渝北区科协", ["张三", "李四"])


def test_a_page_ocr_finds_no_text_on_still_says_its_markings_were_not_checked(scanned):
    blank = by_file(scanned[0])["附件1（空白页）.png"]
    assert (blank.role, blank.text, codes(blank)) == ("form", None, ["markings_not_checked"])


def test_reprocessing_never_reads_a_scan_twice(scanned, monkeypatch):
    facts, chosen, raw = scanned
    cached = sorted(p.name for p in Path(chosen.documents.ocr_cache_dir).iterdir())
    assert len(cached) == 3 and all(name.endswith(".json") and len(name) == 64 + 5 for name in cached)

    def no_ocr(*args, **kwargs):
        raise AssertionError("a scan was read again")

    monkeypatch.setattr(ocr._Child, "start", no_ocr)
    assert parse_message(raw, chosen) == facts


def test_only_the_first_two_pages_and_the_last_are_read():
    small = (310, 438)  # A4 at 38 dpi: blank pages cost the detector little
    marked = scans.report_page(SIGNATORY, marking="机密★1年").resize(small)
    data = scans.image_pdf([scans.blank_page(small), scans.blank_page(small), marked, *[scans.blank_page(small)] * 2])
    with ocr.OcrReader(settings().documents, default_settings().max_image_pixels) as reader:
        result = reader.read(data, "pdf", "0" * 64)
    assert [page.number for page in result.pages] == [0, 1, 4]  # the marked middle page is not read
    assert ocr.chosen_pages(2, 3) == [0, 1] and ocr.chosen_pages(9, 1) == [0] and ocr.chosen_pages(9, 2) == [0, 8]


def test_candidates_photos_are_never_read_by_ocr(monkeypatch):
    from mailintake.ingest.samples.mailbox import candidate_files

    monkeypatch.setattr(ocr._Child, "start", lambda *a, **k: pytest.fail("a photo was sent to OCR"))
    facts = parse_message(mail(candidate_files("林峰", 3)[1:3]), settings())
    assert {f.role for f in facts.files} == {"id_photo", "life_photo"}


# --- bounded: a page that takes too long or needs too much memory, a parent that dies -------------------------


def test_ocr_that_overruns_its_time_per_page_gives_a_finding_not_a_hang():
    raw = mail([("推荐工作情况报告.png", scans.png(scans.report_page(SIGNATORY, body=())))])
    started = time.monotonic()
    [report] = parse_message(raw, settings(ocr_page_seconds=0.01)).files
    assert time.monotonic() - started < ocr.LOAD_SECONDS
    assert codes(report) == ["ocr_failed", "markings_not_checked"]
    assert report.findings[0].params == {"reason": "ocr_time", "limit": 0.01}
    assert "文字识别未能完成" in report.findings[0].detail


def test_ocr_without_enough_memory_gives_a_finding_not_a_crash():
    """Under its address-space limit the engine either reports the refused allocation (ocr_memory) or the
    native code dies of it (ocr_died): either way the parse goes on and the file says why it was not read."""
    raw = mail([("附件1：林峰推荐表.pdf", scans.image_pdf([scans.blank_page()]))])
    [form] = parse_message(raw, settings(ocr_memory_bytes=512 * 1024 * 1024)).files
    assert codes(form) == ["ocr_failed", "markings_not_checked"]
    assert form.findings[0].params in ({"reason": "ocr_memory", "limit": 512 * 1024 * 1024}, {"reason": "ocr_died"})


def test_the_ocr_child_dies_with_the_parse_that_started_it(tmp_path):
    """A parse killed mid-OCR (the worker's overrun, a SIGKILLed service) leaves no OCR process behind."""
    scan = tmp_path / "scan.pdf"
    scan.write_bytes(scans.image_pdf([scans.report_page(SIGNATORY)] * 3))
    script = textwrap.dedent(f"""
        import dataclasses, sys
        sys.path.insert(0, {str(Path(__file__).parent / 'support')!r})
        from testkit.config import default_settings
        from mailintake.parsers.ocr import OcrReader
        s = default_settings()
        with OcrReader(s.documents, s.max_image_pixels) as reader:
            reader.read(open({str(scan)!r}, "rb").read(), "pdf", "1" * 64)
    """)
    parent = subprocess.Popen([sys.executable, "-c", script])
    try:
        child = wait_for(lambda: ocr_children(parent.pid), 60)
        assert child, "the OCR child never started"
    finally:
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait()
    assert wait_for(lambda: not any(Path(f"/proc/{pid}").exists() for pid in child), 10)


def ocr_children(parent: int) -> list[int]:
    found = []
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            stat = Path(f"/proc/{entry}/stat").read_bytes().rsplit(b")", 1)[1].split()
            command = Path(f"/proc/{entry}/cmdline").read_bytes()
        except OSError:
            continue
        if int(stat[1]) == parent and b"mailintake.parsers.ocr" in command:
            found.append(int(entry))
    return found


def wait_for(condition, seconds: float):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(0.1)
    return condition()
