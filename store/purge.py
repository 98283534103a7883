"""After the campaign: erase the stored materials and personal data no longer needed, keep the counts.

What is purged: every message that arrived strictly before the cut-off (00:00 of the given day in the
campaign timezone), unit by unit. A unit is erased only whole, when none of its mail arrived on or after
the cut-off: erasing part of a dossier still being judged would leave a verdict no file backs. A message
that no unit holds (an enquiry, a bounce, a decisions mail, one never placed) is purged on its own date.

In the database (one transaction, `purge_rows`): a purged message keeps its key, reference number, arrival
time, kind, unit, late/quarantine flags and raw sha256 (so a re-delivery of the same bytes is still known)
and loses sender, name, subject, reply address and error; its state becomes `purged`, which no stage
processes again. Its attachment rows and findings are deleted (file names, person names, summary rows and
text excerpts live there). An erased unit keeps its row, its verdict and its candidate rows, each renamed
to a stable pseudonym (人选1, 人选2… in the order they were recorded) with its summary-table fields emptied;
its findings, its sender ties and its dossier's list of current files go. An outbox row answering only
purged messages (or, answering none, made before the cut-off) keeps kind, state, dates and Message-ID and
loses address, subject, bodies, snapshot and attachments; one still `pending` becomes `failed`.

On disk (after the commit, `orphan_blobs` + `remove_blobs`): every blob in the raw, quarantine, files and
outbox areas that no remaining row references. Computed from the committed rows, so a crash between the
commit and the deletions is finished by the next run, which also removes orphans of any earlier crash.

`purge_rows` also returns the record (per unit and per category counts), taken before anything is erased.
Organisers' decisions are kept: they are the record of what was decided.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.orm import Session

from mailintake.common.vocab import MessageState
from mailintake.store.blobs import BlobStore
from mailintake.store.models import (
    Attachment,
    Candidate,
    Dossier,
    Finding,
    Message,
    Outbox,
    OutboxCover,
    SenderUnit,
    Unit,
)
from mailintake.store.queries import counted_messages

PSEUDONYM = "人选{n}"
AREAS = ("raw", "quarantine", "files", "outbox")
PURGED_UNSENT = "purged before it was sent"


@dataclass
class PurgeSummary:
    """What a purge did (or, in a dry run, would do): counts per kind of item, and the record."""

    before: dt.date
    cutoff: dt.datetime
    dry_run: bool
    messages: int = 0  # purged by this run
    already_purged: int = 0  # before the cut-off, purged by an earlier run
    kept: int = 0  # before the cut-off, kept because their unit has mail on or after it
    attachments: int = 0  # attachment rows deleted
    findings: int = 0  # findings deleted (of purged messages and erased units)
    units: int = 0  # units whose candidates, findings or ties were erased by this run
    candidates: int = 0  # candidate rows pseudonymised
    sender_ties: int = 0
    outbox: int = 0  # outbox rows blanked
    outbox_unsent: int = 0  # of which were still pending (now failed)
    outbox_ids: list[int] = field(default_factory=list)  # every blanked row, earlier runs' too (their files)
    kept_units: list[str] = field(default_factory=list)
    blobs: dict[str, int] = field(default_factory=dict)  # area -> blobs removed
    reply_files: int = 0  # outbox-NNNNNN.eml copies in replies.dir removed
    record: dict = field(default_factory=dict)
    record_path: Path | None = None  # where the record was written (None: not written, e.g. unchanged)

    @property
    def changed(self) -> bool:
        """Whether the database part changes anything (a re-run after a complete purge does not)."""
        return any((self.messages, self.attachments, self.findings, self.candidates, self.sender_ties,
                    self.outbox, self.units))

    def lines(self) -> list[str]:
        done = "would be " if self.dry_run else ""
        head = (f"purge: mail that arrived before {self.before.isoformat()} 00:00 ({self.cutoff.tzinfo})"
                + (" — dry run, nothing is written" if self.dry_run else ""))
        lines = [
            head,
            f"messages: {self.messages} {done}purged, {self.already_purged} purged earlier, {self.kept} kept "
            "(their unit has mail on or after the cut-off)",
            f"attachments: {self.attachments} {done}deleted",
            f"findings: {self.findings} {done}deleted",
            f"units: {self.units} {done}erased (verdicts and counts kept)",
            f"candidates: {self.candidates} {done}replaced by pseudonyms, summary fields emptied",
            f"sender ties: {self.sender_ties} {done}deleted",
            f"outbox: {self.outbox} {done}blanked" + (f" ({self.outbox_unsent} unsent, {done}marked failed)"
                                                      if self.outbox_unsent else ""),
        ]
        lines += [f"blobs {area}: {self.blobs.get(area, 0)} {done}removed" for area in AREAS]
        lines.append(f"cached OCR text, conversions and thumbnails: {self.blobs.get('cache', 0)} {done}removed")
        lines.append(f"reply files: {self.reply_files} {done}removed")
        units = self.record.get("units", [])
        counted = f"{len(units)} units, {sum(u['candidates'] for u in units)} candidates"
        if self.record_path is not None:
            lines.append(f"record: {self.record_path} ({counted})")
        else:
            lines.append(f"record: {'would be written' if self.dry_run else 'unchanged, not rewritten'} ({counted})")
        if self.kept_units:
            lines.append(f"kept units (mail on or after the cut-off): {'、'.join(self.kept_units)}")
        lines.append("the mailbox itself is not touched: delete the campaign's mail there as well")
        return lines


def cutoff(before: dt.date, tz: dt.tzinfo) -> dt.datetime:
    """00:00 of `before` in the campaign timezone: mail that arrived strictly before it is purged."""
    return dt.datetime.combine(before, dt.time(0), tzinfo=tz)


def purge_rows(s: Session, before: dt.date, tz: dt.tzinfo, dry_run: bool = False) -> PurgeSummary:
    """Erase in the caller's transaction (flushed, not committed); the record is taken first."""
    cut = cutoff(before, tz)
    summary = PurgeSummary(before, cut, dry_run)
    active = select(Message.unit_id).where(Message.internaldate >= cut, Message.unit_id.is_not(None))
    in_scope = and_(Message.internaldate < cut, or_(Message.unit_id.is_(None), Message.unit_id.not_in(active)))
    units = list(s.scalars(select(Unit).where(Unit.id.not_in(active)).order_by(Unit.category, Unit.name)))
    summary.kept_units = list(s.scalars(select(Unit.name).where(Unit.id.in_(active)).order_by(Unit.name)))
    summary.record = _record(s, summary, units, in_scope)
    summary.kept = _count(s, and_(Message.internaldate < cut, Message.unit_id.in_(active)))
    summary.already_purged = _count(s, and_(in_scope, Message.state == MessageState.PURGED))

    ids = select(Message.id).where(in_scope)
    summary.findings += _delete(s, delete(Finding).where(Finding.message_id.in_(ids)))
    summary.attachments = _delete(s, delete(Attachment).where(Attachment.message_id.in_(ids)))
    summary.messages = s.execute(
        update(Message).where(in_scope, Message.state != MessageState.PURGED)
        .values(state=MessageState.PURGED, sender=None, sender_name=None, subject=None, reply_address=None,
                error=None, awaiting_reply=False)
        .execution_options(synchronize_session=False)).rowcount or 0

    erased = select(Unit.id).where(Unit.id.not_in(active))
    touched = set(s.scalars(select(Finding.unit_id).where(Finding.unit_id.in_(erased))))
    touched |= set(s.scalars(select(SenderUnit.unit_id).where(SenderUnit.unit_id.in_(erased))))
    summary.findings += _delete(s, delete(Finding).where(Finding.unit_id.in_(erased)))
    summary.sender_ties = _delete(s, delete(SenderUnit).where(SenderUnit.unit_id.in_(erased)))
    touched |= {u.id for u in units if _pseudonymise(s, u.id, summary)}
    for d in s.scalars(select(Dossier).where(Dossier.unit_id.in_(erased))):
        if d.current_files:
            d.current_files = []
            touched.add(d.unit_id)
    summary.units = len(touched)
    _blank_outbox(s, cut, summary)
    s.flush()
    return summary


