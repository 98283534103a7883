"""Stage "reply": decide a message's automatic reply in the transaction that records its verdict.

Runs after the dossier is recomputed, so the reply is about the dossier as it stands after the message.
The message's loop-rule verdict (`reply_block`) is recorded on every run; an outbox row is made only on
the first processing of a message (`reprocess` and organiser decisions never send) and only when no
row covers it yet: the unique `outbox_cover.message_id` makes a second cover impossible.

Settling (one reply per burst of a unit's messages) is not implemented: every message is its own burst,
as with `settle_minutes = 0`.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailintake.ingest.config import Config
from mailintake.ingest.context import Context
from mailintake.ingest.replies import content
from mailintake.ingest.replies import decide as D
from mailintake.parsers.facts import MessageFacts
from mailintake.store.models import Dossier, Message, Outbox, OutboxCover


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


def decide_reply(s: Session, ctx: Context, msg: Message, facts: MessageFacts, first: bool) -> Outbox | None:
    """Record why the message may not be answered, and when it may and is owed one, its outbox row."""
    cfg = ctx.config
    me = ours(cfg)
    msg.reply_block = D.loop_block(facts.headers, msg.sender, facts.subject, facts.kind_reason, me)
    to = D.reply_address(facts.headers, msg.sender)
    if msg.reply_block is None and to is not None:
        if to.partition("@")[0] in ("mailer-daemon", "postmaster", "noreply", "no-reply", "notification"):
            msg.reply_block = "daemon_sender"
        elif to in me.addresses:
            msg.reply_block = "own_address"
    if not first or cfg.replies.mode == "off" or msg.reply_block or to is None or msg.duplicate_of_id:
        return None
    if s.scalars(select(OutboxCover).where(OutboxCover.message_id == msg.id)).first() is not None:
        return None
    unit = msg.unit
    dossier = s.get(Dossier, unit.id) if unit else None
    kind = D.reply_kind(msg.kind, msg.quarantined, msg.late, unit is not None, dossier.status if dossier else None,
                        cfg.replies.acknowledge_enquiries)
    if kind is None:
        return None
    snap = content.snapshot(s, cfg, kind, [msg], unit, dossier, ctx.registry.reply_prefixes)
    subject, text, html = content.render(kind, snap)
    row = Outbox(rfc822_message_id=new_message_id(cfg), kind=kind, state="pending", to_address=to, subject=subject,
                 text_body=text, html_body=html, snapshot=snap, attempts=0, created_at=ctx.clock())
    row.covers.append(OutboxCover(message_id=msg.id))
    s.add(row)
    s.flush()
    return row
