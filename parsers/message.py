"""One raw message -> MessageFacts: every file named, typed, unpacked, read, classified and checked.

A pure function of the bytes and the settings; everything a later stage needs is in the result.
"""

from __future__ import annotations

import hashlib

from mailintake.common import findings as F
from mailintake.common.vocab import PHOTO_ROLES, Role
from mailintake.parsers.archives import expand
from mailintake.parsers.cloud_links import find_cloud_links
from mailintake.parsers.documents import read_document
from mailintake.parsers.facts import CloudLink, ExtractedFile, MessageFacts, ParserSettings
from mailintake.parsers.filetypes import detect_type, is_archive, is_image
from mailintake.parsers.kinds import classify_kind
from mailintake.parsers.mime import MimePart, parse_mime
from mailintake.parsers.photo_names import looks_like_id_photo_name
from mailintake.parsers.photos import inspect_photo, photo_findings
from mailintake.parsers.roles import assign_roles
from mailintake.parsers.seal import seal_in_images
from mailintake.parsers.secrecy import find_secrecy_marking
from mailintake.parsers.summary import NOT_EXCEL, read_summary

_UNREADABLE = {"corrupt": "document_corrupt", "encrypted": "document_encrypted"}  # problem -> reason code
_TEXT_DOCUMENTS = {"pdf", "docx", "xlsx", "xls"}
_RENDERED_PAGES = 3  # a seal sits on the first pages; later ones are not rendered


def parse_message(raw: bytes, settings: ParserSettings) -> MessageFacts:
    mime = parse_mime(raw)
    files: list[ExtractedFile] = []
    findings: list = []
    for n, part in enumerate(p for p in mime.parts if not p.signature_image):
        _add(files, _part_name(part, n), part.content, part.disposition == "inline", settings)
    pictures = [_read_inside(f, settings) for f in files]  # each file is read once
    assign_roles(files, settings)
    for f, inside in zip(files, pictures, strict=True):
        _check(f, settings, inside)
    links = find_cloud_links(mime.body_text, mime.body_html)
    if links:
        findings.append(_cloud_finding(links))
    classified = any(x.code == "classified_marker" for f in files for x in f.findings)
    return MessageFacts(
        message_id=mime.message_id, sender=mime.sender, sender_name=mime.sender_name,
        subject=mime.subject or "", date_header=mime.date_header, headers=mime.headers,
        body_text=mime.body_text or "", kind=classify_kind(mime, bool(files) or bool(links)),
        files=files, cloud_links=links, findings=findings, classified=classified,
    )


def _part_name(part: MimePart, n: int) -> str:
    if part.filename:
        return part.filename
    subtype = (part.content_type or "application/octet-stream").split("/")[-1]
    return f"未命名附件-{n + 1}.{subtype}"  # the dash keeps "附件1"/"附件2" from reading as form/summary


def _add(files: list[ExtractedFile], name: str, data: bytes, inline: bool, settings: ParserSettings) -> None:
    """A MIME part, and when it is an archive, every member (nested up to the configured depth)."""
    kind = detect_type(data, name)
    top = ExtractedFile(display_name=name, content=data, sha256=_sha(data), detected_type=kind, inline=inline)
    files.append(top)
    if not is_archive(kind):
        return
    offset = len(files) - 1
    expansion = expand(data, kind, name, settings.archives)
    top.findings.extend(expansion.findings)
    for member in expansion.files:
        parent = offset if member.parent is None else offset + 1 + member.parent
        files.append(ExtractedFile(display_name=member.display_name, content=member.content,
                                   sha256=_sha(member.content), detected_type=member.kind, parent=parent))


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
        f.findings.extend(photo_findings(f.display_name, f.size, info, f.role, settings))
        if f.seq is None and not _named_id_photo(f):
            f.findings.append(F.make("photo_bad_name", f.display_name))
    elif f.role == Role.SUMMARY:
        _check_summary(f)
    elif f.problem in _UNREADABLE:
        f.findings.append(F.make("file_corrupt", f.display_name, reason=_UNREADABLE[f.problem]))
    elif f.role == Role.REPORT:
        _check_report(f, pictures, settings)


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
