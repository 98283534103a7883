"""Stage "reply": what a message's automatic reply will be, decided in the transaction that records its verdict.

Runs after the dossier is recomputed. The message's loop-rule verdict (`reply_block`) and reply address are
recorded on every run; a reply is owed only on the first processing of a message (`reprocess` and
organiser decisions never send). Quarantine and late notices and acknowledgements are made at once; a
receipt or deficiency waits (`awaiting_reply`) until its burst settles (`settle.close_due`), so one reply
covers the unit's several mails. A bounce of one of our replies marks that outbox row `bounced`.
"""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mailintake.ingest.config import Config
from mailintake.ingest.context import Context
from mailintake.ingest.decisions_mail import Outcome
from mailintake.ingest.replies import content
from mailintake.ingest.replies import decide as D
from mailintake.parsers.facts import MessageFacts
from mailintake.store.models import Dossier, Message, Outbox, OutboxCover

SETTLING_KINDS = frozenset({D.RECEIPT, D.DEFICIENCY})
BOUNCEABLE = frozenset({"sent", "uncertain", "sending"})


def from_address(cfg: Config) -> str:
    """The address replies come from: `smtp.from_address`, else the mailbox login when it is an address."""
    for candidate in (cfg.smtp.from_address, cfg.smtp.username, cfg.mailbox.username):
        if candidate and "@" in candidate:
            return candidate.strip()
    return "mailintake@localhost"


def ours(cfg: Config) -> D.Ours:
    sender = from_address(cfg)
    return D.Ours(D.own_addresses([sender, cfg.smtp.username, cfg.mailbox.username]), sender.rpartition("@")[2])


def new_message_id(cfg: Config) -> str:
    return f"<mailintake.{uuid.uuid4().hex}@{ours(cfg).id_domain}>"


def decide_reply(s: Session, ctx: Context, msg: Message, facts: MessageFacts, first: bool) -> None:
    """Record why the message may not be answered; when it may and is owed a reply, make it or let it settle."""
    cfg = ctx.config
    msg.reply_block, msg.reply_address = _block(facts, msg, ours(cfg)), D.reply_address(facts.headers, msg.sender)
    link_bounce(s, msg, facts)
    if not first or cfg.replies.mode == "off" or msg.reply_block or msg.reply_address is None or msg.duplicate_of_id:
        return
    if s.scalars(select(OutboxCover).where(OutboxCover.message_id == msg.id)).first() is not None:
        return
    dossier = s.get(Dossier, msg.unit_id) if msg.unit_id else None
    kind = D.reply_kind(msg.kind, msg.quarantined, msg.late, msg.unit_id is not None,
                        dossier.status if dossier else None, cfg.replies.acknowledge_enquiries)
    if kind in SETTLING_KINDS:
        msg.awaiting_reply = True
    elif kind is not None:
        make_reply(s, ctx, kind, [msg])


def make_reply(s: Session, ctx: Context, kind: str, covered: list[Message]) -> Outbox:
    """The outbox row answering `covered` (arrival order; the latest decides unit, address and threading),
    its content fixed now; held back as `suppressed` once the address has had its replies for the day."""
    cfg, latest = ctx.config, covered[-1]
    dossier = s.get(Dossier, latest.unit_id) if latest.unit_id else None
    snap = content.snapshot(s, cfg, kind, covered, latest.unit, dossier, ctx.registry.reply_prefixes)
    subject, text, html = content.render(cfg, kind, snap)
    to, day = latest.reply_address or latest.sender or "", _today(ctx)
    allowed = _replies_today(s, to, day) < cfg.replies.daily_limit
    row = Outbox(rfc822_message_id=new_message_id(cfg), kind=kind, state="pending" if allowed else "suppressed",
                 to_address=to, subject=subject, text_body=text, html_body=html, snapshot=snap, attempts=0,
                 created_at=ctx.clock(), to_day=day,
                 last_error=None if allowed else f"the daily limit of {cfg.replies.daily_limit} automatic "
                                                 "replies to this address was reached")
    row.covers.extend(OutboxCover(message_id=m.id) for m in covered)
    s.add(row)
    if not allowed and not _limit_noticed(s, to, day):
        _limit_notice(s, ctx, latest, to, day)
    s.flush()
    return row


