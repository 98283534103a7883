"""Fuzzing the parsers' public entry points: whatever a stranger mails, parsing ends in typed facts.

Inputs are built the way clients and attackers make them: valid messages, documents, images and archives
from the sample generators (`mailintake.ingest.samples`) mutated byte by byte (flips, cuts, splices,
duplicated boundaries, inserted encoded-words and hostile tokens), hand-built zips with hostile names and
small bombs, and plain random bytes. Every property checks, for each example:

- no exception escapes the entry point (`parse_message`, `parse_mime`, `parse_envelope`, `expand`,
  `open_archive`, `inspect_photo`, `seal_in_images`, `read_document`, `read_summary`,
  `read_decision_sheet`, `read_bounce` and the header decoders of `parsers.filenames`);
- nothing is written to the working directory (each example runs in an empty one that must stay empty);
- the process's peak RSS grows by less than MEMORY_CAP_MB during the example (the kernel's high-water
  mark is reset before each one through /proc/self/clear_refs), plus, for an image the pixel cap lets
  through, a few bytes per declared pixel (`Allowance`: memory bounded by the cap, not by the input);
- the result is typed: `MessageFacts` and its parts hold the declared types, every text is storable
  (no lone surrogates), every `display_name` is one plain `str` whose archive part is a relative path.

Budgets: `budget(n)` below (derandomized, so a run is reproducible); the whole file takes well under a
minute on two cores. `bench/fuzz_long.py` runs the very same properties with many more examples.
"""

from __future__ import annotations

import atexit
import base64
import binascii
import contextlib
import dataclasses
import datetime as dt
import functools
import hashlib
import io
import json
import os
import random
import re
import resource
import shutil
import struct
import tempfile
import unicodedata
import warnings
import zipfile
import zlib
from email import message_from_bytes
from email.policy import compat32
from pathlib import Path

import openpyxl
import py7zr
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from PIL import Image, ImageDraw

from mailintake.common import decision_form as form
from mailintake.common import findings as F
from mailintake.common.vocab import Kind, Role
from mailintake.ingest.samples import clients, documents, hostile, images, zips
from mailintake.ingest.samples.mailbox import person
from mailintake.parsers import bounces as bounce_mod
from mailintake.parsers import mime as mime_mod
from mailintake.parsers.archives import expand, open_archive
from mailintake.parsers.decision_sheet import DecisionSheet, SheetDecision, SheetProblem, read_decision_sheet
from mailintake.parsers.documents import DocumentContent, decode_text, read_document
from mailintake.parsers.envelope import Overrun, parse_envelope
from mailintake.parsers.facts import (
    BounceFacts,
    CloudLink,
    ExtractedFile,
    MessageFacts,
    PhotoInfo,
    SummaryRow,
    SummaryTable,
)
from mailintake.parsers.filenames import (
    clean_name,
    decode_bytes,
    decode_filename,
    decode_words,
    header_text,
    message_charsets,
    sender_name,
    unfold,
)
from mailintake.parsers.message import parse_message
from mailintake.parsers.mime import parse_mime
from mailintake.parsers.photos import inspect_photo, photo_findings
from mailintake.parsers.seal import seal_in_images
from mailintake.parsers.summary import read_summary
from testkit.config import default_settings

SETTINGS = default_settings()
LIMITS = SETTINGS.archives
MEMORY_CAP_MB = 256
RAR_FIXTURES = Path(__file__).parent / "fixtures" / "rar"
UNIT = "渝北区科协"


def budget(examples: int) -> settings:
    """The bounded budget of one property in the test run; `bench/fuzz_long.py` multiplies `examples`."""
    return settings(max_examples=examples, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.filter_too_much, HealthCheck.large_base_example])


def fuzz(examples: int, **strategies: st.SearchStrategy):
    """A property: `check` under `given(**strategies)` with `budget(examples)`. The undecorated check, its
    strategies and its budget stay on the test as `.fuzz`, so the long run can re-run them."""

    def decorate(check):
        test = budget(examples)(given(**strategies)(check))
        test.fuzz = (check, strategies, examples)
        return test

    return decorate


def note(text: str) -> None:
    """A line of `--hypothesis-show-statistics` (what kinds of input the examples were); nothing outside a test,
    where the same checks run under atheris (`bench/fuzz_long.py --atheris`)."""
    if currently_in_test_context():
        event(text)


# --- what every example must respect: no files, bounded memory ----------------------------------------------


_SANDBOX = tempfile.mkdtemp(prefix="mailintake-fuzz-cwd-")
atexit.register(shutil.rmtree, _SANDBOX, True)


def _status_kib(field: str) -> int | None:
    try:
        with open("/proc/self/status") as f:
            found = re.search(rf"^{field}:\s+(\d+) kB", f.read(), re.MULTILINE)
    except OSError:
        return None
    return int(found[1]) if found else None


