"""Every question the reports ask of the store, answered once (status, and later the workbook, digest,
export and web view all read through here).

Reads only. Imports from `ingest/` stop at the config types; the units expected to submit come in the
`ReportScope` the caller builds from the registry.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from mailintake.common.findings import Finding as Said
from mailintake.common.findings import Severity
from mailintake.common.vocab import PHOTO_ROLES, DossierStatus, Kind, MessageState, Scope
from mailintake.ingest.config import Campaign
from mailintake.store import queries as store_queries
from mailintake.store.models import (
    Attachment,
    Candidate,
    Decision,
    Dossier,
    Finding,
    Message,
    Outbox,
    OutboxCover,
    Unit,
)


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


# ---------------------------------------------------------------------------------------------------------
# The intake as of the end of one day: what the daily workbook, the morning digest and the web view read.
# Everything is read in a handful of queries (no query per unit), so a campaign of 500 units stays quick.

MESSAGE_DECISIONS = ("assign", "accept_late", "reject_late")
# message findings a dossier takes over while they are open (`ingest/rules.py`): the dossier says whether
# they still are, so the message's own copy is not listed a second time
DOSSIER_COPIES = frozenset({"late", "unit_conflict", "cloud_attachment"})
NOT_RECEIVED = frozenset({"", "no", "false", "否", "未收到"})


def day_end(scope: ReportScope, day: dt.date) -> dt.datetime:
    """The first instant after `day` in the campaign timezone: whatever arrived before it counts as of `day`."""
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=scope.campaign.tz)


@dataclass(frozen=True)
class DecisionNote:
    """An organiser's decision as the reports show it, dated by the day the organiser says it was made."""

    kind: str
    message_key: str | None  # what a message decision touches
    unit_name: str | None  # what a unit decision touches
    value: str | None
    on: dt.date  # `decided_on`, else the day it was recorded (`store.queries.decision_day`)
    made_by: str
    made_at: dt.datetime
    id: int

    @property
    def order(self) -> tuple[dt.date, dt.datetime, int]:
        """The latest decision about one thing wins: by (decided_on, made_at, id), as `store.queries` orders them."""
        return (self.on, self.made_at, self.id)


@dataclass(frozen=True)
class UnitReport:
    """One unit with a dossier as of the day: its verdict and the messages that count for it by then.

    The dossier is the unit's latest verdict; the messages, first/last arrival and senders stop at the day.
    """

    unit: Unit
    dossier: Dossier
    quota: int
    messages: tuple[Message, ...]  # counted (submissions, not re-deliveries), arrived before the day ended
    candidates: tuple[Candidate, ...]
    findings: tuple[Finding, ...]  # the dossier's findings (unit, candidate and current files)
    paper_received: dt.date | None  # the day its paper copy arrived, from the organisers' decisions

    @property
    def first_arrival(self) -> dt.datetime:
        return self.messages[0].internaldate

    @property
    def last_arrival(self) -> dt.datetime:
        return self.messages[-1].internaldate

    @property
    def senders(self) -> tuple[tuple[str, str | None], ...]:
        """(address, display name) of everyone who sent for the unit, first-seen order, each address once."""
        seen: dict[str, str | None] = {}
        for m in self.messages:
            if m.sender and m.sender.lower() not in seen:
                seen[m.sender.lower()] = m.sender_name
        return tuple(seen.items())


@dataclass(frozen=True)
class OpenFinding:
    """A finding that still stands: a dossier finding of a unit, or a message-level finding of a message."""

    finding: Finding
    unit: Unit | None
    candidate: str | None
    message: Message | None  # the message it is about, when it is about one

    @property
    def detail(self) -> str:
        """The sentence the submitter was sent (rendered from the stored parameters)."""
        return render_detail(self.finding)

    @property
    def severity(self) -> str:
        return self.finding.severity

    @property
    def is_cloud(self) -> bool:
        """Large-attachment and cloud links lapse: the organisers must fetch them before they expire."""
        return "cloud" in self.finding.code

    @property
    def expiries(self) -> tuple[tuple[str, str], ...]:
        """(host, expiry date as written in the mail) for each link the finding names."""
        raw = (self.finding.params or {}).get("expiries") or []
        return tuple((str(pair[0]), str(pair[1])) for pair in raw if isinstance(pair, list | tuple) and len(pair) == 2)


