"""The day's figures in one typed value: the workbook's 总览 sheet, the morning digest and the web view all
show the same `Overview`, so a count can never be worked out two ways.

    from mailintake.reports.overview import overview
    figures = overview(session, scope, datetime.date(2021, 5, 28))
    figures.total.submitted, figures.categories[0].incomplete, figures.intake[-1].messages

Everything is as of the end of `day` in the campaign timezone (see `queries.snapshot`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from mailintake.common.findings import CATEGORY_LABELS, Severity
from mailintake.common.vocab import Category, DossierStatus, Kind
from mailintake.reports.queries import DaySnapshot, ReportScope, UnitReport, snapshot
from mailintake.store.models import Candidate, Outbox

REPLY_PROBLEMS = ("failed", "uncertain", "suppressed", "bounced")
# (label, oldest age in the band); ages are reached in the deadline's year
AGE_BANDS: tuple[tuple[str, int], ...] = (("35岁及以下", 35), ("36–45岁", 45), ("46–55岁", 55), ("56岁及以上", 200))
UNKNOWN_AGE = "出生年月不详"
_YEAR = re.compile(r"(?<!\d)((?:19|20)\d{2})(?!\d)")


@dataclass(frozen=True)
class ReplyFigures:
    """Automatic replies that need an organiser's eye, by outbox state."""

    failed: int = 0  # the server said 5xx
    uncertain: int = 0  # a crash left it `sending`: only `replies resend` sends it again
    suppressed: int = 0  # held back by the per-address daily limit
    bounced: int = 0  # it came back


@dataclass(frozen=True)
class CategoryFigures:
    """One row of the overview: a unit category (or, with `category` None, all of them)."""

    category: Category | None
    label: str  # 区县 / 学会 / 企事业单位 / 合计
    submitted: int  # units with material counted by the day
    expected: int | None  # district-level units only; None: no expected count ("—")
    complete: int
    incomplete: int
    quarantined: int
    late: int  # units whose dossier holds late material not yet decided on
    candidates: int
    paper_received: int
    replies: ReplyFigures


@dataclass(frozen=True)
class DayCount:
    """Mail that arrived on one campaign-timezone day."""

    day: dt.date
    messages: int  # every message, enquiries and robots included
    submissions: int  # submissions with material, re-deliveries not counted


@dataclass(frozen=True)
class BandCount:
    label: str
    candidates: int


@dataclass(frozen=True)
class Overview:
    """The intake as of the end of `day`: per-category figures, intake per day, candidates by age."""

    campaign: str
    day: dt.date
    until: dt.datetime  # exclusive end of `day` in the campaign timezone
    deadline: dt.datetime
    categories: tuple[CategoryFigures, ...]  # district, society, institution
    total: CategoryFigures
    intake: tuple[DayCount, ...]  # each day from the first arrival to the deadline (or `day`, if earlier)
    after_deadline: int  # messages that arrived after the deadline, by the end of `day`
    age_bands: tuple[BandCount, ...]  # AGE_BANDS in order, then UNKNOWN_AGE
    messages: int
    unplaced: int  # submissions no unit could be found for (they wait for an organiser's `assign`)
    missing_units: tuple[str, ...]
    open_errors: int
    open_warnings: int  # cross-unit warnings included
    cloud_links: int  # findings about large-attachment or cloud links: fetch them before they lapse


def overview(s: Session, scope: ReportScope, day: dt.date) -> Overview:
    """The figures as of the end of `day` (campaign timezone)."""
    return summarise(snapshot(s, scope, day))


