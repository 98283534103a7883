"""Questions about the store that more than one layer asks (the dossier, the reports, the blob effects).

Answered once here, so "which messages count for a unit" or "is this file still needed" can never be
answered two ways. Plain parameters only: `store/` imports nothing from `ingest/` or `reports/`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailintake.common.vocab import Kind
from mailintake.store.models import Attachment, Decision, Message, Unit

LATE_DECISIONS = ("accept_late", "reject_late")


def counted_messages(s: Session, unit_id: int) -> list[Message]:
    """A unit's submissions that count (not re-deliveries), in arrival order."""
    return list(s.scalars(
        select(Message).where(Message.unit_id == unit_id, Message.kind == Kind.SUBMISSION,
                              Message.duplicate_of_id.is_(None)).order_by(Message.internaldate, Message.id)))


def effective_quota(unit: Unit, quotas: Mapping[str, int]) -> int:
    """The unit's own quota when the config sets one, else its category's."""
    return unit.quota if unit.quota is not None else quotas[unit.category]


def latest_decision(s: Session, key: str, kinds: tuple[str, ...]) -> Decision | None:
    """The organisers' latest decision of these kinds about a message (the latest wins)."""
    return _latest(s.scalars(select(Decision).where(Decision.message_key == key, Decision.kind.in_(kinds))))


def latest_unit_decision(s: Session, unit_name: str, kinds: tuple[str, ...]) -> Decision | None:
    """The organisers' latest decision of these kinds about a unit (e.g. its paper copy received)."""
    return _latest(s.scalars(select(Decision).where(Decision.unit_name == unit_name, Decision.kind.in_(kinds))))


def decision_day(d: Decision) -> dt.date:
    """The day a decision counts from: the one the organiser gave, else the day it was recorded (UTC)."""
    return d.decided_on or d.made_at.date()


def _latest(decisions: Iterable[Decision]) -> Decision | None:
    """By the day it was decided, then by when it was recorded: an old copy sent back stays older."""
    return max(decisions, key=lambda d: (decision_day(d), d.made_at, d.id), default=None)


def raw_area(s: Session, sha256: str) -> str:
    """Where a raw message's bytes belong: in quarantine only when every copy of them is quarantined."""
    open_copy = s.scalars(select(Message.id).where(Message.sha256 == sha256, Message.quarantined.is_(False))).first()
    return "raw" if open_copy is not None else "quarantine"


def file_needed(s: Session, sha256: str) -> bool:
    """An extracted file is kept while an unquarantined message still lists it."""
    return s.scalars(select(Attachment.id).join(Message).where(
        Attachment.sha256 == sha256, Message.quarantined.is_(False))).first() is not None


def referenced_files(s: Session) -> set[str]:
    return set(s.scalars(select(Attachment.sha256).join(Message).where(Message.quarantined.is_(False))))