@dataclass(frozen=True)
class CrossUnitWarning:
    """Something only visible across units: one photo sent by two units, or one address sending for two."""

    kind: str  # shared_photo | shared_sender
    units: tuple[str, ...]
    subject: str  # the photo's file names, or the sender address
    messages: tuple[Message, ...]
    sha256: str | None = None  # shared_photo: the bytes all copies share; None when some copy was re-saved

    @property
    def detail(self) -> str:
        units = "、".join(self.units)
        if self.kind == "shared_photo" and self.sha256:
            return (f"照片“{self.subject}”（SHA-256 {self.sha256[:8]}）同时出现在{units}的材料中，"
                    "请核实是否误用了其他单位或其他人选的照片。")
        if self.kind == "shared_photo":
            return (f"照片“{self.subject}”是同一张照片（另存或缩放过），同时出现在{units}的材料中，"
                    "请核实是否误用了其他单位或其他人选的照片。")
        return f"发件地址{self.subject}先后为{units}报送材料，请核实这些邮件的推荐单位。"


@dataclass(frozen=True)
class ReusedPhoto:
    """One picture in the counted material of two units: the same bytes, or a copy re-saved or resized (their
    perceptual hashes at most `campaign.photos.reuse_distance` bits apart). No dossier can see it: each is
    judged on its own unit's files only."""

    unit: str
    file: str  # the attachment's display name
    message: Message
    other_unit: str
    other_file: str
    other_message: Message
    distance: int  # bits the two hashes differ in; 0 for the same bytes
    attachment_id: int = 0
    other_attachment_id: int = 0


@dataclass(frozen=True)
class DaySnapshot:
    """Everything the reports say about the intake as of the end of `day` (campaign timezone), read once."""

    scope: ReportScope
    day: dt.date
    until: dt.datetime  # exclusive: messages that arrived at or after it are not counted
    messages: tuple[Message, ...]  # every message that arrived before `until`, in arrival order
    units: tuple[UnitReport, ...]  # units with a dossier and a counted message by then, by name
    missing_units: tuple[str, ...]  # expected district-level units with nothing counted by then
    replies: Mapping[int, tuple[Outbox, int]]  # message id -> its covering reply (see `replies_by_message`)
    uncovered_outbox: tuple[Outbox, ...]  # rows that answer no message (limit notices), made before `until`
    message_decisions: Mapping[str, tuple[DecisionNote, ...]]  # message key -> latest decision of each kind
    paper_received: Mapping[str, dt.date]  # unit name -> its paper copy's day, units without mail included
    findings: tuple[OpenFinding, ...]  # cloud links first, then errors, then warnings
    cross_unit: tuple[CrossUnitWarning, ...]


def snapshot(s: Session, scope: ReportScope, day: dt.date) -> DaySnapshot:
    """The intake as of the end of `day`: messages after it are not counted; decisions dated after it neither."""
    until = day_end(scope, day)
    msgs = messages_until(s, until)
    notes = decision_notes(s, day)
    units = unit_reports(s, scope, msgs, notes)
    replies = replies_by_message(s)
    return DaySnapshot(
        scope=scope, day=day, until=until, messages=tuple(msgs), units=tuple(units),
        missing_units=tuple(n for n in scope.expected_units if n not in {u.unit.name for u in units}),
        replies=replies, uncovered_outbox=tuple(uncovered_outbox(s, until)),
        message_decisions=latest_message_decisions(notes), paper_received=_paper(notes),
        findings=tuple(open_findings(units, msgs)),
        cross_unit=tuple(cross_unit_warnings(msgs, scope.campaign.photos.reuse_distance)),
    )


def messages_until(s: Session, until: dt.datetime) -> list[Message]:
    """Every message that arrived before `until`, in arrival order, with its files, findings and unit loaded."""
    return list(s.scalars(select(Message).where(Message.internaldate < until)
                          .options(selectinload(Message.attachments), selectinload(Message.findings),
                                   selectinload(Message.unit))
                          .order_by(Message.internaldate, Message.id)))


