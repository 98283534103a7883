"""Archives are opened in memory; hostile, encrypted or damaged ones yield a finding, never an exception.

Zips with exact raw bytes (GBK names without the UTF-8 flag, forged flags, lying sizes) are built by
hand with `raw_zip`; the RAR samples come from rarfile's test suite (tests/fixtures/rar/README.md).
"""

from __future__ import annotations

import dataclasses
import io
import os
import shutil
import struct
import tempfile
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import py7zr
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mailintake.common.findings import REASONS
from mailintake.parsers.archives import CORRUPT, ENCRYPTED, RAR_UNREADABLE, UNSUPPORTED_METHOD, expand, open_archive
from mailintake.parsers.facts import ArchiveLimits
from testkit.config import default_settings

LIMITS = default_settings().archives
RAR = Path(__file__).parent.parent / "fixtures" / "rar"
needs_unar = pytest.mark.skipif(shutil.which("unar") is None, reason="Debian package unar not installed")


@dataclass
class RawEntry:
    name: bytes
    data: bytes = b"content"
    flags: int = 0
    deflate: bool = False
    external_attr: int = 0
    declared_size: int | None = None  # what the headers claim, when it should differ from len(data)
    stream: bytes | None = None  # a ready-made raw deflate stream
    crc: int | None = None
    method: int | None = None  # force a compression method id (9 = Deflate64)


def raw_zip(*entries: RawEntry) -> bytes:
    """Local headers, central directory and end record written byte by byte, as a DOS tool would."""
    body, directory = b"", b""
    for e in entries:
        stream = e.stream if e.stream is not None else (_deflate(e.data) if e.deflate else e.data)
        method = e.method if e.method is not None else (8 if e.deflate or e.stream is not None else 0)
        crc = zlib.crc32(e.data) if e.crc is None else e.crc
        size = len(e.data) if e.declared_size is None else e.declared_size
        fields = (e.flags, method, 0, 0x5221, crc, len(stream), size, len(e.name))
        directory += struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, *fields, 0, 0, 0, 0, e.external_attr,
                                 len(body)) + e.name  # fmt: skip
        body += struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, *fields, 0) + e.name + stream
    count = len(entries)
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, count, count, len(directory), len(body), 0)
    return body + directory + end


def _deflate(data: bytes) -> bytes:
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush()


