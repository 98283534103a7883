"""The organisers' daily intake workbook: the one file they read every morning, as of the end of one day.

Six sheets with Chinese headers: 总览 (figures and charts), 单位, 人选, 问题清单, 来信记录, 未报送. Every figure
comes from `reports.queries` (one `DaySnapshot`) and `reports.overview`; every finding is the sentence the
submitter was sent, rendered from `common.findings`. Plain openpyxl features only (fills, frozen panes,
auto-filters, bar charts), so Excel, WPS and LibreOffice open it without repair.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Alignment, Border, Font, NamedStyle, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy.orm import Session

from mailintake.common.findings import CATEGORY_LABELS
from mailintake.common.vocab import Category, DossierStatus, display_reference
from mailintake.reports import queries
from mailintake.reports.overview import CategoryFigures, Overview, summarise
from mailintake.reports.queries import DaySnapshot, OpenFinding, ReportScope, UnitReport
from mailintake.store.models import Candidate, Message

SHEETS = ("总览", "单位", "人选", "问题清单", "来信记录", "未报送")

STATUS_LABELS = {DossierStatus.COMPLETE: "材料齐全", DossierStatus.INCOMPLETE: "材料不全",
                 DossierStatus.QUARANTINED: "涉密隔离"}
SEVERITY_LABELS = {"error": "错误", "warning": "提醒"}
KIND_LABELS = {"submission": "报送材料", "auto_reply": "自动回复", "bounce": "退信", "other": "其他（咨询等）"}
REPLY_KIND_LABELS = {"receipt": "回执", "deficiency": "材料不全通知", "late_notice": "逾期通知",
                     "quarantine_notice": "涉密提醒", "acknowledgement": "咨询答复", "limit_notice": "限额通知"}
REPLY_STATE_LABELS = {"none": "无需回复", "settling": "待汇总回复", "pending": "待发送", "sending": "发送中",
                      "sent": "已发送", "failed": "发送失败", "suppressed": "超过每日限额未发", "uncertain": "待确认",
                      "bounced": "被退回"}
DECISION_LABELS = {"accept_late": "接受逾期材料", "reject_late": "不接受逾期材料"}
# the summary table's columns (keys as `parsers/summary.py` stores them), in the table's usual order
FIELD_LABELS = {"seq": "表内序号", "gender": "性别", "birth": "出生年月", "ethnicity": "民族", "politics": "政治面貌",
                "post": "工作单位及职务", "category": "人选类别", "deeds": "主要事迹", "phone": "联系电话"}
NO_UNIT = "（未识别单位）"
NOT_YET = "未收到"

GREEN, AMBER, RED, GREY, BLUE = "C6EFCE", "FFEB9C", "FFC7CE", "D9D9D9", "DDEBF7"
STATUS_FILLS = {DossierStatus.COMPLETE: GREEN, DossierStatus.INCOMPLETE: AMBER, DossierStatus.QUARANTINED: RED}
REPLY_FILLS = {"failed": RED, "bounced": RED, "uncertain": AMBER, "suppressed": AMBER}
MINUTE, DAY = "yyyy-mm-dd hh:mm", "yyyy-mm-dd"
_THIN = Side(style="thin", color="BFBFBF")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_TOP = Alignment(vertical="top")
_WRAP = Alignment(vertical="top", wrap_text=True)
_HEAD = Alignment(vertical="center", horizontal="center", wrap_text=True)
_RIGHT = Alignment(horizontal="right")
# named styles: a cell takes one by name (a copy of its ids), not four style objects to hash one by one
TEXT, VALUE = "mailintake text", "mailintake value"
_STYLES = {TEXT: {"alignment": _WRAP}, VALUE: {"alignment": _TOP},
           MINUTE: {"alignment": _TOP, "number_format": MINUTE}, DAY: {"alignment": _TOP, "number_format": DAY}}
_WIDE = re.compile("[\u1100-\u115f\u2e80-\u303e\u3041-\u33ff\u3400-\u4dbf\u4e00-\u9fff\ua000-\ua4cf"
                   "\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6\U00020000-\U0003fffd]")
_FILLS: dict[str, PatternFill] = {}
MAX_CELL = 32767  # Excel's limit on one cell's text
LINE_POINTS = 15  # the height of one line of 11-point text, CJK included


@dataclass(frozen=True)
class Column:
    header: str
    cap: int = 40  # widest the column grows to (in half-width characters); longer text wraps
    number_format: str | None = None
    least: int = 6  # a column left for the organisers to fill in starts wide


def build_workbook(s: Session, scope: ReportScope, day: dt.date) -> Workbook:
    """The workbook as of the end of `day` in the campaign timezone."""
    snap = queries.snapshot(s, scope, day)
    wb = Workbook()
    for name, style in _STYLES.items():
        wb.add_named_style(NamedStyle(name=name, border=_BORDER, **style))
    _overview_sheet(wb.active, summarise(snap), snap)
    _units_sheet(wb.create_sheet(SHEETS[1]), snap)
    _candidates_sheet(wb.create_sheet(SHEETS[2]), snap)
    _findings_sheet(wb.create_sheet(SHEETS[3]), snap)
    _messages_sheet(wb.create_sheet(SHEETS[4]), snap)
    _missing_sheet(wb.create_sheet(SHEETS[5]), snap)
    return wb


def write_workbook(s: Session, scope: ReportScope, day: dt.date, path: Path) -> Path:
    """Build and save atomically: a reader never sees half a file, a crash leaves the old one."""
    wb = build_workbook(s, scope, day)
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as out:
            wb.save(out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


# --- 总览 ----------------------------------------------------------------------------------------------------

FIGURE_COLUMNS = ("类别", "已报送单位", "应报送单位", "材料齐全", "材料不全", "涉密隔离", "含逾期材料", "推荐人选",
                  "纸质材料已收", "回复失败", "回复待确认", "回复超限未发", "回复被退回")


def _overview_sheet(ws: Worksheet, o: Overview, snap: DaySnapshot) -> None:
    ws.title = SHEETS[0]
    tz = snap.scope.campaign.tz
    ws["A1"] = f"{o.campaign} 推荐材料接收日报"
    ws["A1"].font = Font(bold=True, size=14)
    ws["A2"] = (f"截至{o.day:%Y年%m月%d日}24时（{tz.key}）；报送截止{o.deadline.astimezone(tz):%Y年%m月%d日 %H:%M}；"
                f"生成于{dt.datetime.now(tz):%Y年%m月%d日 %H:%M}")
    ws["A3"] = "来信与人选按当日24时前送达的邮件统计；各单位状态为生成时的最新核查结果。"
    for c, title in enumerate(FIGURE_COLUMNS, 1):
        _head(ws.cell(5, c), title)
    for r, f in enumerate([*o.categories, o.total], 6):
        for c, value in enumerate(_figure_row(f), 1):
            cell = _put(ws.cell(r, c), value)
            cell.border = _BORDER
            if c > 1:
                cell.alignment = _RIGHT  # "—" with the numbers
            if f.category is None:
                cell.font = Font(bold=True)
        for c, key in ((4, DossierStatus.COMPLETE), (5, DossierStatus.INCOMPLETE), (6, DossierStatus.QUARANTINED)):
            ws.cell(r, c).fill = _fill(STATUS_FILLS[key])
    facts = [("来信总数（封）", o.messages), ("未识别单位的报送（封）", o.unplaced),
             ("尚未报送的区县级单位（个）", len(o.missing_units)), ("待处理的错误（条）", o.open_errors),
             ("提醒（条，含跨单位提醒）", o.open_warnings), ("超大附件或网盘链接（条，会过期）", o.cloud_links),
             ("截止后送达（封）", o.after_deadline)]
    for r, (label, value) in enumerate(facts, 11):
        _put(ws.cell(r, 1), label).border = _BORDER
        _put(ws.cell(r, 2), value).border = _BORDER
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(FIGURE_COLUMNS))
    ws.column_dimensions["A"].width = 34
    for c in range(2, len(FIGURE_COLUMNS) + 1):
        ws.column_dimensions[get_column_letter(c)].width = 12
    _overview_charts(ws, o, first_row=11 + len(facts) + 1)
    ws.freeze_panes = "A6"
    _print_setup(ws, title_rows=None, fit_height=True)


def _figure_row(f: CategoryFigures) -> list[object]:
    r = f.replies
    return [f.label, f.submitted, "—" if f.expected is None else f.expected, f.complete, f.incomplete, f.quarantined,
            f.late, f.candidates, f.paper_received, r.failed, r.uncertain, r.suppressed, r.bounced]


@dataclass(frozen=True)
class _ChartTable:
    column: str  # where its data table starts (and its chart is anchored)
    headers: tuple[str, ...]
    rows: list[tuple[object, ...]]
    title: str
    unit: str
    width_cm: float


def _overview_charts(ws: Worksheet, o: Overview, first_row: int) -> None:
    """Three bar charts side by side, each over a small data table written under it."""
    days: list[tuple[object, ...]] = [(f"{d.day.month}月{d.day.day}日", d.messages, d.submissions) for d in o.intake]
    if o.after_deadline:
        days.append(("截止后", o.after_deadline, None))
    tables = [_ChartTable("A", ("日期", "来信", "其中报送材料"), days, "每日来信（截至报送截止）", "封", 16.0),
              _ChartTable("E", ("类别", "推荐人选"), [(f.label, f.candidates) for f in o.categories],
                          "各类别推荐人选", "人", 7.5),
              _ChartTable("H", ("年龄段", "推荐人选"), [(b.label, b.candidates) for b in o.age_bands],
                          "推荐人选年龄分布", "人", 9.5)]
    data_row = first_row + 16
    for t in tables:
        col = ws[f"{t.column}1"].column
        for c, title in enumerate(t.headers, col):
            _head(ws.cell(data_row, c), title)
        for r, row in enumerate(t.rows, data_row + 1):
            for c, value in enumerate(row, col):
                _put(ws.cell(r, c), value).border = _BORDER
        if not t.rows:
            _put(ws[f"{t.column}{first_row}"], "暂无来信")
            continue
        ws.add_chart(_bar_chart(ws, t, col, data_row), f"{t.column}{first_row}")


def _bar_chart(ws: Worksheet, t: _ChartTable, col: int, data_row: int) -> BarChart:
    chart = BarChart()
    chart.type, chart.title, chart.style = "col", t.title, 10
    chart.y_axis.title = t.unit
    chart.x_axis.delete = chart.y_axis.delete = False  # openpyxl 3.1 otherwise leaves the axes hidden in Excel
    chart.y_axis.majorGridlines = None
    highest = max((v for row in t.rows for v in row[1:] if isinstance(v, int)), default=0)
    chart.y_axis.majorUnit = max(1, -(-highest // 5))  # whole numbers of mails and people
    last = data_row + len(t.rows)
    chart.add_data(Reference(ws, min_col=col + 1, max_col=col + len(t.headers) - 1, min_row=data_row, max_row=last),
                   titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=col, min_row=data_row + 1, max_row=last))
    chart.width, chart.height = t.width_cm, 7.5
    if len(t.headers) == 2:
        chart.legend = None
    else:
        chart.legend.position = "b"
    return chart


# --- 单位 ----------------------------------------------------------------------------------------------------

UNIT_COLUMNS = [Column("单位", 24), Column("类别", 10), Column("状态", 10), Column("逾期", 6), Column("人选数", 7),
                Column("名额", 6), Column("尚缺材料", 48), Column("错误", 6), Column("提醒", 6),
                Column("首封送达", 17, MINUTE), Column("末封送达", 17, MINUTE), Column("邮件数", 7),
                Column("发件地址", 28), Column("发件人", 20), Column("参考编号", 12), Column("纸质材料收到", 13, DAY)]


def _units_sheet(ws: Worksheet, snap: DaySnapshot) -> None:
    tz, year = snap.scope.campaign.tz, snap.scope.campaign.deadline.year
    units = _by_category(snap.units)
    rows = [_unit_row(u, tz, year) for u in units]
    _table(ws, UNIT_COLUMNS, rows, freeze="B2")
    for r, u in enumerate(units, 2):
        ws.cell(r, 3).fill = _fill(STATUS_FILLS.get(u.dossier.status, GREY))
        if u.dossier.late:
            ws.cell(r, 4).fill = _fill(GREY)
        if u.paper_received is None:
            ws.cell(r, 16).fill = _fill(GREY)


def _unit_row(u: UnitReport, tz: dt.tzinfo, year: int) -> list[object]:
    missing = [f for f in u.findings if f.code.startswith("missing_")]
    errors = sum(f.severity == "error" for f in u.findings)
    return [u.unit.name, CATEGORY_LABELS.get(u.unit.category, u.unit.category),
            STATUS_LABELS.get(u.dossier.status, u.dossier.status), "逾期" if u.dossier.late else "",
            len(u.candidates), u.quota, "\n".join(queries.render_detail(f) for f in missing), errors,
            len(u.findings) - errors, _local(u.first_arrival, tz), _local(u.last_arrival, tz), len(u.messages),
            "\n".join(a for a, _ in u.senders), "\n".join(dict.fromkeys(n for _, n in u.senders if n)),
            "\n".join(display_reference(year, m.id) for m in u.messages), u.paper_received or NOT_YET]


def _by_category(units: Sequence[UnitReport]) -> list[UnitReport]:
    order = {c: n for n, c in enumerate(Category)}
    return sorted(units, key=lambda u: (order.get(u.unit.category, len(order)), u.unit.name))


# --- 人选 ----------------------------------------------------------------------------------------------------

def _candidates_sheet(ws: Worksheet, snap: DaySnapshot) -> None:
    units = _by_category(snap.units)
    keys = _field_keys(c for u in units for c in u.candidates)
    columns = [Column("单位", 24), Column("类别", 10), Column("姓名", 10),
               *[Column(FIELD_LABELS.get(k, k), 40 if k in ("post", "deeds") else 16) for k in keys],
               Column("推荐表", 7), Column("证件照", 7), Column("生活照（张）", 8), Column("待解决问题", 50),
               Column("资格提醒", 40)]
    rows, flags = [], []
    for u in units:
        for c in u.candidates:
            mine = [f for f in u.findings if f.candidate_id == c.id]
            rows.append([u.unit.name, CATEGORY_LABELS.get(u.unit.category, u.unit.category), c.name,
                         *[(c.fields or {}).get(k, "") for k in keys], _has(c.form), _has(c.id_photo), c.life_photos,
                         "\n".join(queries.render_detail(f) for f in mine if f.severity == "error"),
                         "\n".join(queries.render_detail(f) for f in mine if f.severity == "warning")])
            flags.append((c, bool(mine)))
    _table(ws, columns, rows, freeze="D2")
    first = 4 + len(keys)
    for r, (c, troubled) in enumerate(flags, 2):
        for offset, ok in enumerate((c.form, c.id_photo)):
            if not ok:
                ws.cell(r, first + offset).fill = _fill(AMBER)
        if troubled:
            ws.cell(r, 3).fill = _fill(AMBER)


def _field_keys(candidates: Iterable[Candidate]) -> list[str]:
    """The summary-table keys present, in the table's usual order, any others after them by name."""
    present = {k for c in candidates for k in (c.fields or {})}
    return [k for k in FIELD_LABELS if k in present] + sorted(present - FIELD_LABELS.keys())