def counts_for_unit(m: Message) -> bool:
    """The rule of `store.queries.counted_messages`, for messages already loaded: a submission placed with
    a unit that is not a re-delivery."""
    return m.unit_id is not None and m.kind == Kind.SUBMISSION and m.duplicate_of_id is None


def decision_notes(s: Session, day: dt.date) -> list[DecisionNote]:
    """Every decision dated on or before `day` (`store.queries.decision_day`: decided_on, else the day recorded)."""
    notes = [DecisionNote(d.kind, d.message_key, d.unit_name, d.value, store_queries.decision_day(d), d.made_by,
                          d.made_at, d.id) for d in s.scalars(select(Decision).order_by(Decision.id))]
    return [n for n in notes if n.on <= day]


def paper_received(s: Session, day: dt.date) -> dict[str, dt.date]:
    """unit name -> the day its paper copy arrived, for units whose latest `paper_received` decision says so."""
    return _paper(decision_notes(s, day))


def _paper(notes: Sequence[DecisionNote]) -> dict[str, dt.date]:
    latest: dict[str, DecisionNote] = {}
    for n in notes:
        name = n.unit_name
        if n.kind == "paper_received" and name and (name not in latest or n.order > latest[name].order):
            latest[name] = n
    out: dict[str, dt.date] = {}
    for name, n in latest.items():
        value = (n.value or "").strip()
        if value.lower() in NOT_RECEIVED:
            continue
        try:
            out[name] = dt.date.fromisoformat(value)
        except ValueError:
            out[name] = n.on  # "yes" or a note: received, on the day the decision was made
    return out


def latest_message_decisions(notes: Sequence[DecisionNote]) -> dict[str, tuple[DecisionNote, ...]]:
    """message key -> its latest assignment and its latest late decision (accept and reject are one choice)."""
    latest: dict[tuple[str, str], DecisionNote] = {}
    for n in notes:
        if n.kind in MESSAGE_DECISIONS and n.message_key:
            slot = (n.message_key, "assign" if n.kind == "assign" else "late")
            if slot not in latest or n.order > latest[slot].order:
                latest[slot] = n
    out: dict[str, list[DecisionNote]] = {}
    for (key, _), n in sorted(latest.items(), key=lambda item: item[1].order):
        out.setdefault(key, []).append(n)
    return {key: tuple(found) for key, found in out.items()}


def unit_reports(s: Session, scope: ReportScope, msgs: Sequence[Message],
                 notes: Sequence[DecisionNote]) -> list[UnitReport]:
    """Units with a dossier and at least one counted message among `msgs`, by name."""
    counted: dict[int, list[Message]] = {}
    for m in msgs:
        if counts_for_unit(m):
            counted.setdefault(m.unit_id, []).append(m)
    pairs = [(u, d) for u, d in units_with_dossier(s) if u.id in counted]
    ids = [u.id for u, _ in pairs]
    people: dict[int, list[Candidate]] = {}
    for c in s.scalars(select(Candidate).where(Candidate.unit_id.in_(ids)).order_by(Candidate.id)):
        people.setdefault(c.unit_id, []).append(c)
    found: dict[int, list[Finding]] = {}
    for f in s.scalars(select(Finding).where(Finding.unit_id.in_(ids)).order_by(Finding.id)):
        found.setdefault(f.unit_id, []).append(f)
    paper = _paper(notes)
    return [UnitReport(u, d, quota(u, scope), tuple(counted[u.id]), tuple(people.get(u.id, ())),
                       tuple(found.get(u.id, ())), paper.get(u.name)) for u, d in pairs]


def uncovered_outbox(s: Session, until: dt.datetime) -> list[Outbox]:
    """Outbox rows that answer no one message (limit notices), made before `until`."""
    covered = select(OutboxCover.outbox_id)
    return list(s.scalars(select(Outbox).where(Outbox.id.not_in(covered), Outbox.created_at < until)
                          .order_by(Outbox.id)))


def render_detail(f: Finding) -> str:
    """A stored finding's sentence, rendered from its parameters (rows before schema 0002 kept theirs)."""
    return Said(f.code, f.subject, f.params or {}, legacy_detail=f.detail if f.params is None else None).detail


