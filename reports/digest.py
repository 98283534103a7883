"""The morning digest: the day's key figures, what changed since the day before, the units still missing
and the replies that need a person (failed, bounced, uncertain), as the e-mail body the organisers read
first. Figures come from `overview` (the workbook's 总览 shows the same ones)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from sqlalchemy import select
from sqlalchemy.orm import Session

from mailintake.common.vocab import display_reference
from mailintake.reports.overview import Overview, overview
from mailintake.reports.queries import ReportScope
from mailintake.store.models import Outbox

NEEDS_A_PERSON = ("failed", "bounced", "uncertain")
STATE_LABELS = {"failed": "发送失败", "bounced": "被退回", "uncertain": "不确定是否送达"}


@dataclass(frozen=True)
class Change:
    label: str
    today: int
    yesterday: int

    @property
    def delta(self) -> str:
        d = self.today - self.yesterday
        return f"+{d}" if d > 0 else str(d) if d else "±0"


@dataclass(frozen=True)
class ReplyProblem:
    to: str
    kind: str
    state: str
    reason: str
    messages: str  # the reference numbers it answers


@dataclass(frozen=True)
class Digest:
    subject: str
    text: str
    html: str


def build_digest(s: Session, scope: ReportScope, day: dt.date) -> Digest:
    today, before = overview(s, scope, day), overview(s, scope, day - dt.timedelta(days=1))
    context = {"o": today, "changes": _changes(today, before), "problems": _problems(s, scope),
               "arrived_today": next((d.messages for d in today.intake if d.day == day), 0),
               "state_labels": STATE_LABELS}
    env = _env()
    return Digest(f"{today.campaign}报送日报（{day.isoformat()}）", env.get_template("digest.txt.j2").render(**context),
                  env.get_template("digest.html.j2").render(**context))


def _changes(today: Overview, before: Overview) -> list[Change]:
    pairs = (("已报送单位", lambda o: o.total.submitted), ("材料齐全单位", lambda o: o.total.complete),
             ("材料不全单位", lambda o: o.total.incomplete), ("推荐人选", lambda o: o.total.candidates),
             ("收到邮件", lambda o: o.messages), ("纸质材料已收到", lambda o: o.total.paper_received))
    return [Change(label, get(today), get(before)) for label, get in pairs]


def _problems(s: Session, scope: ReportScope) -> list[ReplyProblem]:
    year = scope.campaign.deadline.year
    rows = s.scalars(select(Outbox).where(Outbox.state.in_(NEEDS_A_PERSON)).order_by(Outbox.id))
    return [ReplyProblem(row.to_address, row.kind, row.state, (row.last_error or "")[:200],
                         "、".join(display_reference(year, c.message_id) for c in row.covers)) for row in rows]


@cache
def _env() -> Environment:
    return Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"), undefined=StrictUndefined,
                       autoescape=lambda name: bool(name) and name.endswith(".html.j2"), trim_blocks=True,
                       lstrip_blocks=True, keep_trailing_newline=True)
