"""One raw message -> MessageFacts: every file named, typed, unpacked, read, classified and checked.

A pure function of the bytes and the settings; everything a later stage needs is in the result.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future
from dataclasses import dataclass, field

from mailintake.common import findings as F
from mailintake.common.vocab import PHOTO_ROLES, Role
from mailintake.parsers.archives import Expansion, expand
from mailintake.parsers.charsets import reread_headers, undecodable_findings
from mailintake.parsers.cloud_links import find_cloud_links
from mailintake.parsers.documents import CORRUPT, MAX_DOCUMENT_CHARS, TOO_COMPLEX, DocumentContent, read_document
from mailintake.parsers.envelope import Overrun, bounce_of, limit_finding
from mailintake.parsers.facts import (
    ArchiveLimits,
    CloudLink,
    ExtractedFile,
    MessageFacts,
    ParserSettings,
)
from mailintake.parsers.filetypes import detect_type, is_archive, is_image
from mailintake.parsers.kinds import classify_kind
from mailintake.parsers.legacy import ConversionCache, Converted, convert
from mailintake.parsers.mime import FORWARDED_TYPES, MimePart, parse_mime
from mailintake.parsers.ocr import OCR_FAILURES, OcrReader, OcrResult
from mailintake.parsers.photo_names import looks_like_id_photo_name
from mailintake.parsers.photos import inspect_photo, photo_findings, photos_inspected_meanwhile
from mailintake.parsers.roles import assign_roles, basename, form_person
from mailintake.parsers.seal import seal_in_images
from mailintake.parsers.secrecy import find_secrecy_marking
from mailintake.parsers.summary import NOT_EXCEL, read_scanned_summary, read_summary

_UNREADABLE = {"corrupt": "document_corrupt", "encrypted": "document_encrypted"}  # problem -> reason code
_TEXT_DOCUMENTS = {"pdf", "docx", "xlsx", "xls"}
_LEGACY = frozenset({"doc", "wps", "et"})  # read only once LibreOffice has converted them (parsers/legacy.py)
_NEEDS_TEXT = frozenset({Role.REPORT, Role.FORM, Role.SUMMARY})  # a picture in one of these roles is a scan
MAX_MESSAGE_CHARS = 2_000_000  # document text kept for one message (a form is a few thousand characters)
_RENDERED_PAGES = 3  # a seal sits on the first pages; later ones are not rendered
_SIGNATURE_ART = "邮件签名或正文中的小图标，不是推荐材料"
_FORWARDED_MESSAGE = "转发的邮件，其中的附件逐一识别"
OnFiles = Callable[[tuple[int, ...]], None]  # told the indexes (in `files`) of what is about to be read
_BUDGET_REASONS = frozenset({"declared_too_large", "unpacked_too_large", "too_many_entries"})


def parse_message(raw: bytes, settings: ParserSettings, skip: Mapping[int, Overrun] | None = None,
                  on_file: OnFiles | None = None, threads: int = 1) -> MessageFacts:
    """`skip`: files not to read (a bounded parse overran on them); `on_file` is told which files are about to
    be read: one at a time, or the photos at once when `threads` > 1 inspects them side by side (the facts
    are the same; a bounded parse that overran among several is repeated with one thread to learn which)."""
    skip = skip or {}
    mime = parse_mime(raw)
    reread_headers(raw, mime)
    del raw  # every part is decoded: a caller that keeps no reference (the worker) frees the message here
    files, art, forwarded = _listed(mime.parts, settings)  # signature art is listed, never read or counted
    findings: list = []
    with OcrReader(settings.documents, settings.max_image_pixels) as ocr:  # one OCR child for the message
        insides = _read_all(files, settings, ocr, skip, on_file, threads)  # each file once
        _adopt_named_art(files, insides, art, settings)
        _bound_text(files)
        assign_roles(files, settings)
        _forwarded_are_other(files, forwarded)
        _read_scanned_pictures(files, insides, ocr, skip, on_file)  # now that roles say which pictures are pages
    _bound_text(files)
    for i, (f, inside) in enumerate(zip(files, insides, strict=True)):
        if i in skip:
            f.findings.append(limit_finding(f.display_name, skip[i]))
            continue
        if on_file:
            on_file((i,))
        _check(f, settings, inside)
    links = find_cloud_links(mime.body_text, mime.body_html)
    if links:
        findings.append(_cloud_finding(links))
    findings += undecodable_findings(mime, files)
    if mime.losses:
        findings.append(F.make("message_damaged", None, losses=sorted(set(mime.losses))))
    classified = any(x.code == "classified_marker" for f in files for x in f.findings)
    verdict = classify_kind(mime, bool(files) or bool(links))
    return MessageFacts(
        message_id=mime.message_id, sender=mime.sender, sender_name=mime.sender_name,
        subject=mime.subject or "", date_header=mime.date_header, headers=mime.headers,
        body_text=mime.body_text or "", kind=verdict.kind, kind_reason=verdict.reason,
        files=files + art, cloud_links=links, findings=findings, classified=classified,
        bounce=bounce_of(mime, verdict),
    )


@dataclass
class _Inside:
    """What reading a file leaves for its checks: the pictures inside (its first pages rendered), kept only
    until a report's seal is looked for; a scan's OCR; a legacy file's conversion; why a workbook has no
    summary table."""

    pictures: list[bytes] = field(default_factory=list)
    ocr: OcrResult | None = None
    converted: Converted | None = None
    summary_problem: str | None = None


def _read_all(files: list[ExtractedFile], settings: ParserSettings, ocr: OcrReader, skip: Mapping[int, Overrun],
              on_file: OnFiles | None, threads: int) -> list[_Inside]:
    """Every file read once, in order; with `threads` > 1 the images are inspected side by side on a pool
    while this thread reads the documents (Pillow, OpenCV and pdfium all release the GIL). Each announcement
    then names every file in hand: the document and the photos still being inspected."""
    batch = [i for i, f in enumerate(files) if i not in skip and is_image(f.detected_type)]
    if threads <= 1 or len(batch) < 2:
        return [_read_unless_skipped(i, f, settings, ocr, skip, on_file) for i, f in enumerate(files)]
    with photos_inspected_meanwhile([files[i].content for i in batch], settings.max_image_pixels, threads) as pending:
        in_hand = dict(zip(batch, pending, strict=True))
        if on_file:
            on_file(tuple(batch))
        told = _with_photos_in_hand(in_hand, on_file)
        others = {i: _read_unless_skipped(i, f, settings, ocr, skip, told)
                  for i, f in enumerate(files) if i not in in_hand}
    for i, future in in_hand.items():
        files[i].photo = future.result()
    return [others[i] if i in others else _read_inside(f, settings, ocr) for i, f in enumerate(files)]


def _with_photos_in_hand(in_hand: Mapping[int, Future], on_file: OnFiles | None) -> OnFiles | None:
    if on_file is None:
        return None
    return lambda indexes: on_file(tuple(sorted({*indexes, *(i for i, f in in_hand.items() if not f.done())})))


def _read_unless_skipped(i: int, f: ExtractedFile, settings: ParserSettings, ocr: OcrReader,
                         skip: Mapping[int, Overrun], on_file: OnFiles | None) -> _Inside:
    if i in skip:
        return _Inside()
    if on_file and f.photo is None:  # a photo inspected with the others is not read again
        on_file((i,))
    return _read_inside(f, settings, ocr)


def _bound_text(files: list[ExtractedFile]) -> None:
    """Text kept per message: documents keep theirs (each bounded when read) until MAX_MESSAGE_CHARS are
    spent; later ones keep what is left."""
    left = MAX_MESSAGE_CHARS
    for f in files:
        if f.text:
            f.text = f.text[:left] or None
            left -= len(f.text or "")


def _part_name(part: MimePart, n: int) -> str:
    if part.filename:
        return part.filename
    subtype = (part.content_type or "application/octet-stream").split("/")[-1]
    return f"未命名附件-{n + 1}.{subtype}"  # the dash keeps "附件1"/"附件2" from reading as form/summary


@dataclass
class _Listing:
    files: list[ExtractedFile]
    art: list[ExtractedFile]  # signature art: listed after the files, role other, never read
    forwarded: set[int]  # indexes of forwarded messages (.eml) in files
    numbers: Iterator[int]  # for unnamed parts, in MIME order
    unpacking: _Unpacking


def _listed(parts: list[MimePart], settings: ParserSettings) -> tuple[list[ExtractedFile], list[ExtractedFile],
                                                                    set[int]]:
    """The message's files in MIME order, a forwarded message's under its .eml ("转发的邮件.eml/张三1.jpg",
    the .eml's index as their parent); the signature art; and which files are forwarded messages."""
    listing = _Listing([], [], set(), itertools.count(), _Unpacking(settings.archives))
    _list_parts(listing, parts, "", None)
    return listing.files, listing.art, listing.forwarded


def _list_parts(into: _Listing, parts: list[MimePart], folder: str, parent: int | None) -> None:
    for part in parts:
        name = folder + _part_name(part, next(into.numbers))
        if part.signature_image:
            into.art.append(ExtractedFile(
                display_name=name, content=part.content, sha256=_sha(part.content),
                detected_type=detect_type(part.content, name), role=Role.OTHER, role_reason=_SIGNATURE_ART,
                parent=parent, inline=True))
            continue
        here = _add(into.files, name, part.content, part.inline, into.unpacking, parent) if part.kept else parent
        if part.content_type in FORWARDED_TYPES:
            if part.kept:
                into.forwarded.add(here)
            _list_parts(into, part.inner, name + "/", here)


def _adopt_named_art(files: list[ExtractedFile], insides: list[_Inside], art: list[ExtractedFile],
                     settings: ParserSettings) -> None:
    """Signature-like inline images named for a candidate of this message's summary table (张三.png) are
    that candidate's photos after all: they join the files, read like the others."""
    names = {row.name for f in files if f.summary for row in f.summary.rows if len(row.name) >= 2}
    for f in [f for f in art if any(n in basename(f.display_name).rsplit(".", 1)[0] for n in names)]:
        art.remove(f)
        f.role_reason, f.photo = "", inspect_photo(f.content, settings.max_image_pixels)
        files.append(f)
        insides.append(_Inside([f.content]))


def _forwarded_are_other(files: list[ExtractedFile], forwarded: set[int]) -> None:
    """A forwarded .eml is listed as itself, never as the material its subject names: its parts are."""
    for i in forwarded:
        f = files[i]
        f.role, f.role_reason, f.person, f.seq = Role.OTHER, _FORWARDED_MESSAGE, None, None


class _Unpacking:
    """The message's archive budget (`campaign.archives`: unpacked bytes and entries per message), shared
    by all its archives wherever they sit, a forwarded message's too; depth counts per archive."""

    def __init__(self, limits: ArchiveLimits):
        self.limits = self.left = limits

    def expand(self, data: bytes, kind: str, name: str) -> Expansion:
        spent = self.limits.max_total_bytes - self.left.max_total_bytes
        counted = self.limits.max_entries - self.left.max_entries
        expansion = expand(data, kind, name, self.left)
        self.left = dataclasses.replace(
            self.left, max_total_bytes=max(0, self.left.max_total_bytes - sum(len(m.content) for m in expansion.files)),
            max_entries=max(0, self.left.max_entries - len(expansion.files)))
        if spent or counted:
            expansion.findings = [self._of_message(x, spent) for x in expansion.findings]
        return expansion

    def _of_message(self, finding: F.Finding, spent: int) -> F.Finding:
        """A refusal against what earlier archives left, said against the message's own limit."""
        reason = finding.params.get("reason")
        if finding.code != "archive_unsafe" or reason not in _BUDGET_REASONS:
            return finding
        params = dict(finding.params)
        params["limit"] = self.limits.max_entries if reason == "too_many_entries" else self.limits.max_total_bytes
        if isinstance(params.get("total"), int):
            params["total"] += spent
        return dataclasses.replace(finding, params=params)


def _add(files: list[ExtractedFile], name: str, data: bytes, inline: bool, unpacking: _Unpacking,
         parent: int | None = None) -> int:
    """A MIME part, and when it is an archive, every member (nested up to the configured depth); returns
    the part's index."""
    kind = detect_type(data, name)
    top = ExtractedFile(display_name=name, content=data, sha256=_sha(data), detected_type=kind, inline=inline,
                        parent=parent)
    files.append(top)
    offset = len(files) - 1
    if not is_archive(kind):
        return offset
    expansion = unpacking.expand(data, kind, name)
    top.findings.extend(expansion.findings)
    for member in expansion.files:
        parent = offset if member.parent is None else offset + 1 + member.parent
        files.append(ExtractedFile(display_name=member.display_name, content=member.content,
                                   sha256=_sha(member.content), detected_type=member.kind, parent=parent))
    return offset


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _read_inside(f: ExtractedFile, settings: ParserSettings, ocr: OcrReader) -> _Inside:
    """Text for documents (a legacy one converted first, a PDF without a text layer read by OCR), header
    facts for images: what roles and checks need. Pictures are read by OCR only once their role is known."""
    if is_image(f.detected_type):
        f.photo = f.photo or inspect_photo(f.content, settings.max_image_pixels)  # done already when side by side
        return _Inside([f.content])
    if f.detected_type not in _TEXT_DOCUMENTS and f.detected_type not in _LEGACY and f.detected_type != "text":
        return _Inside()
    inside = _Inside()
    data, kind, doc = _readable(f, settings, inside)
    f.text, f.problem, inside.pictures = doc.text, doc.problem, doc.images
    if kind in {"xlsx", "xls"}:
        table = read_summary(data, kind)
        if isinstance(table, str):
            inside.summary_problem = table
        else:
            f.summary = table
    if kind == "pdf" and doc.text is None and doc.problem is None:  # an image PDF: a scan
        _scan(f, inside, ocr)
    return inside


def _readable(f: ExtractedFile, settings: ParserSettings, inside: _Inside) -> tuple[bytes, str, DocumentContent]:
    """The bytes the readers take and what they read: a .doc/.wps/.et as LibreOffice's OOXML (the conversion
    kept for the checks), an .xls xlrd cannot read converted too when LibreOffice is there."""
    data, kind = f.content, f.detected_type
    if kind in _LEGACY:
        inside.converted = _converted(f, kind, settings)
        if inside.converted.data:
            data, kind = inside.converted.data, inside.converted.kind
    doc = read_document(data, kind, render_pages=_RENDERED_PAGES)
    if kind == "xls" and doc.problem == CORRUPT:  # without LibreOffice or a cached conversion: MISSING at once
        again = _converted(f, kind, settings)
        if again.data:
            data, kind = again.data, again.kind
            doc = read_document(data, kind, render_pages=_RENDERED_PAGES)
            _remember(f, again, doc, settings)
    if inside.converted is not None:
        _remember(f, inside.converted, doc, settings)
    return data, kind, doc


def _converted(f: ExtractedFile, kind: str, settings: ParserSettings) -> Converted:
    """The cached conversion of the file's bytes, else LibreOffice's (even without LibreOffice a `reprocess`
    reads what it converted before)."""
    docs = settings.documents
    cached = _cache(settings).get(f.sha256, kind)
    return cached or convert(f.content, kind, docs.soffice, docs.convert_seconds, docs.convert_work_dir)


def _remember(f: ExtractedFile, converted: Converted, doc: DocumentContent, settings: ParserSettings) -> None:
    """Cache a fresh conversion unless the file's name or text carries a secrecy marking."""
    if converted.data is None or converted.cached:
        return
    if find_secrecy_marking(f.display_name) or (doc.text and find_secrecy_marking(doc.text)):
        return
    _cache(settings).put(f.sha256, converted)


def _cache(settings: ParserSettings) -> ConversionCache:
    return ConversionCache(settings.documents.convert_cache_dir)


def _scan(f: ExtractedFile, inside: _Inside, ocr: OcrReader) -> None:
    """A scan's text, read by OCR (its result kept for the checks: a problem, the cells of a table)."""
    inside.ocr = ocr.read(f.content, f.detected_type, f.sha256)
    text = inside.ocr.text
    if text:
        f.text, f.ocr = text[:MAX_DOCUMENT_CHARS], True


def _read_scanned_pictures(files: list[ExtractedFile], insides: list[_Inside], ocr: OcrReader,
                           skip: Mapping[int, Overrun], on_file: OnFiles | None) -> None:
    """Pictures taken for a report, form or summary are photographed or scanned pages: OCR reads them (never
    the candidates' photos, which are most of the bytes). A form's text names its person; a scanned
    summary's table is read as well as OCR allows."""
    for i, (f, inside) in enumerate(zip(files, insides, strict=True)):
        if i in skip or f.role not in _NEEDS_TEXT:
            continue
        if is_image(f.detected_type) and f.text is None:
            if on_file:
                on_file((i,))
            _scan(f, inside, ocr)
            if f.role == Role.FORM and f.text:
                f.person = form_person(f)
        if f.role == Role.SUMMARY and f.ocr and f.summary is None and inside.ocr is not None:
            f.summary = read_scanned_summary(inside.ocr.lines)


def _check(f: ExtractedFile, settings: ParserSettings, inside: _Inside) -> None:
    marking = find_secrecy_marking(f.display_name) or (find_secrecy_marking(f.text) if f.text else None)
    if marking:
        f.findings.append(F.make("classified_marker", f.display_name, marking=marking))
    if inside.converted is not None and inside.converted.problem is not None:
        f.findings.append(F.make("legacy_format", f.display_name, kind=f.detected_type,
                                 **_reason(inside.converted.problem, inside.converted.limit)))
    if inside.ocr is not None and inside.ocr.problem in OCR_FAILURES:
        f.findings.append(F.make("ocr_failed", f.display_name, **_reason(inside.ocr.problem, inside.ocr.limit)))
    if f.role in (Role.REPORT, Role.FORM) and _without_text(f):
        f.findings.append(F.make("markings_not_checked", f.display_name))
    if f.role in PHOTO_ROLES:
        # Named like a photo but no image (0 bytes, an error page, a PDF): inspecting it reports it as corrupt.
        info = f.photo or inspect_photo(f.content, settings.max_image_pixels)
        f.findings.extend(_pasted(photo_findings(f.display_name, f.size, info, f.role, settings), f.inline))
        if f.seq is None and not _named_id_photo(f):
            f.findings.append(F.make("photo_bad_name", f.display_name))
    elif f.role == Role.SUMMARY:
        _check_summary(f, inside)
    elif f.problem == TOO_COMPLEX:
        f.findings.append(F.make("document_too_complex", f.display_name))
    elif f.problem in _UNREADABLE:
        f.findings.append(F.make("file_corrupt", f.display_name, reason=_UNREADABLE[f.problem]))
    elif inside.converted is not None and inside.converted.problem is not None:
        pass  # not read at all (legacy_format says so): its seal was not looked for either
    elif f.role == Role.REPORT:
        _check_report(f, inside.pictures, settings)


def _pasted(found: list[F.Finding], inline: bool) -> list[F.Finding]:
    """A photo pasted into the body was shrunk by the mail client: its photo_too_small says so."""
    if not inline:
        return found
    return [dataclasses.replace(x, params={**x.params, "inline": True}) if x.code == "photo_too_small" else x
            for x in found]


def _reason(problem: str, limit: float | None) -> dict[str, F.Param]:
    return {"reason": problem} if limit is None else {"reason": problem, "limit": limit}


def _without_text(f: ExtractedFile) -> bool:
    """Scans OCR could not read (a PDF without text layer, a photo of the page) and legacy files LibreOffice
    could not convert cannot be searched for a secrecy mark."""
    return f.text is None and (f.detected_type == "pdf" or is_image(f.detected_type) or f.detected_type in _LEGACY)


def _named_id_photo(f: ExtractedFile) -> bool:
    return f.role == Role.ID_PHOTO and looks_like_id_photo_name(f.display_name)


def _check_summary(f: ExtractedFile, inside: _Inside) -> None:
    if f.summary is not None:
        if f.ocr:  # best effort: the names as OCR read them, and a word that they may be wrong
            names = [row.name for row in f.summary.rows]
            f.findings.append(F.make("summary_scanned", f.display_name, count=len(names), names=names))
        return
    f.findings.append(F.make("summary_unreadable", f.display_name, reason=inside.summary_problem or NOT_EXCEL))


def _check_report(f: ExtractedFile, pictures: list[bytes], settings: ParserSettings) -> None:
    f.sealed = seal_in_images(pictures, settings.max_image_pixels) if pictures else False
    if not f.sealed:
        f.findings.append(F.make("report_unsealed", f.display_name))


def _cloud_finding(links: list[CloudLink]) -> F.Finding:
    hosts = list(dict.fromkeys(link.host for link in links))
    expiries = [[link.host, link.expires] for link in links if link.expires]
    return F.make("cloud_attachment", None, hosts=hosts, expiries=expiries)