def _has(flag: bool) -> str:
    return "有" if flag else "无"


# --- 问题清单 --------------------------------------------------------------------------------------------------

FINDING_COLUMNS = [Column("单位", 24), Column("候选人", 10), Column("文件或对象", 30), Column("邮件编号", 12),
                   Column("邮件主题", 30), Column("级别", 6), Column("问题说明（发给报送人的原话）", 60),
                   Column("链接有效期", 20), Column("代码", 14)]


def _findings_sheet(ws: Worksheet, snap: DaySnapshot) -> None:
    year = snap.scope.campaign.deadline.year
    ordered = [f for f in snap.findings if f.is_cloud or f.severity == "error"]
    rows = [_finding_row(f, year) for f in ordered]
    rows += [["、".join(w.units), "", w.subject, "\n".join(display_reference(year, m.id) for m in w.messages),
              "\n".join(dict.fromkeys(m.subject or "" for m in w.messages)), SEVERITY_LABELS["warning"], w.detail,
              "", f"cross_unit_{w.kind.removeprefix('shared_')}"] for w in snap.cross_unit]
    rows += [_finding_row(f, year) for f in snap.findings if f not in ordered]
    _table(ws, FINDING_COLUMNS, rows, freeze="A2")
    for r, row in enumerate(rows, 2):
        ws.cell(r, 6).fill = _fill(RED if row[5] == SEVERITY_LABELS["error"] else AMBER)
        if row[7]:
            ws.cell(r, 8).fill = _fill(AMBER)