def summarise(snap: DaySnapshot) -> Overview:
    """The figures of a snapshot already read (the workbook reads one snapshot for all its sheets)."""
    campaign = snap.scope.campaign
    replies = _reply_rows(snap)
    categories = tuple(_figures(c, [u for u in snap.units if u.unit.category == c],
                                [o for o, cat in replies if cat == c],
                                len(snap.scope.expected_units) if c == Category.DISTRICT else None)
                       for c in Category)
    total = _figures(None, snap.units, [o for o, _ in replies], None)
    errors = sum(f.severity == Severity.ERROR for f in snap.findings)
    return Overview(
        campaign=campaign.name, day=snap.day, until=snap.until, deadline=campaign.deadline,
        categories=categories, total=total,
        intake=tuple(_intake(snap)), after_deadline=sum(m.internaldate > campaign.deadline for m in snap.messages),
        age_bands=tuple(age_bands((c for u in snap.units for c in u.candidates), campaign.deadline.year)),
        messages=len(snap.messages),
        unplaced=sum(m.kind == Kind.SUBMISSION and m.unit_id is None and m.duplicate_of_id is None
                     for m in snap.messages),
        missing_units=snap.missing_units, open_errors=errors,
        open_warnings=len(snap.findings) - errors + len(snap.cross_unit),
        cloud_links=sum(f.is_cloud for f in snap.findings),
    )


def _figures(category: Category | None, units: Sequence[UnitReport], outbox: Sequence[Outbox],
             expected: int | None) -> CategoryFigures:
    status = [u.dossier.status for u in units]
    return CategoryFigures(
        category=category, label=CATEGORY_LABELS[category] if category else "合计", submitted=len(units),
        expected=expected, complete=status.count(DossierStatus.COMPLETE),
        incomplete=status.count(DossierStatus.INCOMPLETE), quarantined=status.count(DossierStatus.QUARANTINED),
        late=sum(u.dossier.late for u in units), candidates=sum(len(u.candidates) for u in units),
        paper_received=sum(u.paper_received is not None for u in units),
        replies=ReplyFigures(**{state: sum(o.state == state for o in outbox) for state in REPLY_PROBLEMS}),
    )


def _reply_rows(snap: DaySnapshot) -> list[tuple[Outbox, str | None]]:
    """Each outbox row once, with the category of the unit whose mail it answers (None: no unit): rows that
    cover a message counted by the day, and the rows that answer no message."""
    rows: dict[int, tuple[Outbox, str | None]] = {}
    for m in snap.messages:
        reply = snap.replies.get(m.id)
        if reply is None:
            continue
        row = reply[0]
        category = m.unit.category if m.unit else None
        if row.id not in rows or rows[row.id][1] is None:
            rows[row.id] = (row, category)
    rows.update({o.id: (o, None) for o in snap.uncovered_outbox})
    return list(rows.values())


def _intake(snap: DaySnapshot) -> list[DayCount]:
    tz = snap.scope.campaign.tz
    if not snap.messages:
        return []
    first = snap.messages[0].internaldate.astimezone(tz).date()
    last = min(snap.day, snap.scope.campaign.deadline.astimezone(tz).date())
    counts = {first + dt.timedelta(days=n): [0, 0] for n in range((last - first).days + 1)}
    for m in snap.messages:
        slot = counts.get(m.internaldate.astimezone(tz).date())
        if slot is not None and m.internaldate <= snap.scope.campaign.deadline:
            slot[0] += 1
            slot[1] += m.kind == Kind.SUBMISSION and m.duplicate_of_id is None
    return [DayCount(day, n, subs) for day, (n, subs) in counts.items()]


def birth_year(fields: dict) -> int | None:
    """The year in the summary table's 出生年月 ("1980-03", "1980.03", "1980年3月"), None when absent."""
    found = _YEAR.search(str(fields.get("birth") or ""))
    return int(found[1]) if found else None


def age_band(year: int | None, reference_year: int) -> str:
    """The band of someone born in `year`, by the age reached in `reference_year`."""
    if year is None or not 0 < reference_year - year < 120:
        return UNKNOWN_AGE
    age = reference_year - year
    return next(label for label, oldest in AGE_BANDS if age <= oldest)


def age_bands(candidates: Iterable[Candidate], reference_year: int) -> list[BandCount]:
    counts = dict.fromkeys([label for label, _ in AGE_BANDS] + [UNKNOWN_AGE], 0)
    for c in candidates:
        counts[age_band(birth_year(c.fields or {}), reference_year)] += 1
    return [BandCount(label, n) for label, n in counts.items()]
