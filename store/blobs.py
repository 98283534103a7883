"""Content-addressed file storage under one root (one filesystem, so renames are atomic).

Layout: raw/ab/<sha256>.eml (messages), files/ab/<sha256>.bin (attachments and archive members),
quarantine/ (0700: raw messages with secrecy markings), outbox/ (files the service attaches to its own
mail: the digest's workbooks), tmp/ (in-flight writes, cleaned at start). Beside them the parsers keep
cache/ (OCR text, conversions, thumbnails by sha256) and convert/ (LibreOffice's work folders); what a killed
parse leaves there is swept by `store/litter.py`.
Mail content never chooses a path: names are hashes.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from mailintake.common.errors import StorageUnwritable

KINDS = {"raw": ".eml", "files": ".bin", "quarantine": ".eml", "outbox": ".bin"}
# what a full disk, a quota, RLIMIT_FSIZE, a read-only mount or lost permissions say
_UNWRITABLE = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EACCES, errno.EPERM})


class BlobStore:
    writable = True  # False for the dry-run view, whose writes are no-ops (and whose callers must not write)

    def __init__(self, root: str | Path):
        self.root = Path(root)

    def open(self) -> BlobStore:
        """Create the layout (the root 0700: materials and personal data are for the service user only; files
        are written 0600 by mkstemp) and drop leftovers of writes interrupted by a crash."""
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(self.root, 0o700)
        for sub in ("raw", "files", "outbox", "tmp"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        quarantine = self.root / "quarantine"
        quarantine.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(quarantine, 0o700)
        for leftover in (self.root / "tmp").iterdir():
            leftover.unlink(missing_ok=True)
        return self

    def path(self, kind: str, sha256: str) -> Path:
        if len(sha256) != 64 or not all(c in "0123456789abcdef" for c in sha256):
            raise ValueError(f"not a sha256: {sha256!r}")
        return self.root / kind / sha256[:2] / f"{sha256}{KINDS[kind]}"

    def put(self, kind: str, data: bytes, sha256: str | None = None) -> str:
        """Store bytes durably (temp file, fsync, rename, fsync dir); return their sha256. `sha256` is the
        bytes' hash when the caller has just computed it (the parse hashes every file it extracts): a
        second pass over them would cost a twentieth of the worker's time."""
        sha = sha256 or hashlib.sha256(data).hexdigest()
        target = self.path(kind, sha)
        if target.exists() and target.stat().st_size == len(data):
            return sha
        with self._unwritable_said():
            self._write(target, data)
        return sha

    def put_stream(self, kind: str, chunks: Iterable[bytes]) -> tuple[str, int]:
        """Store bytes that arrive in pieces (a big message as the server sends it) without ever holding them
        whole: hashed and written as they come, made durable, renamed to their hash. Returns (sha256, size).
        An error from `chunks` (the connection) leaves no temp file and goes to the caller as it came."""
        digest, size = hashlib.sha256(), 0
        with self._unwritable_said():
            fd, tmp = tempfile.mkstemp(dir=self.root / "tmp")
            try:
                with os.fdopen(fd, "wb") as fh:
                    for chunk in chunks:
                        digest.update(chunk)
                        fh.write(chunk)
                        size += len(chunk)
                    fh.flush()
                    os.fsync(fh.fileno())
                target = self.path(kind, digest.hexdigest())
                if target.exists() and target.stat().st_size == size:
                    Path(tmp).unlink()
                    return digest.hexdigest(), size
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(tmp, target)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
            _fsync_dir(target.parent)
        return digest.hexdigest(), size

    @contextlib.contextmanager
    def _unwritable_said(self) -> Iterator[None]:
        """A full disk, a quota or a read-only mount as the one error the service knows how to wait out."""
        try:
            yield
        except OSError as exc:
            if exc.errno in _UNWRITABLE:
                raise StorageUnwritable(f"cannot write to the storage root {self.root}: {exc.strerror}") from None
            raise

    def _write(self, target: Path, data: bytes) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.root / "tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        _fsync_dir(target.parent)

    def get(self, kind: str, sha256: str) -> bytes:
        return self.path(kind, sha256).read_bytes()

    def exists(self, kind: str, sha256: str) -> bool:
        return self.path(kind, sha256).exists()

    def move(self, src_kind: str, dst_kind: str, sha256: str) -> None:
        """Move a blob between areas (e.g. raw -> quarantine) atomically; a no-op if already moved."""
        src, dst = self.path(src_kind, sha256), self.path(dst_kind, sha256)
        if not src.exists():
            return
        dst.parent.mkdir(parents=True, exist_ok=True, mode=0o700 if dst_kind == "quarantine" else 0o777)
        os.replace(src, dst)
        _fsync_dir(dst.parent)
        _fsync_dir(src.parent)

    def delete(self, kind: str, sha256: str) -> None:
        self.path(kind, sha256).unlink(missing_ok=True)

    def place_raw(self, sha256: str, area: str) -> None:
        """Make a raw message live in `area` ("raw" or "quarantine") and nowhere else; idempotent."""
        other = "quarantine" if area == "raw" else "raw"
        if not self.exists(other, sha256):
            return
        if self.exists(area, sha256):
            self.delete(other, sha256)
        else:
            self.move(other, area, sha256)

    def listing(self, kind: str) -> set[str]:
        """The sha256 of every blob stored in an area."""
        suffix = KINDS[kind]
        return {p.name.removesuffix(suffix) for p in (self.root / kind).glob(f"??/*{suffix}")}

    def read_only(self) -> BlobStore:
        """The same store with writes turned into no-ops: for dry runs that must change no files."""
        return _ReadOnlyBlobStore(self.root)


class _ReadOnlyBlobStore(BlobStore):
    writable = False

    def put_stream(self, kind: str, chunks: Iterable[bytes]) -> tuple[str, int]:
        digest, size = hashlib.sha256(), 0
        for chunk in chunks:
            digest.update(chunk)
            size += len(chunk)
        return digest.hexdigest(), size

    def put(self, kind: str, data: bytes, sha256: str | None = None) -> str:
        return sha256 or hashlib.sha256(data).hexdigest()

    def move(self, src_kind: str, dst_kind: str, sha256: str) -> None:
        pass

    def delete(self, kind: str, sha256: str) -> None:
        pass

    def place_raw(self, sha256: str, area: str) -> None:
        pass


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
