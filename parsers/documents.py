"""Text and pictures inside a submitted document, for role guessing, secrecy marks and seal checks.

Input comes from strangers, so every reader is bounded (pages, rows, image count and bytes) and every
failure becomes a `problem` code instead of an exception. PDF pages are also rendered, because a seal
may be vector-drawn or part of a scanned page rather than an embedded picture.
"""

from __future__ import annotations

import codecs
import datetime as dt
import io
import re
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import islice
from xml.etree import ElementTree

import openpyxl
import pypdfium2 as pdfium
import xlrd

from mailintake.parsers.charsets import read

# problem codes (callers render them in Chinese)
CORRUPT, ENCRYPTED, LEGACY, UNSUPPORTED = "corrupt", "encrypted", "legacy format", "unsupported"
TOO_COMPLEX = "too complex"  # over a counted limit below: not damaged, just more than is read

MAX_TEXT_PAGES = 50
MAX_SHEET_ROWS = 2000
MAX_SHEET_COLS = 60
MAX_TEXT_BYTES = 5 * 1024 * 1024
MAX_XML_BYTES = 64 * 1024 * 1024  # one unpacked docx part; real documents are far below
MAX_TOTAL_XML_BYTES = 96 * 1024 * 1024  # all the XML parts of one OOXML file that are read
MAX_XML_PARTS = 60  # header parts read from a .docx (three per section is the most Word writes)
MAX_PDF_OBJECTS = 100_000  # page objects over all pages read: pdfium's text layer costs grow with them
MAX_DOCUMENT_CHARS = 500_000  # text kept per document; forms and reports are a few thousand
MAX_IMAGES = 40  # embedded pictures; rendered PDF pages are bounded by `render_pages` instead
MAX_IMAGE_BYTES = 40 * 1024 * 1024
MAX_IMAGE_PIXELS = 40_000_000  # an embedded PDF picture larger than this is skipped, not decoded
RENDER_DPI = 100
MAX_RENDER_SIDE = 2000  # pixels; keeps absurd page sizes from allocating gigabytes

LEGACY_KINDS = frozenset({"doc", "wps", "et"})
_RASTER_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".bmp", ".tif", ".tiff", ".webp")
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_SKIPPED_XML = frozenset({
    "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback",  # duplicates mc:Choice
    _W + "pPr", _W + "rPr",  # tab stops and styles, not text
})


@dataclass(frozen=True)
class DocumentContent:
    text: str | None  # None: no text layer (scan, picture-only document, legacy format, unreadable)
    images: list[bytes] = field(default_factory=list)  # embedded pictures, then rendered PDF pages (PPM)
    problem: str | None = None  # CORRUPT | ENCRYPTED | LEGACY | UNSUPPORTED | None


def read_document(data: bytes, kind: str, render_pages: int = 3) -> DocumentContent:
    """Text and pictures of a document of detected `kind`; never raises."""
    if kind in LEGACY_KINDS:  # `parsers.legacy` converts them to docx/xlsx first when LibreOffice is there
        return DocumentContent(None, [], LEGACY)
    if kind != "pdf" and kind not in _READERS:
        return DocumentContent(None, [], UNSUPPORTED)
    try:
        content = _read_pdf(data, render_pages) if kind == "pdf" else _READERS[kind](data)
    except TooComplex as e:
        return DocumentContent(None, [], TOO_COMPLEX) if e.partial is None else e.partial
    except pdfium.PdfiumError as e:
        return DocumentContent(None, [], ENCRYPTED if e.err_code == pdfium.raw.FPDF_ERR_PASSWORD else CORRUPT)
    except Exception:  # third-party parsers raise anything on hostile bytes; the contract is "no exceptions"
        return DocumentContent(None, [], CORRUPT)
    if content.text and len(content.text) > MAX_DOCUMENT_CHARS:
        content = DocumentContent(content.text[:MAX_DOCUMENT_CHARS], content.images, content.problem)
    return content


class TooComplex(ValueError):
    """A counted limit was reached; `partial` is what was read before it, when that is worth keeping."""

    def __init__(self, what: str, partial: DocumentContent | None = None):
        super().__init__(what)
        self.partial = partial


def sheet_rows(data: bytes, kind: str) -> Iterator[list[tuple]]:
    """Cell values of each sheet (xlsx or xls), bounded; dates as datetime.

    Shared with `summary`; it raises on unreadable bytes, and both callers turn that into their own
    problem value.
    """
    if kind == "xlsx":
        yield from _xlsx_sheets(data)
    elif kind == "xls":
        yield from _xls_sheets(data)
    else:
        raise ValueError(f"not a spreadsheet: {kind}")


def _text_or_none(text: str) -> str | None:
    return text if text.strip() else None


# --- docx ---------------------------------------------------------------------------------------

