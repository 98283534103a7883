"""`mailintake report`: the day's workbook and decisions form on disk, and with `--send` the morning digest
through the outbox (one row per organiser address, the two workbooks attached). `--daily` sends at most
once per report date however often it runs: the service's morning job uses it."""

from __future__ import annotations

import datetime as dt
import io
import os
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from mailintake.common import decision_form
from mailintake.common.errors import ConfigError
from mailintake.ingest.context import Context
from mailintake.ingest.replies.send import send_pass
from mailintake.ingest.replies.stage import new_message_id
from mailintake.reports.decisions_form import build_decision_form
from mailintake.reports.digest import build_digest
from mailintake.reports.workbook import build_workbook
from mailintake.store.lock import sender_lock
from mailintake.store.models import Outbox

DIGEST = "digest"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass
class ReportResult:
    workbook: Path
    decisions: Path
    queued: list[int] = field(default_factory=list)  # digest outbox rows made
    sent: list[int] = field(default_factory=list)
    already_sent: bool = False


def workbook_name(day: dt.date) -> str:
    return f"报送情况-{day.isoformat()}.xlsx"


def make_report(ctx: Context, day: dt.date, out: Path | None = None, send: bool = False,
                daily: bool = False) -> ReportResult:
    folder = ctx.config.resolve(ctx.config.reports.dir)
    target = out or folder / workbook_name(day)
    with ctx.db.session() as s:
        book, form = _xlsx(build_workbook(s, ctx.scope, day)), _xlsx(build_decision_form(s, ctx.scope))
    result = ReportResult(_write(target, book), _write(target.with_name(f"决定-{day.isoformat()}.xlsx"), form))
    if send:
        recipients = ctx.config.reports.recipients
        if not recipients:
            raise ConfigError("report --send: reports.recipients names no organiser address")
        # the sender's lock makes "not yet sent today" and the queueing one step against any other digest run
        with sender_lock(ctx.db, ctx.config.schedule.lock_wait_seconds):
            result.already_sent = daily and _sent_for(ctx, day)
            if not result.already_sent:
                result.queued = _queue(ctx, day, recipients, {target.name: book, decision_form.FILE_NAME: form})
            result.sent = [i for i in send_pass(ctx).sent if i in result.queued]
    return result


def _queue(ctx: Context, day: dt.date, recipients: list[str], files: dict[str, bytes]) -> list[int]:
    attached = [{"name": name, "sha256": ctx.blobs.put("outbox", data), "content_type": XLSX}
                for name, data in files.items()]
    with ctx.db.session() as s:
        digest = build_digest(s, ctx.scope, day)
        rows = [Outbox(rfc822_message_id=new_message_id(ctx.config), kind=DIGEST, state="pending", to_address=to,
                       subject=digest.subject, text_body=digest.text, html_body=digest.html,
                       snapshot={"day": day.isoformat()}, attachments=attached, attempts=0, created_at=ctx.clock(),
                       to_day=day.isoformat()) for to in recipients]
        s.add_all(rows)
        s.flush()
        return [r.id for r in rows]


def _sent_for(ctx: Context, day: dt.date) -> bool:
    with ctx.db.session() as s:
        return s.scalars(select(Outbox.id).where(Outbox.kind == DIGEST, Outbox.to_day == day.isoformat())).first() \
            is not None


def _xlsx(book) -> bytes:
    data = io.BytesIO()
    book.save(data)
    return data.getvalue()


def _write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return path