def _reset_peak() -> bool:
    """Reset the kernel's peak-RSS mark to the current RSS (Linux >= 4.0); False where that is impossible."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        return False
    return True


@contextlib.contextmanager
def contained():
    """Run the body in an empty working directory that must stay empty, and within MEMORY_CAP_MB of growth
    of the peak RSS (per example where the peak can be reset; else of the process's lifetime peak), plus
    what the body allows for images decoded under the pixel cap (`Allowance`)."""
    before = os.getcwd()
    os.chdir(_SANDBOX)
    reset = _reset_peak()
    start = _status_kib("VmRSS") if reset else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    allowance = Allowance()
    try:
        yield allowance
    finally:
        os.chdir(before)
        left = os.listdir(_SANDBOX)
        for name in left:  # the next example starts clean even when this one fails
            path = os.path.join(_SANDBOX, name)
            shutil.rmtree(path) if os.path.isdir(path) and not os.path.islink(path) else os.unlink(path)
    peak = _status_kib("VmHWM") if reset else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    assert not left, f"a parser wrote {left} into its working directory"
    if start is not None and peak is not None:
        grown, cap = (peak - start) / 1024, MEMORY_CAP_MB + allowance.mb()
        assert grown < cap, f"peak RSS grew by {grown:.0f} MB during one example (allowed {cap:.0f} MB)"


@dataclasses.dataclass
class Allowance:
    """Memory an example may use beyond MEMORY_CAP_MB: images are decoded whole when their header is under
    the pixel cap (`max_image_pixels`, 120 Mpx by default), so a 10 KB GIF declaring 11000 x 10000 pixels
    costs ~4 B/px in `inspect_photo` (palette + RGB copy) and ~8 B/px in `seal_in_images` (+ RGBA copy).
    That is the configured bound (the bounded parse's memory limit is its backstop), not a leak."""

    pixels: int = 0  # the largest image, by declared pixels under the cap, the example decodes
    bytes_per_pixel: float = 0.0

    def allow(self, pixels: int, bytes_per_pixel: float) -> None:
        pixels = min(pixels, SETTINGS.max_image_pixels)
        self.pixels, self.bytes_per_pixel = max(self.pixels, pixels), max(self.bytes_per_pixel, bytes_per_pixel)

    def mb(self) -> float:
        return self.pixels * self.bytes_per_pixel / 2**20


INSPECT_BYTES_PER_PIXEL, SEAL_BYTES_PER_PIXEL = 4.5, 8.5


def declared_pixels(data: bytes) -> int:
    """Width x height as the image's header states it (0 when Pillow cannot read a header)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Pillow's DecompressionBombWarning: the size is what is asked for
        try:
            with Image.open(io.BytesIO(data)) as image:
                return image.width * image.height
        except Exception:
            return 0


# --- what every result must be: typed, storable, never a path -----------------------------------------------


def storable(value: str) -> bool:
    """Text any database takes: encodable as UTF-8 (a lone surrogate is not)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def texts_in(value: object, depth: int = 0):
    """Every str inside dataclasses, dicts, lists and tuples (bytes are contents, not text)."""
    if depth > 8:
        return
    if isinstance(value, str):
        yield value
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            if f.name != "content":
                yield from texts_in(getattr(value, f.name), depth + 1)
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from texts_in(k, depth + 1)
            yield from texts_in(v, depth + 1)
    elif isinstance(value, list | tuple | set | frozenset):
        for v in value:
            yield from texts_in(v, depth + 1)


def assert_storable(value: object) -> None:
    bad = [t for t in texts_in(value) if not storable(t)]
    assert not bad, f"text that no database can store (lone surrogates): {bad[:3]!r}"


_DRIVE = re.compile(r"^[A-Za-z]:")


def assert_relative_path(path: str) -> None:
    """An archive member's path: text with "/" separators that could never leave a folder it was put in."""
    assert type(path) is str and path
    assert not any(unicodedata.category(ch) == "Cc" for ch in path), repr(path)  # NUL, CR, LF...
    assert not path.startswith("/") and not _DRIVE.match(path), repr(path)
    assert all(part not in ("", ".", "..") for part in path.split("/")), repr(path)


def assert_plain_name(name: str) -> None:
    """A MIME part's own name: one component, no separators or control characters, never "." or ".."."""
    assert type(name) is str and name
    assert "/" not in name and "\\" not in name, repr(name)
    assert not any(ord(ch) < 0x20 or ch == "\x7f" for ch in name), repr(name)
    assert name not in (".", "..")


def assert_finding(finding: F.Finding) -> None:
    assert isinstance(finding, F.Finding) and finding.code in F.CATALOGUE, finding
    assert finding.subject is None or type(finding.subject) is str
    json.dumps(finding.params, ensure_ascii=False)  # stored as JSON
    assert type(F.render(finding.code, finding.subject, finding.params)) is str


def assert_photo(info: PhotoInfo) -> None:
    assert isinstance(info, PhotoInfo)
    assert info.format is None or type(info.format) is str
    assert type(info.width) is int and type(info.height) is int and info.width >= 0 and info.height >= 0
    assert type(info.mode) is str and type(info.colour) is bool and type(info.plain_background) is bool
    assert info.problem in (None, "corrupt", "bomb", "too_complex")


def assert_summary(table: SummaryTable) -> None:
    assert isinstance(table, SummaryTable) and (table.unit is None or type(table.unit) is str)
    for row in table.rows:
        assert isinstance(row, SummaryRow) and type(row.name) is str and row.name
        assert all(type(k) is str and type(v) is str for k, v in row.fields.items())


def assert_bounce(facts: BounceFacts) -> None:
    assert isinstance(facts, BounceFacts)
    assert len(facts.original_ids) <= bounce_mod.MAX_IDS and len(facts.recipients) <= bounce_mod.MAX_RECIPIENTS
    assert all(type(i) is str and i.startswith("<") and i.endswith(">") for i in facts.original_ids)
    assert all(type(r) is str and r == r.lower() and "@" in r for r in facts.recipients)
    assert facts.status is None or re.fullmatch(r"[245]\.\d{1,3}\.\d{1,3}", facts.status), facts.status
    if facts.diagnostic is not None:
        assert type(facts.diagnostic) is str and "\n" not in facts.diagnostic
        assert len(facts.diagnostic) <= bounce_mod.DIAGNOSTIC_CHARS


def assert_file(f: ExtractedFile, index: int, files: list[ExtractedFile]) -> None:
    assert isinstance(f, ExtractedFile)
    assert type(f.display_name) is str and f.display_name
    assert type(f.content) is bytes and f.sha256 == hashlib.sha256(f.content).hexdigest()
    assert type(f.detected_type) is str and f.detected_type
    assert isinstance(f.role, Role) and type(f.role_reason) is str
    assert f.person is None or type(f.person) is str
    assert f.seq is None or type(f.seq) is int
    assert f.parent is None or 0 <= f.parent < len(files) and f.parent != index
    assert type(f.inline) is bool and f.sealed in (None, True, False)
    assert f.text is None or type(f.text) is str
    assert f.problem is None or type(f.problem) is str
    if f.photo is not None:
        assert_photo(f.photo)
    if f.summary is not None:
        assert_summary(f.summary)
    for x in f.findings:
        assert_finding(x)
    parent = files[f.parent] if f.parent is not None else None
    if parent is None:
        assert_plain_name(f.display_name)
    else:  # inside an archive or a forwarded .eml: the container's name, "/", a relative path
        assert f.display_name.startswith(parent.display_name + "/"), (f.display_name, parent.display_name)
        assert_relative_path(f.display_name[len(parent.display_name) + 1:])


def assert_typed(facts: MessageFacts) -> None:
    assert type(facts) is MessageFacts
    for name in ("message_id", "sender", "sender_name", "date_header"):
        value = getattr(facts, name)
        assert value is None or type(value) is str, (name, value)
    assert facts.sender is None or facts.sender == facts.sender.lower()
    assert type(facts.subject) is str and type(facts.body_text) is str and type(facts.kind_reason) is str
    assert isinstance(facts.headers, dict)
    assert all(type(k) is str and type(v) is str for k, v in facts.headers.items())
    assert isinstance(facts.kind, Kind) and type(facts.classified) is bool
    assert all(isinstance(link, CloudLink) and type(link.url) is str for link in facts.cloud_links)
    for x in facts.findings:
        assert_finding(x)
    for index, f in enumerate(facts.files):
        assert_file(f, index, facts.files)
    if facts.bounce is not None:
        assert facts.kind == Kind.BOUNCE
        assert_bounce(facts.bounce)
    assert_storable(facts)


# --- seeds: valid inputs from the sample generators -----------------------------------------------------


def small_image(fmt: str, width: int = 48, height: int = 64, seed: int = 1, mode: str = "RGB", **save) -> bytes:
    rng = random.Random(seed)
    image = Image.frombytes("RGB", (width, height), rng.randbytes(width * height * 3))
    if mode != "RGB":
        image = image.convert(mode)
    out = io.BytesIO()
    image.save(out, format=fmt, **save)
    return out.getvalue()


@functools.cache
def image_seeds() -> tuple[bytes, ...]:
    return (
        small_image("JPEG"), small_image("JPEG", 64, 48, 2, progressive=True, quality=90),
        small_image("PNG"), small_image("PNG", 40, 40, 3, mode="P"), small_image("PNG", 33, 17, 4, mode="RGBA"),
        small_image("PNG", 30, 30, 5, mode="L"), small_image("GIF"), small_image("BMP", 20, 30),
        small_image("TIFF", 24, 24), small_image("WEBP", 32, 32), images.seal_png(1, diameter_px=80),
        hostile.large_flat_png(200, 300), hostile.many_scan_jpeg(20, 64, 48),
    )


@functools.cache
def attachments() -> dict[str, bytes]:
    people = [person("张三", "男", "1980.05", "研究员"), person("李四", "女", "1975.11", "高级工程师")]
    jpeg = image_seeds()[0]
    docx = documents.form_docx("张三", UNIT)
    return {
        "张三1.jpg": jpeg,
        "张三证件照.png": image_seeds()[2],
        "附件1：张三推荐表.docx": docx,
        "附件2：推荐人选汇总表.xlsx": documents.summary_xlsx(UNIT, people),
        "附件2：推荐人选汇总表.xls": documents.summary_xls(UNIT, people),
        "推荐工作情况报告.pdf": documents.report_pdf(UNIT, images.seal_png(2, diameter_px=120), text=True),
        "材料.zip": zips.gbk_zip([("张三/张三1.jpg", jpeg), ("张三/张三2.jpg", image_seeds()[1])]),
        "说明.txt": "请查收张三的材料。\r\n".encode("gbk"),
    }


def _mail(client: str, names: list[str], **kw) -> bytes:
    files = attachments()
    return clients.build_message(sender="yubei@qq.com", sender_name="张老师", to="kexie@cq.cn",
                                 subject=f"【{UNIT}】推荐材料（张三）", body="您好，材料见附件，请查收。",
                                 attachments=[(n, files[n]) for n in names], client=client, **kw)


@functools.cache
def message_seeds() -> tuple[bytes, ...]:
    names = list(attachments())
    seeds = [_mail(client, [names[i % len(names)], names[(i + 3) % len(names)]])
             for i, client in enumerate(clients.CLIENTS)]
    seeds.append(_mail("qqmail", names))  # everything at once
    seeds.append(_mail("foxmail", []))  # no attachment, body only
    seeds.append(_mail("outlook", ["说明.txt"], forwarded=[_mail("raw_gbk", ["张三1.jpg"])]))
    seeds.append(clients.build_html_with_logo(sender="a@163.com", sender_name="王五", to="kexie@cq.cn",
                                              subject="推荐材料", body="见附件", logo=image_seeds()[10],
                                              attachments=[("张三1.jpg", attachments()["张三1.jpg"])]))
    seeds.append(clients.build_auto_reply(sender="x@qq.com", sender_name="李老师", to="kexie@cq.cn",
                                          original_subject="回执"))
    seeds.extend(bounce_seeds()[:2])
    return tuple(seeds)


@functools.cache
def bounce_seeds() -> tuple[bytes, ...]:
    original = _mail("qqmail", ["说明.txt"], message_id="<mailintake.0123456789abcdef@cq.cn>")
    qq_text = (
        "From: 系统退信 <postmaster@qq.com>\r\nTo: kexie@cq.cn\r\nSubject: =?gbk?B?z7XNs83Neg==?=\r\n"
        "Content-Type: text/plain; charset=gbk\r\n\r\n"
    ).encode() + (
        "很抱歉您的邮件没有发送成功。\r\n退信原因：收件人邮箱不存在\r\n"
        "收件人：<zhang@qq.com>\r\n--- 原始邮件头 ---\r\nMessage-ID: <mailintake.fedcba9876543210@cq.cn>\r\n"
    ).encode("gbk")
    return (
        clients.build_bounce(original=original, to="kexie@cq.cn", failed_recipient="Zhang@QQ.com"),
        clients.build_bounce(original=original, to="kexie@cq.cn", failed_recipient="li@163.com",
                             daemon="postmaster@163.com", diagnostic="552 5.2.2 mailbox full (#5.2.2)"),
        qq_text,
    )


@functools.cache
def archive_seeds() -> tuple[tuple[str, bytes], ...]:
    files = attachments()
    seven = io.BytesIO()
    with py7zr.SevenZipFile(seven, "w") as archive:
        archive.writestr(files["说明.txt"], "张三/说明.txt")
        archive.writestr(image_seeds()[0], "张三/张三1.jpg")
    seeds = [("zip", files["材料.zip"]), ("zip", zips.gbk_zip([("证件照/李四.jpg", b"x" * 500), ("a.txt", b"")])),
             ("zip", files["附件1：张三推荐表.docx"]), ("7z", seven.getvalue())]
    seeds += [("rar", p.read_bytes()) for p in sorted(RAR_FIXTURES.glob("*.rar"))]
    return tuple(seeds)


@functools.cache
def pdf_seeds() -> tuple[bytes, ...]:
    return (attachments()["推荐工作情况报告.pdf"],
            documents.report_pdf(UNIT, None, text=False, page_png=images.scanned_report_page(3, sealed=True)),
            hostile.heavy_text_pdf(pages=3, text_bytes=4096))


# --- mutations ------------------------------------------------------------------------------------------


def _gbk(text: str) -> bytes:
    return text.encode("gbk")


MIME_TOKENS = (
    b"\r\n", b"\r\n\r\n", b"\n", b"\r", b"--", b"=?", b"?=", b"\t", b" " * 900, b"A" * 4000, b"\x00", b"\xff\xfe",
    b"=?gbk?B?" + base64.b64encode(_gbk("张三证件照")) + b"?=", b"=?gb2312?B?1dQ?=", b"=?utf-8?Q?=E5=BC=A0=00?=",
    b"=?x-unknown?q?=FF=FE?=", b"=?big5?B?" + base64.b64encode("張三".encode("big5")) + b"?=",
    b"=?gb18030?B?" + base64.b64encode("\U00020000𠀀".encode("gb18030")) + b"?=", b"=?utf-8*zh?b?5byg5LiJ?=",
    b"=?utf-7?q?+2AA-?=", b"=?unicode-escape?q?\\ud800?=", b"=?utf-16?b?ANg=?=", b"=?iso-2022-jp?b?GyRCJUYlOSVIGyhC?=",
    b"filename*=gbk''%D5%C5%C8%FD.jpg", b"; filename*0*=utf-8''%E5%BC; filename*1*=%A0.jpg",
    b'; name="../../etc/passwd"', b'; filename="C:\\Windows\\win.ini"', b'; filename="\xd5\xc5\xc8\xfd1.jpg"',
    b'; filename="\xe2\x80\xaegpj.exe"', b"; boundary=\"\"", _gbk("张三"), "張三".encode("big5"), b"\xa4\\",
    b"Content-Type: multipart/mixed; boundary=\"x\"\r\n\r\n--x\r\n", b"Content-Type: text/plain; charset=utf-7\r\n",
    b"Content-Transfer-Encoding: base64\r\n", b"Content-Transfer-Encoding: quoted-printable\r\n", b"=\r\n", b"=ZZ",
    b"Content-Type: message/rfc822\r\n\r\n", b"Content-Type: message/delivery-status\r\n\r\nStatus: 5.1.1\r\n",
    b"Content-Disposition: attachment; filename=\"..\"\r\n", b"Content-Type: multipart/alternative\r\n",
    b"Message-ID: <mailintake.00ff@cq.cn>\r\n", b"From: =?gbk?B?1cXI/Q==?= <\xd5\xc5@qq.com>\r\n",
    b"<img src=\"cid:image001.png\">", b"<sign signid=0>",
    b"https://pan.baidu.com/s/1abc \xe6\x8f\x90\xe5\x8f\x96\xe7\xa0\x81",
)
ZIP_TOKENS = (b"PK\x03\x04", b"PK\x01\x02", b"PK\x05\x06", b"PK\x06\x06", b"PK\x07\x08", b"\xff\xff\xff\xff",
              b"\x00" * 30, b"../", b"/etc/passwd", b"C:\\", b"\x08\x00", b"\x00\x08")
IMAGE_TOKENS = (b"\xff\xd8\xff\xe0", b"\xff\xc0\x00\x11\x08\xff\xff\xff\xff\x03", b"\xff\xda", b"\xff\xd9",
                b"\xff\xe1\xff\xffExif\x00\x00MM\x00*", b"IHDR", b"IDAT", b"IEND", b"\x00\x00\xff\xff",
                b"GIF89a\xff\xff\xff\xff", b"\x00" * 64, b"\xff" * 64)
PDF_TOKENS = (
    b"1 0 obj\n<< /Type /Pages /Kids [1 0 R] /Count 1 >>\nendobj\n", b"/MediaBox [0 0 99999999 99999999]",
    b"/Count 2147483647", b"/Length 999999999", b"/Filter /FlateDecode", b"/Filter [/DCTDecode /FlateDecode]",
    b"stream\r\n" + zlib.compress(b"q 1 0 0 1 0 0 cm BT /F1 12 Tf (x) Tj ET Q " * 200) + b"\r\nendstream",
    b"xref\n0 1\n0000000000 65535 f \n", b"trailer\n<< /Root 1 0 R /Size 999999999 >>", b"%%EOF",
    b"startxref\n999999\n", b"/Encrypt << /Filter /Standard /V 5 >>", b"<< /Type /XObject /Subtype /Image "
    b"/Width 65535 /Height 65535 /BitsPerComponent 8 /ColorSpace /DeviceRGB >>", b"((((((((((", b"<<<<<<<<",
    b"[" * 200, b"\x00" * 16, b"endobj", b"obj",
)
XML_GARBAGE = (
    b"", b"<", b"<?xml version='1.0'?><worksheet", b"not xml at all \xff\xfe",
    b"<!DOCTYPE x [<!ENTITY a 'aaaaaaaaaa'><!ENTITY b '&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;'>"
    b"<!ENTITY c '&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;'><!ENTITY d '&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;'>"
    b"<!ENTITY e '&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;'><!ENTITY f '&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;'>]><x>&f;&f;</x>",
    b"<?xml version='1.0'?><!DOCTYPE x SYSTEM 'file:///etc/passwd'><x/>",
    b"<worksheet xmlns='http://schemas.openxmlformats.org/spreadsheetml/2006/main'><dimension ref='A1:XFD1048576'/>"
    b"<sheetData><row r='1048576'><c r='XFD1048576' t='s'><v>99999999</v></c></row>"
    b"<row r='1'><c r='A1' t='d'><v>not a date</v></c><c r='B1' t='n'><v>1e308</v></c>"
    b"<c r='C1' s='99999'><v>-1</v></c><c r='D1' t='inlineStr'><is><t>\xe5\xa7\x93\xe5\x90\x8d</t></is></c>"
    b"</row></sheetData></worksheet>",
    b"<sst xmlns='http://schemas.openxmlformats.org/spreadsheetml/2006/main' count='-1'><si><t>\xe5\xa7\x93</t>",
    b"<w:document xmlns:w='http://schemas.openxmlformats.org/wordprocessingml/2006/main'><w:body>"
    + b"<w:tbl><w:tr><w:tc>" * 300 + b"</w:body></w:document>",
)


def _anchors(data: bytes, family: str) -> list[int]:
    pattern = {
        "mime": rb"\r?\n(?=--)|\r?\n\r?\n|filename|name=|=\?|Content-|boundary|charset|base64",
        "zip": rb"PK\x03\x04|PK\x01\x02|PK\x05\x06",
        "image": rb"\xff[\xc0-\xfe]|IHDR|IDAT|PLTE|IEND|GIF8|VP8|Exif",
        "pdf": rb"\d+ 0 obj|endobj|stream|xref|trailer|/Type|/Length|/Filter|/MediaBox|startxref",
    }[family]
    return [m.start() for m in re.finditer(pattern, data[:2_000_000])]


_POS = st.one_of(st.integers(0, 1 << 24), st.tuples(st.just("anchor"), st.integers(0, 1 << 16)))
_OPS = st.one_of(
    st.tuples(st.just("flip"), _POS, st.integers(1, 255)),
    st.tuples(st.just("cut"), _POS),
    st.tuples(st.just("delete"), _POS, st.integers(1, 4096)),
    st.tuples(st.just("insert"), _POS, st.integers(0, 1 << 16)),  # one of the family's tokens
    st.tuples(st.just("insert_bytes"), _POS, st.binary(min_size=1, max_size=48)),
    st.tuples(st.just("duplicate"), _POS, st.integers(1, 2048), _POS),  # a chunk copied elsewhere
    st.tuples(st.just("repeat"), _POS, st.integers(1, 300), st.integers(2, 60)),  # a chunk repeated in place
    st.tuples(st.just("splice"), st.integers(0, 1 << 16), _POS, _POS, st.integers(1, 8192)),  # from another seed
    st.tuples(st.just("boundary"), st.integers(0, 1 << 16), _POS),  # one of the data's own boundary lines
)


def _at(data: bytearray, pos: object, family: str) -> int:
    if isinstance(pos, tuple):
        anchors = _anchors(bytes(data), family)
        return anchors[pos[1] % len(anchors)] if anchors else 0
    return pos % (len(data) + 1)


def mutate(data: bytes, ops: list[tuple], family: str, tokens: tuple[bytes, ...], donors: tuple[bytes, ...]) -> bytes:
    out = bytearray(data)
    ceiling = 4 * len(data) + 256 * 1024  # mutations never make a big input out of a small one
    for op in ops:
        kind, pos = op[0], op[1]
        if kind == "splice":
            donor = donors[op[1] % len(donors)]
            start, at = op[2] if isinstance(op[2], int) else 0, _at(out, op[3], family)
            start %= len(donor) + 1
            out[at:at] = donor[start:start + op[4]]
        elif kind == "boundary":
            lines = re.findall(rb"\r?\n--[!-~]{1,72}(?:--)?\r?\n", bytes(out)) or [b"\r\n--\r\n"]
            at = _at(out, op[2], family)
            out[at:at] = lines[op[1] % len(lines)]
        else:
            at = _at(out, pos, family)
            if kind == "flip" and at < len(out):
                out[at] ^= op[2]
            elif kind == "cut":
                del out[at:]
            elif kind == "delete":
                del out[at:at + op[2]]
            elif kind == "insert":
                out[at:at] = tokens[op[2] % len(tokens)]
            elif kind == "insert_bytes":
                out[at:at] = op[2]
            elif kind == "duplicate":
                chunk = out[at:at + op[2]]
                to = _at(out, op[3], family)
                out[to:to] = chunk
            elif kind == "repeat":
                chunk = out[at:at + op[2]]
                out[at:at] = chunk * (op[3] - 1)
        if len(out) > ceiling:
            del out[ceiling:]
    return bytes(out)


def mangled(seeds, family: str, tokens: tuple[bytes, ...], max_ops: int = 8) -> st.SearchStrategy[bytes]:
    """A seed (from the callable `seeds`) with up to `max_ops` mutations, or the seed untouched."""

    @st.composite
    def build(draw):
        pool = seeds()
        data = pool[draw(st.integers(0, len(pool) - 1))]
        return mutate(data, draw(st.lists(_OPS, max_size=max_ops)), family, tokens, pool)

    return build()


# --- 1. whole messages --------------------------------------------------------------------------------------


def mime_tree(msg) -> list[tuple]:
    """Everything the stdlib parser found, part by part: what the skeleton short cut must reproduce."""
    return [(p.get_content_type(), p.get_unixfrom(), list(p.raw_items()),
             p._payload if isinstance(p._payload, str) else None, p.preamble, p.epilogue,
             [type(d).__name__ for d in p.defects]) for p in msg.walk()]


def skeleton_agrees(raw: bytes) -> None:
    """Parsing the skeleton (every leaf body cut out, however small) gives the stdlib's own parts, and the
    same decoded message."""
    try:
        reference = mime_tree(mime_mod._parse(raw, None))
    except Exception:  # the stdlib itself gives up (hostile nesting): parse_mime falls back to headers
        return
    assert mime_tree(mime_mod._parse(raw, 1, as_text=True)) == reference
    assert parse_mime(raw, min_body=1) == parse_mime(raw, min_body=None)


def parsed(raw: bytes) -> MessageFacts:
    skeleton_agrees(raw)
    with contained() as allowance:
        facts = parse_message(raw, SETTINGS)
        envelope = parse_envelope(raw, Overrun(None, "time", 300.0))
        photos = [f.photo.width * f.photo.height for f in facts.files if f.photo and f.photo.problem != "bomb"]
        allowance.allow(max(photos, default=0), INSPECT_BYTES_PER_PIXEL)
    assert_typed(facts)
    assert_typed(envelope)
    note(f"{facts.kind}, {min(len(facts.files), 5)} files, {'damaged' if facts.findings else 'clean'}")
    return facts


@fuzz(60, raw=mangled(message_seeds, "mime", MIME_TOKENS))
def test_a_mangled_message_never_raises_and_stays_typed(raw):
    parsed(raw)


_HEADER_LINE = st.one_of(
    st.sampled_from([b"From: ", b"Subject: ", b"Content-Type: ", b"Content-Disposition: ", b"Message-ID: ",
                     b"Content-Transfer-Encoding: ", b"MIME-Version: 1.0", b" ", b"\t", b"--"]),
    st.sampled_from(MIME_TOKENS), st.binary(max_size=80),
)


@fuzz(100, raw=st.one_of(st.binary(max_size=4096), st.lists(_HEADER_LINE, max_size=60).map(b"".join)))
def test_random_bytes_and_header_soup_parse_as_a_typed_message(raw):
    parsed(raw)



def _b64_result(decode, body: memoryview) -> bytes | str:
    try:
        return decode(body)
    except (binascii.Error, ValueError) as exc:
        return type(exc).__name__


_B64_NOISE = st.sampled_from([b"=", b"==", b"\r\n", b"\n", b" ", b"\t", b"*", b"-_", b".", b"\x00", b"A", b"Zm9v"])


@fuzz(300, data=st.binary(max_size=200), cuts=st.lists(st.tuples(st.integers(0, 400), _B64_NOISE), max_size=6),
      glue=st.binary(max_size=20), trim=st.integers(0, 6))
def test_the_fast_base64_decoder_reads_every_body_as_the_stdlib_does(data, cuts, glue, trim):
    """Stray padding, glued encodings, junk characters and cut ends: the SIMD path gives binascii's bytes
    or binascii's error, on views into a bigger buffer as the skeleton hands them over."""
    body = bytearray(base64.encodebytes(data).replace(b"\n", b"\r\n") + base64.b64encode(glue))
    for at, noise in cuts:
        body[at:at] = noise
    body = bytes(body[: len(body) - trim])
    for whole in (b"--" + body + b"--", bytearray(b"--" + body + b"--")):  # found in the message, or compared
        view = memoryview(whole)[2:-2]
        assert _b64_result(mime_mod._b64decode, view) == _b64_result(binascii.a2b_base64, view)

# --- 2. attachment names and header text --------------------------------------------------------------------

_LABELS = ("gbk", "GB2312", "gb18030", "big5", "utf-8", "UTF8", "shift_jis", "iso-8859-1", "windows-1252",
           "utf-16", "utf-7", "unicode-escape", "raw-unicode-escape", "x-unknown", "", "utf-8*en", "base64",
           "rot13", "idna", "punycode", "cp437", "hz", "iso-2022-jp", "euc-kr")
_CODECS = ("gbk", "gb18030", "big5", "utf-8", "shift_jis", "cp1252", "utf-16-le")
_NAMES = ("张三1.jpg", "附件1：推荐表.docx", "朱镕基证件照.jpg", "張三.pdf", "../../etc/passwd", "C:\\Windows\\x.exe",
          "..", ".", "a\u202egpj.exe", "名" * 200 + ".jpg", "汇总表.xlsx", "\U00020000.png", "Café.jpg", "\x00.jpg")


_HOSTILE_WORDS = (  # labels whose codecs make lone surrogates or NUL, cut and mislabelled words
    b"=?utf-7?q?+2AA-?=", b"=?utf-7?b?KzJBQS0=?=", b"=?unicode-escape?q?\\ud800?=", b"=?raw-unicode-escape?q?\\udcff?=",
    b"=?utf-16?b?ANg=?=", b"=?utf-8?q?=00?=", b"=?gbk?b?1Q==?=", b"=?gb2312?q?=D5=C5=C8?=", b"=?big5?q?=A4=5C?=",
    b"=?utf-8?b?5byg?= =?utf-8?b?5LiJ?=", b"=?gb2312?B?1cU=?= =?gbk?B?yP0=?=", b"=??q?x?=", b"=?utf-8?x?y?=",
)


def _encoded(text: str, codec: str, label: str, how: str, cut: int) -> bytes:
    try:
        data = text.encode(codec)
    except UnicodeEncodeError:
        data = text.encode("utf-8")
    data = data[: len(data) - cut] if cut < len(data) else data
    if how == "b":
        payload = base64.b64encode(data)
    else:
        payload = b"".join(bytes([c]) if 0x21 <= c < 0x7F and c not in b"=?_" else b"=%02X" % c for c in data)
    return b"=?" + label.encode() + b"?" + how.encode() + b"?" + payload + b"?="


@st.composite
def header_values(draw) -> bytes:
    """Header text as clients and attackers write it: encoded-words (split, mislabelled, cut mid-character),
    raw 8-bit bytes, RFC 2231 continuations, quotes, folds."""
    pieces = []
    for _ in range(draw(st.integers(1, 6))):
        what = draw(st.integers(0, 6))
        text = draw(st.sampled_from(_NAMES) | st.text(max_size=12))
        if what == 0:
            pieces.append(_encoded(text, draw(st.sampled_from(_CODECS)), draw(st.sampled_from(_LABELS)),
                                   draw(st.sampled_from("bq")), draw(st.integers(0, 3))))
        elif what == 1:
            pieces.append(text.encode(draw(st.sampled_from(_CODECS)), "replace"))
        elif what == 2:
            pieces.append(b"=?" + draw(st.binary(max_size=30)) + b"?=")
        elif what == 3:
            pieces.append(draw(st.sampled_from([b"\r\n ", b"\r\n\t", b"\n ", b" ", b'"', b"\\", b"<", b">", b";"])))
        elif what == 4:
            pieces.append(draw(st.binary(max_size=24)))
        elif what == 5:
            pieces.append(draw(st.sampled_from(_HOSTILE_WORDS)))
        else:
            pieces.append(text.encode("utf-8"))
    return b"".join(pieces)


@st.composite
def name_headers(draw) -> bytes:
    """A Content-Disposition / Content-Type pair naming one file, in every way clients name files."""
    value = draw(header_values())
    style = draw(st.integers(0, 4))
    if style == 0:
        disposition = b'attachment; filename="' + value + b'"'
    elif style == 1:
        label = draw(st.sampled_from(_LABELS)).encode()
        quoted = b"".join(b"%%%02X" % c for c in value)
        disposition = b"attachment; filename*=" + label + b"''" + quoted
    elif style == 2:
        label = draw(st.sampled_from(_LABELS)).encode()
        cut = draw(st.integers(0, max(0, len(value))))
        first, rest = (b"".join(b"%%%02X" % c for c in part) for part in (value[:cut], value[cut:]))
        disposition = b"attachment; filename*0*=" + label + b"''" + first + b"; filename*1*=" + rest
    elif style == 3:
        disposition = b"attachment; filename=" + value
    else:
        disposition = b"inline"
    return (b"Content-Type: " + draw(st.sampled_from([b"application/octet-stream", b"image/jpeg", b"text/plain"]))
            + b'; name="' + draw(header_values()) + b'"\r\nContent-Disposition: ' + disposition + b"\r\n")


@fuzz(80, subject=header_values(), sender=header_values(), names=st.lists(name_headers(), min_size=1, max_size=3))
def test_hostile_attachment_names_decode_to_one_plain_name_and_headers_to_storable_text(subject, sender, names):
    parts = b"".join(b"--b\r\n" + n + b"Content-Transfer-Encoding: base64\r\n\r\n"
                     + base64.b64encode(b"content %d" % i) + b"\r\n" for i, n in enumerate(names))
    raw = (b"From: " + sender + b" <a@qq.com>\r\nSubject: " + subject + b"\r\nMIME-Version: 1.0\r\n"
           b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain; charset=gbk\r\n\r\n'
           + _gbk("请查收") + b"\r\n" + parts + b"--b--\r\n")
    facts = parsed(raw)
    assert all(f.parent is None for f in facts.files)  # each top-level name was checked by assert_plain_name


@fuzz(120, value=header_values(), data=st.binary(max_size=200), label=st.sampled_from(_LABELS),
      declared=st.lists(st.sampled_from(_LABELS), max_size=3), raw_name=name_headers())
def test_header_decoders_return_storable_text_for_any_input(value, data, label, declared, raw_name):
    text = value.decode("ascii", "surrogateescape")  # what the email package hands over for 8-bit bytes
    with contained():
        results = [header_text(text, declared), decode_words(unfold(text, declared), declared),
                   sender_name(text, declared) or "", decode_bytes(data, label or None, declared), decode_text(data),
                   "".join(message_charsets(b"Content-Type: text/plain; charset=" + value + b"\r\n"))]
        name = decode_filename(message_from_bytes(raw_name + b"\r\n", policy=compat32), declared)
        cleaned = clean_name(results[0])
    assert all(type(r) is str for r in results)
    assert_storable(results)
    for n in (name, cleaned):
        if n is not None:
            assert_plain_name(n)
            assert storable(n), repr(n)


# --- 3. archives ----------------------------------------------------------------------------------------------

_NAME_PIECES = (b"..", b".", b"", b"/", b"\\", b"C:", b"c:\\", b"\\\\server\\share\\", b"\x00", b"~", b"CON",
                _gbk("张三"), "張三".encode("big5"), "证件照".encode("gb18030"), "\U00020000".encode("gb18030"),
                "Иванов".encode("cp866"), b"\xff\xfe\xfd", "张三".encode(), b"__MACOSX", b".DS_Store",
                b"\xe2\x80\xae", b"\n", b"\xa4\\", b"a" * 255, b".jpg", b".zip")


@st.composite
def member_names(draw) -> bytes:
    if draw(st.integers(0, 9)) == 0:
        return b"a" * draw(st.integers(256, 65000)) + b".jpg"  # the longest names zip can hold
    parts = draw(st.lists(st.sampled_from(_NAME_PIECES) | st.binary(max_size=10), max_size=7))
    seps = draw(st.lists(st.sampled_from([b"/", b"\\", b""]), min_size=len(parts), max_size=len(parts)))
    return b"".join(p + s for p, s in zip(parts, seps, strict=True))[:65535]


@dataclasses.dataclass(frozen=True)
class Entry:
    name: bytes
    data: bytes = b"content"
    utf8_flag: bool = False
    method: int = 0  # 0 stored, 8 deflate; anything else as declared (9 Deflate64, 12 bzip2, 99 AES...)
    flags: int = 0
    external_attr: int = 0o644 << 16
    declared_size: int | None = None  # a lie about the uncompressed size
    declared_packed: int | None = None  # a lie about the compressed size
    shares_first: bool = False  # its central record points at the first entry's local record (overlap)


@functools.lru_cache(maxsize=8)
def _deflated(data: bytes) -> bytes:
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush()


@functools.lru_cache(maxsize=8)
def _crc(data: bytes) -> int:
    return zlib.crc32(data)


def zip_bytes(entries: list[Entry]) -> bytes:
    """A zip written byte by byte: any name bytes, flags, methods and lies about sizes."""
    body, directory, first = bytearray(), bytearray(), None
    for e in entries:
        stream = _deflated(e.data) if e.method == 8 else e.data
        packed = len(stream) if e.declared_packed is None else e.declared_packed
        size = len(e.data) if e.declared_size is None else e.declared_size
        flags = e.flags | (0x800 if e.utf8_flag else 0)
        fields = (flags, e.method, 0, 0x5221, _crc(e.data), packed & 0xFFFFFFFF, size & 0xFFFFFFFF)
        if e.shares_first and first is not None:
            name, offset, fields = first
        else:
            name, offset = e.name, len(body)
            body += struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, *fields, len(name), 0) + name + stream
            first = first or (name, offset, fields)
        directory += struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, *fields, len(name), 0, 0, 0, 0,
                                 e.external_attr, offset) + name
    n = len(entries) & 0xFFFF
    return bytes(body + directory + struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, n, n, len(directory), len(body), 0))