def _finding_row(o: OpenFinding, year: int) -> list[object]:
    m = o.message
    return [o.unit.name if o.unit else NO_UNIT, o.candidate or "", o.finding.subject or "",
            display_reference(year, m.id) if m else "", (m.subject or "") if m else "",
            SEVERITY_LABELS.get(o.severity, o.severity), o.detail,
            "\n".join(f"{host}：{expires}" for host, expires in o.expiries), o.finding.code]


# --- 来信记录 --------------------------------------------------------------------------------------------------

MESSAGE_COLUMNS = [Column("参考编号", 12), Column("送达时间", 17, MINUTE), Column("发件地址", 28), Column("发件人", 20),
                   Column("主题", 40), Column("类型", 12), Column("单位", 24), Column("逾期", 6), Column("涉密", 6),
                   Column("重复（原邮件）", 12), Column("附件数", 7), Column("回复", 12), Column("回复状态", 12),
                   Column("组织方决定", 24), Column("决定日期", 12, DAY)]


def _messages_sheet(ws: Worksheet, snap: DaySnapshot) -> None:
    tz, year = snap.scope.campaign.tz, snap.scope.campaign.deadline.year
    rows = [_message_row(m, snap, tz, year) for m in snap.messages]
    _table(ws, MESSAGE_COLUMNS, rows, freeze="B2")
    for r, m in enumerate(snap.messages, 2):
        if m.late:
            ws.cell(r, 8).fill = _fill(GREY)
        if m.quarantined:
            ws.cell(r, 9).fill = _fill(RED)
        state = _reply_state(m, snap)
        if state in REPLY_FILLS:
            ws.cell(r, 13).fill = _fill(REPLY_FILLS[state])


