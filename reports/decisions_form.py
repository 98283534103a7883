"""The decisions workbook the organisers edit (决定.xlsx), attached to every morning digest.

It lists what they may decide — every unit's paper copy, every late message, every message the service
could not place — with what is recorded now, so they fill in only what changed (a blank cell is "no
change") and the day they decided it. `parsers/decision_sheet.py` reads it back; the layout is shared in
`common/decision_form.py`.
"""

from __future__ import annotations

import datetime as dt

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy import select
from sqlalchemy.orm import Session

from mailintake.common import decision_form as form
from mailintake.common.vocab import Kind, display_reference
from mailintake.reports.queries import ReportScope, units_with_dossier
from mailintake.store.models import Message
from mailintake.store.queries import LATE_DECISIONS, decision_day, latest_decision, latest_unit_decision

_HEAD = PatternFill("solid", fgColor="DDEBF7")
_FILL_IN = PatternFill("solid", fgColor="FFF2CC")
_CATEGORY = {"district": "区县", "society": "学会", "institution": "企事业单位"}


def build_decision_form(s: Session, scope: ReportScope) -> Workbook:
    book = Workbook()
    book.remove(book.active)
    _paper(_sheet(book, form.PAPER), s, scope)
    _late(_sheet(book, form.LATE), s, scope)
    _unplaced(_sheet(book, form.ASSIGN), s, scope)
    return book


def _sheet(book: Workbook, layout: form.FormSheet) -> Worksheet:
    ws = book.create_sheet(layout.title)
    ws.append(list(layout.headers))
    for i, header in enumerate(layout.headers, start=1):
        cell = ws.cell(row=1, column=i)
        cell.font, cell.fill = Font(bold=True), _FILL_IN if header in (layout.decision, layout.date) else _HEAD
        ws.column_dimensions[cell.column_letter].width = max(12, 2 * len(header) + 4)
    ws.freeze_panes = "A2"
    return ws


def _paper(ws: Worksheet, s: Session, scope: ReportScope) -> None:
    units = {unit.name: _CATEGORY.get(unit.category, unit.category) for unit, _ in units_with_dossier(s)}
    for name in scope.expected_units:
        units.setdefault(name, _CATEGORY["district"])
    for name in sorted(units):
        recorded = latest_unit_decision(s, name, ("paper_received",))
        received = (recorded.value or "未收到") if recorded else ""
        ws.append([name, units[name], received, _day(recorded and decision_day(recorded)), ""])
    ws.column_dimensions["A"].width = 36


def _late(ws: Worksheet, s: Session, scope: ReportScope) -> None:
    year = scope.campaign.deadline.year
    for msg in s.scalars(select(Message).where(Message.late.is_(True)).order_by(Message.internaldate, Message.id)):
        recorded = latest_decision(s, msg.key, LATE_DECISIONS)
        said = {"accept_late": "受理", "reject_late": "不受理"}.get(recorded.kind, "") if recorded else ""
        ws.append([display_reference(year, msg.id), msg.unit.name if msg.unit else "",
                   _local(msg.internaldate, scope), said, _day(recorded and decision_day(recorded)), ""])


def _unplaced(ws: Worksheet, s: Session, scope: ReportScope) -> None:
    year = scope.campaign.deadline.year
    rows = s.scalars(select(Message).where(Message.kind == Kind.SUBMISSION, Message.unit_id.is_(None),
                                           Message.duplicate_of_id.is_(None)).order_by(Message.internaldate))
    for msg in rows:
        ws.append([display_reference(year, msg.id), msg.sender or "", (msg.subject or "")[:200], "", "", ""])


def _local(instant: dt.datetime, scope: ReportScope) -> str:
    return instant.astimezone(scope.campaign.tz).strftime("%Y-%m-%d %H:%M")


def _day(day: dt.date | None) -> str:
    return day.isoformat() if day else ""