def _count(s: Session, where) -> int:
    return s.scalar(select(func.count(Message.id)).where(where)) or 0


def _delete(s: Session, statement) -> int:
    return s.execute(statement.execution_options(synchronize_session=False)).rowcount or 0


def _pseudonymise(s: Session, unit_id: int, summary: PurgeSummary) -> bool:
    """人选1, 人选2… in recording order; two steps so no new name collides with an old one on the way."""
    rows = list(s.scalars(select(Candidate).where(Candidate.unit_id == unit_id).order_by(Candidate.id)))
    wanted = {c.id: PSEUDONYM.format(n=n) for n, c in enumerate(rows, 1)}
    changing = [c for c in rows if c.name != wanted[c.id] or c.fields]
    if not changing:
        return False
    for c in changing:
        c.name = f"~{c.id}"
    s.flush()
    for c in changing:
        c.name, c.fields = wanted[c.id], {}
    s.flush()
    summary.candidates += len(changing)
    return True


def _blank_outbox(s: Session, cut: dt.datetime, summary: PurgeSummary) -> None:
    """Rows answering only purged messages, and rows answering none made before the cut-off."""
    kept_cover = (select(OutboxCover.outbox_id).join(Message, Message.id == OutboxCover.message_id)
                  .where(Message.state != MessageState.PURGED))
    rows = s.scalars(select(Outbox).where(Outbox.id.not_in(kept_cover), or_(
        Outbox.id.in_(select(OutboxCover.outbox_id)), Outbox.created_at < cut)).order_by(Outbox.id))
    for row in rows:
        summary.outbox_ids.append(row.id)
        unsent = row.state == "pending"
        error = PURGED_UNSENT if unsent or row.last_error == PURGED_UNSENT else None
        blank = {"to_address": "", "subject": "", "text_body": "", "html_body": "", "snapshot": {},
                 "attachments": None, "last_error": error}
        if not unsent and all(getattr(row, k) == v for k, v in blank.items()):
            continue
        for k, v in blank.items():
            setattr(row, k, v)
        if unsent:
            row.state, row.next_attempt_at = "failed", None
            summary.outbox_unsent += 1
        summary.outbox += 1


