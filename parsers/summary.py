"""The candidates a unit lists in its 推荐人选汇总表 (附件2), read by what columns mean, not where they are.

Real workbooks come from many hands: merged title rows, a "推荐单位（盖章）" line, labels with spaces,
line breaks or full-width brackets, columns in any order, notes under the table, several sheets.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Sequence
from typing import TYPE_CHECKING

from mailintake.parsers.charsets import HAN_CHARS
from mailintake.parsers.documents import TooComplex, cell_text, sheet_rows
from mailintake.parsers.facts import SummaryRow, SummaryTable

if TYPE_CHECKING:  # the types only: reading a workbook needs nothing of the OCR machinery
    from mailintake.parsers.ocr import OcrCell, OcrLine

# reason codes (the words are in `common.findings.REASONS`)
CORRUPT, NO_HEADER, NOT_EXCEL = "summary_corrupt", "summary_no_header", "not_excel"
TOO_COMPLEX = "summary_too_complex"

HEADER_SCAN_ROWS = 20
MAX_CANDIDATE_ROWS = 300
BLANK_ROWS_END_TABLE = 3

# meaning -> label words, most specific meaning first; a label matches when it contains a word
_LABELS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("seq", ("序号",)),
    ("name", ("姓名",)),
    ("gender", ("性别",)),
    ("birth", ("出生年月", "出生日期")),
    ("ethnicity", ("民族",)),
    ("politics", ("政治面貌",)),
    ("post", ("工作单位", "单位及职务", "职务", "职称")),
    ("category", ("人选类别", "类别")),
    ("deeds", ("主要事迹", "事迹")),
    ("phone", ("联系电话", "电话", "手机")),
)
_MAX_LABEL_CHARS = 30  # longer cells are titles or notes that merely mention labels
_NOTES = re.compile(r"(?:注|备注|说明)\s*[:：0-9一二三、.]|填表说明|联系人|填表人|审核人")
_UNIT = re.compile(r"推\s*荐\s*单\s*位\s*(?:[（(]\s*盖\s*章\s*[)）]\s*[:：]?|[:：])(.*)", re.S)
_SEAL_NOTE = re.compile(r"[（(]\s*盖\s*章\s*[)）]")
_UNIT_END = re.compile(r"\s{2,}|(?:填报|填表)?(?:日期|时间)\s*[:：]")
_BIRTH = re.compile(r"((?:19|20)\d{2})\s*(?:[.\-/年]\s*)?(\d{1,2})(?!\d)")
_NAME = re.compile(rf"[{HAN_CHARS}·]{{2,6}}")  # what a scanned name cell must look like to be taken


def read_summary(data: bytes, kind: str) -> SummaryTable | str:
    """The unit line and candidate rows of the first sheet with a recognisable header, or a reason why not."""
    if kind not in ("xlsx", "xls"):
        return NOT_EXCEL
    try:
        for rows in sheet_rows(data, kind):
            table = _table(rows)
            if table is not None:
                return table
    except TooComplex:
        return TOO_COMPLEX
    except Exception:  # openpyxl/xlrd raise anything on damaged files; the contract is a reason string
        return CORRUPT
    return NO_HEADER


def read_scanned_summary(lines: Sequence[OcrLine]) -> SummaryTable | None:
    """Best effort on a scanned table (OCR lines of cells with positions): the header row's cells say where
    each column is; every later row's cells go under the header cell they overlap most, and the rows are
    then read like a workbook's. Only the candidates' names are kept (what OCR reads of them is checked to
    look like a name); the caller says that a scan cannot be read exactly."""
    for index, line in enumerate(lines[:HEADER_SCAN_ROWS]):
        columns = _columns(tuple(cell.text for cell in line.cells))
        if "name" in columns and len(columns) >= 2:
            above = [tuple(cell.text for cell in other.cells) for other in lines[:index]]
            rows = [_aligned(other.cells, line.cells) for other in lines[index + 1:]]
            unit = _unit(above) or _unit([tuple(cell.text for cell in other.cells) for other in lines[index + 1:]])
            names = [row.name for row in _candidates(rows, 0, columns)]
            return SummaryTable(unit=unit, rows=[SummaryRow(name, {}) for name in names if _NAME.fullmatch(name)])
    return None


def _aligned(cells: Sequence[OcrCell], header: Sequence[OcrCell]) -> tuple:
    """A scanned row as a workbook row: each cell under the header cell it overlaps most (the nearest when
    it overlaps none); blank columns stay blank."""
    row = [""] * len(header)
    for cell in cells:
        overlaps = [min(cell.right, h.right) - max(cell.left, h.left) for h in header]
        best = max(range(len(header)), key=lambda i: overlaps[i])
        if overlaps[best] <= 0:
            middle = (cell.left + cell.right) / 2
            best = min(range(len(header)), key=lambda i: abs((header[i].left + header[i].right) / 2 - middle))
        row[best] += cell.text
    return tuple(row)


def _table(rows: list[tuple]) -> SummaryTable | None:
    for index, row in enumerate(rows[:HEADER_SCAN_ROWS]):
        columns = _columns(row)
        if "name" in columns and len(columns) >= 2:
            unit = _unit(rows[:index]) or _unit(rows[index + 1:])  # usually above, sometimes by the signature
            return SummaryTable(unit=unit, rows=_candidates(rows, index + 1, columns))
    return None


def _label(value: object) -> str:
    """Compare labels without spaces, line breaks or full-width forms: "姓  名", "出生\\n年月", "（职称）"."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", cell_text(value)))