def _message_row(m: Message, snap: DaySnapshot, tz: dt.tzinfo, year: int) -> list[object]:
    reply = snap.replies.get(m.id)
    notes = snap.message_decisions.get(m.key, ())
    said = "；".join(f"指定单位：{n.value}" if n.kind == "assign" else DECISION_LABELS.get(n.kind, n.kind)
                    for n in notes)
    files = sum(a.role != "archive" for a in m.attachments)
    return [display_reference(year, m.id), _local(m.internaldate, tz), m.sender or "", m.sender_name or "",
            m.subject or "", _kind(m), m.unit.name if m.unit else "",
            "逾期" if m.late else "", "涉密" if m.quarantined else "",
            display_reference(year, m.duplicate_of_id) if m.duplicate_of_id else "", files,
            REPLY_KIND_LABELS.get(reply[0].kind, reply[0].kind) if reply else "—",
            REPLY_STATE_LABELS.get(_reply_state(m, snap), _reply_state(m, snap)), said,
            max(n.on for n in notes) if notes else ""]


def _kind(m: Message) -> str:
    if m.kind:
        return KIND_LABELS.get(m.kind, m.kind)
    return "处理失败" if m.state == "failed" else "待处理"  # not parsed yet, or set aside (`reprocess` retries)


def _reply_state(m: Message, snap: DaySnapshot) -> str:
    reply = snap.replies.get(m.id)
    if reply is None:
        return "settling" if m.awaiting_reply else "none"
    return reply[0].state