def make_zip(files: dict[str, bytes]) -> bytes:
    """What Python, 7-Zip or WinRAR write: non-ASCII names UTF-8 with flag 0x800."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in files.items():
            zf.writestr(name, content)
    return buf.getvalue()


def make_7z(files: dict[str, bytes], **options) -> bytes:
    buf = io.BytesIO()
    with py7zr.SevenZipFile(buf, "w", **options) as archive:
        for name, content in files.items():
            archive.writestr(content, name)
    return buf.getvalue()


def opened(data: bytes, kind: str = "zip", limits: ArchiveLimits = LIMITS) -> dict[str, bytes]:
    result = open_archive(data, kind, "材料." + kind, limits)
    assert result.finding is None, result.finding
    return {m.path: m.content for m in result.members}


def refused(
    data: bytes, kind: str = "zip", limits: ArchiveLimits = LIMITS, code: str = "archive_unsafe"
) -> str:
    result = open_archive(data, kind, "材料." + kind, limits)
    assert result.members == []
    assert result.finding is not None and result.finding.code == code, result.finding
    assert result.finding.subject == "材料." + kind
    return result.finding.detail


# --- names ---------------------------------------------------------------------------------------


def test_gbk_names_from_chinese_windows_read_as_chinese():
    data = raw_zip(
        RawEntry("张三/".encode("gbk"), b""),
        RawEntry("张三/张三1.jpg".encode("gbk"), b"jpeg bytes"),
        RawEntry("推荐工作情况报告.pdf".encode("gbk"), b"pdf bytes"),
    )
    assert opened(data) == {"张三/张三1.jpg": b"jpeg bytes", "推荐工作情况报告.pdf": b"pdf bytes"}


def test_a_short_gbk_name_that_happens_to_be_valid_utf8_still_reads_as_chinese():
    raw = "叶志伟1.jpg".encode("gbk")
    assert raw.decode("utf-8") == "Ҷ־ΰ1.jpg"  # the trap: these GBK bytes are also valid UTF-8
    assert opened(raw_zip(RawEntry(raw))) == {"叶志伟1.jpg": b"content"}


def test_gb18030_only_characters_survive():
    assert opened(raw_zip(RawEntry("朱镕基𠀀.txt".encode("gb18030")))) == {"朱镕基𠀀.txt": b"content"}


def test_utf8_flagged_names_read_as_utf8():
    assert opened(make_zip({"李四/李四2.jpg": b"a", "汇总表.xlsx": b"b"})) == {
        "李四/李四2.jpg": b"a",
        "汇总表.xlsx": b"b",
    }


def test_unflagged_utf8_names_as_macos_archive_utility_writes_them():
    assert opened(raw_zip(RawEntry("王五/王五3.jpg".encode()))) == {"王五/王五3.jpg": b"content"}


def test_each_entry_of_a_mixed_zip_is_decoded_on_its_own():
    data = raw_zip(
        RawEntry("赵六1.jpg".encode(), b"flagged", flags=0x800),
        RawEntry("赵六2.jpg".encode("gbk"), b"gbk"),
        RawEntry("赵六3.jpg".encode(), b"unflagged utf-8"),
        RawEntry(b"readme.txt", b"ascii"),
    )
    assert opened(data) == {
        "赵六1.jpg": b"flagged",
        "赵六2.jpg": b"gbk",
        "赵六3.jpg": b"unflagged utf-8",
        "readme.txt": b"ascii",
    }


def test_windows_backslashes_and_dot_segments_are_normalised():
    data = raw_zip(RawEntry("材料\\张三\\.\\张三1.jpg".encode("gbk")), RawEntry(b"a//b.txt"))
    assert opened(data) == {"材料/张三/张三1.jpg": b"content", "a/b.txt": b"content"}


def test_decomposed_macos_names_are_returned_composed():
    assert opened(raw_zip(RawEntry("Cafe\u0301/报告.pdf".encode()))) == {"Café/报告.pdf": b"content"}


def test_operating_system_junk_is_skipped():
    data = make_zip(
        {
            "材料/张三1.jpg": b"photo",
            "__MACOSX/材料/._张三1.jpg": b"resource fork",
            "材料/.DS_Store": b"finder",
            "材料/Thumbs.db": b"thumbnails",
            "Desktop.ini": b"[.ShellClassInfo]",
            "材料/空目录/": b"",
        }
    )
    assert opened(data) == {"材料/张三1.jpg": b"photo"}


# --- nesting ---------------------------------------------------------------------------------------


def test_a_zip_inside_a_zip_is_one_member_of_the_outer_level():
    inner = make_zip({"张三1.jpg": b"photo"})
    assert opened(make_zip({"张三/照片.zip": inner, "推荐表.docx": b"doc"})) == {
        "张三/照片.zip": inner,
        "推荐表.docx": b"doc",
    }


def test_expand_opens_nested_archives_and_names_members_by_their_path():
    inner = make_7z({"张三1.jpg": b"\xff\xd8\xff photo"})
    outer = make_zip({"张三/照片.7z": inner, "推荐表.txt": "推荐表".encode()})
    result = expand(outer, "zip", "材料.zip", LIMITS)
    assert result.findings == []
    assert [(f.display_name, f.kind, f.parent) for f in result.files] == [
        ("材料.zip/张三/照片.7z", "7z", None),
        ("材料.zip/张三/照片.7z/张三1.jpg", "jpeg", 0),
        ("材料.zip/推荐表.txt", "text", None),
    ]


def test_expand_stops_at_the_depth_limit():
    level3 = make_zip({"a.txt": b"deep"})
    level2 = make_zip({"level3.zip": level3})
    top = make_zip({"level2.zip": level2})
    result = expand(top, "zip", "top.zip", dataclasses.replace(LIMITS, max_depth=2))
    assert [f.display_name for f in result.files] == ["top.zip/level2.zip", "top.zip/level2.zip/level3.zip"]
    assert [(f.code, f.subject) for f in result.findings] == [
        ("nested_too_deep", "top.zip/level2.zip/level3.zip")
    ]


def test_nested_archives_share_one_byte_budget():
    inner = make_zip({"noise.bin": os.urandom(400_000)})
    top = make_zip({"a.zip": inner, "b.zip": inner})
    result = expand(top, "zip", "top.zip", dataclasses.replace(LIMITS, max_total_bytes=1_500_000))
    names = [f.display_name for f in result.files]
    assert names == ["top.zip/a.zip", "top.zip/a.zip/noise.bin", "top.zip/b.zip"]
    assert [(f.code, f.subject) for f in result.findings] == [("archive_unsafe", "top.zip/b.zip")]


# --- 7z --------------------------------------------------------------------------------------------


def test_7z_with_chinese_names():
    files = {"张三/张三1.jpg": b"photo", "推荐工作情况报告.pdf": b"report", "空.txt": b""}
    assert opened(make_7z(files), "7z") == files


@pytest.mark.parametrize("header_encryption", [False, True])
def test_password_protected_7z_is_reported_as_encrypted(header_encryption):
    data = make_7z({"张三1.jpg": b"photo"}, password="123456", header_encryption=header_encryption)
    assert REASONS[ENCRYPTED] in refused(data, "7z", code="archive_unreadable")


def test_7z_symlink_is_refused(tmp_path):
    (tmp_path / "target.txt").write_bytes(b"x")
    os.symlink("/etc/passwd", tmp_path / "link")
    buf = io.BytesIO()
    with py7zr.SevenZipFile(buf, "w") as archive:
        archive.write(tmp_path / "link", "link")
        archive.write(tmp_path / "target.txt", "target.txt")
    assert "链接" in refused(buf.getvalue(), "7z")


def test_7z_drive_letter_path_is_refused():
    assert "绝对路径" in refused(make_7z({"C:\\Windows\\evil.txt": b"x"}), "7z")


# --- rar (fixtures from rarfile 4.2) ---------------------------------------------------------------

# stest1.txt / stest2.txt: the lines "000\n" .. "511\n", CRC32 0xc5b7e6a2 in rarfile's header dumps.
STEST = "".join(f"{i:03d}\n" for i in range(512)).encode()
SUBDIRS = {
    "sub/dir1/file1.txt": b"file1\n",
    "sub/dir2/file2.txt": b"file2\n",
    "sub/with space/long fn.txt": b"long fn\n",
    "sub/üȵĩöḋè/file.txt": b"file\n",
}


def test_rar_sample_contents_match_rarfile_header_checksum():
    assert zlib.crc32(STEST) == 0xC5B7E6A2 and len(STEST) == 2048


@pytest.mark.parametrize(
    ("fixture", "expected"),
    [
        ("seektest.rar", {"stest1.txt": STEST, "stest2.txt": STEST}),  # RAR3, not solid
        ("rar5-crc.rar", {"stest1.txt": STEST, "stest2.txt": STEST}),
        ("rar5-solid.rar", {"stest1.txt": STEST, "stest2.txt": STEST}),
        ("rar3-subdirs.rar", SUBDIRS),
        ("rar5-subdirs.rar", SUBDIRS),
        pytest.param("rar3-solid.rar", {"stest1.txt": STEST, "stest2.txt": STEST}, marks=needs_unar),
        pytest.param("unicode.rar", {"уииоотивл.txt": b"1\n", "𝐀𝐁𝐁𝐂.txt": b"1\n"}, marks=needs_unar),
    ],
)
def test_rar_archives_are_read(fixture, expected):
    assert opened((RAR / fixture).read_bytes(), "rar") == expected


@needs_unar
@pytest.mark.parametrize("fixture", ["rar3-comment-psw.rar", "rar5-psw.rar", "rar5-hpsw.rar"])
def test_password_protected_rar_is_reported_as_encrypted(fixture):
    assert REASONS[ENCRYPTED] in refused((RAR / fixture).read_bytes(), "rar", code="archive_unreadable")


def test_rar_with_symlinks_is_refused():
    assert "链接" in refused((RAR / "rar3-symlink-unix.rar").read_bytes(), "rar")


@pytest.mark.parametrize("signature", [b"Rar!\x1a\x07\x00", b"Rar!\x1a\x07\x01\x00"])
def test_a_rar_no_tool_can_read_asks_for_zip(signature):
    data = signature + bytes(range(256)) * 2
    assert REASONS[RAR_UNREADABLE] in refused(data, "rar", code="archive_unreadable")
    assert "请改用zip格式" in REASONS[RAR_UNREADABLE]


@pytest.mark.parametrize("fixture", ["seektest.rar", "rar5-crc.rar", "rar3-subdirs.rar"])
def test_truncated_rar_is_unreadable(fixture):
    data = (RAR / fixture).read_bytes()
    refused(data[: len(data) // 2], "rar", code="archive_unreadable")


@needs_unar
def test_rar_fallback_leaves_no_temporary_files():
    before = set(os.listdir(tempfile.gettempdir()))
    opened((RAR / "unicode.rar").read_bytes(), "rar")
    after = set(os.listdir(tempfile.gettempdir()))
    assert not [name for name in after - before if name.startswith("mailintake-rar-")]


# --- hostile archives ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        (b"../../etc/cron.d/evil", "上级目录"),
        (b"ok/../../up.txt", "上级目录"),
        (b"..\\..\\Windows\\evil.txt", "上级目录"),
        (b"/etc/passwd", "绝对路径"),
        (b"\\\\server\\share\\evil.txt", "绝对路径"),
        (b"C:\\Windows\\evil.txt", "绝对路径"),
        (b"c:/evil.txt", "绝对路径"),
    ],
)
def test_escaping_paths_refuse_the_whole_archive(name, reason):
    data = raw_zip(RawEntry(b"good.txt", b"fine"), RawEntry(name, b"evil"))
    assert reason in refused(data)


def test_zip_symlink_is_refused():
    link = zipfile.ZipInfo("materials")
    link.create_system, link.external_attr = 3, (0o120777 << 16)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(link, "/etc")
        zf.writestr("materials/passwd", b"x")
    assert "链接" in refused(buf.getvalue())


def test_a_one_gigabyte_zip_bomb_is_not_expanded():
    """1 GiB of zeros deflates to about 1 MB; the stream repeats, so it is built from one block."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = compressor.compress(bytes(1 << 20)) + compressor.flush(zlib.Z_FULL_FLUSH)
    tail = compressor.compress(bytes(1 << 20)) + compressor.flush()
    stream = block * 1023 + tail
    # CRC left as 0: the archive must be refused from its directory before anything is inflated.
    data = raw_zip(RawEntry(b"zeros.bin", b"", stream=stream, declared_size=1 << 30, crc=0))
    assert len(data) < 1_100_000
    assert "压缩比高达1011倍" in refused(data)
    assert "上限" in refused(data, limits=dataclasses.replace(LIMITS, max_ratio=float("inf")))


