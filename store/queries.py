"""Questions about the store that more than one layer asks (the dossier, the reports, the blob effects).

Answered once here, so "which messages count for a unit" or "is this file still needed" can never be
answered two ways. Plain parameters only: `store/` imports nothing from `ingest/` or `reports/`.
"""

from __future__ import annotations

from collections.abc import Mapping

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
    return s.scalars(select(Decision).where(Decision.message_key == key, Decision.kind.in_(kinds))
                     .order_by(Decision.made_at.desc(), Decision.id.desc())).first()


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
