"""Filesystem effects of a committed transaction: quarantine moves and removal of files no longer needed.

They run after the commit that implies them, never inside it, so a rollback can never leave the files
disagreeing with the rows. Each effect is recomputed from the committed rows, which makes it idempotent:
a crash between the commit and the effect is finished by `sweep` at the start of the next run, which also
clears what a killed parse left behind (`store/litter.py`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from mailintake.store.blobs import BlobStore
from mailintake.store.db import Database
from mailintake.store.litter import sweep_litter
from mailintake.store.models import Message
from mailintake.store.queries import file_needed, raw_area, referenced_files


@dataclass
class BlobEffects:
    raw: set[str] = field(default_factory=set)  # raw messages whose area (raw / quarantine) may have changed
    files: set[str] = field(default_factory=set)  # extracted files that may no longer be needed

    def add(self, other: BlobEffects) -> None:
        self.raw |= other.raw
        self.files |= other.files


def settle(db: Database, blobs: BlobStore, effects: BlobEffects) -> None:
    """Bring the named blobs in line with the committed rows."""
    if not (effects.raw or effects.files):
        return
    with db.session() as s:
        for sha in sorted(effects.raw):
            blobs.place_raw(sha, raw_area(s, sha))
        for sha in sorted(effects.files):
            if not file_needed(s, sha):
                blobs.delete("files", sha)


def sweep(db: Database, blobs: BlobStore) -> None:
    """Housekeeping before a run: every raw message in its area, every unneeded extracted file gone, and what a
    killed parse left in the root (half-written cache entries, LibreOffice's work folders: `store/litter.py`)."""
    sweep_litter(blobs.root)
    with db.session() as s:
        quarantined = set(s.scalars(select(Message.sha256).where(Message.quarantined.is_(True))))
        raws = quarantined | blobs.listing("quarantine")
        needed = referenced_files(s)
    unneeded = blobs.listing("files") - needed
    settle(db, blobs, BlobEffects(raw=raws, files=unneeded))