def test_an_extreme_compression_ratio_is_refused_even_under_the_size_cap():
    assert "压缩比" in refused(make_zip({"blank.bmp": bytes(8 << 20)}))


def test_too_many_entries_are_refused():
    files = {f"{i}.txt": b"x" for i in range(30)}
    assert "文件数" in refused(make_zip(files), limits=dataclasses.replace(LIMITS, max_entries=20))


def test_a_zip_that_understates_its_sizes_yields_nothing():
    """The directory claims 1,000 bytes, the data inflates to 4 MiB: never returned, never a crash."""
    data = raw_zip(RawEntry(b"liar.bin", bytes(4 << 20), deflate=True, declared_size=1000))
    result = open_archive(data, "zip", "liar.zip", dataclasses.replace(LIMITS, max_total_bytes=1 << 20))
    assert result.members == [] and result.finding is not None


def test_declared_sizes_over_the_cap_are_refused():
    data = make_zip({"a.bin": os.urandom(300_000), "b.bin": os.urandom(300_000)})
    assert "上限" in refused(data, limits=dataclasses.replace(LIMITS, max_total_bytes=500_000))


# --- encrypted and damaged -------------------------------------------------------------------------


def test_password_protected_zip_is_reported_as_encrypted():
    data = raw_zip(RawEntry("张三1.jpg".encode("gbk"), b"\x93\x11ciphertext", flags=0x1))
    detail = refused(data, code="archive_unreadable")
    assert REASONS[ENCRYPTED] in detail and "压缩包已加密" in detail