def _record(s: Session, summary: PurgeSummary, units: list[Unit], in_scope) -> dict:
    """Per unit (name, category, verdict, candidates, messages) and per category: the campaign in numbers."""
    per_unit = []
    for unit in units:
        dossier = s.get(Dossier, unit.id)
        received = s.scalar(select(func.count(Message.id)).where(Message.unit_id == unit.id)) or 0
        per_unit.append({
            "name": unit.name, "category": unit.category,
            "status": dossier.status if dossier else None, "late": bool(dossier and dossier.late),
            "candidates": s.scalar(select(func.count(Candidate.id)).where(Candidate.unit_id == unit.id)) or 0,
            "messages": len(counted_messages(s, unit.id)), "received": received,
        })
    per_category: dict[str, dict] = {}
    for u in per_unit:
        c = per_category.setdefault(u["category"], {"units": 0, "candidates": 0, "messages": 0, "status": {}})
        c["units"] += 1
        c["candidates"] += u["candidates"]
        c["messages"] += u["messages"]
        c["status"][u["status"] or "none"] = c["status"].get(u["status"] or "none", 0) + 1
    kinds = Counter(k or "unprocessed" for k in s.scalars(select(Message.kind).where(in_scope)))
    return {"before": summary.before.isoformat(), "cutoff": summary.cutoff.isoformat(),
            "units": per_unit, "categories": per_category, "messages_by_kind": dict(sorted(kinds.items())),
            "kept_units": summary.kept_units}


def orphan_blobs(s: Session, blobs: BlobStore) -> dict[str, set[str]]:
    """Per area, the blobs no remaining row references: raw bytes of no unpurged message, files of no
    attachment row, outbox files of no outbox row. The caller holds the processing lock (nothing in flight)."""
    raw = set(s.scalars(select(Message.sha256).where(Message.state != MessageState.PURGED)))
    files = set(s.scalars(select(Attachment.sha256)))
    outbox = {a["sha256"] for listed in s.scalars(select(Outbox.attachments)) if listed for a in listed}
    return {"raw": blobs.listing("raw") - raw, "quarantine": blobs.listing("quarantine") - raw,
            "files": blobs.listing("files") - files, "outbox": blobs.listing("outbox") - outbox}


def remove_blobs(blobs: BlobStore, orphans: dict[str, set[str]]) -> None:
    for area, shas in orphans.items():
        for sha in sorted(shas):
            blobs.delete(area, sha)


def prune_caches(blobs: BlobStore, kept: set[str], dry_run: bool = False) -> int:
    """Derived files under `<root>/cache` (OCR text, LibreOffice's conversions, thumbnails) named by the sha256
    of a file not `kept`: they hold what the file said (names read from a scanned form, a converted form
    whole), so they go with it. Returns how many."""
    cache, removed = blobs.root / "cache", 0
    if not cache.is_dir():
        return 0
    for path in cache.rglob("*"):
        sha = path.name[:64]
        if path.is_file() and len(sha) == 64 and sha not in kept:
            if not dry_run:
                path.unlink(missing_ok=True)
            removed += 1
    return removed