def _columns(row: tuple) -> dict[str, int]:
    columns: dict[str, int] = {}
    for index, value in enumerate(row):
        label = _label(value)
        if not label or len(label) > _MAX_LABEL_CHARS:
            continue
        meaning = next((m for m, words in _LABELS if any(w in label for w in words)), None)
        if meaning is not None and meaning not in columns:
            columns[meaning] = index
    return columns


def _candidates(rows: list[tuple], start: int, columns: dict[str, int]) -> list[SummaryRow]:
    """Rows under the header until a notes row or a run of blank rows."""
    found: list[SummaryRow] = []
    blanks = 0
    for index in range(start, min(len(rows), start + MAX_CANDIDATE_ROWS)):
        first = next((label for label in map(_label, rows[index]) if label), "")
        if not first:
            blanks += 1
            if blanks >= BLANK_ROWS_END_TABLE:
                break
            continue
        blanks = 0
        if _NOTES.match(first):
            break
        row = _row(rows[index], columns)
        if row is not None:
            found.append(row)
    return found


def _row(cells: tuple, columns: dict[str, int]) -> SummaryRow | None:
    def cell(meaning: str) -> object:
        index = columns[meaning]
        return cells[index] if index < len(cells) else None

    name = re.sub(r"\s+", "", cell_text(cell("name")))
    if not name:
        return None  # template rows with only a 序号 filled in
    fields = {}
    for meaning in columns:
        if meaning != "name":
            text = birth_text(cell(meaning)) if meaning == "birth" else cell_text(cell(meaning))
            if text:
                fields[meaning] = text
    return SummaryRow(name=name, fields=fields)


def birth_text(value: object) -> str:
    """"YYYY-MM" from an Excel date, "1978.05", "1978年5月", or the number 1978.05; else the text as written.

    A number like 1980.1 is read as October: Excel drops the trailing zero people type in "1980.10".
    """
    if isinstance(value, dt.date):
        return f"{value.year:04d}-{value.month:02d}"
    if isinstance(value, float) and not value.is_integer():
        year = int(value)
        return _year_month(year, round((value - year) * 100)) or cell_text(value)
    text = cell_text(value)
    match = _BIRTH.match(unicodedata.normalize("NFKC", text))
    return (match and _year_month(int(match[1]), int(match[2]))) or text


def _year_month(year: int, month: int) -> str | None:
    return f"{year:04d}-{month:02d}" if 1900 <= year <= 2100 and 1 <= month <= 12 else None


def _unit(rows: list[tuple]) -> str | None:
    """The unit named on a "推荐单位（盖章）：XX区科协" line, the name in the same cell or the next one."""
    for row in rows:
        texts = [cell_text(v) for v in row]
        for index, text in enumerate(texts):
            match = _UNIT.search(text)
            if match is None:
                continue
            for candidate in [match[1], *texts[index + 1:]]:
                if unit := _clean_unit(candidate):
                    return unit
    return None


def _clean_unit(text: str) -> str:
    text = _SEAL_NOTE.sub("", text).strip()
    return _UNIT_END.split(text, maxsplit=1)[0].strip(" ：:\u3000")
