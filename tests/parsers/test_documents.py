"""What the service can read out of each kind of document a unit sends, and what it says when it can't."""

from __future__ import annotations

import io
import zipfile

import pytest
from docx import Document
from PIL import Image, ImageDraw
from reportlab.lib.pagesizes import A4
from reportlab.lib.pdfencrypt import StandardEncryption
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

from mailintake.ingest.samples import documents as samples
from mailintake.parsers.documents import (
    CORRUPT,
    ENCRYPTED,
    LEGACY,
    MAX_IMAGES,
    MAX_TEXT_PAGES,
    TOO_COMPLEX,
    UNSUPPORTED,
    DocumentContent,
    read_document,
)
from mailintake.parsers.secrecy import find_secrecy_marking

UNIT = "沙坪坝区科协"
ROWS = [{"name": "张三", "gender": "男", "birth": "1978.05", "post": "重庆大学教授"},
        {"name": "李四", "gender": "女", "birth": "1985.03", "post": "重庆某医院主任医师"}]


def red_seal_png(size: int = 200) -> bytes:
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.ellipse((10, 10, size - 10, size - 10), outline=(220, 0, 0, 255), width=10)
    draw.regular_polygon((size // 2, size // 2, size // 5), 5, fill=(220, 0, 0, 255))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def picture_size(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as image:
        return image.size


def chinese_pdf(pages: list[str], **options) -> bytes:
    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, invariant=1, **options)
    for text in pages:
        pdf.setFont("STSong-Light", 14)
        pdf.drawString(72, 750, text)
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


# --- docx ---------------------------------------------------------------------------------------

def test_form_docx_gives_its_chinese_text_with_table_rows_on_one_line():
    content = read_document(samples.form_docx("张三", UNIT), "docx")

    assert content.problem is None
    assert "2021年重庆市“最美科技工作者”推荐表" in content.text
    assert "姓名 | 张三 | 性别 | 男" in content.text
    assert f"推荐单位 | {UNIT}" in content.text


def test_secrecy_marking_at_the_top_of_a_form_survives_extraction():
    content = read_document(samples.form_docx("张三", UNIT, marking="机密★1年"), "docx")

    assert content.text.splitlines()[0] == "机密★1年"
    assert find_secrecy_marking(content.text) == "机密★1年"


def test_docx_page_header_text_is_read_before_the_body():
    doc = Document()
    doc.sections[0].header.paragraphs[0].text = "秘密★6个月"
    doc.add_paragraph("推荐工作情况报告")
    buffer = io.BytesIO()
    doc.save(buffer)

    text = read_document(buffer.getvalue(), "docx").text

    assert text.index("秘密★6个月") < text.index("推荐工作情况报告")


def test_electronic_seal_pasted_into_a_docx_is_returned_as_is():
    seal = red_seal_png()

    content = read_document(samples.report_docx(UNIT, seal), "docx")

    assert content.images == [seal]
    assert UNIT in content.text


def test_docx_without_pictures_has_no_images():
    assert read_document(samples.report_docx(UNIT, None), "docx").images == []


def test_picture_only_docx_counts_as_having_no_text():
    doc = Document()
    doc.add_picture(io.BytesIO(red_seal_png()))
    buffer = io.BytesIO()
    doc.save(buffer)

    content = read_document(buffer.getvalue(), "docx")

    assert content.text is None
    assert len(content.images) == 1


# --- spreadsheets -------------------------------------------------------------------------------

@pytest.mark.parametrize("kind, make", [("xlsx", samples.summary_xlsx), ("xls", samples.summary_xls)])
def test_summary_workbook_text_has_title_unit_line_and_names(kind, make):
    content = read_document(make(UNIT, ROWS), kind)

    assert content.problem is None
    assert "推荐人选汇总表" in content.text
    assert f"推荐单位（盖章）：{UNIT}" in content.text
    assert "张三" in content.text and "李四" in content.text
    assert "\t1\t" not in content.text and "1.0" not in content.text  # 序号 reads as written


# --- pdf ----------------------------------------------------------------------------------------

def test_typed_pdf_report_gives_chinese_text_from_the_builtin_cid_font():
    content = read_document(samples.report_pdf(UNIT, red_seal_png()), "pdf")

    assert content.problem is None
    assert "推荐工作情况报告" in content.text
    assert UNIT in content.text


def test_typed_pdf_returns_the_seal_picture_and_a_rendered_page():
    content = read_document(samples.report_pdf(UNIT, red_seal_png()), "pdf")

    seal, page = content.images
    assert picture_size(seal)[0] in (200, 201)  # pdfium may add a pixel when drawing the soft mask
    with Image.open(io.BytesIO(seal)) as image:
        assert image.convert("RGBA").getpixel((0, 0))[3] == 0  # transparent corner stays transparent
    assert picture_size(page) == (827, 1170)  # A4 at 100 dpi


def test_scanned_pdf_has_no_text_but_gives_its_page_picture_and_a_rendering():
    content = read_document(samples.report_pdf(UNIT, red_seal_png(), text=False), "pdf")

    assert content.text is None
    assert content.problem is None
    assert len(content.images) == 2
    assert picture_size(content.images[-1]) == (827, 1170)


def test_scanned_pdf_built_from_a_given_page_image_keeps_that_jpeg():
    page = io.BytesIO()
    Image.new("RGB", (827, 1170), "white").save(page, format="JPEG")

    content = read_document(samples.report_pdf(UNIT, None, text=False, page_png=page.getvalue()), "pdf")

    assert content.images[0] == page.getvalue()


def test_only_the_first_pages_are_rendered():
    data = chinese_pdf([f"第{n}页" for n in range(1, 6)])

    assert len(read_document(data, "pdf", render_pages=2).images) == 2
    assert read_document(data, "pdf", render_pages=0).images == []


def test_text_is_read_from_a_bounded_number_of_pages():
    data = chinese_pdf([f"第{n}页" for n in range(1, MAX_TEXT_PAGES + 6)])

    text = read_document(data, "pdf", render_pages=0).text

    assert f"第{MAX_TEXT_PAGES}页" in text
    assert f"第{MAX_TEXT_PAGES + 1}页" not in text


def test_embedded_pictures_are_capped_in_number():
    doc = Document()
    for size in range(20, 20 + MAX_IMAGES + 5):
        buffer = io.BytesIO()
        Image.new("RGB", (size, size), "red").save(buffer, format="PNG")
        doc.add_picture(buffer)
    buffer = io.BytesIO()
    doc.save(buffer)

    assert len(read_document(buffer.getvalue(), "docx").images) == MAX_IMAGES


def test_password_protected_pdf_is_reported_as_encrypted():
    data = chinese_pdf(["机密★1年"], encrypt=StandardEncryption("secret", canPrint=0))

    assert read_document(data, "pdf") == DocumentContent(None, [], ENCRYPTED)


# --- plain text and other kinds -----------------------------------------------------------------

@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "utf-16"])
def test_text_files_decode_in_the_encodings_chinese_windows_uses(encoding):
    assert read_document("推荐单位：沙坪坝区科协".encode(encoding), "text").text == "推荐单位：沙坪坝区科协"