def _zipfile_name(e: Entry) -> str | None:
    """The name as zipfile itself reads it (cut at NUL), when it is plain ASCII: then its meaning is certain."""
    name = e.name.split(b"\x00")[0]
    return name.decode("ascii") if name.isascii() else None


def _hostile(name: str) -> bool:
    path = name.replace("\\", "/")
    return path.startswith("/") or bool(_DRIVE.match(path)) or ".." in path.split("/")


_ENTRY = st.builds(
    Entry, name=member_names(), data=st.sampled_from([b"", b"content", b"x" * 5000]) | st.binary(max_size=64),
    utf8_flag=st.booleans(), method=st.sampled_from([0, 8, 8, 9, 12, 14, 99]),
    flags=st.sampled_from([0, 0, 0, 1, 8]), external_attr=st.sampled_from([0o644 << 16, 0o120777 << 16, 0x10]),
)


def expanded(data: bytes, kind: str, name: str = "材料.zip"):
    with contained():
        result = expand(data, kind, name, LIMITS)
        one_level = open_archive(data, kind, name, LIMITS)
    assert one_level.finding is None or one_level.members == []
    for x in result.findings + ([one_level.finding] if one_level.finding else []):
        assert_finding(x)
    for index, f in enumerate(result.files):
        assert type(f.display_name) is str and f.display_name.startswith(name + "/")
        assert type(f.content) is bytes and type(f.kind) is str
        assert f.parent is None or 0 <= f.parent < index
        container = name if f.parent is None else result.files[f.parent].display_name
        assert f.display_name.startswith(container + "/")
        assert_relative_path(f.display_name[len(container) + 1:])
    assert sum(len(f.content) for f in result.files) <= LIMITS.max_total_bytes
    assert len(result.files) <= LIMITS.max_entries
    assert_storable([f.display_name for f in result.files])
    refusal = one_level.finding.params.get("reason") if one_level.finding else None
    note(f"{kind}: {refusal or 'opened'}")
    return result


