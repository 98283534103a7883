"""Legacy Office files: Word 97 .doc, WPS Office's own .wps and .et, old .xls. LibreOffice converts them and they
are read like .docx/.xlsx; without LibreOffice they say so instead of silently skipping the secrecy check.

The files are made here: python-docx writes the .docx and LibreOffice saves it as .doc. LibreOffice reads
.wps/.et but cannot write them; real WPS files of that kind are Word/Excel binaries inside, so a .doc renamed
.wps (and an .xls renamed .et) is what a WPS user sends.
"""

from __future__ import annotations

import dataclasses
import hashlib

import pytest

from mailintake.ingest.config import from_dict
from mailintake.ingest.reprocess import reprocess
from mailintake.ingest.samples import clients, documents
from mailintake.ingest.samples.mailbox import person
from mailintake.parsers.facts import MessageFacts, ParserSettings
from mailintake.parsers.filetypes import detect_type
from mailintake.parsers.message import parse_message
from testkit.cli import box_config, mailintake
from testkit.config import default_settings
from testkit.desk import BEFORE_DEADLINE, MaildirDesk
from testkit.mail import MAILBOX
from testkit.word97 import word97

UNIT = "渝北区科协"


@pytest.fixture(scope="module")
def legacy(tmp_path_factory) -> dict[str, bytes]:
    return word97(tmp_path_factory.mktemp("word97"), {
        "linfeng": documents.form_docx("林峰", UNIT),
        "sunlei": documents.form_docx("孙磊", UNIT, None, "机密★1年"),
        "report": documents.report_docx(UNIT, None),
    })


def mail(files: list[tuple[str, bytes]]) -> bytes:
    return clients.build_message(sender="ybkx@163.com", sender_name=UNIT, to=MAILBOX, subject="【渝北区】推荐材料",
                                 body="请查收。", attachments=files)


@pytest.fixture(scope="module")
def converted(legacy) -> MessageFacts:
    people = [person("林峰", "男", "1980.01", "研究员"), person("孙磊", "女", "1985.11", "教授")]
    summary = documents.summary_xls(UNIT, people)
    return parse_message(mail([
        ("附件1：推荐表.wps", legacy["linfeng"]),  # names nobody: the form itself names 林峰
        ("附件1：推荐表.doc", legacy["sunlei"]),  # … and 孙磊, marked 机密★ on its first line
        ("附件2：推荐人选汇总表.et", summary),
    ]), default_settings())


def by_name(facts: MessageFacts) -> dict:
    return {f.display_name: f for f in facts.files}


def codes(f) -> list[str]:
    return [x.code for x in f.findings]


def test_a_wps_form_and_a_doc_form_yield_the_candidates_they_name(converted):
    files = by_name(converted)
    wps, doc = files["附件1：推荐表.wps"], files["附件1：推荐表.doc"]
    assert (wps.detected_type, wps.role, wps.person, codes(wps)) == ("wps", "form", "林峰", [])
    assert (doc.detected_type, doc.role, doc.person) == ("doc", "form", "孙磊")
    assert "最美科技工作者" in wps.text and not wps.ocr


def test_a_legacy_form_marked_secret_is_caught_like_a_docx_one(converted):
    form = by_name(converted)["附件1：推荐表.doc"]
    assert [(x.code, x.params) for x in form.findings] == [("classified_marker", {"marking": "机密★1年"})]
    assert converted.classified is True


def test_a_wps_et_summary_is_read_like_an_xlsx(converted):
    summary = by_name(converted)["附件2：推荐人选汇总表.et"]
    assert (summary.detected_type, summary.role, codes(summary)) == ("et", "summary", [])
    assert [row.name for row in summary.summary.rows] == ["林峰", "孙磊"]
    assert summary.summary.unit == UNIT


def without_libreoffice() -> ParserSettings:
    """As on a machine where LibreOffice is not installed: the configured program is not found."""
    return from_dict({"mailbox": {"host": "h"}, "documents": {"soffice": "/nonexistent/soffice"}}).parser_settings()


