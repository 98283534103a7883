"""Opens zip, 7z and rar attachments in memory, refusing hostile archives whole.

Attachments come from anyone who knows the address, so the member list is vetted before a single
byte is decompressed (paths, links, entry count, declared sizes and ratios), and while decompressing
the bytes actually produced are counted against the cap, because declared sizes lie. Member paths
are returned as text with "/" separators (NFC) and never become filesystem paths.

Zip names: entries flagged UTF-8 (bit 0x800) are UTF-8. Unflagged entries are decided one by one
from their raw bytes (zipfile's cp437 decoding round-trips them exactly) by `charsets.read`: valid
UTF-8 is taken as UTF-8 (macOS Archive Utility omits the flag), otherwise plausible GB18030, the
superset of the GBK that Chinese Windows writes, otherwise Big5, Shift_JIS and the DOS code pages of
Russian (cp866) and Western (cp850) Windows, charset-normalizer judging; nothing plausible stays
U+FFFD. One exception, because a short GBK name is often valid UTF-8 too (叶志伟 reads as "Ҷ־ΰ"; so
do 18% of single GB2312 level-1 hanzi, 3% of random pairs, 0.6% of triples): a UTF-8 reading with no
Chinese ideograph, in U+0080..U+07FF, that is not words of one everyday alphabet is what GBK looks
like misread, so plausible GB18030 wins. macOS's decomposed "Café" and a flagless composed
"Café.jpg" or "Иванов.doc" stay UTF-8; a lone accented letter ("á.jpg") reads as GBK (谩.jpg).

RAR: libarchive first; when it cannot (RAR3 solid archives, RAR5 with encrypted data), Debian's
`lsar`/`unar`. That fallback is the one filesystem touch here: the archive itself (never a member)
is written to a private `tempfile` directory, removed afterwards, and each member is streamed back
over unar's stdout (`-o -`), so no archive-controlled path is ever created.

Nested archives: `open_archive` opens one level; `expand` walks archives inside archives up to
`limits.max_depth` levels with one shared byte and entry budget (a zip of zips cannot multiply it).
"""

from __future__ import annotations

import ctypes
import dataclasses
import io
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
import unicodedata
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import partial
from typing import BinaryIO

import libarchive
import py7zr
from py7zr.exceptions import UnsupportedCompressionMethodError
from py7zr.io import Py7zIO, WriterFactory

from mailintake.common import findings
from mailintake.parsers.charsets import ZIP_CANDIDATES, read
from mailintake.parsers.facts import ArchiveLimits, Finding
from mailintake.parsers.filetypes import detect_type, is_archive

# reason codes (the words are in `common.findings.REASONS`)
ENCRYPTED, CORRUPT, UNSUPPORTED_METHOD = "archive_encrypted", "archive_corrupt", "archive_method"
RAR_UNREADABLE, NOT_AN_ARCHIVE = "rar_unreadable", "not_an_archive"

_CHUNK = 64 * 1024
_RATIO_SLACK = 4096  # bytes added to each member's packed size before its ratio is judged
_TOOL_TIMEOUT = 120  # seconds for one lsar/unar run
_ZIP_UTF8, _ZIP_ENCRYPTED = 0x800, 0x1
_ZIP_LOCAL_HEADER = 30  # bytes of a local file header before its name and extra field
_S_IFMT, _S_IFLNK = 0o170000, 0o120000
_DRIVE = re.compile(r"[A-Za-z]:")
_JUNK_NAMES = frozenset({".ds_store", "thumbs.db", "desktop.ini"})

# libarchive-c does not wrap this; an encrypted RAR3 entry otherwise reads as empty, silently.
_entry_is_encrypted = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p)(
    ("archive_entry_is_encrypted", libarchive.ffi.libarchive)
)


@dataclass(frozen=True)
class ArchiveMember:
    path: str  # normalised, "/"-separated; display text only
    content: bytes


