"""Reading the decisions workbook an organiser sends back: rows into typed decisions, bad rows into
sentences. Pure: bytes in, facts out; which decisions are newer than the recorded ones is ingest's question.

A blank decision cell is "no change", never "clear". Every filled row needs the day it was decided, so an
old copy sent back never overrides a newer decision. None when the bytes are not a decisions workbook.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass

from mailintake.common import decision_form as form

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 5000
_DATE = re.compile(r"^\s*(\d{4})\s*[-./年]\s*(\d{1,2})\s*[-./月]\s*(\d{1,2})\s*日?\s*$")


@dataclass(frozen=True)
class SheetDecision:
    kind: str  # paper_received | accept_late | reject_late | assign
    target: str  # the unit's name (paper) or the message's reference number as written
    value: str | None  # paper: the ISO date received ("" = not received); assign: the unit named
    decided_on: dt.date
    where: str  # "纸质材料 第5行": how the confirmation names the row


@dataclass(frozen=True)
class SheetProblem:
    where: str
    text: str


@dataclass(frozen=True)
class DecisionSheet:
    decisions: tuple[SheetDecision, ...]
    problems: tuple[SheetProblem, ...]


def read_decision_sheet(data: bytes) -> DecisionSheet | None:
    """The decisions and the bad rows of a 决定.xlsx; None when `data` is not one (no sheet of ours)."""
    if len(data) > MAX_BYTES or not zipfile.is_zipfile(io.BytesIO(data)):
        return None
    try:
        from openpyxl import load_workbook
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # not a workbook openpyxl can read: not ours
        return None
    decisions: list[SheetDecision] = []
    problems: list[SheetProblem] = []
    found = False
    try:
        for sheet in form.SHEETS:
            if sheet.title not in book.sheetnames:
                continue
            rows = book[sheet.title].iter_rows(max_row=MAX_ROWS, values_only=True)
            columns = _columns(next(rows, ()), sheet)
            if columns is None:
                continue
            found = True
            for n, row in enumerate(rows, start=2):
                _read_row(sheet, columns, row, f"{sheet.title} 第{n}行", decisions, problems)
    finally:
        book.close()
    return DecisionSheet(tuple(decisions), tuple(problems)) if found else None


def _columns(header: tuple, sheet: form.FormSheet) -> dict[str, int] | None:
    names = {str(v).strip(): i for i, v in enumerate(header) if v is not None}
    needed = (sheet.key, sheet.decision, sheet.date)
    return {h: names[h] for h in needed} if all(h in names for h in needed) else None


def _read_row(sheet: form.FormSheet, columns: dict[str, int], row: tuple, where: str,
              decisions: list[SheetDecision], problems: list[SheetProblem]) -> None:
    def cell(header: str) -> object:
        i = columns[header]
        return row[i] if i < len(row) else None

    target, decision, day = _text(cell(sheet.key)), cell(sheet.decision), cell(sheet.date)
    if _text(decision) == "":
        return  # blank: no change
    if not target:
        problems.append(SheetProblem(where, f"未填写{sheet.key}。"))
        return
    decided_on = _date(day)
    if decided_on is None:
        said = "未填写" if _text(day) == "" else "无法识别：" + _text(day)
        problems.append(SheetProblem(where, f"“{sheet.date}”{said}，请填写作出决定的日期（如 2021-05-26）。"))
        return
    for made in _decisions(sheet, target, decision, decided_on, where):
        if isinstance(made, SheetProblem):
            problems.append(made)
        else:
            decisions.append(made)


def _decisions(sheet: form.FormSheet, target: str, decision: object, day: dt.date,
               where: str) -> Iterator[SheetDecision | SheetProblem]:
    text = _text(decision)
    if sheet is form.PAPER:
        if text in form.NOT_RECEIVED_WORDS:
            yield SheetDecision("paper_received", target, "", day, where)
        elif (received := _date(decision)) is not None:
            yield SheetDecision("paper_received", target, received.isoformat(), day, where)
        else:
            yield SheetProblem(where, f"纸质材料收到日期无法识别：{text}（请填写日期，或“未收到”）。")
    elif sheet is form.LATE:
        if text in form.ACCEPT_WORDS:
            yield SheetDecision("accept_late", target, None, day, where)
        elif text in form.REJECT_WORDS:
            yield SheetDecision("reject_late", target, None, day, where)
        else:
            yield SheetProblem(where, f"“{text}”无法识别，请填写“受理”或“不受理”。")
    else:
        yield SheetDecision("assign", target, text, day, where)


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()[:200]


def _date(value: object) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    m = _DATE.match(_text(value))
    if m is None:
        return None
    try:
        return dt.date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        return None
