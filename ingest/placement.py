"""Stage "place": what the message means for the campaign before any dossier is judged.

Lateness by server arrival time, the quarantine flag, and the unit the message belongs to (from the
signals in `unit_signals`, the sender's history and the organisers' `assign`). Rows only: the
quarantine move itself is a post-commit effect.

A unit is made only for a name the registry can categorise: a known unit, or a name whose form says
what it is (society or institution words, see the registry data). Any other name gives `unknown_unit`
(its subject the name written) and waits for an organiser's `assign`; a unit an organiser assigns is
made even so, with the category the config gives it ([[campaign.units]]), else "institution".
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailintake.common import findings as F
from mailintake.common.vocab import Kind
from mailintake.ingest.context import Context
from mailintake.ingest.record import finding_row
from mailintake.ingest.unit_signals import identify
from mailintake.parsers.facts import MessageFacts
from mailintake.store.models import Message, SenderUnit, Unit
from mailintake.store.queries import latest_decision


def place(s: Session, ctx: Context, msg: Message, facts: MessageFacts) -> Unit | None:
    """Set late, quarantined and unit on the message; returns its unit (None: not placed)."""
    campaign = ctx.config.campaign
    msg.late = msg.kind == Kind.SUBMISSION and msg.internaldate > campaign.deadline
    if msg.late:
        tz = campaign.tz
        _add(s, msg, F.make("late", None, received=msg.internaldate.astimezone(tz).isoformat(),
                            deadline=campaign.deadline.astimezone(tz).isoformat()))
    msg.quarantined = facts.classified
    unit = None
    if msg.duplicate_of_id:
        unit = s.get(Message, msg.duplicate_of_id).unit
    elif msg.kind == Kind.SUBMISSION:
        unit = _unit(s, ctx, msg, facts)
    msg.unit_id = unit.id if unit else None
    s.flush()
    return unit


def _add(s: Session, msg: Message, f: F.Finding) -> None:
    s.add(finding_row(f, "message", message_id=msg.id))


def _unit(s: Session, ctx: Context, msg: Message, facts: MessageFacts) -> Unit | None:
    registry = ctx.registry
    history = None
    if msg.sender:
        tied = s.get(SenderUnit, msg.sender)
        history = s.get(Unit, tied.unit_id).name if tied else None
    assigned = latest_decision(s, msg.key, ("assign",))
    guess = identify(facts, registry, history, assigned.value if assigned else None)
    msg.unit_source = guess.source
    if guess.conflict:
        _add(s, msg, guess.conflict)
    if guess.name is None:
        _add(s, msg, F.make("unknown_unit", guess.unknown))
        return None
    unit = s.scalars(select(Unit).filter_by(name=guess.name)).first()
    if unit is None:
        category = registry.category(guess.name)
        if category is None:  # only an organiser's decision gets here: identify() places no unknown name
            category = "institution"
        unit = Unit(name=guess.name, category=category, quota=registry.quotas.get(guess.name))
        s.add(unit)
        s.flush()
    if msg.sender and guess.source not in ("sender_history", None):
        tie = s.get(SenderUnit, msg.sender) or SenderUnit(sender=msg.sender, unit_id=unit.id)
        tie.unit_id = unit.id
        s.add(tie)
    return unit
