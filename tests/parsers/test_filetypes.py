"""File types come from the bytes: a renamed photo or a mislabelled spreadsheet is still recognised."""

from __future__ import annotations

import io
import struct
import zipfile
from pathlib import Path

import docx
import openpyxl
import py7zr
import pytest
import xlwt
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image
from reportlab.pdfgen import canvas

from mailintake.parsers.filetypes import detect_type, is_archive, is_image

RAR_FIXTURES = Path(__file__).parent.parent / "fixtures" / "rar"


def image_bytes(fmt: str) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (8, 6), (200, 30, 30)).save(buf, format=fmt)
    return buf.getvalue()


def pdf_bytes() -> bytes:
    buf = io.BytesIO()
    page = canvas.Canvas(buf)
    page.drawString(100, 750, "report")
    page.save()
    return buf.getvalue()


def docx_bytes() -> bytes:
    buf = io.BytesIO()
    document = docx.Document()
    document.add_paragraph("推荐表")
    document.save(buf)
    return buf.getvalue()


def xlsx_bytes() -> bytes:
    buf = io.BytesIO()
    workbook = openpyxl.Workbook()
    workbook.active["A1"] = "推荐人选汇总表"
    workbook.save(buf)
    return buf.getvalue()


def xls_bytes() -> bytes:
    buf = io.BytesIO()
    workbook = xlwt.Workbook()
    workbook.add_sheet("附件2").write(0, 0, "推荐人选汇总表")
    workbook.save(buf)
    return buf.getvalue()


def pptx_like_bytes() -> bytes:
    """The OOXML skeleton PowerPoint writes (python-pptx is not installed; only names are inspected)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("_rels/.rels", "<Relationships/>")
        zf.writestr("ppt/presentation.xml", "<presentation/>")
    return buf.getvalue()


def ole2_bytes(stream_name: str) -> bytes:
    """A minimal OLE2 compound file holding one 4 KiB stream (olefile reads but cannot write them).

    Layout, 512-byte sectors: 0 = FAT, 1 = directory, 2..9 = the stream (4096 bytes is the
    mini-stream cutoff, so it lives in regular sectors and no mini FAT is needed).
    """
    end, free, fat_sector, no_stream = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD, 0xFFFFFFFF
    header = struct.pack(
        "<8s16s5H6s9I",
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", bytes(16), 0x3E, 3, 0xFFFE, 9, 6, b"\0" * 6,
        0, 1, 1, 0, 4096, end, 0, end, 0,
    )  # fmt: skip
    header += struct.pack("<109I", 0, *[free] * 108)
    fat = [fat_sector, end, *range(3, 10), end] + [free] * (128 - 10)

    def entry(name: str, kind: int, child: int, start: int, size: int) -> bytes:
        encoded = (name + "\0").encode("utf-16-le")
        return struct.pack(
            "<64sHBBIII16sIQQIII", encoded, len(encoded), kind, 1, no_stream, no_stream, child,
            bytes(16), 0, 0, 0, start, size, 0,
        )  # fmt: skip

    directory = entry("Root Entry", 5, 1, end, 0) + entry(stream_name, 2, no_stream, 2, 4096)
    directory += bytes(128) * 2
    return header + struct.pack("<128I", *fat) + directory + bytes(range(256)) * 16


def sevenzip_bytes() -> bytes:
    buf = io.BytesIO()
    with py7zr.SevenZipFile(buf, "w") as archive:
        archive.writestr(b"data", "张三.txt")
    return buf.getvalue()


def zip_bytes() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("张三/张三1.jpg", image_bytes("JPEG"))
    return buf.getvalue()


def ftyp(major: bytes, *compatible: bytes) -> bytes:
    body = b"ftyp" + major + b"\0\0\0\0" + b"".join(compatible)
    return struct.pack(">I", len(body) + 4) + body + b"\0\0\0\x08mdat"


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda: image_bytes("JPEG"), "jpeg"),
        (lambda: image_bytes("PNG"), "png"),
        (lambda: image_bytes("GIF"), "gif"),
        (lambda: image_bytes("BMP"), "bmp"),
        (lambda: image_bytes("WEBP"), "webp"),
        (lambda: image_bytes("TIFF"), "tiff"),
        (pdf_bytes, "pdf"),
        (docx_bytes, "docx"),
        (xlsx_bytes, "xlsx"),
        (pptx_like_bytes, "pptx"),
        (xls_bytes, "xls"),
        (zip_bytes, "zip"),
        (sevenzip_bytes, "7z"),
        (lambda: (RAR_FIXTURES / "rar3-solid.rar").read_bytes(), "rar"),
        (lambda: (RAR_FIXTURES / "rar5-crc.rar").read_bytes(), "rar"),
    ],
)
def test_common_formats_are_recognised_from_their_bytes(make, expected):
    assert detect_type(make(), "附件") == expected


def test_a_jpeg_renamed_to_png_is_still_a_jpeg():
    assert detect_type(image_bytes("JPEG"), "张三1.png") == "jpeg"


def test_a_png_saved_as_jpg_is_a_png():
    assert detect_type(image_bytes("PNG"), "张三1.jpg") == "png"


def test_a_pdf_named_like_a_photo_is_a_pdf():
    assert detect_type(pdf_bytes(), "张三2.jpg") == "pdf"


def test_a_pdf_with_junk_before_its_header_is_still_a_pdf():
    assert detect_type(b"\r\n\r\n" + pdf_bytes(), "报告.pdf") == "pdf"


def test_an_xls_renamed_to_xlsx_is_an_xls():
    assert detect_type(xls_bytes(), "附件2汇总表.xlsx") == "xls"


def test_a_truncated_word_document_is_still_a_word_document():
    data = docx_bytes()
    assert detect_type(data[: len(data) // 2], "推荐表.docx") == "docx"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (ftyp(b"heic", b"mif1", b"heic"), "heic"),
        (ftyp(b"mif1", b"heic"), "heic"),
        (ftyp(b"heix", b"mif1"), "heic"),
        (ftyp(b"msf1", b"hevc"), "heic"),
        (ftyp(b"avif", b"mif1", b"miaf"), "unknown"),
        (ftyp(b"isom", b"iso2", b"mp41"), "unknown"),
    ],
)
def test_iphone_heic_photos_are_told_from_other_iso_media(data, expected):
    assert detect_type(data, "IMG_0001.jpg") == expected


@pytest.mark.parametrize(
    ("stream", "name", "expected"),
    [
        ("WordDocument", "推荐表.doc", "doc"),
        ("WordDocument", "推荐表.wps", "wps"),
        ("WordDocument", None, "doc"),
        ("Workbook", "汇总表.xls", "xls"),
        ("Workbook", "汇总表.et", "et"),
        ("Book", "汇总表.xls", "xls"),
        ("PowerPoint Document", "介绍.ppt", "ppt"),
        ("Contents", "推荐表.wps", "wps"),
        ("Contents", "推荐表.doc", "unknown"),
    ],
)
def test_legacy_office_files_are_told_apart_by_their_streams(stream, name, expected):
    """WPS Office's .wps/.et carry Word/Excel streams, so only the extension can break that tie."""
    assert detect_type(ole2_bytes(stream), name) == expected


