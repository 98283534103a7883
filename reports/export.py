"""The export for the expert panel: each unit's current materials under canonical names, plus an index.

The panel works on Windows from a folder or a zip, so every name is made valid there (`winnames`), and
mail content never chooses a path: components are the sanitised unit and candidate names and fixed
canonical names (original names only under `其他/`, sanitised the same way). Quarantined material never
leaves the store. The tree is written beside `out` and renamed into place, so a failed export leaves the
previous one as it was; only a directory a previous export made (it holds `MARKER`) is ever replaced.
"""

from __future__ import annotations

import datetime as dt
import glob
import hashlib
import json
import os
import shutil
import tempfile
import uuid
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import openpyxl
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from sqlalchemy import select
from sqlalchemy.orm import Session

from mailintake.common.errors import MailintakeError
from mailintake.common.vocab import DossierStatus, Role, display_reference
from mailintake.reports import queries
from mailintake.reports.queries import ReportScope
from mailintake.reports.winnames import Folder, safe_name, split_extension
from mailintake.store import queries as store_queries
from mailintake.store.blobs import BlobStore
from mailintake.store.models import Attachment, Candidate, Dossier, Message, Unit

MARKER = ".mailintake-export"
INDEX = "索引.xlsx"
ZIP_COMMENT = b"mailintake export"  # how a later export knows the zip beside `out` is its own
OTHER = "其他"
UNIT_FILES = {Role.REPORT: "推荐工作情况报告", Role.SUMMARY: "推荐人选汇总表"}
PERSONAL = frozenset({Role.FORM, Role.ID_PHOTO, Role.LIFE_PHOTO})
NOTE_QUARANTINED = "涉密材料未导出"
NOTE_NO_FILES = "未收到材料"
NOTE_UNPLACED = "未能归入候选人"
NOTE_LATE = "逾期送达，尚待组织方决定"
_TYPE_EXTENSIONS = {"jpeg": ".jpg", "tiff": ".tif", **{t: f".{t}" for t in (
    "png", "heic", "gif", "bmp", "webp", "pdf", "docx", "doc", "xlsx", "xls", "wps", "et", "pptx", "ppt", "zip", "rar",
    "7z")}}
_CHUNK = 1 << 20
HEADER = ("单位", "候选人", "导出路径", "原文件名", "大小（字节）", "SHA-256", "参考编号", "收到时间", "备注")


class ExportError(MailintakeError):
    """The export cannot be written where it was asked to go, or the store lacks a file it lists."""


@dataclass(frozen=True)
class ExportSummary:
    out: Path
    index: Path
    zip: Path | None
    units: int  # units exported (quarantined ones not counted)
    candidates: int
    files: int
    bytes: int
    skipped_quarantined: int  # units left out because their dossier is quarantined


@dataclass(frozen=True)
class _Item:
    """One file to export: where it goes and where it came from."""

    unit: str
    candidate: str | None
    path: tuple[str, ...]
    attachment: Attachment
    message: Message
    note: str = ""


@dataclass(frozen=True)
class _Note:
    """An index row without a file: a quarantined unit, a candidate of whom nothing came."""

    unit: str
    candidate: str | None
    path: tuple[str, ...]
    note: str


@dataclass
class _Plan:
    dirs: list[tuple[str, ...]] = field(default_factory=list)
    items: list[_Item] = field(default_factory=list)
    rows: list[_Item | _Note] = field(default_factory=list)  # the index, in tree order
    units: int = 0
    candidates: int = 0
    quarantined: int = 0


