"""One raw message -> MessageFacts: every file named, typed, unpacked, read, classified and checked.

A pure function of the bytes and the settings; everything a later stage needs is in the result.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

from mailintake.common import findings as F
from mailintake.common.vocab import PHOTO_ROLES, Kind, Role
from mailintake.parsers.archives import Expansion, expand
from mailintake.parsers.bounces import read_bounce
from mailintake.parsers.charsets import text_findings
from mailintake.parsers.cloud_links import find_cloud_links
from mailintake.parsers.documents import TOO_COMPLEX, read_document
from mailintake.parsers.facts import (
    ArchiveLimits,
    BounceFacts,
    CloudLink,
    ExtractedFile,
    MessageFacts,
    ParserSettings,
)
from mailintake.parsers.filetypes import detect_type, is_archive, is_image
from mailintake.parsers.kinds import KindVerdict, classify_kind
from mailintake.parsers.mime import FORWARDED_TYPES, MimeMessage, MimePart, parse_mime, parse_mime_headers
from mailintake.parsers.photo_names import looks_like_id_photo_name
from mailintake.parsers.photos import inspect_photo, photo_findings
from mailintake.parsers.roles import assign_roles, basename
from mailintake.parsers.seal import seal_in_images
from mailintake.parsers.secrecy import find_secrecy_marking
from mailintake.parsers.summary import NOT_EXCEL, read_summary

_UNREADABLE = {"corrupt": "document_corrupt", "encrypted": "document_encrypted"}  # problem -> reason code
_TEXT_DOCUMENTS = {"pdf", "docx", "xlsx", "xls"}
MAX_MESSAGE_CHARS = 2_000_000  # document text kept for one message (a form is a few thousand characters)
_RENDERED_PAGES = 3  # a seal sits on the first pages; later ones are not rendered
_SIGNATURE_ART = "邮件签名或正文中的小图标，不是推荐材料"
_FORWARDED_MESSAGE = "转发的邮件，其中的附件逐一识别"
_BUDGET_REASONS = frozenset({"declared_too_large", "unpacked_too_large", "too_many_entries"})


@dataclass(frozen=True)
class Overrun:
    """What stopped a bounded parse: the file being read (index in `files`; None before any file) and why."""

    file: int | None
    reason: str  # "time" | "memory" | "died"
    limit: float  # the limit that was passed: seconds or bytes


def parse_message(raw: bytes, settings: ParserSettings, skip: Mapping[int, Overrun] | None = None,
                  on_file: Callable[[int], None] | None = None) -> MessageFacts:
    """`skip`: files not to read (a bounded parse overran on them); `on_file(i)` is told before file i is read."""
    skip = skip or {}
    mime = parse_mime(raw)
    files, art, forwarded = _listed(mime.parts, settings)  # signature art is listed, never read or counted
    findings: list = []
    pictures = [_read_unless_skipped(i, f, settings, skip, on_file) for i, f in enumerate(files)]  # read once
    _adopt_named_art(files, pictures, art, settings)
    _bound_text(files)
    assign_roles(files, settings)
    _forwarded_are_other(files, forwarded)
    for i, (f, inside) in enumerate(zip(files, pictures, strict=True)):
        if i in skip:
            f.findings.append(_limit_finding(f.display_name, skip[i]))
            continue
        if on_file:
            on_file(i)
        _check(f, settings, inside)
    links = find_cloud_links(mime.body_text, mime.body_html)
    if links:
        findings.append(_cloud_finding(links))
    findings += text_findings(raw, mime, files)  # undecodable_text; re-reads 8-bit subject/sender by declared charsets
    if mime.losses:
        findings.append(F.make("message_damaged", None, losses=sorted(set(mime.losses))))
    classified = any(x.code == "classified_marker" for f in files for x in f.findings)
    verdict = classify_kind(mime, bool(files) or bool(links))
    return MessageFacts(
        message_id=mime.message_id, sender=mime.sender, sender_name=mime.sender_name,
        subject=mime.subject or "", date_header=mime.date_header, headers=mime.headers,
        body_text=mime.body_text or "", kind=verdict.kind, kind_reason=verdict.reason,
        files=files + art, cloud_links=links, findings=findings, classified=classified,
        bounce=_bounce(mime, verdict),
    )


def parse_envelope(raw: bytes, overrun: Overrun) -> MessageFacts:
    """Headers only, for a message whose structure itself overran the bounded parse: it is recorded, its
    files are not read, and the finding says why."""
    mime = parse_mime_headers(raw)
    verdict = classify_kind(mime, True)
    return MessageFacts(
        message_id=mime.message_id, sender=mime.sender, sender_name=mime.sender_name,
        subject=mime.subject or "", date_header=mime.date_header, headers=mime.headers, body_text="",
        kind=verdict.kind, kind_reason=verdict.reason, findings=[_limit_finding("本邮件", overrun)],
        bounce=_bounce(mime, verdict),  # headers only: what In-Reply-To and References name
    )


def _bounce(mime: MimeMessage, verdict: KindVerdict) -> BounceFacts | None:
    return read_bounce(mime) if verdict.kind == Kind.BOUNCE else None


def _limit_finding(name: str | None, overrun: Overrun) -> F.Finding:
    return F.make("processing_limit", name, reason=f"limit_{overrun.reason}", limit=overrun.limit)


def _read_unless_skipped(i: int, f: ExtractedFile, settings: ParserSettings, skip: Mapping[int, Overrun],
                         on_file: Callable[[int], None] | None) -> list[bytes]:
    if i in skip:
        return []
    if on_file:
        on_file(i)
    return _read_inside(f, settings)


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


def _adopt_named_art(files: list[ExtractedFile], pictures: list[list[bytes]], art: list[ExtractedFile],
                     settings: ParserSettings) -> None:
    """Signature-like inline images named for a candidate of this message's summary table (张三.png) are
    that candidate's photos after all: they join the files, read like the others."""
    names = {row.name for f in files if f.summary for row in f.summary.rows if len(row.name) >= 2}
    for f in [f for f in art if any(n in basename(f.display_name).rsplit(".", 1)[0] for n in names)]:
        art.remove(f)
        f.role_reason, f.photo = "", inspect_photo(f.content, settings.max_image_pixels)
        files.append(f)
        pictures.append([f.content])


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