def _read_docx(data: bytes) -> DocumentContent:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        names = z.namelist()
        headers = sorted(n for n in names if re.fullmatch(r"word/header\d*\.xml", n))
        if len(headers) > MAX_XML_PARTS:
            raise TooComplex(f"{len(headers)} header parts")
        parts = [*headers, "word/document.xml"]
        if sum(z.getinfo(n).file_size for n in parts) > MAX_TOTAL_XML_BYTES:
            raise TooComplex("XML parts too large in total")
        lines: list[str] = []
        for name in parts:
            root = ElementTree.fromstring(_read_member(z, name))
            lines.extend(line for line in _blocks(root) if line.strip())
        return DocumentContent(_text_or_none("\n".join(lines)), _zip_images(z, "word/media/"))


def _read_member(z: zipfile.ZipFile, name: str) -> bytes:
    if z.getinfo(name).file_size > MAX_XML_BYTES:
        raise TooComplex(f"{name} too large")
    return z.read(name)


def _blocks(element: ElementTree.Element) -> Iterator[str]:
    """Lines of a WordprocessingML container: a paragraph per line, a table row per line."""
    for child in element:
        if child.tag == _W + "p":
            yield from _paragraph(child)
        elif child.tag == _W + "tbl":
            yield from (_table_row(tr) for tr in child.findall(_W + "tr"))
        elif child.tag not in _SKIPPED_XML:
            yield from _blocks(child)


def _table_row(tr: ElementTree.Element) -> str:
    cells = (" ".join(line for line in _blocks(tc) if line.strip()) for tc in tr.findall(_W + "tc"))
    return " | ".join(cells)


def _paragraph(p: ElementTree.Element) -> Iterator[str]:
    parts: list[str] = []
    boxes: list[str] = []
    _collect_runs(p, parts, boxes)
    yield "".join(parts)
    yield from boxes


def _collect_runs(element: ElementTree.Element, parts: list[str], boxes: list[str]) -> None:
    """Run text in reading order; text boxes anchored here become lines of their own."""
    for child in element:
        if child.tag == _W + "t":
            parts.append(child.text or "")
        elif child.tag == _W + "tab":
            parts.append("\t")
        elif child.tag in (_W + "br", _W + "cr"):
            parts.append("\n")
        elif child.tag == _W + "txbxContent":
            boxes.extend(_blocks(child))
        elif child.tag not in _SKIPPED_XML:
            _collect_runs(child, parts, boxes)


def _zip_images(z: zipfile.ZipFile, prefix: str) -> list[bytes]:
    """Raster pictures stored under `prefix`, within the count and byte caps; unreadable ones skipped."""
    images: list[bytes] = []
    total = 0
    for info in z.infolist():
        name = info.filename.lower()
        if not name.startswith(prefix) or not name.endswith(_RASTER_SUFFIXES):
            continue
        if len(images) >= MAX_IMAGES or total + info.file_size > MAX_IMAGE_BYTES:
            continue
        try:
            images.append(z.read(info))  # zipfile stops at the declared size, so the cap holds
        except (zipfile.BadZipFile, zlib.error, NotImplementedError):
            continue
        total += info.file_size
    return images


# --- spreadsheets -------------------------------------------------------------------------------

def _read_xlsx(data: bytes) -> DocumentContent:
    text = _sheets_text(sheet_rows(data, "xlsx"))
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return DocumentContent(text, _zip_images(z, "xl/media/"))


def _read_xls(data: bytes) -> DocumentContent:
    return DocumentContent(_sheets_text(sheet_rows(data, "xls")), [])


def _sheets_text(sheets: Iterator[list[tuple]]) -> str | None:
    lines = []
    for rows in sheets:
        for row in rows:
            cells = [cell_text(v) for v in row]
            if any(cells):
                lines.append("\t".join(c for c in cells if c))
    return _text_or_none("\n".join(lines))


