"""A read-only file source: a Maildir (new/ and cur/) or a folder of .eml files.

Used by the demo and for offline replays. Arrival time: for Maildir, the delivery time that Maildir
writers put at the start of the file name (seconds since the epoch, e.g. `1621234567.M1P2.host`),
falling back to the file's mtime; for .eml folders, the file's mtime. The entry's identity is its
file name (Maildir flags after ':' removed), so a message moved from new/ to cur/ stays one entry.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from mailintake.common.errors import SourceError


@dataclass(frozen=True)
class FileEntry:
    name: str
    path: Path
    internaldate: dt.datetime

    @property
    def size(self) -> int:
        return self.path.stat().st_size


class FileSource:
    def __init__(self, path: str | Path):
        self.path = Path(path).resolve()

    @property
    def identity(self) -> str:
        return f"maildir:{self.path}"

    folder = ""

    def entries(self) -> list[FileEntry]:
        if not self.path.is_dir():
            raise SourceError(f"mailbox folder {self.path} does not exist")
        if (self.path / "new").is_dir() or (self.path / "cur").is_dir():
            files = [p for sub in ("new", "cur") for p in sorted((self.path / sub).glob("*")) if p.is_file()]
            found = [FileEntry(p.name.split(":", 1)[0], p, _maildir_time(p)) for p in files]
        else:
            found = [FileEntry(p.name, p, _mtime(p)) for p in sorted(self.path.glob("*.eml")) if p.is_file()]
        return sorted(found, key=lambda e: (e.internaldate, e.name))


def _mtime(path: Path) -> dt.datetime:
    return dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC)


def _maildir_time(path: Path) -> dt.datetime:
    head = path.name.split(".", 1)[0]
    if head.isdigit():
        return dt.datetime.fromtimestamp(int(head), dt.UTC)
    return _mtime(path)
