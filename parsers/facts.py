"""The facts `parsers/` derives from one raw message: plain data, no behaviour.

Everything downstream (rules, store, reports) consumes these types, so they are the contract
between the pure parsing layer and the rest of the service.
"""

from __future__ import annotations

from dataclasses import dataclass, field

ROLES = ("report", "form", "summary", "id_photo", "life_photo", "archive", "other")


@dataclass(frozen=True)
class Finding:
    """One problem found, in words a submitter understands (`detail` is Chinese)."""

    code: str
    severity: str  # "error" | "warning"
    subject: str | None
    detail: str


@dataclass(frozen=True)
class ArchiveLimits:
    max_total_bytes: int = 512 * 1024 * 1024
    max_ratio: float = 200.0
    max_entries: int = 2000
    max_depth: int = 2


@dataclass(frozen=True)
class ParserSettings:
    """Campaign-dependent knobs the parsers need; built from the config by `ingest.config`."""

    photo_min_bytes: dict[str, int] = field(
        default_factory=lambda: {"id_photo": 2_097_152, "life_photo": 2_097_152}
    )
    id_ratio_min: float = 0.66
    id_ratio_max: float = 0.80
    max_image_pixels: int = 120_000_000
    archives: ArchiveLimits = field(default_factory=ArchiveLimits)


@dataclass
class PhotoInfo:
    format: str | None  # Pillow's format name: "JPEG", "PNG", ...
    width: int = 0
    height: int = 0
    mode: str = ""
    colour: bool = True
    plain_background: bool = False
    problem: str | None = None  # "corrupt" | "bomb" | None


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
    role: str = "other"
    role_reason: str = ""
    person: str | None = None
    seq: int | None = None
    parent: int | None = None  # index in MessageFacts.files of the containing archive
    inline: bool = False
    text: str | None = None  # extracted document text (None: no text layer / not a document)
    problem: str | None = None  # a document that could not be read: "corrupt" | "encrypted" | …
    photo: PhotoInfo | None = None
    sealed: bool | None = None  # reports only: red seal found / not found / not checked
    summary: SummaryTable | None = None  # summary tables only
    findings: list[Finding] = field(default_factory=list)

    @property
    def size(self) -> int:
        return len(self.content)


@dataclass
class MessageFacts:
    message_id: str | None
    sender: str | None  # bare address, lower-case
    sender_name: str | None
    subject: str
    date_header: str | None  # as sent; never decides lateness
    headers: dict[str, str]  # lower-case name -> decoded value, for kinds/auto-reply detection
    body_text: str
    kind: str = "submission"  # submission | auto_reply | bounce | other
    files: list[ExtractedFile] = field(default_factory=list)
    cloud_links: list[CloudLink] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)  # message-level
    classified: bool = False