def test_without_libreoffice_a_legacy_report_says_it_was_not_read_nor_checked(legacy):
    assert without_libreoffice().documents.soffice is None
    facts = parse_message(mail([("推荐工作情况报告.doc", legacy["report"]), ("附件1：推荐表.wps", legacy["linfeng"])]),
                          without_libreoffice())
    report, form = by_name(facts)["推荐工作情况报告.doc"], by_name(facts)["附件1：推荐表.wps"]
    assert (report.role, codes(report)) == ("report", ["legacy_format", "markings_not_checked"])
    assert report.findings[0].params == {"kind": "doc", "reason": "converter_missing"}
    assert "旧版Office或WPS格式（.doc）" in report.findings[0].detail
    assert codes(form) == ["legacy_format", "markings_not_checked"]


def test_a_conversion_that_overruns_its_time_is_stopped_and_said(legacy):
    base = default_settings()
    hasty = dataclasses.replace(base, documents=dataclasses.replace(base.documents, convert_seconds=0.2))
    [report] = parse_message(mail([("推荐工作情况报告.doc", legacy["report"])]), hasty).files
    assert codes(report) == ["legacy_format", "markings_not_checked"]
    assert report.findings[0].params == {"kind": "doc", "reason": "convert_time", "limit": 0.2}


def test_the_test_files_are_what_wps_users_send(legacy):
    assert detect_type(legacy["linfeng"], "推荐表.wps") == "wps"
    assert detect_type(legacy["linfeng"], "推荐表.doc") == "doc"


def test_check_says_whether_the_converter_and_the_ocr_models_work(tmp_path):
    conf = box_config(tmp_path)
    done = mailintake(conf, "check")
    assert done.returncode == 0, done.stdout + done.stderr
    assert {"converter: ok", "ocr: ok"} <= set(done.stdout.splitlines())
    missing = tmp_path / "missing.toml"
    missing.write_text(conf.read_text(encoding="utf-8")
                       + '[documents]\nsoffice = "/nonexistent/soffice"\nocr_max_pages = 0\n', encoding="utf-8")
    done = mailintake(missing, "check")
    assert done.returncode == 1
    [line] = [x for x in done.stdout.splitlines() if x.startswith("converter:")]
    assert line.startswith("converter: the converter is missing: LibreOffice not found")
    assert "ocr: ok" in done.stdout.splitlines()  # switched off is no fault


def test_reprocess_reads_a_converted_form_again_without_libreoffice_but_never_keeps_a_classified_one(legacy,
                                                                                                   tmp_path):
    desk = MaildirDesk(tmp_path)
    desk.deliver(mail([("附件1：推荐表.doc", legacy["linfeng"])]))
    desk.deliver(mail([("附件1：推荐表（孙磊）.doc", legacy["sunlei"])]), BEFORE_DEADLINE.replace(minute=5))
    first = desk.poll()
    root = desk.ctx.blobs.root
    plain, secret = (hashlib.sha256(legacy[k]).hexdigest() for k in ("linfeng", "sunlei"))
    assert [p.name for p in (root / "cache" / "legacy").iterdir()] == [f"{plain}.v1.docx"]  # no 机密★ form kept
    assert list((root / "convert").iterdir()) == []  # each conversion's work folder went with it
    assert [m["quarantined"] for m in first["messages"]] == [False, True]
    desk.close()

    gone = MaildirDesk(tmp_path, documents={"soffice": "/nonexistent/soffice"})  # LibreOffice uninstalled since
    assert gone.ctx.config.parser_settings().documents.soffice is None
    assert list(reprocess(gone.ctx, None)) == ["reprocessed 2 message(s)"]
    plain_msg, secret_msg = gone.status()["messages"]
    assert plain_msg["findings"] == first["messages"][0]["findings"]
    assert [(a["name"], a["role"], a["person"]) for a in plain_msg["attachments"]] == [
        ("附件1：推荐表.doc", "form", "林峰")]
    assert [x["code"] for x in secret_msg["findings"]][:1] == ["legacy_format"]  # converted again, or not at all
    gone.close()