def _read_inside(f: ExtractedFile, settings: ParserSettings) -> list[bytes]:
    """Text for documents, header facts for images: what roles and checks need. Returns the pictures
    inside a document (and its first pages rendered), kept only until a report's seal is looked for."""
    if is_image(f.detected_type):
        f.photo = inspect_photo(f.content, settings.max_image_pixels)
        return [f.content]
    if f.detected_type in _TEXT_DOCUMENTS or f.detected_type in {"doc", "wps", "et", "text"}:
        doc = read_document(f.content, f.detected_type, render_pages=_RENDERED_PAGES)
        f.text, f.problem = doc.text, doc.problem
        if f.detected_type in {"xlsx", "xls"}:
            table = read_summary(f.content, f.detected_type)
            if not isinstance(table, str):
                f.summary = table
        return doc.images
    return []


def _check(f: ExtractedFile, settings: ParserSettings, pictures: list[bytes]) -> None:
    marking = find_secrecy_marking(f.display_name) or (find_secrecy_marking(f.text) if f.text else None)
    if marking:
        f.findings.append(F.make("classified_marker", f.display_name, marking=marking))
    if f.role in (Role.REPORT, Role.FORM) and _without_text(f):
        f.findings.append(F.make("markings_not_checked", f.display_name))
    if f.role in PHOTO_ROLES:
        # Named like a photo but no image (0 bytes, an error page, a PDF): inspecting it reports it as corrupt.
        info = f.photo or inspect_photo(f.content, settings.max_image_pixels)
        f.findings.extend(_pasted(photo_findings(f.display_name, f.size, info, f.role, settings), f.inline))
        if f.seq is None and not _named_id_photo(f):
            f.findings.append(F.make("photo_bad_name", f.display_name))
    elif f.role == Role.SUMMARY:
        _check_summary(f)
    elif f.problem == TOO_COMPLEX:
        f.findings.append(F.make("document_too_complex", f.display_name))
    elif f.problem in _UNREADABLE:
        f.findings.append(F.make("file_corrupt", f.display_name, reason=_UNREADABLE[f.problem]))
    elif f.role == Role.REPORT:
        _check_report(f, pictures, settings)


def _pasted(found: list[F.Finding], inline: bool) -> list[F.Finding]:
    """A photo pasted into the body was shrunk by the mail client: its photo_too_small says so."""
    if not inline:
        return found
    return [dataclasses.replace(x, params={**x.params, "inline": True}) if x.code == "photo_too_small" else x
            for x in found]


def _without_text(f: ExtractedFile) -> bool:
    """Scans (a PDF without text layer, or a photo of the page) cannot be searched for a secrecy mark."""
    return f.text is None and (f.detected_type == "pdf" or is_image(f.detected_type))


def _named_id_photo(f: ExtractedFile) -> bool:
    return f.role == Role.ID_PHOTO and looks_like_id_photo_name(f.display_name)


def _check_summary(f: ExtractedFile) -> None:
    if f.summary is not None:
        return
    if f.detected_type in {"xlsx", "xls"}:
        reason = read_summary(f.content, f.detected_type)
        f.findings.append(F.make("summary_unreadable", f.display_name, reason=reason))
    else:
        f.findings.append(F.make("summary_unreadable", f.display_name, reason=NOT_EXCEL))


def _check_report(f: ExtractedFile, pictures: list[bytes], settings: ParserSettings) -> None:
    f.sealed = seal_in_images(pictures, settings.max_image_pixels) if pictures else False
    if not f.sealed:
        f.findings.append(F.make("report_unsealed", f.display_name))


def _cloud_finding(links: list[CloudLink]) -> F.Finding:
    hosts = list(dict.fromkeys(link.host for link in links))
    expiries = [[link.host, link.expires] for link in links if link.expires]
    return F.make("cloud_attachment", None, hosts=hosts, expiries=expiries)