@dataclass
class ArchiveResult:
    members: list[ArchiveMember] = field(default_factory=list)
    finding: Finding | None = None  # archive_unsafe / archive_unreadable; then members is empty


@dataclass(frozen=True)
class ExpandedFile:
    display_name: str  # "材料.zip/张三/张三1.jpg"
    content: bytes
    kind: str  # filetypes.detect_type
    parent: int | None  # index in Expansion.files of the containing archive; None: the top archive


@dataclass
class Expansion:
    files: list[ExpandedFile] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)


def open_archive(data: bytes, kind: str, name: str, limits: ArchiveLimits) -> ArchiveResult:
    """Members of one archive level, or a finding saying why nothing was extracted. Never raises."""
    reader = _READERS.get(kind)
    try:
        if reader is None:
            raise _Refused("archive_unreadable", NOT_AN_ARCHIVE)
        return ArchiveResult(reader(data, limits))
    except _Refused as refused:
        return ArchiveResult(finding=findings.make(refused.code, name, reason=refused.reason, **refused.params))
    except (NotImplementedError, UnsupportedCompressionMethodError):  # e.g. zip Deflate64, 7z BCJ2
        return ArchiveResult(finding=findings.make("archive_unreadable", name, reason=UNSUPPORTED_METHOD))
    except Exception:  # every library has its own ways of failing on damaged bytes
        return ArchiveResult(finding=findings.make("archive_unreadable", name, reason=CORRUPT))


def expand(data: bytes, kind: str, name: str, limits: ArchiveLimits) -> Expansion:
    """Every member of an archive and of the archives inside it, `limits.max_depth` levels deep.

    The top archive is level 1; a nested archive found at the last level is kept as a plain file
    with a `nested_too_deep` finding. Findings name members by their display path.
    """
    out = Expansion()
    _expand_into(out, data, kind, name, limits, depth=1, parent=None)
    return out


def _expand_into(
    out: Expansion, data: bytes, kind: str, name: str, limits: ArchiveLimits, depth: int, parent: int | None
) -> ArchiveLimits:
    """Returns the budget left, so siblings and their subtrees share one cap."""
    result = open_archive(data, kind, name, limits)
    if result.finding:
        out.findings.append(result.finding)
        return limits
    limits = dataclasses.replace(
        limits,
        max_total_bytes=limits.max_total_bytes - sum(len(m.content) for m in result.members),
        max_entries=limits.max_entries - len(result.members),
    )
    for member in result.members:
        display = f"{name}/{member.path}"
        member_kind = detect_type(member.content, member.path)
        out.files.append(ExpandedFile(display, member.content, member_kind, parent))
        if not is_archive(member_kind):
            continue
        if depth >= limits.max_depth:
            out.findings.append(findings.make("nested_too_deep", display))
            continue
        here = len(out.files) - 1
        limits = _expand_into(out, member.content, member_kind, display, limits, depth + 1, here)
    return limits


# --- vetting, shared by every format -------------------------------------------------------------


class _Refused(Exception):
    def __init__(self, code: str, reason: str, **params: findings.Param):
        super().__init__(reason)
        self.code, self.reason, self.params = code, reason, params


def _unsafe(reason: str, **params: findings.Param) -> _Refused:
    return _Refused("archive_unsafe", reason, **params)


@dataclass(frozen=True)
class _Entry:
    name: str  # as stored, decoded
    size: int | None  # declared uncompressed size
    packed: int | None  # declared compressed size; None when the format does not say per entry
    is_dir: bool
    is_link: bool
    encrypted: bool
    key: object  # what the format's reader needs to find the entry again


