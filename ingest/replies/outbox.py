"""`mailintake replies list | resend REF`: the outbox as organisers see it, and an organiser's resend."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import select

from mailintake.common.errors import UnknownMessage
from mailintake.ingest.context import Context
from mailintake.ingest.replies.decide import display_reference
from mailintake.ingest.replies.send import send_due
from mailintake.store.lock import processing_lock
from mailintake.store.models import Decision, Message, Outbox


def outbox_lines(ctx: Context) -> Iterator[str]:
    year = ctx.config.campaign.deadline.year
    with ctx.db.session() as s:
        rows = list(s.scalars(select(Outbox).order_by(Outbox.id)))
        if not rows:
            yield "the outbox is empty"
        for row in rows:
            covered = "、".join(display_reference(year, c.message_id) for c in row.covers) or "-"
            error = f"  ({row.last_error})" if row.last_error else ""
            yield (f"#{row.id} {row.state:<10} {row.kind:<18} to {row.to_address}  covers {covered}  "
                   f"{row.subject}{error}")


def resend(ctx: Context, ref: str) -> str:
    """Put one row back to pending (recorded as a decision) and run the sender; the same Message-ID goes."""
    with processing_lock(ctx.db, ctx.config.schedule.lock_wait_seconds):
        with ctx.db.session() as s:
            row = s.get(Outbox, int(ref.lstrip("#"))) if ref.lstrip("#").isdigit() else None
            if row is None:
                raise UnknownMessage(f"no outbox row {ref!r} (see `mailintake replies list`)")
            if not row.to_address:
                raise UnknownMessage(f"outbox row {ref!r} has no address left (purged): nothing to resend")
            was = row.state
            key = s.get(Message, row.covers[0].message_id).key if row.covers else ""
            s.add(Decision(kind="resend", message_key=key, value=str(row.id), made_by="cli", made_at=ctx.clock()))
            row.state, row.next_attempt_at = "pending", None
            row.last_error = f"resent by an organiser (was {was})"
            row_id = row.id
        summary = send_due(ctx)
    with ctx.db.session() as s:
        row = s.get(Outbox, row_id)
        sent = " and sent" if row_id in summary.sent else ""
        return f"outbox #{row_id}: resend recorded (was {was}){sent}; now {row.state}"
