"""The facts `parsers/` derives from one raw message: plain data, no behaviour.

Everything downstream (rules, store, reports) consumes these types, so they are the contract
between the pure parsing layer and the rest of the service.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mailintake.common.findings import Finding
from mailintake.common.vocab import Kind, Role

__all__ = ["Finding"]  # re-exported: the facts carry findings

ROLES = tuple(Role)


@dataclass(frozen=True)
class ArchiveLimits:
    max_total_bytes: int
    max_ratio: float
    max_entries: int
    max_depth: int


@dataclass(frozen=True)
class DocumentSettings:
    """Reading scans (OCR, `parsers.ocr`) and legacy Office files (LibreOffice, `parsers.legacy`), both in
    bounded child processes."""

    ocr_max_pages: int  # pages read per scan: the first ones and the last; 0 = no OCR
    ocr_page_seconds: float  # per page, rendering included; the OCR child is killed when it overruns
    ocr_memory_bytes: int  # the OCR child's address-space limit
    ocr_cache_dir: str | None  # results by the file's sha256 (`<storage root>/cache/ocr`); None = no cache
    soffice: str | None  # LibreOffice's program, found on PATH or as given; None = no conversion
    convert_seconds: float  # per conversion; LibreOffice is killed when it overruns
    convert_cache_dir: str | None  # conversions by the input's sha256 (`<storage root>/cache/legacy`); None = none
    convert_work_dir: str | None  # LibreOffice's work folders (`<storage root>/convert`); None = the system temp dir


@dataclass(frozen=True)
class ParserSettings:
    """Campaign-dependent knobs the parsers need. No defaults here: `Config.parser_settings()` is their
    one source, so a configured limit reaches every parser that applies it."""

    photo_min_bytes: dict[str, int]  # role -> minimum size in bytes
    id_ratio_min: float
    id_ratio_max: float
    max_image_pixels: int
    archives: ArchiveLimits
    documents: DocumentSettings


@dataclass(frozen=True)
class FaceBox:
    """A face the detector found, as shares (0..1) of the upright photo's width and height."""

    x: float
    y: float
    w: float
    h: float


@dataclass(frozen=True)
class FaceFacts:
    """What `parsers.faces` saw: the frontal faces (largest first) and, when there is none, a profile."""

    frontal: tuple[FaceBox, ...] = ()
    profile: bool = False
    problem: str | None = None  # "detector_missing": the cascade files are not installed, nothing was looked at


@dataclass
class PhotoInfo:
    format: str | None  # Pillow's format name: "JPEG", "PNG", ...
    width: int = 0
    height: int = 0
    mode: str = ""
    colour: bool = True
    plain_background: bool = False
    problem: str | None = None  # "corrupt" | "bomb" | None
    faces: FaceFacts | None = None  # None: not looked for (a landscape photo, or not decoded)
    phash: str | None = None  # perceptual hash of the upright picture (imagehash.phash 16×16: 64 hex digits)


@dataclass
class CloudLink:
    url: str
    host: str
    expires: str | None = None  # as the mail states it, e.g. "2021-06-20" or "30天"


@dataclass
class SummaryRow:
    name: str
    fields: dict[str, str]  # meaning -> cell text: gender, birth, ethnicity, politics, post, category, deeds, phone


@dataclass
class SummaryTable:
    unit: str | None  # from the 推荐单位 line, as written
    rows: list[SummaryRow]


@dataclass
class ExtractedFile:
    """One file of the message: a MIME attachment or an archive member."""

    display_name: str  # as the sender saw it; members: "材料.zip/张三/张三1.jpg"
    content: bytes
    sha256: str
    detected_type: str  # jpeg png heic gif bmp webp pdf docx doc xlsx xls wps et zip rar 7z text unknown
    role: Role = Role.OTHER
    role_reason: str = ""
    person: str | None = None
    seq: int | None = None
    parent: int | None = None  # index in MessageFacts.files of the containing archive
    inline: bool = False
    text: str | None = None  # extracted document text (None: no text layer / not a document)
    ocr: bool = False  # the text was read from a scan by OCR (not exact), not taken from a text layer
    problem: str | None = None  # a document that could not be read: "corrupt" | "encrypted" | …
    photo: PhotoInfo | None = None
    sealed: bool | None = None  # reports only: red seal found / not found / not checked
    summary: SummaryTable | None = None  # summary tables only
    findings: list[Finding] = field(default_factory=list)
    size: int = -1  # bytes; taken from `content` when made, kept when the bytes are sent on without it

    def __post_init__(self) -> None:
        if self.size < 0:
            self.size = len(self.content)


@dataclass(frozen=True)
class BounceFacts:
    """What a bounce says about the message it returns (`parsers.bounces`); empty when it says nothing."""

    original_ids: tuple[str, ...] = ()  # the returned message's Message-IDs, "<…@…>" as written, first found first
    recipients: tuple[str, ...] = ()  # the addresses that failed: bare, lower-case
    status: str | None = None  # RFC 3463 status code, e.g. "5.1.1"
    diagnostic: str | None = None  # the server's reason, one line, at most 500 characters


@dataclass
class MessageFacts:
    message_id: str | None
    sender: str | None  # bare address, lower-case
    sender_name: str | None
    subject: str
    date_header: str | None  # as sent; never decides lateness
    headers: dict[str, str]  # lower-case name -> decoded value, for kinds/auto-reply detection
    body_text: str
    kind: Kind = Kind.SUBMISSION
    kind_reason: str = ""  # why it is that kind: a short code such as "material", "dsn", "auto_submitted"
    files: list[ExtractedFile] = field(default_factory=list)
    cloud_links: list[CloudLink] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)  # message-level
    classified: bool = False
    files_stored: bool = False  # the parse worker made the files durable and sent the facts without their bytes
    bounce: BounceFacts | None = None  # bounces only: which message came back and why
