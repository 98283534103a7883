"""Byte-stable sample documents shaped like real submissions, for the demo and the tests.

They mirror the campaign's attachments: 附件1 推荐表 (docx), 附件2 推荐人选汇总表 (xlsx, xls) and the
推荐工作情况报告 (PDF with or without a text layer, docx with a pasted electronic seal). Dates and
package metadata are fixed so the same arguments always give the same bytes.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from collections.abc import Sequence

import openpyxl
import pypdfium2 as pdfium
from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Cm, Pt
from openpyxl.styles import Alignment, Font
from reportlab.lib.pagesizes import A4
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

FIXED_TIME = dt.datetime(2021, 5, 20, 9, 0, 0)
SIGNED_ON = "2021年5月20日"
FORM_TITLE = "2021年重庆市“最美科技工作者”推荐表"
SUMMARY_TITLE = "2021年重庆市“最美科技工作者”推荐人选汇总表"
REPORT_TITLE = "推荐工作情况报告"
SUMMARY_HEADER = ("序号", "姓名", "性别", "出生年月", "民族", "政治面貌", "工作单位及职务（职称）",
                  "人选类别", "主要事迹（100字以内）", "联系电话")
SUMMARY_KEYS = ("seq", "name", "gender", "birth", "ethnicity", "politics", "post", "category", "deeds", "phone")
SUMMARY_NOTE = "注：1.人选类别填写“区县”“学会”或“企事业单位”；2.主要事迹限100字以内；3.请按推荐顺序填写。"
FORM_DEFAULTS = {
    "gender": "男", "birth": "1980.01", "ethnicity": "汉族", "politics": "中共党员",
    "post": "重庆某研究院高级工程师", "category": "区县",
    "deeds": "长期扎根科研一线，主持完成多项重点科研项目，成果在生产中推广应用，带动青年科技人员成长。",
}
_FONT = "STSong-Light"
_CORE_DATES = re.compile(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(</dcterms:)")


def summary_xlsx(unit: str, rows: list[dict]) -> bytes:
    """附件2 as an .xlsx: merged title, 推荐单位 line, header, candidates, a 注 row."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "汇总表"
    width = len(SUMMARY_HEADER)
    for line in _summary_lines(unit, rows):
        sheet.append(line)
    for cell in sheet[3]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, horizontal="center")
    for row in sheet.iter_rows(min_row=4):
        for cell in row:
            if isinstance(cell.value, dt.date):
                cell.number_format = "yyyy.mm"
    last = sheet.max_row
    for first_col, last_col, row in ((1, width, 1), (1, 7, 2), (8, width, 2), (1, width, last)):
        sheet.merge_cells(start_row=row, start_column=first_col, end_row=row, end_column=last_col)
    sheet["A1"].font = Font(bold=True, size=16)
    sheet["A1"].alignment = Alignment(horizontal="center")
    book.properties.creator = "mailintake"
    book.properties.created = FIXED_TIME
    buffer = io.BytesIO()
    book.save(buffer)
    return _fixed_package(buffer.getvalue())


def summary_xls(unit: str, rows: list[dict]) -> bytes:
    """附件2 as a legacy .xls, as WPS users still send it."""
    import xlwt  # only the .xls sample needs it; it is a test/demo extra, not a service dependency

    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("汇总表")
    date_style = xlwt.easyxf(num_format_str="yyyy.mm")
    lines = _summary_lines(unit, rows)
    width = len(SUMMARY_HEADER)
    sheet.write_merge(0, 0, 0, width - 1, lines[0][0], xlwt.easyxf("font: bold on, height 320; align: horiz center"))
    sheet.write_merge(1, 1, 0, 6, lines[1][0])
    sheet.write_merge(1, 1, 7, width - 1, lines[1][7])
    for r, line in enumerate(lines[2:-1], start=2):
        for c, value in enumerate(line):
            if isinstance(value, dt.date):
                sheet.write(r, c, value, date_style)
            elif value is not None:
                sheet.write(r, c, value)
    sheet.write_merge(len(lines) - 1, len(lines) - 1, 0, width - 1, lines[-1][0])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _summary_lines(unit: str, rows: list[dict]) -> list[list[object]]:
    width = len(SUMMARY_HEADER)
    unit_line = [f"推荐单位（盖章）：{unit}", *[None] * 6, f"填报日期：{SIGNED_ON}", *[None] * (width - 8)]
    candidates = [
        [row.get("seq", number) if key == "seq" else row.get(key) for key in SUMMARY_KEYS]
        for number, row in enumerate(rows, start=1)
    ]
    return [[SUMMARY_TITLE], unit_line, list(SUMMARY_HEADER), *candidates, [SUMMARY_NOTE]]


