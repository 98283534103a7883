"""What each page of the web view shows, as typed values built from one `DaySnapshot` (the same query layer
as the workbook and the digest), so the templates only lay them out.

The one rule about material lives in `queries.StoredFile.withheld`: nothing of a quarantined message or of
a quarantined unit is shown (no subject, no file name, no reply text), only the fact of the quarantine.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from mailintake.common.findings import CATEGORY_LABELS, human_size
from mailintake.common.vocab import (
    PHOTO_ROLES,
    ROLE_LABELS,
    DossierStatus,
    MessageState,
    Role,
    Scope,
    display_reference,
    parse_reference,
)
from mailintake.reports.overview import DayCount, Overview
from mailintake.reports.queries import DaySnapshot, OpenFinding, UnitReport, render_detail
from mailintake.reports.workbook import (
    DECISION_LABELS,
    KIND_LABELS,
    REPLY_KIND_LABELS,
    REPLY_STATE_LABELS,
    SEVERITY_LABELS,
    STATUS_LABELS,
)
from mailintake.store.models import Attachment, Message, Outbox

MISSING = "missing"  # the status of an expected unit that has sent nothing
STATUS_NAMES = {**STATUS_LABELS, MISSING: "未报送"}
# images a browser shows as they are (opened full size); the content type comes from what the file is
VIEWABLE = {"jpeg": "image/jpeg", "png": "image/png", "gif": "image/gif", "webp": "image/webp", "bmp": "image/bmp"}
THUMBNAILED = frozenset({*VIEWABLE, "tiff"})
WITHHELD_NOTE = "该单位的邮件含有密级标识，已隔离：其材料不在此显示，也不能下载。"
REPLY_PROBLEMS = ("failed", "uncertain", "bounced", "suppressed")
SEALS = {True: "已检测到公章", False: "未检测到公章", None: "公章未检查"}


def local(instant: dt.datetime | None, tz: dt.tzinfo) -> str:
    return instant.astimezone(tz).strftime("%Y-%m-%d %H:%M") if instant else ""


@dataclass(frozen=True)
class FindingLine:
    severity: str  # error | warning
    label: str  # 错误 | 提醒
    text: str  # the sentence the submitter was sent


def finding_line(o: OpenFinding) -> FindingLine:
    return FindingLine(o.severity, SEVERITY_LABELS.get(o.severity, o.severity), o.detail)


@dataclass(frozen=True)
class FileLink:
    """One file as the pages list it; `id` is the attachment's database id, the only way to fetch it."""

    id: int
    name: str  # the file's own name, as the sender named it
    path: str  # with the archive it came in ("材料.zip/张三1.jpg")
    role: str
    size: str
    servable: bool  # its bytes are stored and nothing withholds them
    thumbnail: bool  # a photo the page shows small (`/thumbs/<id>`)
    viewable: bool  # opens full size in the browser (`/photos/<id>`); else it is downloaded
    seal: str | None  # reports: the seal check


def file_link(a: Attachment, servable: bool) -> FileLink:
    photo = a.role in PHOTO_ROLES
    return FileLink(a.id, a.display_name.replace("\\", "/").rsplit("/", 1)[-1], a.display_name,
                    ROLE_LABELS.get(a.role, a.role), human_size(a.size), servable,
                    servable and photo and a.detected_type in THUMBNAILED,
                    servable and photo and a.detected_type in VIEWABLE,
                    SEALS.get(a.sealed) if a.role == Role.REPORT else None)


@dataclass(frozen=True)
class ReplyView:
    kind: str
    state: str  # the outbox state (or settling / none)
    state_label: str
    reference: int | None  # the outbox row's number (`replies list`)
    to: str
    subject: str
    sent_at: str
    text: str  # the stored text, as the submitter saw it ("" when withheld or purged)
    answered_with: str | None  # the message whose reply covers this one too, when it is another