@pytest.mark.parametrize("kind", ["doc", "wps", "et"])
def test_legacy_office_formats_have_no_text_and_say_why(kind):
    assert read_document(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504), kind) == DocumentContent(None, [], LEGACY)


def test_unknown_kind_is_unsupported():
    assert read_document(b"GIF89a", "gif").problem == UNSUPPORTED


# --- damaged input ------------------------------------------------------------------------------

def _truncated(data: bytes) -> bytes:
    return data[: len(data) // 2]


@pytest.mark.parametrize("kind, data", [
    ("docx", b"PK\x03\x04 not really a zip"),
    ("docx", _truncated(samples.form_docx("张三", UNIT))),
    ("xlsx", _truncated(samples.summary_xlsx(UNIT, ROWS))),
    ("xls", _truncated(samples.summary_xls(UNIT, ROWS))),
    ("xls", b"\xd0\xcf\x11\xe0garbage"),
    ("pdf", b"%PDF-1.4\nthis is not a pdf"),
    ("pdf", b""),
])
def test_damaged_documents_give_a_problem_not_an_exception(kind, data):
    assert read_document(data, kind) == DocumentContent(None, [], CORRUPT)


def test_docx_without_a_document_part_is_corrupt():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")

    assert read_document(buffer.getvalue(), "docx").problem == CORRUPT


# --- secrecy markings ---------------------------------------------------------------------------

@pytest.mark.parametrize("text, marking", [
    ("机密★1年", "机密★1年"),
    ("秘密★6个月", "秘密★6个月"),
    ("绝密★长期", "绝密★长期"),
    ("机密★", "机密★"),
    ("绝密★启用前", "绝密★启用前"),
    ("秘密☆", "秘密☆"),
    ("秘密*1年", "秘密*1年"),
    ("机 密 ★ 1 年", "机 密 ★ 1 年"),
    ("密级：机密", "密级：机密"),
    ("密级:秘密", "密级:秘密"),
    ("密级：机密★1年", "密级：机密★1年"),
    ("密级 | 秘密", "密级 | 秘密"),
    ("文件密级：机密", "密级：机密"),
    ("2021年重庆市推荐表\n  秘密★1年\n姓名 | 张三", "秘密★1年"),
    ("文号：渝科协〔2021〕1号 机密★1年", "机密★1年"),
])
def test_real_classification_marks_are_found_as_written(text, marking):
    assert find_secrecy_marking(text) == marking


@pytest.mark.parametrize("text", [
    "这不是什么秘密",
    "商业秘密保护",
    "保守国家秘密是公民的义务",
    "机密文件管理制度的学习",
    "揭开生命的秘密",
    "国家秘密★的标注方法",
    "请勿在材料上标注“机密★”字样",
    "密级：无",
    "密级：非密",
    "密级：机密文件应当专人管理",
    "依法确定密级：秘密级事项的保密期限",
    "主要事迹：攻克了芯片散热的秘密，获得“秘密武器”称号",
    "",
])
def test_ordinary_prose_about_secrets_is_not_a_mark(text):
    assert find_secrecy_marking(text) is None


def test_a_workbook_with_a_bomb_sized_part_is_refused_before_parsing_as_too_complex_not_damaged():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/sharedStrings.xml", b"<sst>" + b" " * (64 * 1024 * 1024 + 1) + b"</sst>")

    assert read_document(buffer.getvalue(), "xlsx").problem == TOO_COMPLEX


def test_a_docx_with_dozens_of_bomb_sized_header_parts_is_too_complex_before_any_is_parsed():
    """The shape that reached 4.7 GB: a 3 MB .docx whose two dozen header parts each unpack to ~60 MB."""
    buffer = io.BytesIO()
    header = b"<w:hdr xmlns:w='http://schemas.openxmlformats.org/wordprocessingml/2006/main'>" + b" " * (
        60 * 1024 * 1024) + b"</w:hdr>"
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document xmlns:w='http://schemas.openxmlformats.org/wordprocessingml/2006/main'/>")
        for n in range(24):
            z.writestr(f"word/header{n + 1}.xml", header)
    data = buffer.getvalue()
    assert len(data) < 3 * 1024 * 1024  # declared: 24 x 60 MB = 1.4 GB of XML
    assert read_document(data, "docx").problem == TOO_COMPLEX
