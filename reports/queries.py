"""Every question the reports ask of the store, answered once (status, and later the workbook, digest,
export and web view all read through here).

Reads only. Imports from `ingest/` stop at the config types; the units expected to submit come in the
`ReportScope` the caller builds from the registry.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from mailintake.ingest.config import Campaign
from mailintake.store import queries as store_queries
from mailintake.store.models import Candidate, Dossier, Finding, Message, Outbox, OutboxCover, Unit


@dataclass(frozen=True)
class ReportScope:
    """What reports need besides the store: the campaign's rules and the district-level units expected."""

    campaign: Campaign
    expected_units: Sequence[str]


def messages(s: Session) -> list[Message]:
    """Every recorded message in arrival order, with its files and findings loaded."""
    return list(s.scalars(select(Message).options(selectinload(Message.attachments), selectinload(Message.findings))
                          .order_by(Message.internaldate, Message.id)))


def units_with_dossier(s: Session) -> list[tuple[Unit, Dossier]]:
    """Units that have a dossier, by name."""
    rows = s.execute(select(Unit, Dossier).join(Dossier, Dossier.unit_id == Unit.id).order_by(Unit.name))
    return [(unit, dossier) for unit, dossier in rows]


def quota(unit: Unit, scope: ReportScope) -> int:
    return store_queries.effective_quota(unit, scope.campaign.quotas.model_dump())


def counted_message_keys(s: Session, unit: Unit) -> list[str]:
    """The keys of the messages whose material counts for the unit (the dossier reads the same list)."""
    return [m.key for m in store_queries.counted_messages(s, unit.id)]


def unit_findings(s: Session, unit: Unit) -> list[Finding]:
    return list(s.scalars(select(Finding).where(Finding.unit_id == unit.id).order_by(Finding.id)))


def candidates(s: Session, unit: Unit) -> list[Candidate]:
    return list(s.scalars(select(Candidate).where(Candidate.unit_id == unit.id).order_by(Candidate.id)))


def missing_units(s: Session, scope: ReportScope) -> list[str]:
    """Expected district-level units with no dossier yet: the ones the organisers chase by phone."""
    seen = {unit.name for unit, _ in units_with_dossier(s)}
    return [name for name in scope.expected_units if name not in seen]


def replies_by_message(s: Session) -> dict[int, tuple[Outbox, int]]:
    """message id -> (the outbox row whose reply covers it, the reference number of the latest message it
    covers: the one it answers)."""
    out: dict[int, tuple[Outbox, int]] = {}
    rows = s.execute(select(OutboxCover, Message).join(Message, Message.id == OutboxCover.message_id)
                     .options(selectinload(OutboxCover.outbox)))
    covered: dict[int, list[Message]] = {}
    for cover, message in rows:
        covered.setdefault(cover.outbox_id, []).append(message)
        out[message.id] = (cover.outbox, 0)
    for messages in covered.values():
        latest = max(messages, key=lambda m: (m.internaldate, m.id))
        for m in messages:
            out[m.id] = (out[m.id][0], latest.id)
    return out