def link_bounce(s: Session, msg: Message, facts: MessageFacts) -> None:
    """A returned reply of ours: its row becomes `bounced`, with the server's reason, linked to this message.
    The report's ids may include others' (the submission a reply answered): only our rows match."""
    bounce = facts.bounce
    if bounce is None or not bounce.original_ids or (bounce.status or "").startswith("4"):
        return  # a delay notice ("will retry") is not a bounce
    rows = s.scalars(select(Outbox).where(Outbox.rfc822_message_id.in_(list(bounce.original_ids))))
    for row in rows:
        if row.state in BOUNCEABLE or row.bounced_by_id == msg.id:
            row.state, row.bounced_by_id = "bounced", msg.id
            row.last_error = " ".join(x for x in (bounce.status, bounce.diagnostic) if x) or "returned undelivered"


def _block(facts: MessageFacts, msg: Message, me: D.Ours) -> str | None:
    block = D.loop_block(facts.headers, msg.sender, facts.subject, facts.kind_reason, me)
    to = D.reply_address(facts.headers, msg.sender)
    if block is None and to is not None:
        if to.partition("@")[0] in D.DAEMON_LOCALS:
            return "daemon_sender"
        if to in me.addresses:
            return "own_address"
    return block


def _today(ctx: Context) -> str:
    return ctx.clock().astimezone(ctx.config.campaign.tz).date().isoformat()


def _replies_today(s: Session, to: str, day: str) -> int:
    return s.scalar(select(func.count(Outbox.id)).where(
        Outbox.to_address == to, Outbox.to_day == day, Outbox.kind.in_(D.KINDS), Outbox.state != "suppressed"))


def _limit_noticed(s: Session, to: str, day: str) -> bool:
    return s.scalars(select(Outbox.id).where(Outbox.to_address == to, Outbox.to_day == day,
                                             Outbox.kind == D.LIMIT_NOTICE)).first() is not None


def _limit_notice(s: Session, ctx: Context, latest: Message, to: str, day: str) -> None:
    snap = content.limit_snapshot(ctx.config, latest)
    subject, text, html = content.render(ctx.config, D.LIMIT_NOTICE, snap)
    s.add(Outbox(rfc822_message_id=new_message_id(ctx.config), kind=D.LIMIT_NOTICE, state="pending", to_address=to,
                 subject=subject, text_body=text, html_body=html, snapshot=snap, attempts=0, created_at=ctx.clock(),
                 to_day=day))


def confirm_decisions(s: Session, ctx: Context, msg: Message, outcome: Outcome) -> None:
    """The one confirmation of a decisions mail: what changed, what was left alone, the bad rows."""
    cfg = ctx.config
    if cfg.replies.mode == "off" or msg.reply_block or not msg.reply_address:
        return
    if s.scalars(select(OutboxCover).where(OutboxCover.message_id == msg.id)).first() is not None:
        return
    snap = content.decisions_snapshot(cfg, msg, outcome.applied, outcome.unchanged, outcome.problems)
    subject, text, html = content.render(cfg, D.DECISIONS_CONFIRMATION, snap)
    row = Outbox(rfc822_message_id=new_message_id(cfg), kind=D.DECISIONS_CONFIRMATION, state="pending",
                 to_address=msg.reply_address, subject=subject, text_body=text, html_body=html, snapshot=snap,
                 attempts=0, created_at=ctx.clock(), to_day=_today(ctx))
    row.covers.append(OutboxCover(message_id=msg.id))
    s.add(row)