def export(s: Session, blobs: BlobStore, scope: ReportScope, out: Path, make_zip: bool = False,
           unit: str | None = None) -> ExportSummary:
    """Write the panel's tree (and `<out>.zip`) from the store; replace only a previous export. `unit`: that
    unit's materials only (the web view's download for one unit)."""
    out = Path(os.path.abspath(out))
    _check_replaceable(out)
    zip_path = out.with_name(out.name + ".zip") if make_zip else None
    if zip_path is not None:
        _check_zip_replaceable(zip_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    _drop_leftovers(out)
    plan = _plan(s, unit)
    staging = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.export-"))
    zip_tmp: Path | None = None
    try:
        (staging / MARKER).write_text(json.dumps({"campaign": scope.campaign.name, "exported_at": _now()},
                                                 ensure_ascii=False), encoding="utf-8")
        size = _write_tree(staging, blobs, plan)
        _write_index(staging / INDEX, plan, scope)
        zip_tmp = _write_zip(staging, zip_path) if zip_path is not None else None
        _swap_in(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        if zip_tmp is not None:
            zip_tmp.unlink(missing_ok=True)
        raise
    if zip_path is not None and zip_tmp is not None:
        os.replace(zip_tmp, zip_path)
    return ExportSummary(out, out / INDEX, zip_path, plan.units, plan.candidates, len(plan.items), size,
                         plan.quarantined)


def _plan(s: Session, only: str | None = None) -> _Plan:
    plan = _Plan()
    top = Folder([INDEX, MARKER])
    for unit, dossier in queries.units_with_dossier(s):
        if only is not None and unit.name != only:
            continue
        if dossier.status == DossierStatus.QUARANTINED:
            plan.quarantined += 1
            plan.rows.append(_Note(unit.name, None, (), NOTE_QUARANTINED))
        else:
            _plan_unit(s, plan, unit, (top.claim(unit.name),), _current_files(s, dossier))
    return plan


def _plan_unit(s: Session, plan: _Plan, unit: Unit, here: tuple[str, ...],
               files: list[tuple[Attachment, Message]]) -> None:
    """Unit files first, then one folder per candidate (in summary order), then whatever is left."""
    plan.units += 1
    plan.dirs.append(here)
    if not files:  # e.g. only a cloud link came: the folder stays empty and the index says why
        plan.rows.append(_Note(unit.name, None, here, NOTE_NO_FILES))
    folder = Folder()
    placed: set[int] = set()
    for role, canonical in UNIT_FILES.items():
        for a, m in files:
            if a.role == role:
                _add(s, plan, unit, None, here + (folder.claim(canonical + _extension(a)),), a, m, placed)
    for c in queries.candidates(s, unit):
        plan.candidates += 1
        mine = [(a, m) for a, m in files if a.person == c.name and a.role in PERSONAL]
        _plan_candidate(s, plan, unit, c, here + (folder.claim(c.name),), mine, placed)
    rest = [(a, m) for a, m in files if a.id not in placed]
    if rest:
        other, inner = here + (folder.claim(OTHER),), Folder()
        plan.dirs.append(other)
        for a, m in rest:
            _add(s, plan, unit, a.person, other + (inner.claim(_basename(a)),), a, m, placed, NOTE_UNPLACED)


def _plan_candidate(s: Session, plan: _Plan, unit: Unit, c: Candidate, here: tuple[str, ...],
                    mine: list[tuple[Attachment, Message]], placed: set[int]) -> None:
    plan.dirs.append(here)
    folder = Folder()
    if not mine:
        plan.rows.append(_Note(unit.name, c.name, here, NOTE_NO_FILES))
    for a, m in [x for x in mine if x[0].role == Role.FORM]:
        _add(s, plan, unit, c.name, here + (folder.claim("推荐表" + _extension(a)),), a, m, placed)
    for a, m in [x for x in mine if x[0].role == Role.ID_PHOTO]:
        _add(s, plan, unit, c.name, here + (folder.claim("证件照" + _extension(a)),), a, m, placed)
    life = sorted((x for x in mine if x[0].role == Role.LIFE_PHOTO),
                  key=lambda x: (x[0].seq is None, x[0].seq or 0, x[0].display_name, x[0].id))
    for n, (a, m) in enumerate(life, 1):
        _add(s, plan, unit, c.name, here + (folder.claim(f"生活照{n}{_extension(a)}"),), a, m, placed)


def _add(s: Session, plan: _Plan, unit: Unit, candidate: str | None, path: tuple[str, ...], a: Attachment,
         m: Message, placed: set[int], note: str = "") -> None:
    if m.late and _late_undecided(s, m):
        note = "；".join(n for n in (note, NOTE_LATE) if n)
    placed.add(a.id)
    item = _Item(unit.name, candidate, path, a, m, note)
    plan.items.append(item)
    plan.rows.append(item)


def _current_files(s: Session, dossier: Dossier) -> list[tuple[Attachment, Message]]:
    """The dossier's current files (never a quarantined message's), in arrival order. Reads only."""
    ids = [int(i) for i in dossier.current_files or []]
    rows = s.execute(select(Attachment, Message).join(Message, Message.id == Attachment.message_id)
                     .where(Attachment.id.in_(ids), Message.quarantined.is_(False))
                     .order_by(Message.internaldate, Message.id, Attachment.ordinal))
    return [(a, m) for a, m in rows]


def _late_undecided(s: Session, m: Message) -> bool:
    return store_queries.latest_decision(s, m.key, store_queries.LATE_DECISIONS) is None


def _extension(a: Attachment) -> str:
    """The extension of what the file really is (a renamed photo gets .jpg), else the one it was sent with."""
    if a.detected_type in _TYPE_EXTENSIONS:
        return _TYPE_EXTENSIONS[a.detected_type]
    sent = split_extension(safe_name(_basename(a)))[1].lower()
    return sent or (".txt" if a.detected_type == "text" else "")


def _basename(a: Attachment) -> str:
    """The file's own name, without the archive path ("材料.zip/张三/张三1.jpg" -> "张三1.jpg")."""
    return a.display_name.replace("\\", "/").rsplit("/", 1)[-1]


def _write_tree(root: Path, blobs: BlobStore, plan: _Plan) -> int:
    for d in plan.dirs:
        _inside(root, root.joinpath(*d)).mkdir(parents=True, exist_ok=True)
    total = 0
    for item in plan.items:
        total += _copy(blobs, item.attachment, _inside(root, root.joinpath(*item.path)))
    return total


def _copy(blobs: BlobStore, a: Attachment, target: Path) -> int:
    """Stream one blob out, checking its bytes are the ones recorded ("xb": a name is never reused)."""
    digest, size = hashlib.sha256(), 0
    try:
        with blobs.path("files", a.sha256).open("rb") as src, target.open("xb") as dst:
            while chunk := src.read(_CHUNK):
                digest.update(chunk)
                dst.write(chunk)
                size += len(chunk)
    except FileNotFoundError as exc:
        raise ExportError(f"the stored bytes of {a.display_name} (sha256 {a.sha256[:12]}…) are missing") from exc
    if digest.hexdigest() != a.sha256:
        raise ExportError(f"the stored bytes of {a.display_name} do not match their sha256 {a.sha256[:12]}…")
    return size


def _inside(root: Path, path: Path) -> Path:
    """Every path written must resolve inside the export (names are sanitised; this makes sure)."""
    if not path.resolve().is_relative_to(root.resolve()) or path.resolve() == root.resolve():
        raise ExportError(f"refusing to write outside the export: {path}")
    return path


def _write_index(path: Path, plan: _Plan, scope: ReportScope) -> None:
    """One row per exported file, and one per quarantined unit or candidate without files (a note only)."""
    tz, year = scope.campaign.tz, scope.campaign.deadline.year
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "索引"
    sheet.append(HEADER)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in plan.rows:
        values: tuple = (row.unit, row.candidate or "", "/".join(row.path))
        if isinstance(row, _Item):
            a, m = row.attachment, row.message
            values += (a.display_name, a.size, a.sha256, display_reference(year, m.id),
                       m.internaldate.astimezone(tz).replace(tzinfo=None), row.note)
        else:
            values += ("", None, "", "", None, row.note)
        sheet.append([_text(v) for v in values])
        for cell in sheet[sheet.max_row]:
            if cell.data_type == "f":  # a name the sender chose is text, never a formula
                cell.data_type = "s"
            if isinstance(cell.value, dt.datetime):
                cell.number_format = "yyyy-mm-dd hh:mm:ss"
    for letter, width in zip("ABCDEFGHI", (16, 10, 40, 40, 12, 20, 12, 20, 24), strict=True):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = sheet.dimensions
    book.save(path)


def _text(value: object) -> object:
    return ILLEGAL_CHARACTERS_RE.sub("_", value) if isinstance(value, str) else value


def _write_zip(root: Path, zip_path: Path) -> Path:
    """The same tree in a zip written beside its place (renamed in after the folder). Non-ASCII names
    get the UTF-8 flag from zipfile; the marker stays out."""
    fd, tmp = tempfile.mkstemp(dir=zip_path.parent, prefix=f".{zip_path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.comment = ZIP_COMMENT
            for path in sorted(root.rglob("*")):
                if path.name != MARKER or path.parent != root:
                    zf.write(path, path.relative_to(root).as_posix())
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Path(tmp)


def _check_replaceable(out: Path) -> None:
    if out.is_symlink() or (out.exists() and not out.is_dir()):
        raise ExportError(f"{out} exists and is not a directory: choose another place for the export")
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).is_file():
        raise ExportError(f"{out} is not empty and was not made by an export: choose an empty or new directory")


def _check_zip_replaceable(zip_path: Path) -> None:
    if not zip_path.exists() and not zip_path.is_symlink():
        return
    ours = zip_path.is_file() and not zip_path.is_symlink() and zipfile.is_zipfile(zip_path)
    if ours:
        with zipfile.ZipFile(zip_path) as zf:
            ours = zf.comment == ZIP_COMMENT
    if not ours:
        raise ExportError(f"{zip_path} exists and was not made by an export: move it away first")


def _swap_in(staging: Path, out: Path) -> None:
    """Rename the finished tree into place; a previous export is moved aside first, then removed."""
    if not out.exists():
        os.rename(staging, out)
        return
    _check_replaceable(out)
    old = out.with_name(f".{out.name}.old-{uuid.uuid4().hex[:8]}")
    os.rename(out, old)
    try:
        os.rename(staging, out)
    except BaseException:
        os.rename(old, out)
        raise
    shutil.rmtree(old, ignore_errors=True)


def _drop_leftovers(out: Path) -> None:
    """Trees a crashed export left beside `out` (they hold the marker, written first)."""
    for pattern in (f".{glob.escape(out.name)}.export-*", f".{glob.escape(out.name)}.old-*"):
        for leftover in out.parent.glob(pattern):
            if leftover.is_dir() and not leftover.is_symlink() and (leftover / MARKER).is_file():
                shutil.rmtree(leftover, ignore_errors=True)


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