def _vet(entries: list[_Entry], limits: ArchiveLimits, archive_size: int) -> list[tuple[str, _Entry]]:
    """The (clean path, entry) pairs worth reading, or _Refused for the whole archive."""
    if len(entries) > limits.max_entries:
        raise _unsafe("too_many_entries", limit=limits.max_entries)
    for entry in entries:
        _vet_entry(entry, limits, archive_size)
    total = sum(e.size or 0 for e in entries)
    if total > limits.max_total_bytes:
        raise _unsafe("declared_too_large", total=total, limit=limits.max_total_bytes)
    if any(e.encrypted for e in entries):
        raise _Refused("archive_unreadable", ENCRYPTED)
    wanted = ((_clean(e.name), e) for e in entries if not e.is_dir)
    return [(path, e) for path, e in wanted if path and not _is_junk(path)]


def _vet_entry(entry: _Entry, limits: ArchiveLimits, archive_size: int) -> None:
    name = _printable(entry.name)  # vetted (and named in findings) as it will be shown: "..\x00" is ".."
    path = name.replace("\\", "/")
    if path.startswith("/") or _DRIVE.match(path):
        raise _unsafe("absolute_path", entry=name)
    if ".." in path.split("/"):
        raise _unsafe("parent_path", entry=name)
    if entry.is_link:
        raise _unsafe("link_entry", entry=name)
    size = entry.size or 0
    # Every member, whatever its size: a few KB of slack let tiny files (a 4 KB text of spaces) through,
    # while a 1 MiB run of zeros (packed to ~1 KB) is refused. Without a per-entry compressed size, the
    # whole archive bounds it from above.
    packed = entry.packed if entry.packed is not None else archive_size
    ratio = size / (packed + _RATIO_SLACK)
    if ratio > limits.max_ratio:
        raise _unsafe("ratio", entry=name, ratio=round(size / max(packed, 1), 1))


def _clean(name: str) -> str:
    parts = unicodedata.normalize("NFC", _printable(name)).replace("\\", "/").split("/")
    return "/".join(p for p in parts if p not in ("", "."))


def _printable(name: str) -> str:
    """Without control characters (NUL, CR, LF... that RAR and 7z names may hold): no database stores NUL."""
    return "".join(ch for ch in name if unicodedata.category(ch) != "Cc")


def _is_junk(path: str) -> bool:
    parts = path.split("/")
    return "__MACOSX" in parts or parts[-1].lower() in _JUNK_NAMES


class _Budget:
    """Counts the bytes decompression really produces, whatever the headers declared."""

    def __init__(self, cap: int):
        self.cap, self.used = cap, 0

    def charge(self, n: int) -> None:
        self.used += n
        if self.used > self.cap:
            raise _unsafe("unpacked_too_large", limit=self.cap)

    def take(self, chunks: Iterable[bytes]) -> bytes:
        parts = []
        for chunk in chunks:
            self.charge(len(chunk))
            parts.append(chunk)
        return b"".join(parts)


def _chunks(stream: BinaryIO) -> Iterator[bytes]:
    return iter(partial(stream.read, _CHUNK), b"")


# --- zip -------------------------------------------------------------------------------------------


def _zip_members(data: bytes, limits: ArchiveLimits) -> list[ArchiveMember]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        entries = [_zip_entry(info) for info in zf.infolist()]
        wanted = _vet(entries, limits, len(data))
        _vet_zip_layout(zf.infolist(), len(data))
        budget = _Budget(limits.max_total_bytes)
        members = []
        for path, entry in wanted:
            with zf.open(entry.key) as stream:
                members.append(ArchiveMember(path, budget.take(_chunks(stream))))
        return members


def _vet_zip_layout(infos: list[zipfile.ZipInfo], archive_size: int) -> None:
    """The ratio vet trusts each entry's declared compressed size, so that size must be the entry's own
    bytes: refused when one entry's data would run into the next entry's local header or past the end of
    the archive (a lie to pass the ratio check), or several entries share one stream (Fifield's
    overlapping zip bomb: a 30 KB zip listing one 800 KB stream 600 times unpacks to 470 MB)."""
    end = 0
    for info in sorted(infos, key=lambda i: i.header_offset):
        if info.header_offset < end:
            raise _Refused("archive_unreadable", CORRUPT)
        end = info.header_offset + _ZIP_LOCAL_HEADER + info.compress_size  # a lower bound: name and extra follow
        if end > archive_size:
            raise _Refused("archive_unreadable", CORRUPT)