def test_a_damaged_ole2_file_is_unknown():
    assert detect_type(ole2_bytes("WordDocument")[:700], "推荐表.doc") == "unknown"


@pytest.mark.parametrize(
    "data",
    [
        "推荐单位：沙坪坝区科协\r\n联系人：张三\r\n".encode(),
        "推荐单位：沙坪坝区科协\r\n联系人：张三\r\n".encode("gb18030"),
        "\ufeff姓名,性别\n张三,男\n".encode(),
        b"BM is not always a bitmap\n",
    ],
)
def test_plain_text_in_utf8_or_gbk_is_text(data):
    assert detect_type(data, "说明.txt") == "text"


@pytest.mark.parametrize("data", [b"", b"abc\x00def", b"\x01\x02\x03\x04\xff\xfe", bytes(range(256))])
def test_binary_or_empty_content_is_unknown(data):
    assert detect_type(data, "说明.txt") == "unknown"


def test_archive_and_image_kinds():
    assert [k for k in ("zip", "rar", "7z", "docx", "jpeg") if is_archive(k)] == ["zip", "rar", "7z"]
    images = ("jpeg", "png", "heic", "gif", "bmp", "webp", "tiff")
    assert all(is_image(k) for k in images)
    assert not any(is_image(k) for k in ("pdf", "docx", "zip", "unknown"))


@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=2048), name=st.one_of(st.none(), st.text(max_size=30)))
def test_detection_never_raises(data, name):
    assert isinstance(detect_type(data, name), str)


@settings(max_examples=60, deadline=None)
@given(cut=st.integers(min_value=0, max_value=4000), flip=st.integers(min_value=0, max_value=4000))
def test_damaged_office_files_never_raise(cut, flip):
    for data in (bytearray(ole2_bytes("WordDocument")), bytearray(docx_bytes()[:4000])):
        if flip < len(data):
            data[flip] ^= 0xFF
        assert isinstance(detect_type(bytes(data[:cut]), "x.doc"), str)


def test_a_damaged_office_file_is_still_its_office_type_not_an_archive():
    import io

    import openpyxl

    buf = io.BytesIO()
    openpyxl.Workbook().save(buf)
    half = buf.getvalue()[: len(buf.getvalue()) // 2]
    assert detect_type(half, "表.xlsx") == "xlsx"
    assert detect_type(half, None) == "xlsx"  # the local headers still name xl/ parts