# --- 未报送 ----------------------------------------------------------------------------------------------------

def _missing_sheet(ws: Worksheet, snap: DaySnapshot) -> None:
    rows = [[n, name, CATEGORY_LABELS["district"], snap.paper_received.get(name) or "", ""]
            for n, name in enumerate(snap.missing_units, 1)]
    _table(ws, [Column("序号", 6), Column("单位", 28), Column("类别", 10), Column("纸质材料收到", 13, DAY),
                Column("电话催报记录", 50, least=40)], rows, freeze="A2")


# --- cells ---------------------------------------------------------------------------------------------------

def _table(ws: Worksheet, columns: Sequence[Column], rows: Sequence[Sequence[object]], freeze: str) -> None:
    """A header row, the rows, frozen header, auto-filter, fitted widths, printing landscape."""
    for c, col in enumerate(columns, 1):
        _head(ws.cell(1, c), col.header)
    for r, row in enumerate(rows, 2):
        for c, (col, value) in enumerate(zip(columns, row, strict=True), 1):
            cell = _put(ws.cell(r, c), value)
            if col.number_format and isinstance(value, dt.date):
                cell.style = col.number_format
            else:
                cell.style = TEXT if isinstance(value, str) and value else VALUE
    ws.freeze_panes = freeze
    ws.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{max(1, len(rows) + 1)}"
    widths = _fit(ws, rows, columns)
    ws.row_dimensions[1].height = 30
    for r, row in enumerate(rows, 2):
        lines = max((_lines(_shown(v), w) for v, w in zip(row, widths, strict=True)), default=1)
        if lines > 1:  # LibreOffice keeps the default height of rows it is not told about
            ws.row_dimensions[r].height = min(409, LINE_POINTS * lines + 2)
    _print_setup(ws, title_rows="1:1")