def cell_text(value: object) -> str:
    """A cell as a person reads it: whole numbers without ".0", dates as ISO, blanks as ""."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    return str(value).strip()


def _xlsx_sheets(data: bytes) -> Iterator[list[tuple]]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:  # openpyxl loads shared strings whole: refuse bombs first
        xml = [i.file_size for i in z.infolist() if i.filename.endswith(".xml")]
        if any(size > MAX_XML_BYTES for size in xml) or sum(xml) > MAX_TOTAL_XML_BYTES:
            raise TooComplex("oversized workbook parts")
    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        for sheet in book.worksheets:
            sheet.reset_dimensions()  # the stored dimension may be wrong; read what is really there
            rows = islice(sheet.iter_rows(values_only=True), MAX_SHEET_ROWS)
            yield [tuple(row[:MAX_SHEET_COLS]) for row in rows]
    finally:
        book.close()


def _xls_sheets(data: bytes) -> Iterator[list[tuple]]:
    book = xlrd.open_workbook(file_contents=data, on_demand=True, logfile=io.StringIO())
    try:
        for index in range(book.nsheets):
            sheet = book.sheet_by_index(index)
            yield [
                tuple(_xls_value(cell, book.datemode) for cell in sheet.row(r)[:MAX_SHEET_COLS])
                for r in range(min(sheet.nrows, MAX_SHEET_ROWS))
            ]
            book.unload_sheet(index)
    finally:
        book.release_resources()


def _xls_value(cell: xlrd.sheet.Cell, datemode: int) -> object:
    if cell.ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK, xlrd.XL_CELL_ERROR):
        return None
    if cell.ctype == xlrd.XL_CELL_DATE:
        try:
            return xlrd.xldate_as_datetime(cell.value, datemode)
        except (xlrd.xldate.XLDateError, OverflowError, ValueError):
            return cell.value
    if cell.ctype == xlrd.XL_CELL_BOOLEAN:
        return bool(cell.value)
    return cell.value


# --- pdf ----------------------------------------------------------------------------------------

def _read_pdf(data: bytes, render_pages: int) -> DocumentContent:
    pdf = pdfium.PdfDocument(data)
    try:
        texts: list[str] = []
        embedded: list[bytes] = []
        rendered: list[bytes] = []
        objects = 0
        for index in range(min(len(pdf), MAX_TEXT_PAGES)):
            page = pdf[index]
            objects += pdfium.raw.FPDFPage_CountObjects(page.raw)
            if objects > MAX_PDF_OBJECTS:  # counted before the costly text layer is built
                page.close()
                raise TooComplex("too many page objects",
                                 DocumentContent(_text_or_none("\n".join(texts)), embedded + rendered, TOO_COMPLEX))
            texts.append(_page_text(page))
            _page_images(page, embedded)
            if index < render_pages:
                rendered.append(_render(page))
            page.close()
        return DocumentContent(_text_or_none("\n".join(texts)), embedded + rendered)
    finally:
        pdf.close()


def _page_text(page: pdfium.PdfPage) -> str:
    textpage = page.get_textpage()
    try:
        return textpage.get_text_range().replace("\r\n", "\n").replace("\r", "\n")
    finally:
        textpage.close()


def _page_images(page: pdfium.PdfPage, images: list[bytes]) -> None:
    """Append the page's pictures while the caps allow; unreadable ones are skipped."""
    for obj in page.get_objects(filter=(pdfium.raw.FPDF_PAGEOBJ_IMAGE,), max_depth=3):
        if len(images) >= MAX_IMAGES or sum(map(len, images)) >= MAX_IMAGE_BYTES:
            return
        try:
            width, height = obj.get_px_size()
            blob = _pdf_image(obj) if width * height <= MAX_IMAGE_PIXELS else b""
        except (pdfium.PdfiumError, OSError, ValueError):
            continue
        if blob and sum(map(len, images)) + len(blob) <= MAX_IMAGE_BYTES:
            images.append(blob)


def _pdf_image(obj: pdfium.PdfImage) -> bytes:
    """Scans (JPEG) as stored; anything else drawn with its soft mask, so a pasted seal keeps its
    transparent background instead of turning black."""
    buffer = io.BytesIO()
    if obj.get_filters()[-1:] == ["DCTDecode"]:
        obj.extract(buffer)
    else:
        # level 1: 4 ms for a 400 px seal, level 6 took 14
        obj.get_bitmap(render=True).to_pil().save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def _render(page: pdfium.PdfPage) -> bytes:
    width, height = page.get_size()
    scale = min(RENDER_DPI / 72, MAX_RENDER_SIDE / max(width, height, 1))
    image = page.render(scale=scale).to_pil()
    buffer = io.BytesIO()
    # read once, by the seal check: as uncompressed pixels (PPM) a scanned page costs 0.5 ms to write and
    # 1 ms to read, as PNG 59 ms and 19 even at compression level 1, for 3 MB held until the seal is looked for
    if image.mode in ("RGB", "L"):
        image.save(buffer, format="PPM")
    else:
        image.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


# --- plain text ---------------------------------------------------------------------------------

def _read_text(data: bytes) -> DocumentContent:
    return DocumentContent(_text_or_none(decode_text(data[:MAX_TEXT_BYTES])), [])


def decode_text(data: bytes) -> str:
    """Text files from Chinese Windows are often GBK: BOMs win, then the evidence of `charsets.read`
    (UTF-8, plausible GB18030, Big5/Shift_JIS/windows-1252 judged). The bytes may be cut by the size cap
    inside a character, which is no error; nothing plausible keeps U+FFFD."""
    for bom, encoding in ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"),
                          (codecs.BOM_UTF16_BE, "utf-16-be")):
        if data.startswith(bom):
            return data[len(bom):].decode(encoding, errors="replace")
    return read(data, partial=True).text


_READERS = {"docx": _read_docx, "xlsx": _read_xlsx, "xls": _read_xls, "text": _read_text}