def _zip_entry(info: zipfile.ZipInfo) -> _Entry:
    name = _zip_name(info)
    return _Entry(
        name=name,
        size=info.file_size,
        packed=info.compress_size,
        is_dir=name.replace("\\", "/").endswith("/"),
        is_link=(info.external_attr >> 16) & _S_IFMT == _S_IFLNK,
        encrypted=bool(info.flag_bits & _ZIP_ENCRYPTED),
        key=info,
    )


def _zip_name(info: zipfile.ZipInfo) -> str:
    if info.flag_bits & _ZIP_UTF8:
        return info.filename
    raw = info.filename.encode("cp437")  # zipfile decoded the raw bytes as cp437: undo it exactly
    return read(raw, candidates=ZIP_CANDIDATES).text


# --- 7z --------------------------------------------------------------------------------------------


def _sevenzip_members(data: bytes, limits: ArchiveLimits) -> list[ArchiveMember]:
    try:
        archive = py7zr.SevenZipFile(io.BytesIO(data))
    except py7zr.PasswordRequired:  # the member list itself is encrypted
        raise _Refused("archive_unreadable", ENCRYPTED) from None
    with archive:
        if archive.needs_password():
            raise _Refused("archive_unreadable", ENCRYPTED)
        entries = [
            _Entry(i.filename, i.uncompressed, i.compressed, i.is_directory, i.is_symlink, False, None)
            for i in archive.list()
        ]
        _vet(entries, limits, len(data))
        sink = _MemoryWriters(_Budget(limits.max_total_bytes))
        archive.extractall(factory=sink)
    # py7zr names each output after the vetted member name (duplicates get a "_N" suffix).
    named = ((_clean(fname), writer.buffer.getvalue()) for fname, writer in sink.writers)
    return [ArchiveMember(path, content) for path, content in named if path and not _is_junk(path)]


class _CountingWriter(Py7zIO):
    def __init__(self, charge: Callable[[int], None]):
        self.buffer, self._charge = io.BytesIO(), charge

    def write(self, s: bytes | bytearray) -> int:
        self._charge(len(s))
        return self.buffer.write(s)

    def read(self, size: int | None = None) -> bytes:
        return self.buffer.read(size)

    def seek(self, offset: int, whence: int = 0) -> int:
        return self.buffer.seek(offset, whence)

    def flush(self) -> None:
        pass

    def size(self) -> int:
        return self.buffer.getbuffer().nbytes


class _MemoryWriters(WriterFactory):
    def __init__(self, budget: _Budget):
        self.budget = budget
        self.writers: list[tuple[str, _CountingWriter]] = []

    def create(self, filename: str) -> Py7zIO:
        writer = _CountingWriter(self.budget.charge)
        self.writers.append((filename, writer))
        return writer


# --- rar -------------------------------------------------------------------------------------------


def _rar_members(data: bytes, limits: ArchiveLimits) -> list[ArchiveMember]:
    try:
        return _libarchive_members(data, limits)
    except _Refused:
        raise
    except Exception:  # libarchive lacks RAR3 solid and RAR5 encryption support
        return _unar_members(data, limits)


def _libarchive_members(data: bytes, limits: ArchiveLimits) -> list[ArchiveMember]:
    """Two passes: headers only (vetting), then the wanted members' data."""
    wanted = dict((e.key, path) for path, e in _vet(_libarchive_entries(data, limits), limits, len(data)))
    budget = _Budget(limits.max_total_bytes)
    members = []
    with libarchive.memory_reader(data) as archive:
        for index, entry in enumerate(archive):
            if index in wanted:  # never read a directory's data: libarchive fails on RAR5 dirs
                members.append(ArchiveMember(wanted[index], budget.take(entry.get_blocks(_CHUNK))))
    return members