@dataclass(frozen=True)
class MessageView:
    id: int
    reference: str
    arrived: str
    sender: str
    sender_name: str
    subject: str
    kind: str
    late: bool
    withheld: bool  # quarantined (or of a quarantined unit): only the fact is shown
    purged: bool
    duplicate_of: str | None
    unit_id: int | None
    unit: str | None
    files: tuple[FileLink, ...]
    findings: tuple[FindingLine, ...]
    reply: ReplyView
    decisions: tuple[str, ...]


@dataclass(frozen=True)
class CandidateView:
    name: str
    details: str  # 性别 · 出生年月 · 工作单位及职务, from the summary table
    forms: tuple[FileLink, ...]
    id_photos: tuple[FileLink, ...]
    life_photos: tuple[FileLink, ...]
    findings: tuple[FindingLine, ...]


@dataclass(frozen=True)
class UnitRow:
    id: int | None  # None: an expected unit that has sent nothing
    name: str
    category: str
    category_label: str
    status: str
    status_label: str
    candidates: int
    quota: int | None
    last_arrival: str
    late: bool
    paper_received: str


@dataclass(frozen=True)
class UnitPage:
    row: UnitRow
    withheld: bool
    candidates: tuple[CandidateView, ...]
    files: tuple[FileLink, ...]  # the unit's own files (report, summary table) and what matches no candidate
    findings: tuple[FindingLine, ...]  # open findings about the unit and its files (candidates' are theirs)
    messages: tuple[MessageView, ...]
    decisions: tuple[str, ...]


@dataclass(frozen=True)
class Bar:
    x: float
    width: float
    messages_y: float
    messages_h: float
    submissions_y: float
    submissions_h: float
    label: str
    messages: int
    submissions: int | None  # None: the bar of mail after the deadline (counted as the workbook counts it)


@dataclass(frozen=True)
class Chart:
    """Mail per day as an inline SVG (drawn by the server: no script, no chart library)."""

    width: int
    height: int
    base: float  # the y of the axis
    bars: tuple[Bar, ...]
    highest: int


@dataclass(frozen=True)
class ReplyProblem:
    reference: int  # outbox number
    kind: str
    state: str
    state_label: str
    to: str
    error: str
    message_id: int | None  # the message it answers (the latest it covers)
    message_reference: str
    unit: str


@dataclass(frozen=True)
class OverviewPage:
    figures: Overview
    chart: Chart
    problems: tuple[ReplyProblem, ...]
    missing: tuple[str, ...]


Servable = Callable[[Attachment, Message], bool]


def overview_page(o: Overview, snap: DaySnapshot) -> OverviewPage:
    return OverviewPage(o, chart(o), tuple(reply_problems(snap)), o.missing_units)


