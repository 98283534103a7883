"""The closed sets the whole pipeline speaks in: kinds of mail, roles of files, states and categories.

StrEnums, so a value is its own stable string in the database and in `status --json`, and a typo is an
AttributeError where it is written instead of a silent mismatch.
"""

from __future__ import annotations

import re
from enum import StrEnum


class Kind(StrEnum):
    """What a message is. Only a submission's material counts for a unit."""

    SUBMISSION = "submission"
    AUTO_REPLY = "auto_reply"
    BOUNCE = "bounce"
    OTHER = "other"  # an enquiry or anything without material
    DECISIONS = "decisions"  # an organiser's decisions workbook sent back (ingest/decisions_mail.py)


class Role(StrEnum):
    """What a file is taken for in a unit's dossier."""

    REPORT = "report"
    FORM = "form"
    SUMMARY = "summary"
    ID_PHOTO = "id_photo"
    LIFE_PHOTO = "life_photo"
    ARCHIVE = "archive"
    OTHER = "other"


PHOTO_ROLES = frozenset({Role.ID_PHOTO, Role.LIFE_PHOTO})


class MessageState(StrEnum):
    STORED = "stored"  # raw bytes durable, not yet processed
    PROCESSED = "processed"
    FAILED = "failed"  # set aside with its error; `reprocess` retries it
    PURGED = "purged"  # personal data and raw bytes removed after the campaign (`purge`); never processed again


class DossierStatus(StrEnum):
    COMPLETE = "complete"
    INCOMPLETE = "incomplete"
    QUARANTINED = "quarantined"


class Category(StrEnum):
    DISTRICT = "district"
    SOCIETY = "society"
    INSTITUTION = "institution"


class Scope(StrEnum):
    """What a finding is about."""

    MESSAGE = "message"
    ATTACHMENT = "attachment"
    CANDIDATE = "candidate"
    UNIT = "unit"


ROLE_LABELS = {Role.REPORT: "报告", Role.FORM: "推荐表", Role.SUMMARY: "汇总表", Role.ID_PHOTO: "证件照",
               Role.LIFE_PHOTO: "生活照", Role.ARCHIVE: "压缩包", Role.OTHER: "其他"}


_REFERENCE = re.compile(r"#?(?:(\d{4})-)?(\d{1,9})")


def display_reference(year: int, number: int) -> str:
    """The reference people quote: the campaign year and the record number, 2021-0042."""
    return f"{year}-{number:04d}"


def parse_reference(text: str) -> int | None:
    """The record number in "2021-0042", "#42" or "42"; None when the text is not a reference."""
    found = _REFERENCE.fullmatch(text.strip())
    return int(found[2]) if found else None