def form_docx(name: str, unit: str, fields: dict | None = None, marking: str | None = None) -> bytes:
    """附件1 推荐表 for one candidate; `marking` (e.g. "机密★1年") goes on the first line, as in real files."""
    values = {**FORM_DEFAULTS, **(fields or {})}
    doc = Document()
    if marking:
        doc.add_paragraph().add_run(marking).bold = True
    _heading(doc, FORM_TITLE)
    table = doc.add_table(rows=7, cols=4)
    table.style = "Table Grid"
    pairs = [("姓名", name, "性别", values["gender"]), ("出生年月", values["birth"], "民族", values["ethnicity"]),
             ("政治面貌", values["politics"], "人选类别", values["category"])]
    for row, cells in zip(table.rows[:3], pairs, strict=True):
        for cell, text in zip(row.cells, cells, strict=True):
            cell.text = text
    wide = [("工作单位及职务", values["post"]), ("推荐单位", unit), ("主要事迹", values["deeds"]),
            ("推荐单位意见", f"同意推荐。\n{unit}（盖章）\n{SIGNED_ON}")]
    for row, (label, text) in zip(table.rows[3:], wide, strict=True):
        row.cells[0].text = label
        row.cells[1].merge(row.cells[3]).text = text
    return _docx_bytes(doc, unit)


def report_docx(unit: str, seal_png: bytes | None) -> bytes:
    """推荐工作情况报告 typed in Word, with the electronic seal pasted as a picture when given."""
    doc = Document()
    _heading(doc, REPORT_TITLE)
    for paragraph in _report_paragraphs(unit):
        doc.add_paragraph(paragraph)
    for line in (unit, SIGNED_ON):
        doc.add_paragraph(line).alignment = WD_ALIGN_PARAGRAPH.RIGHT
    if seal_png is not None:
        picture = doc.add_paragraph()
        picture.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        picture.add_run().add_picture(io.BytesIO(seal_png), width=Cm(4))
    return _docx_bytes(doc, unit)


def report_pdf(unit: str, seal_png: bytes | None, text: bool = True, page_png: bytes | None = None) -> bytes:
    """推荐工作情况报告 as a PDF: typed (text layer, seal image over the signature) or scanned.

    Scanned (`text=False`): one full-page picture and no text layer; the picture is `page_png`, or by
    default the typed version rendered to an image, seal included.
    """
    if text:
        return _typed_report(unit, seal_png)
    return _scanned_pdf([page_png if page_png is not None else _render_first_page(_typed_report(unit, seal_png))])


def _typed_report(unit: str, seal_png: bytes | None) -> bytes:
    pdfmetrics.registerFont(UnicodeCIDFont(_FONT))
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, invariant=1)
    pdf.setTitle(REPORT_TITLE)
    pdf.setAuthor(unit)
    width, height = A4
    pdf.setFont(_FONT, 18)
    pdf.drawCentredString(width / 2, height - 90, REPORT_TITLE)
    pdf.setFont(_FONT, 12)
    y = height - 140
    for line in _wrapped(_report_paragraphs(unit), 34):
        pdf.drawString(72, y, line)
        y -= 22
    for line in (unit, SIGNED_ON):
        y -= 22
        pdf.drawRightString(width - 90, y, line)
    if seal_png is not None:
        pdf.drawImage(ImageReader(io.BytesIO(seal_png)), width - 230, y - 20, 120, 120, mask="auto")
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def _scanned_pdf(pages: Sequence[bytes]) -> bytes:
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, invariant=1)
    for page in pages:
        pdf.drawImage(ImageReader(io.BytesIO(page)), 0, 0, *A4)
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def _render_first_page(pdf_bytes: bytes) -> bytes:
    pdf = pdfium.PdfDocument(pdf_bytes)
    try:
        image = pdf[0].render(scale=100 / 72).to_pil()
    finally:
        pdf.close()
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _report_paragraphs(unit: str) -> list[str]:
    return [
        "市科协：",
        f"根据《关于开展2021年重庆市“最美科技工作者”学习宣传活动的通知》要求，{unit}高度重视，"
        "及时转发通知，广泛发动基层单位推荐，经个人申报、单位审核、集体研究和公示，确定推荐人选。",
        "推荐人选均长期工作在科技一线，事迹突出，群众认可，无违法违纪情况，公示期间未收到异议。",
        "特此报告。",
    ]


def _wrapped(paragraphs: list[str], chars: int) -> list[str]:
    """CJK text wraps anywhere, so fixed-width slices are enough for a sample page."""
    return [p[i:i + chars] for p in paragraphs for i in range(0, len(p), chars)]


def _heading(doc: DocxDocument, title: str) -> None:
    paragraph = doc.add_paragraph()
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = paragraph.add_run(title)
    run.bold = True
    run.font.size = Pt(16)


def _docx_bytes(doc: DocxDocument, author: str) -> bytes:
    props = doc.core_properties
    props.author = props.last_modified_by = author
    props.created = props.modified = FIXED_TIME
    props.revision = 1
    buffer = io.BytesIO()
    doc.save(buffer)
    return _fixed_package(buffer.getvalue())


def _fixed_package(data: bytes) -> bytes:
    """Rewrite an OOXML package with fixed member times and core dates (libraries stamp "now")."""
    stamp = FIXED_TIME.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info)
            if info.filename == "docProps/core.xml":
                content = _CORE_DATES.sub(rb"\g<1>" + stamp + rb"\g<2>", content)
            target.writestr(zipfile.ZipInfo(info.filename, FIXED_TIME.timetuple()[:6]), content,
                            compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()