def _libarchive_entries(data: bytes, limits: ArchiveLimits) -> list[_Entry]:
    entries = []
    with libarchive.memory_reader(data) as archive:
        for index, entry in enumerate(archive):
            name = entry.pathname
            if not isinstance(name, str):  # undecodable bytes: let lsar guess the encoding
                raise ValueError("undecodable member name")
            is_link = entry.issym or entry.islnk
            encrypted = bool(_entry_is_encrypted(entry._entry_p))
            entries.append(_Entry(name, entry.size, None, entry.isdir, is_link, encrypted, index))
            if len(entries) > limits.max_entries:
                break
    if not entries:  # libarchive skips headers it cannot parse: an "empty" RAR is a damaged one
        raise ValueError("no readable entries")
    return entries


def _unar_members(data: bytes, limits: ArchiveLimits) -> list[ArchiveMember]:
    lsar, unar = shutil.which("lsar"), shutil.which("unar")
    if not (lsar and unar):
        raise _Refused("archive_unreadable", RAR_UNREADABLE)
    with tempfile.TemporaryDirectory(prefix="mailintake-rar-") as tmp:
        path = os.path.join(tmp, "attachment.rar")
        with open(path, "wb") as f:
            f.write(data)
        wanted = _vet(_lsar_entries(lsar, path), limits, len(data))
        budget = _Budget(limits.max_total_bytes)
        return [ArchiveMember(name, _unar_member(unar, path, entry, budget)) for name, entry in wanted]


def _lsar_entries(lsar: str, path: str) -> list[_Entry]:
    proc = subprocess.run([lsar, "-j", "-nr", path], capture_output=True, timeout=_TOOL_TIMEOUT)
    if b"requires a password" in proc.stdout + proc.stderr:  # header-encrypted: no listing at all
        raise _Refused("archive_unreadable", ENCRYPTED)
    try:
        listing = json.loads(proc.stdout)
    except ValueError:
        raise _Refused("archive_unreadable", RAR_UNREADABLE) from None
    if listing.get("lsarError"):
        raise _Refused("archive_unreadable", RAR_UNREADABLE)
    if not listing.get("lsarContents"):  # lsar, too, lists damaged headers as nothing
        raise _Refused("archive_unreadable", RAR_UNREADABLE)
    encrypted_archive = bool(listing.get("lsarProperties", {}).get("XADIsEncrypted"))
    return [
        _Entry(
            name=item.get("XADFileName", ""),
            size=item.get("XADFileSize"),
            packed=item.get("XADCompressedSize"),
            is_dir=bool(item.get("XADIsDirectory")),
            is_link=bool(item.get("XADIsLink") or item.get("XADIsHardLink")),
            encrypted=encrypted_archive or bool(item.get("XADIsEncrypted")),
            key=item["XADIndex"],
        )
        for item in listing["lsarContents"]
    ]


def _unar_member(unar: str, path: str, entry: _Entry, budget: _Budget) -> bytes:
    """One member over a pipe, killed as soon as it passes the budget or the time limit."""
    command = [unar, "-q", "-nr", "-o", "-", "-i", path, str(entry.key)]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL) as proc:
        timer = threading.Timer(_TOOL_TIMEOUT, proc.kill)
        timer.start()
        try:
            content = budget.take(_chunks(proc.stdout))
        except BaseException:
            proc.kill()
            raise
        finally:
            timer.cancel()
    if proc.returncode != 0 or (entry.size is not None and len(content) != entry.size):
        raise _Refused("archive_unreadable", CORRUPT)
    return content


_READERS: dict[str, Callable[[bytes, ArchiveLimits], list[ArchiveMember]]] = {
    "zip": _zip_members,
    "7z": _sevenzip_members,
    "rar": _rar_members,
}