def open_findings(units: Sequence[UnitReport], msgs: Sequence[Message]) -> list[OpenFinding]:
    """The dossier findings of the units, the message-level findings of the messages that the dossiers do not
    already carry, and the secrecy markings that quarantined a message (its files never reach the dossier, so
    the marking is the only finding that says why); cloud links first (they lapse, soonest first), then
    errors, then warnings."""
    out: list[OpenFinding] = []
    for u in units:
        names = {c.id: c.name for c in u.candidates}
        for f in u.findings:
            source = _source_message(f, u.messages) if f.code in DOSSIER_COPIES else None
            out.append(OpenFinding(f, u.unit, names.get(f.candidate_id) if f.candidate_id else None, source))
    for m in msgs:
        for f in m.findings:
            if (f.scope == Scope.MESSAGE and not (counts_for_unit(m) and f.code in DOSSIER_COPIES)) \
                    or (m.quarantined and f.code == "classified_marker"):
                out.append(OpenFinding(f, m.unit, None, m))
    return sorted(out, key=_finding_order)


def _source_message(f: Finding, msgs: Sequence[Message]) -> Message | None:
    """The message whose own finding the dossier took over (same code and parameters)."""
    return next((m for m in msgs for x in m.findings
                 if x.scope == Scope.MESSAGE and x.code == f.code and (x.params or {}) == (f.params or {})), None)


def _finding_order(o: OpenFinding) -> tuple:
    first_expiry = min((e for _, e in o.expiries), default="")
    rank = 0 if o.is_cloud else (1 if o.severity == Severity.ERROR else 2)
    return (rank, first_expiry, o.unit is None, o.unit.name if o.unit else "", o.candidate or "", o.finding.id)


def reused_across_units(s: Session, scope: ReportScope) -> list[ReusedPhoto]:
    """Every pair of photos that is one picture sent by two units, over all counted messages."""
    return reused_photos(messages(s), scope.campaign.photos.reuse_distance)


def reused_photos(msgs: Sequence[Message], distance: int) -> list[ReusedPhoto]:
    """Pairs of photos (a photo role) in the counted messages of two different units that are one picture: the
    same sha256, or perceptual hashes at most `distance` bits apart. Each pair once, the earlier file first."""
    photos = [(m, a) for m in msgs if counts_for_unit(m) and m.unit is not None
              for a in m.attachments if a.role in PHOTO_ROLES]
    out: list[ReusedPhoto] = []
    for i, j, bits in _near_pairs(photos, distance):
        (m, a), (n, b) = photos[i], photos[j]
        if m.unit.name != n.unit.name:
            out.append(ReusedPhoto(m.unit.name, a.display_name, m, n.unit.name, b.display_name, n, bits, a.id, b.id))
    return out


def _near_pairs(photos: Sequence[tuple[Message, Attachment]], distance: int) -> list[tuple[int, int, int]]:
    """(i, j, bits) for i < j whose bytes match (bits 0) or whose hashes are within `distance` bits. Each hash is
    cut into 64-bit words, one numpy column per word, and each photo is compared with all later ones at once:
    10,000 photos (50 million pairs) take about a second (bench/photo_checks.py), memory stays a few rows.
    numpy is imported here: a polling service that builds no report should not hold it."""
    import numpy as np

    pairs: dict[tuple[int, int], int] = {}
    by_sha: dict[str, list[int]] = {}
    for k, (_, a) in enumerate(photos):
        by_sha.setdefault(a.sha256, []).append(k)
    for same in by_sha.values():
        pairs.update(((i, j), 0) for x, i in enumerate(same) for j in same[x + 1:])
    hashed = [k for k, (_, a) in enumerate(photos) if a.phash and len(a.phash) % 16 == 0]
    for size in {len(photos[k][1].phash) for k in hashed}:
        index = [k for k in hashed if len(photos[k][1].phash) == size]
        columns = [np.array([int(photos[k][1].phash[w:w + 16], 16) for k in index], dtype=np.uint64)
                   for w in range(0, size, 16)]
        for row in range(len(index) - 1):
            bits = np.zeros(len(index) - row - 1, dtype=np.uint16)
            for column in columns:
                bits += np.bitwise_count(column[row + 1:] ^ column[row])
            for col in np.flatnonzero(bits <= distance):
                pairs.setdefault((index[row], index[row + 1 + int(col)]), int(bits[col]))
    return sorted((i, j, bits) for (i, j), bits in pairs.items())


