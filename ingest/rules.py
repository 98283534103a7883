"""The campaign rules as a pure function: a unit's current material + the campaign config -> verdict.

No database here: `dossier.py` gathers the inputs and saves the result, so the rules can be read,
tested and changed on their own.

Quarantined messages bring no files into the judgement, only the names of the candidates their sealed
material concerns (`sealed_names`): a quarantined unit still says whom it is about, names only, with
no form or photo counted and no check made on them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from mailintake.common import findings as F
from mailintake.common.findings import Finding
from mailintake.common.vocab import DossierStatus, Role
from mailintake.ingest.config import Campaign

_SPACE = re.compile(r"\s+")


@dataclass
class FileRow:
    attachment_id: int
    message_key: str
    display_name: str
    role: Role
    person: str | None
    seq: int | None
    sealed: bool | None
    summary: dict | None  # {"unit": str|None, "rows": [{"name": ..., field: value}]}
    findings: list[Finding]
    sha256: str = ""
    phash: str | None = None  # photos: the perceptual hash of the picture (hex)


@dataclass
class MessageRow:
    key: str
    late_undecided: bool
    quarantined: bool
    findings: list[Finding]  # message-level: cloud_attachment, unit_conflict, late
    sealed_names: list[str] = field(default_factory=list)  # quarantined: whom its material concerns


@dataclass
class CandidateVerdict:
    name: str
    fields: dict
    id_photo: bool = False
    life_photos: int = 0
    form: bool = False
    findings: list[Finding] = field(default_factory=list)


@dataclass(frozen=True)
class Judged:
    """A finding in the dossier: its scope (unit | candidate | attachment) and, for candidates, whose."""

    scope: str
    finding: Finding
    candidate: str | None = None


@dataclass
class Verdict:
    status: DossierStatus
    late: bool
    current: list[int]  # attachment ids that make up the dossier
    candidates: list[CandidateVerdict]
    findings: list[Judged]


def judge(category: str, quota: int, files: list[FileRow], messages: list[MessageRow],
          campaign: Campaign) -> Verdict:
    """Files must come in arrival order: a later file supersedes an earlier one of the same slot."""
    current = supersede(files)
    summary = next((f for f in reversed(current) if f.role == Role.SUMMARY and f.summary), None)
    candidates = _candidates(summary, current)
    gone = _withdrawn(files, summary)
    current = [f for f in current if f.person not in gone]
    found: list[Judged] = []
    for c in candidates:
        _check_candidate(c, current, campaign)
        found += [Judged("candidate", x, c.name) for x in c.findings]
    listed = {c.name for c in candidates}
    candidates += [CandidateVerdict(n, {}) for n in dict.fromkeys(
        n for m in messages if m.quarantined for n in m.sealed_names) if n not in listed]
    found += _unit_findings(category, quota, current, summary, candidates)
    if summary is not None:
        found += _unknown_people(current, {c.name for c in candidates})
    found += [Judged("attachment", x) for f in current for x in f.findings]
    found += _reused_photos(current, campaign.photos.reuse_distance)
    found += [Judged("unit", x) for m in messages for x in m.findings if x.code == "unit_conflict"]
    late = any(m.late_undecided for m in messages)
    if late:
        found += [Judged("unit", x) for m in messages if m.late_undecided for x in m.findings if x.code == "late"]
    errors = any(j.finding.severity == F.ERROR for j in found)
    if errors:  # a link to a large attachment may hold what is missing: keep it in view
        found += [Judged("unit", x) for m in messages for x in m.findings if x.code == "cloud_attachment"]
    quarantined = any(m.quarantined for m in messages)
    if quarantined:
        status = DossierStatus.QUARANTINED
    else:
        status = DossierStatus.INCOMPLETE if errors else DossierStatus.COMPLETE
    return Verdict(status, late, [f.attachment_id for f in current], candidates, found)


def sealed_names(files: list[FileRow]) -> list[str]:
    """Whom a quarantined message's material concerns, names only: the rows of its last summary table
    that carries no secrecy marking, else the persons of its forms."""
    tables = [f for f in files if f.role == Role.SUMMARY and f.summary
              and not any(x.code == "classified_marker" for x in f.findings)]
    if tables:
        names = [r["name"] for r in tables[-1].summary["rows"]]
    else:
        names = [f.person for f in files if f.role == Role.FORM]
    return list(dict.fromkeys(n for n in names if n))


def supersede(files: list[FileRow]) -> list[FileRow]:
    """Keep a file only while no later file has claimed one of its slots (name, or candidate+role+number)."""
    relevant = [f for f in files if f.role not in (Role.ARCHIVE, Role.OTHER)]
    owner: dict[tuple, int] = {}
    for f in relevant:
        for slot in _slots(f):
            owner[slot] = f.attachment_id
    return [f for f in relevant if all(owner[slot] == f.attachment_id for slot in _slots(f))]


def _slots(f: FileRow) -> list[tuple]:
    name = _SPACE.sub("", f.display_name.rsplit("/", 1)[-1]).lower()
    slots: list[tuple] = [("name", name)]
    if f.role in (Role.SUMMARY, Role.REPORT):
        slots.append((f.role,))
    elif f.role == Role.ID_PHOTO and f.person:
        slots.append((f.person, Role.ID_PHOTO))
    elif f.person and f.seq is not None:
        slots.append((f.person, f.role, f.seq))
    return slots


def _candidates(summary: FileRow | None, current: list[FileRow]) -> list[CandidateVerdict]:
    if summary is not None:
        rows = summary.summary["rows"]
        return [CandidateVerdict(r["name"], {k: v for k, v in r.items() if k != "name"}) for r in rows if r["name"]]
    material = (Role.FORM, Role.ID_PHOTO, Role.LIFE_PHOTO)
    people = dict.fromkeys(f.person for f in current if f.person and f.role in material)
    return [CandidateVerdict(p, {}) for p in people]


def _withdrawn(files: list[FileRow], summary: FileRow | None) -> set[str]:
    """People listed in an earlier summary table but not in the latest: their material drops out."""
    if summary is None:
        return set()
    listed = {r["name"] for f in files if f.role == Role.SUMMARY and f.summary for r in f.summary["rows"]}
    return listed - {r["name"] for r in summary.summary["rows"]}


def _check_candidate(c: CandidateVerdict, current: list[FileRow], campaign: Campaign) -> None:
    mine = [f for f in current if f.person == c.name]
    c.form = any(f.role == Role.FORM for f in mine)
    c.id_photo = any(f.role == Role.ID_PHOTO for f in mine)
    c.life_photos = sum(f.role == Role.LIFE_PHOTO for f in mine)
    lo, hi = campaign.photos.life_min, campaign.photos.life_max
    if not c.form:
        c.findings.append(F.make("missing_form", c.name))
    if not c.id_photo:
        c.findings.append(F.make("missing_id_photo", c.name))
    if not lo <= c.life_photos <= hi:
        c.findings.append(F.make("photo_count", c.name, count=c.life_photos, min=lo, max=hi))
    if c.name in {_SPACE.sub("", n) for n in campaign.previously_honoured}:
        c.findings.append(F.make("previously_honoured", c.name))
    post = c.fields.get("post", "") or ""
    if any(w in post for w in campaign.ineligible_post_words):
        c.findings.append(F.make("ineligible_role", c.name, post=post))


def _unit_findings(category: str, quota: int, current: list[FileRow], summary: FileRow | None,
                   candidates: list[CandidateVerdict]) -> list[Judged]:
    out: list[Judged] = []
    if not any(f.role == Role.REPORT for f in current):
        out.append(Judged("unit", F.make("missing_report")))
    if not any(f.role == Role.SUMMARY for f in current):
        out.append(Judged("unit", F.make("missing_summary")))
    if len(candidates) > quota:
        out.append(Judged("unit", F.make("quota_exceeded", None, count=len(candidates), category=category,
                                         quota=quota)))
    return out


def _reused_photos(current: list[FileRow], distance: int) -> list[Judged]:
    """One picture sent twice among the unit's current photos (the same bytes, or perceptual hashes at most
    `distance` bits apart: a re-saved or resized copy): under two candidates, or one candidate's ID photo again
    as a life photo, or one life photo twice. A warning naming both files, each copy against the first."""
    photos = [f for f in current if f.role in (Role.ID_PHOTO, Role.LIFE_PHOTO) and f.person]
    out: list[Judged] = []
    for i, f in enumerate(photos):
        first = next((g for g in photos[:i] if _same_picture(f, g, distance)), None)
        if first is not None:
            out.append(Judged("unit", _reuse_finding(f, first)))
    return out


def _same_picture(a: FileRow, b: FileRow, distance: int) -> bool:
    if a.sha256 and a.sha256 == b.sha256:
        return True
    if not a.phash or not b.phash or len(a.phash) != len(b.phash):
        return False  # a photo recorded before hashes were kept, or one that could not be decoded
    return (int(a.phash, 16) ^ int(b.phash, 16)).bit_count() <= distance


def _reuse_finding(copy: FileRow, first: FileRow) -> Finding:
    """Said of the copy; the ID photo is always the original when it comes back as a life photo."""
    if copy.person == first.person and Role.ID_PHOTO in (copy.role, first.role):
        life, id_photo = (copy, first) if copy.role == Role.LIFE_PHOTO else (first, copy)
        return F.make("photo_reused", life.display_name, person=life.person, other=id_photo.display_name,
                      other_person=id_photo.person, id_as_life=True)
    flag = {"same_person": True} if copy.person == first.person else {}
    return F.make("photo_reused", copy.display_name, person=copy.person, other=first.display_name,
                  other_person=first.person, **flag)


def _unknown_people(current: list[FileRow], names: set[str]) -> list[Judged]:
    return [Judged("attachment", F.make("photo_unknown_person", f.display_name, person=f.person))
            for f in current if f.role in (Role.ID_PHOTO, Role.LIFE_PHOTO) and f.person and f.person not in names]