@fuzz(120, entries=st.lists(_ENTRY, min_size=1, max_size=6), nest=st.booleans())
def test_a_zip_with_hostile_names_is_refused_whole_or_yields_only_relative_members(entries, nest):
    data = zip_bytes(entries)
    if nest:  # the same names one level down: an archive inside the archive
        data = zip_bytes([Entry("外层/内层.zip".encode(), data, utf8_flag=True, method=8), Entry(b"ok.txt")])
    result = expanded(data, "zip")
    certain = [_zipfile_name(e) for e in entries]
    if not nest and any(n is not None and _hostile(n) for n in certain):
        assert result.files == [] and result.findings, "an archive naming a path outside itself must be refused"


_BOMB_SIZES = (0, 1024, 64 * 1024, 1 << 20, 4 << 20)


@st.composite
def small_bombs(draw) -> tuple[bytes, bool, int]:
    """Zeros deflated ~1000:1 with honest or lying sizes, overlapping entries (Fifield's bomb: one stream
    listed many times), many entries, and zips of zips. Returns the zip, whether entries overlap, its levels."""
    size = draw(st.sampled_from(_BOMB_SIZES))
    zeros = b"\0" * size
    lie = draw(st.sampled_from(["honest", "size_small", "size_large", "packed_large", "packed_huge"]))
    declared_size = {"size_small": size // 4, "size_large": size * 3}.get(lie)
    declared_packed = {"packed_large": max(1, size // 100), "packed_huge": 0xFFFFFFFE}.get(lie)
    count = draw(st.sampled_from([1, 2, 50, 400, 2100]))
    overlap = draw(st.booleans()) and count > 1
    if not overlap and size > 64 * 1024:
        count = min(count, 50)
    entries = [Entry(b"zero.bin" if overlap else b"zero%d.bin" % i, zeros, method=8, declared_size=declared_size,
                     declared_packed=declared_packed, shares_first=overlap and i > 0) for i in range(count)]
    data = zip_bytes(entries)
    levels = draw(st.integers(0, 3)) if draw(st.booleans()) else 0
    for level in range(levels):  # zips of zips, each level several copies
        copies = draw(st.integers(1, 8))
        data = zip_bytes([Entry(b"level%d-%d.zip" % (level, i), data, method=8) for i in range(copies)])
    return data, overlap, levels


_RATIO_SLACK = 4096  # what `parsers.archives` adds to each member's packed size before judging its ratio


@fuzz(50, bomb=small_bombs())
def test_a_small_zip_bomb_never_unpacks_past_its_budget_or_its_ratio(bomb):
    data, overlap, levels = bomb
    result = expanded(data, "zip", "bomb.zip")
    if levels:
        return  # nested: the shared budget and the memory cap hold (checked for every archive)
    unpacked = sum(len(f.content) for f in result.files)
    # the ratio vetted on declared sizes holds for the bytes really produced: sizes may lie, the bytes do not
    assert unpacked <= LIMITS.max_ratio * (len(data) + _RATIO_SLACK * len(result.files)), (unpacked, len(data))
    if overlap:
        assert result.files == [] and result.findings, "entries sharing one compressed stream must be refused"


@fuzz(70, kind=st.sampled_from(["zip", "7z", "rar"]), pick=st.integers(0, 1 << 16), ops=st.lists(_OPS, max_size=6))
def test_a_mangled_zip_7z_or_rar_is_opened_or_refused_never_raised(kind, pick, ops):
    of_kind = [seed for k, seed in archive_seeds() if k == kind]
    seed = of_kind[pick % len(of_kind)]
    data = mutate(seed, ops, "zip", ZIP_TOKENS, tuple(s for _, s in archive_seeds()))
    expanded(data, kind, "材料." + kind)


# --- 4. images ------------------------------------------------------------------------------------------------

_DIMENSIONS = st.sampled_from([0, 1, 2, 255, 256, 4096, 8192, 10000, 11000, 30000, 65535]) | st.integers(0, 65535)


def with_dimensions(data: bytes, width: int, height: int) -> bytes:
    """The same image declaring another size in its header (PNG IHDR, JPEG SOFn, GIF screen, BMP header)."""
    out = bytearray(data)
    if data.startswith(b"\x89PNG") and len(out) >= 33:
        out[16:24] = struct.pack(">II", width, height)
        out[29:33] = struct.pack(">I", zlib.crc32(out[12:29]))  # a valid IHDR: the size is believed
    elif data.startswith(b"\xff\xd8"):
        found = re.search(rb"\xff[\xc0-\xc3\xc5-\xc7\xc9-\xcb\xcd-\xcf]", data)
        if found and found.start() + 9 <= len(out):
            out[found.start() + 5:found.start() + 9] = struct.pack(">HH", height & 0xFFFF, width & 0xFFFF)
    elif data.startswith(b"GIF8") and len(out) >= 10:
        out[6:10] = struct.pack("<HH", width & 0xFFFF, height & 0xFFFF)
    elif data.startswith(b"BM") and len(out) >= 26:
        out[18:26] = struct.pack("<ii", width, height)
    return bytes(out)


@fuzz(100, pick=st.integers(0, 1 << 16), dims=st.none() | st.tuples(_DIMENSIONS, _DIMENSIONS),
      ops=st.lists(_OPS, max_size=6), role=st.sampled_from([Role.ID_PHOTO, Role.LIFE_PHOTO]))
def test_a_truncated_corrupt_or_huge_image_is_a_photo_fact_never_an_exception(pick, dims, ops, role):
    data = image_seeds()[pick % len(image_seeds())]
    if dims:
        data = with_dimensions(data, *dims)
    inspected(mutate(data, ops, "image", IMAGE_TOKENS, image_seeds()), role)


def inspected(data: bytes, role: Role = Role.ID_PHOTO) -> PhotoInfo:
    with contained() as allowance:
        allowance.allow(declared_pixels(data), SEAL_BYTES_PER_PIXEL)
        info = inspect_photo(data, SETTINGS.max_image_pixels)
        found = photo_findings("张三1.jpg", len(data), info, role, SETTINGS)
        sealed = seal_in_images([data], SETTINGS.max_image_pixels)
    assert_photo(info)
    assert type(sealed) is bool
    for x in found:
        assert_finding(x)
    note(f"{info.format} problem={info.problem}")
    return info


# --- 5. documents: PDFs, workbooks, docx ---------------------------------------------------------------------


def read_doc(data: bytes, kind: str) -> DocumentContent:
    with contained():
        content = read_document(data, kind, render_pages=3)
        table = read_summary(data, kind) if kind in ("xlsx", "xls") else None
    assert isinstance(content, DocumentContent)
    assert content.text is None or type(content.text) is str
    assert all(type(i) is bytes for i in content.images)
    assert content.problem in (None, "corrupt", "encrypted", "legacy format", "unsupported", "too complex")
    assert_storable(content.text or "")
    note(f"{kind}: problem={content.problem} text={content.text is not None}")
    if isinstance(table, SummaryTable):
        assert_summary(table)
        assert_storable(table)
    else:
        assert table is None or type(table) is str
    return content


@fuzz(60, data=mangled(pdf_seeds, "pdf", PDF_TOKENS))
def test_a_truncated_pdf_or_one_with_garbage_objects_reads_as_text_or_a_problem(data):
    read_doc(data, "pdf")


def rezipped(data: bytes, replace: dict[int, bytes], drop: set[int]) -> bytes:
    """The same OOXML package with some members' bytes replaced (garbage XML) or members dropped."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        infos = src.infolist()
        for i, info in enumerate(infos):
            if i % len(infos) in drop:
                continue
            dst.writestr(info.filename, replace.get(i % len(infos), src.read(info)))
    return out.getvalue()


@st.composite
def workbooks(draw) -> tuple[str, bytes]:
    """A summary table (xlsx, xls) or a recommendation form (docx) with garbage XML members and byte damage."""
    kind = draw(st.sampled_from(["xlsx", "xlsx", "docx", "xls"]))
    data = attachments()[{"xlsx": "附件2：推荐人选汇总表.xlsx", "xls": "附件2：推荐人选汇总表.xls",
                          "docx": "附件1：张三推荐表.docx"}[kind]]
    if kind != "xls":
        garbage = st.sampled_from(XML_GARBAGE) | st.binary(max_size=200)
        replace = draw(st.dictionaries(st.integers(0, 40), garbage, max_size=3))
        data = rezipped(data, replace, draw(st.sets(st.integers(0, 40), max_size=2)))
    ops = draw(st.lists(_OPS, max_size=4 if kind == "xls" else 2))
    return kind, mutate(data, ops, "zip", ZIP_TOKENS + XML_GARBAGE, (data,))


@fuzz(80, workbook=workbooks())
def test_a_workbook_or_form_with_garbage_xml_reads_as_a_table_or_a_reason(workbook):
    kind, data = workbook
    read_doc(data, kind)


_CELL = st.one_of(st.none(), st.text(max_size=30), st.integers(-10**12, 10**12), st.floats(allow_nan=True),
                  st.datetimes(dt.datetime(1900, 3, 1), dt.datetime(2100, 1, 1)), st.booleans(),
                  st.sampled_from(["受理", "不受理", "未收到", "2021-05-26", "2021年5月26日", "2021-02-30", "#42",
                                   "2021-0042", "渝北区科协", " ", "=1/0"]))


def _cell_under(header: str, sheet: form.FormSheet) -> st.SearchStrategy:
    """What an organiser types under `header`: mostly the right kind of value, sometimes anything."""
    if header == sheet.date:
        right = st.dates(dt.date(1990, 1, 1), dt.date(2030, 12, 31)) | st.sampled_from(
            ["2021-05-26", "2021/5/26", "2021年5月26日", "2021.05.26", "2021-02-30", "26/05/2021", ""])
    elif header == sheet.decision:
        right = st.sampled_from(sorted(form.ACCEPT_WORDS | form.REJECT_WORDS | form.NOT_RECEIVED_WORDS)
                                + ["2021-05-20", "江北区科协", "受 理", "  "]) | st.dates()
    elif header == sheet.key:
        right = st.sampled_from(["2021-0042", "#42", "42", 42, 42.0, UNIT, "渝北区科协（盖章）", ""])
    else:
        right = st.text(max_size=20)
    return st.one_of(right, right, _CELL)


@st.composite
def decision_workbooks(draw) -> bytes:
    """The organisers' 决定.xlsx as Excel or WPS saves it, with any cell values, then damaged."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    for sheet in form.SHEETS:
        if not draw(st.integers(0, 4)):
            continue
        ws = book.create_sheet(sheet.title)
        headers = list(sheet.headers)
        if draw(st.integers(0, 5)) == 0:
            draw(st.randoms()).shuffle(headers)
        ws.append(headers)
        for row in draw(st.lists(st.tuples(*(_cell_under(h, sheet) for h in headers)), max_size=8)):
            ws.append([ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v for v in row])
    if not book.worksheets:
        book.create_sheet("Sheet1")
    out = io.BytesIO()
    try:
        book.save(out)
    except Exception:  # openpyxl refuses some values (illegal XML characters): then the sheet is plain
        out = io.BytesIO()
        plain = openpyxl.Workbook()
        plain.active.title = form.PAPER.title
        plain.active.append(list(form.PAPER.headers))
        plain.save(out)
    data = out.getvalue()
    if draw(st.booleans()):
        garbage = st.sampled_from(XML_GARBAGE) | st.binary(max_size=200)
        data = rezipped(data, draw(st.dictionaries(st.integers(0, 20), garbage, max_size=2)), set())
    return mutate(data, draw(st.lists(_OPS, max_size=3)), "zip", ZIP_TOKENS + XML_GARBAGE, (data,))


@functools.cache
def decision_seeds() -> tuple[bytes, ...]:
    """Filled-in decisions workbooks: every sheet, a decision and its day on each row (the atheris seeds)."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    rows = {form.PAPER: [UNIT, "district", "2021-05-20", "2021-05-26", ""],
            form.LATE: ["2021-0042", UNIT, "2021-05-29 09:12", "受理", "2021-05-30", ""],
            form.ASSIGN: ["#43", "a@qq.com", "推荐材料", UNIT, "2021-05-30", ""]}
    for sheet, row in rows.items():
        ws = book.create_sheet(sheet.title)
        ws.append(list(sheet.headers))
        ws.append(row)
    out = io.BytesIO()
    book.save(out)
    return (out.getvalue(),)


@fuzz(60, data=decision_workbooks())
def test_a_mangled_decisions_workbook_reads_as_decisions_or_none(data):
    decisions_read(data)


def decisions_read(data: bytes) -> DecisionSheet | None:
    with contained():
        sheet = read_decision_sheet(data)
    note("not a decisions workbook" if sheet is None else f"{min(len(sheet.decisions), 3)} decisions")
    if sheet is None:
        return None
    assert isinstance(sheet, DecisionSheet)
    for d in sheet.decisions:
        assert isinstance(d, SheetDecision)
        assert d.kind in ("paper_received", "accept_late", "reject_late", "assign")
        assert type(d.target) is str and d.target and type(d.where) is str
        assert d.value is None or type(d.value) is str
        assert isinstance(d.decided_on, dt.date)
    assert all(isinstance(p, SheetProblem) and type(p.text) is str for p in sheet.problems)
    assert_storable(sheet)
    return sheet


# --- 6. bounces -----------------------------------------------------------------------------------------------


@fuzz(80, raw=mangled(bounce_seeds, "mime", MIME_TOKENS + (b"Final-Recipient: rfc822; ", b"Action: failed\r\n",
                                                              b"Diagnostic-Code: smtp; 550 5.1.1 ", b"<@>",
                                                              b"Original-Message-ID: <x@y>\r\n")))
def test_a_mangled_bounce_names_its_ids_and_reason_within_bounds(raw):
    bounce_read(raw)


def bounce_read(raw: bytes) -> BounceFacts:
    with contained():
        facts = bounce_mod.read_bounce(parse_mime(raw))
    assert_bounce(facts)
    assert_storable(facts)
    note(f"ids={min(len(facts.original_ids), 2)} status={facts.status is not None}")
    parsed(raw)
    return facts


# --- 7. the child processes: OCR of scans, LibreOffice's conversion of legacy files -------------------------
# Each example costs a child process start (about two seconds), so the budgets are small; bench/fuzz_long.py
# runs more.


@functools.cache
def scan_seeds() -> tuple[bytes, ...]:
    """Small square scans (the detector works on at least 736 px a side) of real Chinese text: PNG, TIFF, JPEG and
    an image-only PDF."""
    from testkit import scans

    page = scans.blank_page((480, 480))
    for y, line in ((60, "机密★1年"), (160, "推荐工作情况报告")):
        ImageDraw.Draw(page).text((30, y), line, font=scans.font(40), fill=scans.INK)
    return scans.png(page), scans.tiff(page), scans.jpeg(scans.turned(page, 90)), scans.image_pdf([page, page])


@fuzz(2, data=st.lists(mangled(scan_seeds, "image", IMAGE_TOKENS + PDF_TOKENS, max_ops=4), min_size=3, max_size=3))
def test_a_mangled_scan_reads_as_text_or_a_problem_in_a_bounded_child(data):
    from mailintake.parsers.ocr import OCR_FAILURES, UNREADABLE, OcrReader, OcrResult

    # one child for the example's scans; a header declaring more than 4 Mpx is refused (the default cap would
    # let the child decode 120 Mpx: bounded by its limits, but slow for a test)
    with contained(), OcrReader(SETTINGS.documents, 4_000_000) as reader:
        results = [reader.read(scan, "pdf" if b"%PDF-" in scan[:1024] else "png", hashlib.sha256(scan).hexdigest())
                   for scan in data]
    for result in results:
        assert isinstance(result, OcrResult) and result.problem in OCR_FAILURES | {None, UNREADABLE}
        assert result.text is None or type(result.text) is str
        assert all(type(c.text) is str and type(c.left) is float for line in result.lines for c in line.cells)
        assert_storable(result.text or "")
        note(f"ocr problem={result.problem} text={result.text is not None}")


@fuzz(2, data=mangled(lambda: (attachments()["附件2：推荐人选汇总表.xls"],), "zip", ZIP_TOKENS, max_ops=3))
def test_a_mangled_legacy_file_converts_or_says_why_never_raises(data):
    from mailintake.parsers.legacy import FAILED, MISSING, TIME, convert

    docs = SETTINGS.documents
    with contained():
        done = convert(data, "et", docs.soffice, docs.convert_seconds)
        content = read_document(done.data, done.kind) if done.data else None
    assert done.problem in (None, FAILED, MISSING, TIME) and (done.data is None) == (done.problem is not None)
    assert content is None or isinstance(content, DocumentContent)
    note(f"conversion problem={done.problem}")