def _put(cell: Cell, value: object) -> Cell:
    """Write a value as text, number or local date/time; text never becomes a formula, never breaks the file."""
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)[:MAX_CELL]
    cell.value = value
    if isinstance(value, str) and value.startswith("="):
        cell.data_type = "s"
    return cell


def _head(cell: Cell, title: str) -> None:
    cell.value = title
    cell.font = Font(bold=True)
    cell.fill = _fill(BLUE)
    cell.alignment = _HEAD
    cell.border = _BORDER


def _fill(colour: str) -> PatternFill:
    if colour not in _FILLS:
        _FILLS[colour] = PatternFill("solid", start_color=colour, end_color=colour)
    return _FILLS[colour]


def _local(instant: dt.datetime, tz: dt.tzinfo) -> dt.datetime:
    """Excel has no time zones: the campaign-timezone wall time, to the minute."""
    return instant.astimezone(tz).replace(tzinfo=None, second=0, microsecond=0)


def _fit(ws: Worksheet, rows: Sequence[Sequence[object]], columns: Sequence[Column]) -> list[float]:
    """Each column as wide as its widest line (CJK characters count double), within its cap; the header
    wraps onto two lines, so it needs only half its width. Returns the widths."""
    widths = []
    for c, col in enumerate(columns):
        widest = max([_width(col.header) / 2 + 1, *(_width(_shown(row[c])) for row in rows)])
        widths.append(max(col.least, min(col.cap, widest + 2)))
        ws.column_dimensions[get_column_letter(c + 1)].width = widths[-1]
    return widths


def _lines(text: str, width: float) -> int:
    """How many lines the text takes in a wrapped cell of this width."""
    room = max(1, int(width) - 1)
    return sum(max(1, -(-_width(line) // room)) for line in text.split("\n"))


def _shown(value: object) -> str:
    if isinstance(value, dt.datetime):
        return "2021-05-28 23:59"
    if isinstance(value, dt.date):
        return "2021-05-28"
    return "" if value is None else str(value)


def _width(text: str) -> int:
    """Display width of the widest line: East Asian wide and full-width characters take two columns."""
    if text.isascii():
        return max(map(len, text.split("\n")))
    return max(len(line) + len(_WIDE.findall(line)) for line in text.split("\n"))


def _print_setup(ws: Worksheet, title_rows: str | None, fit_height: bool = False) -> None:
    """A4 landscape, one page wide (and one page high for 总览), the header row repeated on each page."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 1 if fit_height else 0
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top = ws.page_margins.bottom = 0.5
    if title_rows:
        ws.print_title_rows = title_rows