@pytest.mark.parametrize("kind", ["zip", "7z"])
def test_truncated_archives_are_reported_as_damaged(kind):
    data = make_zip({"a.txt": os.urandom(5000)}) if kind == "zip" else make_7z({"a.txt": os.urandom(5000)})
    assert REASONS[CORRUPT] in refused(data[: len(data) // 2], kind, code="archive_unreadable")
    assert "压缩包已损坏" in REASONS[CORRUPT]


def test_a_zip_with_a_bad_checksum_is_reported_as_damaged():
    assert REASONS[CORRUPT] in refused(raw_zip(RawEntry(b"a.txt", b"hello", crc=1234)), code="archive_unreadable")


def test_a_compression_method_python_lacks_asks_for_a_standard_zip():
    """Some Windows tools write Deflate64 (method 9), which zipfile cannot inflate."""
    assert REASONS[UNSUPPORTED_METHOD] in refused(raw_zip(RawEntry(b"big.pdf", method=9)), code="archive_unreadable")


def test_an_unsupported_kind_is_a_finding():
    assert refused(b"%PDF-1.7", "pdf", code="archive_unreadable")


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    kind=st.sampled_from(["zip", "7z"]),
    cut=st.integers(min_value=0, max_value=1200),
    flips=st.lists(st.tuples(st.integers(min_value=0, max_value=1200), st.integers(1, 255)), max_size=4),
)
def test_mangled_zip_and_7z_never_raise(kind, cut, flips):
    files = {"张三/张三1.jpg": b"photo" * 40, "推荐表.docx": b"document" * 40}
    data = bytearray(make_zip(files) if kind == "zip" else make_7z(files))
    for position, mask in flips:
        if position < len(data):
            data[position] ^= mask
    result = open_archive(bytes(data[: cut or len(data)]), kind, "x", LIMITS)
    assert result.finding is None or result.members == []


# --- names without the UTF-8 flag, by evidence (parsers.charsets) ----------------------------------------


def test_names_from_russian_windows_read_as_cp866():
    """Explorer and 7-Zip on Russian Windows write unflagged names in the OEM code page, cp866."""
    data = raw_zip(RawEntry("Документы/Иванов Иван.jpg".encode("cp866")), RawEntry("Отчёт.docx".encode("cp866")))
    assert opened(data) == {"Документы/Иванов Иван.jpg": b"content", "Отчёт.docx": b"content"}


def test_names_from_western_windows_read_as_cp850():
    """Western European Windows writes unflagged names in cp850 (DOS Latin-1), not GB18030 ("M黮ler")."""
    data = raw_zip(RawEntry("Müller/Relatório de Formação.pdf".encode("cp850")))
    assert opened(data) == {"Müller/Relatório de Formação.pdf": b"content"}


def test_unflagged_utf8_latin_and_cyrillic_stay_utf8_and_short_gbk_names_stay_chinese():
    data = raw_zip(RawEntry("Café.jpg".encode()), RawEntry("Иванов.doc".encode()),
                   RawEntry("伟.jpg".encode("gbk")), RawEntry("叶一.jpg".encode("gbk")))
    assert "伟.jpg".encode("gbk").decode() == "ΰ.jpg" and "叶一.jpg".encode("gbk").decode() == "Ҷһ.jpg"
    assert opened(data) == {"Café.jpg": b"content", "Иванов.doc": b"content", "伟.jpg": b"content",
                            "叶一.jpg": b"content"}


def test_a_name_no_candidate_reads_keeps_u_fffd():
    assert opened(raw_zip(RawEntry(b"\xb0\xb1\xb2.jpg"))) == {"\ufffd.jpg": b"content"}