def cross_unit_warnings(msgs: Sequence[Message], distance: int) -> list[CrossUnitWarning]:
    """Warnings no one dossier can see: one picture (`reused_photos`) in the counted messages of two units, each
    group of copies once, and one sender address whose counted messages went to two units."""
    counted = [m for m in msgs if counts_for_unit(m)]
    senders: dict[str, list[Message]] = {}
    for m in counted:
        if m.sender:
            senders.setdefault(m.sender.lower(), []).append(m)
    out = [_shared_photo(group) for group in _groups(reused_photos(msgs, distance))]
    for address, sent in senders.items():
        units = _unit_names(sent)
        if len(units) > 1:
            out.append(CrossUnitWarning("shared_sender", units, address, tuple(sent)))
    return out


def _groups(pairs: Sequence[ReusedPhoto]) -> list[list[tuple[int, Message, str, str]]]:
    """The copies of each picture, (attachment id, message, file, unit): photos any chain of pairs joins."""
    parent: dict[int, int] = {}

    def root(k: int) -> int:
        while parent.setdefault(k, k) != k:
            k = parent[k]
        return k

    copies: dict[int, tuple[int, Message, str, str]] = {}
    for p in pairs:
        copies.setdefault(p.attachment_id, (p.attachment_id, p.message, p.file, p.unit))
        copies.setdefault(p.other_attachment_id, (p.other_attachment_id, p.other_message, p.other_file, p.other_unit))
        parent[root(p.other_attachment_id)] = root(p.attachment_id)
    groups: dict[int, list[tuple[int, Message, str, str]]] = {}
    for k, copy in copies.items():
        groups.setdefault(root(k), []).append(copy)
    return list(groups.values())


def _shared_photo(group: Sequence[tuple[int, Message, str, str]]) -> CrossUnitWarning:
    names = "、".join(dict.fromkeys(f.rsplit("/", 1)[-1] for _, _, f, _ in group))
    ids = {k for k, _, _, _ in group}
    shas = {a.sha256 for _, m, _, _ in group for a in m.attachments if a.id in ids}
    msgs = tuple(dict.fromkeys(m for _, m, _, _ in sorted(group, key=lambda c: (c[1].internaldate, c[1].id))))
    return CrossUnitWarning("shared_photo", tuple(sorted({u for _, _, _, u in group})), names, msgs,
                            next(iter(shas)) if len(shas) == 1 else None)


def _unit_names(msgs: Iterable[Message]) -> tuple[str, ...]:
    return tuple(sorted({m.unit.name for m in msgs if m.unit is not None}))


# ---------------------------------------------------------------------------------------------------------
# The organisers' web view: one file by its database id (never by a name) and whether it may be shown.


@dataclass(frozen=True)
class StoredFile:
    """One attachment with what decides whether it may be shown: its message and its unit's verdict."""

    attachment: Attachment
    message: Message
    unit: Unit | None
    dossier_status: str | None  # the unit's verdict; None for a message placed with no unit

    @property
    def withheld(self) -> bool:
        """Quarantined material is never shown, nor is anything of a quarantined unit (as the export leaves the
        whole unit out); a purged message has no files left."""
        return (self.message.quarantined or self.message.state == MessageState.PURGED
                or self.dossier_status == DossierStatus.QUARANTINED)


def stored_file(s: Session, attachment_id: int) -> StoredFile | None:
    """The attachment with this id, its message, unit and the unit's verdict; None when there is no such row."""
    row = s.execute(select(Attachment, Message).join(Message, Message.id == Attachment.message_id)
                    .where(Attachment.id == attachment_id)).first()
    if row is None:
        return None
    attachment, message = row
    unit = s.get(Unit, message.unit_id) if message.unit_id is not None else None
    dossier = s.get(Dossier, unit.id) if unit is not None else None
    return StoredFile(attachment, message, unit, dossier.status if dossier else None)