def chart(o: Overview, width: int = 720, height: int = 220) -> Chart:
    days = list(o.intake)
    if days and o.after_deadline:
        days.append(DayCount(days[-1].day, o.after_deadline, -1))
    highest = max((d.messages for d in days), default=0)
    top, base, left = 18.0, height - 28.0, 8.0
    slot = (width - 2 * left) / max(1, len(days))
    scale = (base - top) / max(1, highest)
    step = max(1, -(-len(days) // 14))  # at most 14 day labels, so they never run into each other
    bars = []
    for n, d in enumerate(days):
        x = left + n * slot + slot * 0.15
        mh, sh = d.messages * scale, d.submissions * scale
        late = d.submissions < 0
        label = "截止后" if late else f"{d.day.month}/{d.day.day}" if n % step == 0 or n == len(days) - 1 else ""
        bars.append(Bar(round(x, 1), round(slot * 0.7, 1), round(base - mh, 1), round(mh, 1), round(base - sh, 1),
                        0.0 if late else round(sh, 1), label, d.messages, None if late else d.submissions))
    return Chart(width, height, base, tuple(bars), highest)


def reply_problems(snap: DaySnapshot) -> list[ReplyProblem]:
    """Each automatic reply that failed, is uncertain, bounced or was held back, with the message it answers."""
    year = snap.scope.campaign.deadline.year
    answered: dict[int, tuple[Outbox, Message | None]] = {}
    by_id = {m.id: m for m in snap.messages}
    for m in snap.messages:
        reply = snap.replies.get(m.id)
        if reply is not None and reply[0].state in REPLY_PROBLEMS:
            answered[reply[0].id] = (reply[0], by_id.get(reply[1]) or m)
    for o in snap.uncovered_outbox:
        if o.state in REPLY_PROBLEMS:
            answered.setdefault(o.id, (o, None))
    out = []
    for row, m in sorted(answered.values(), key=lambda pair: pair[0].id):
        out.append(ReplyProblem(row.id, REPLY_KIND_LABELS.get(row.kind, row.kind), row.state,
                                REPLY_STATE_LABELS.get(row.state, row.state), row.to_address,
                                (row.last_error or "")[:200], m.id if m else None,
                                display_reference(year, m.id) if m else "", m.unit.name if m and m.unit else ""))
    return out


def unit_rows(snap: DaySnapshot) -> list[UnitRow]:
    """Every unit with material, then every expected district-level unit still missing."""
    tz = snap.scope.campaign.tz
    rows = [unit_row(u, tz) for u in snap.units]
    rows += [UnitRow(None, name, "district", CATEGORY_LABELS["district"], MISSING, STATUS_NAMES[MISSING], 0, None,
                     "", False, _day(snap.paper_received.get(name))) for name in snap.missing_units]
    return rows


def unit_row(u: UnitReport, tz: dt.tzinfo) -> UnitRow:
    status = u.dossier.status
    return UnitRow(u.unit.id, u.unit.name, u.unit.category, CATEGORY_LABELS.get(u.unit.category, u.unit.category),
                   status, STATUS_NAMES.get(status, status), len(u.candidates), u.quota, local(u.last_arrival, tz),
                   u.dossier.late, _day(u.paper_received))


def matches(u: UnitReport | None, name: str, query: str, snap: DaySnapshot) -> bool:
    """The search box: a unit's name, a candidate's name, a sender's address or a reference number."""
    q = query.strip().lower()
    if not q or q in name.lower():
        return True
    if u is None:
        return False
    if any(q in c.name.lower() for c in u.candidates):
        return True
    mine = [m for m in snap.messages if m.unit_id == u.unit.id]
    if any(q in (m.sender or "").lower() or q in (m.sender_name or "").lower() for m in mine):
        return True
    number = parse_reference(q)
    return number is not None and any(m.id == number for m in mine)


def filter_units(snap: DaySnapshot, query: str, status: str, category: str) -> list[UnitRow]:
    by_name = {u.unit.name: u for u in snap.units}
    return [r for r in unit_rows(snap) if (not status or r.status == status)
            and (not category or r.category == category) and matches(by_name.get(r.name), r.name, query, snap)]


def unit_page(u: UnitReport, snap: DaySnapshot, servable: Servable) -> UnitPage:
    tz = snap.scope.campaign.tz
    withheld = u.dossier.status == DossierStatus.QUARANTINED
    mine = [m for m in snap.messages if m.unit_id == u.unit.id]
    found = [o for o in snap.findings if o.unit is not None and o.unit.id == u.unit.id]
    current = set() if withheld else {int(i) for i in u.dossier.current_files or []}
    files = [(a, m) for m in mine if not m.quarantined for a in m.attachments if a.id in current]

    def link(a: Attachment, m: Message) -> FileLink:
        return file_link(a, servable(a, m))

    candidates = tuple(_candidate(c.name, c.fields or {}, [(a, m) for a, m in files if a.person == c.name],
                                  [] if withheld else [o for o in found if o.candidate == c.name], link)
                       for c in u.candidates)
    personal = {a.id for a, _ in files if a.person in {c.name for c in u.candidates}
                and a.role in (Role.FORM, Role.ID_PHOTO, Role.LIFE_PHOTO)}
    unit_files = sorted(((a, m) for a, m in files if a.id not in personal),
                        key=lambda p: ({Role.REPORT: 0, Role.SUMMARY: 1}.get(p[0].role, 2), p[1].internaldate, p[0].id))
    unit_found = [] if withheld else [o for o in found if not o.candidate and o.finding.scope != Scope.MESSAGE]
    paper = snap.paper_received.get(u.unit.name)
    return UnitPage(unit_row(u, tz), withheld, candidates, tuple(link(a, m) for a, m in unit_files),
                    tuple(finding_line(o) for o in unit_found),
                    tuple(message_view(m, snap, servable, withheld, open_only=True) for m in mine),
                    (f"纸质材料已于{paper:%Y-%m-%d}收到",) if paper else ())


def _candidate(name: str, fields: dict, files: Sequence[tuple[Attachment, Message]],
               found: Sequence[OpenFinding], link: Callable[[Attachment, Message], FileLink]) -> CandidateView:
    def of(role: Role) -> tuple[FileLink, ...]:
        chosen = sorted((p for p in files if p[0].role == role),
                        key=lambda p: (p[0].seq is None, p[0].seq or 0, p[0].display_name, p[0].id))
        return tuple(link(a, m) for a, m in chosen)

    details = " · ".join(str(fields[k]) for k in ("gender", "birth", "post") if fields.get(k))
    return CandidateView(name, details, of(Role.FORM), of(Role.ID_PHOTO), of(Role.LIFE_PHOTO),
                         tuple(finding_line(o) for o in found))


def message_view(m: Message, snap: DaySnapshot, servable: Servable, unit_withheld: bool = False,
                 open_only: bool = False) -> MessageView:
    """A message as the pages show it. `open_only`: its findings that still stand (the unit page, where the
    dossier's own findings are listed apart); else everything found in it (the message's own page)."""
    tz, year = snap.scope.campaign.tz, snap.scope.campaign.deadline.year
    withheld = m.quarantined or unit_withheld
    purged = m.state == MessageState.PURGED
    files = () if withheld or purged else tuple(file_link(a, servable(a, m)) for a in m.attachments)
    if withheld:
        found: list[FindingLine] = []
    elif open_only:
        found = [finding_line(o) for o in snap.findings if o.message is m and o.finding.scope == Scope.MESSAGE]
    else:
        found = [FindingLine(f.severity, SEVERITY_LABELS.get(f.severity, f.severity), render_detail(f))
                 for f in m.findings]
    return MessageView(
        m.id, display_reference(year, m.id), local(m.internaldate, tz), m.sender or "", m.sender_name or "",
        "" if withheld else (m.subject or ""), _kind(m), m.late, withheld, purged,
        display_reference(year, m.duplicate_of_id) if m.duplicate_of_id else None, m.unit_id,
        m.unit.name if m.unit else None, files, tuple(found), reply_view(m, snap, withheld),
        tuple(_decision(n.kind, n.value, n.on, n.made_by) for n in snap.message_decisions.get(m.key, ())))


def reply_view(m: Message, snap: DaySnapshot, withheld: bool) -> ReplyView:
    tz, year = snap.scope.campaign.tz, snap.scope.campaign.deadline.year
    reply = snap.replies.get(m.id)
    if reply is None:
        state = "settling" if m.awaiting_reply else "none"
        return ReplyView("", state, REPLY_STATE_LABELS[state], None, "", "", "", "", None)
    row, answered = reply
    text = row.text_body if row.kind == "quarantine_notice" or not withheld else ""
    return ReplyView(REPLY_KIND_LABELS.get(row.kind, row.kind), row.state, REPLY_STATE_LABELS.get(row.state, row.state),
                     row.id, row.to_address, row.subject if text else "", local(row.sent_at, tz), text,
                     display_reference(year, answered) if answered and answered != m.id else None)


def _decision(kind: str, value: str | None, on: dt.date, by: str) -> str:
    what = f"指定单位：{value}" if kind == "assign" else DECISION_LABELS.get(kind, kind)
    return f"{what}（{on:%Y-%m-%d}，{by}）"


def _kind(m: Message) -> str:
    if m.kind:
        return KIND_LABELS.get(m.kind, m.kind)
    return "处理失败" if m.state == MessageState.FAILED else "待处理"


def _day(day: dt.date | None) -> str:
    return f"{day:%Y-%m-%d}" if day else ""
