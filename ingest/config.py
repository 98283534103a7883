"""Configuration: one TOML file, validated at start-up, passed down explicitly (no globals).

Secrets are never in the file: `password_env` names an environment variable, `password_file` a file.
Every problem is reported as one line naming the file, the key and what is wrong.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tomllib
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from mailintake.common.errors import ConfigError
from mailintake.parsers.facts import ArchiveLimits, DocumentSettings, ParserSettings


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Credentials(_Section):
    username: str = ""
    password_env: str = ""
    password_file: str = ""

    def password(self) -> str:
        """The secret, read only when a connection is made (never logged)."""
        if self.password_env:
            value = os.environ.get(self.password_env)
            if value is None:
                raise ConfigError([f"environment variable {self.password_env} (password_env) is not set"])
            return value
        if self.password_file:
            try:
                return Path(self.password_file).read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise ConfigError([f"password_file {self.password_file}: {exc.strerror}"]) from exc
        return ""


class Server(Credentials):
    """A mail server: TLS with certificate verification unless the operator says otherwise."""

    host: str = ""
    port: int = Field(993, ge=1, le=65535)
    security: Literal["tls", "starttls", "none"] = "tls"
    verify_tls: bool = True
    ca_file: str = ""
    timeout_seconds: float = Field(60, gt=0)


class Mailbox(Server):
    source: Literal["imap", "maildir"] = "imap"
    path: str = ""  # maildir source: a Maildir or a folder of .eml files
    folder: str = "INBOX"
    mark_keyword: str = "$Ingested"
    move_to: str = ""
    sent_folder: str = ""
    # What the fetch holds at once (imaplib reads a literal whole, imapclient parses a copy): 16 MiB pieces
    # kept poll's parent at 111 MiB on the throughput bench, 4 MiB at 80 (bench/README.md).
    batch_bytes: int = Field(16 * 1024 * 1024, ge=1024 * 1024)
    chunk_bytes: int = Field(4 * 1024 * 1024, ge=64 * 1024)
    idle: bool = True  # `serve`: wait in IMAP IDLE (when offered) to poll within seconds of new mail
    idle_renew_minutes: float = Field(10, gt=0, le=29)  # re-issue IDLE this often (RFC 2177: under 29)

    @model_validator(mode="after")
    def _source_fields(self) -> Mailbox:
        if self.source == "imap" and not self.host:
            raise ValueError("host is required when source = \"imap\"")
        if self.source == "maildir" and not self.path:
            raise ValueError("path is required when source = \"maildir\"")
        return self


class Smtp(Server):
    port: int = Field(465, ge=1, le=65535)
    from_address: str = ""


class Database(_Section):
    url: str = "sqlite:///mailintake.db"


class Storage(_Section):
    root: str = "./mailintake-data"


class Quotas(_Section):
    district: int = Field(3, ge=0)
    society: int = Field(2, ge=0)
    institution: int = Field(2, ge=0)


class Photos(_Section):
    min_bytes: int = Field(2_097_152, ge=0)
    id_min_bytes: int | None = Field(None, ge=0)
    life_min_bytes: int | None = Field(None, ge=0)
    life_min: int = Field(3, ge=0)
    life_max: int = Field(5, ge=0)
    id_ratio_min: float = Field(0.66, gt=0)
    id_ratio_max: float = Field(0.80, gt=0)
    max_pixels: int = Field(120_000_000, gt=0)
    # two photos are one picture when their perceptual hashes (256 bits) differ in at most this many bits
    reuse_distance: int = Field(10, ge=0, le=256)


class Archives(_Section):
    max_total_bytes: int = Field(512 * 1024 * 1024, gt=0)
    max_ratio: float = Field(200.0, gt=1)
    max_entries: int = Field(2000, gt=0)
    max_depth: int = Field(2, ge=0, le=5)


class UnitOverride(_Section):
    name: str
    category: Literal["district", "society", "institution"] = "institution"
    quota: int | None = None
    aliases: list[str] = []
    senders: list[str] = []


class Campaign(_Section):
    name: str = "2021年重庆市“最美科技工作者”"
    mailbox_address: str = ""
    deadline: dt.datetime = dt.datetime(2021, 5, 28, 23, 59, 59, tzinfo=ZoneInfo("Asia/Shanghai"))
    timezone: str = "Asia/Shanghai"
    quotas: Quotas = Quotas()
    photos: Photos = Photos()
    archives: Archives = Archives()
    units: list[UnitOverride] = []
    previously_honoured: list[str] = []
    # Words in a candidate's post that mark an ineligible role (active military, bureau-level
    # officials); replaces the 2021 list when set.
    ineligible_post_words: list[str] = [
        "现役", "部队", "解放军", "武警", "军区", "军人",
        "厅长", "副厅长", "司长", "副司长", "巡视员", "司局级", "厅局级", "厅级", "副市长", "市长",
    ]
    # The registry's data file: a file shipped in mailintake/ingest/data by bare name, or a path
    # (relative to the config file). The lists below add to that file's lists of the same names.
    registry_data: str = "chongqing_units.toml"
    city_prefixes: list[str] = []
    office_suffixes: list[str] = []
    organisers: list[str] = []
    sentence_leads: list[str] = []
    noise_words: list[str] = []
    organisation_words: list[str] = []
    society_words: list[str] = []
    institution_words: list[str] = []
    reply_prefixes: list[str] = []

    @field_validator("ineligible_post_words", "city_prefixes", "office_suffixes", "organisers", "sentence_leads",
                     "noise_words", "organisation_words", "society_words", "institution_words", "reply_prefixes")
    @classmethod
    def _no_blank_words(cls, value: list[str]) -> list[str]:
        if any(not w.strip() for w in value):
            raise ValueError("must not contain an empty word (it would match every name)")
        return value

    @field_validator("registry_data")
    @classmethod
    def _named(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must name a data file, e.g. \"chongqing_units.toml\"")
        return value

    @field_validator("deadline", mode="before")
    @classmethod
    def _parse_deadline(cls, value: object) -> object:
        if isinstance(value, str):
            try:
                value = dt.datetime.fromisoformat(value)
            except ValueError as exc:
                raise ValueError("must be an ISO 8601 date-time with offset, e.g. 2021-05-28T23:59:59+08:00") from exc
        if isinstance(value, dt.datetime) and value.tzinfo is None:
            raise ValueError("needs a UTC offset, e.g. 2021-05-28T23:59:59+08:00")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class Replies(_Section):
    mode: Literal["smtp", "files", "off"] = "files"
    dir: str = "./replies"
    contact_lines: list[str] = ["市科协宣传部 联系人：熊蔓源 电话：63003526"]
    paper_address: str = "重庆市渝中区双钢路科协大厦裙楼318办公室（市科协宣传部）"
    acknowledge_enquiries: bool = True  # mail without material (`other`) gets a short acknowledgement
    retry_minutes: float = Field(5, gt=0)  # first back-off after a transient SMTP failure; doubles each time
    # settling: one reply per burst of a unit's mails (ingest/replies/bursts.py); 0 = one reply per mail
    settle_minutes: float = Field(10, ge=0)
    max_wait_minutes: float = Field(120, ge=0)  # a marked series "(1/3)" waits for its parts at most this long
    daily_limit: int = Field(10, ge=1)  # automatic replies per address per campaign-timezone day
    sent_folder: str = ""  # IMAP folder that keeps a copy of each reply sent over SMTP, e.g. "Sent Messages"
    templates_dir: str = ""  # a folder whose reply.txt.j2 / reply.html.j2 override the shipped templates


class Reports(_Section):
    dir: str = "./reports"
    time: str = "08:00"
    recipients: list[str] = []

    @field_validator("time")
    @classmethod
    def _hhmm(cls, value: str) -> str:
        try:
            dt.time.fromisoformat(value)
        except ValueError as exc:
            raise ValueError("must be HH:MM, e.g. \"08:00\"") from exc
        return value


class Decisions(_Section):
    """Organisers send the decisions workbook (决定.xlsx) back to the campaign mailbox."""

    senders: list[str] = []  # addresses allowed to send decisions; empty: the digest's `reports.recipients`
    # trust a decisions mail only when our provider's Authentication-Results header (this authserv-id,
    # e.g. "mx.qq.com") says the sender passed SPF, DKIM or DMARC
    require_authentication: bool = True
    authserv_id: str = ""

    def allowed(self, reports: Reports) -> frozenset[str]:
        return frozenset(a.strip().lower() for a in (self.senders or reports.recipients) if "@" in a)


class Schedule(_Section):
    poll_seconds: int = Field(300, ge=10)
    send_seconds: int = Field(60, ge=5)  # `serve`: the outbox sender and the settle-window closer
    housekeeping_minutes: int = Field(60, ge=1)  # `serve`: finish blob effects, expire temp files, disk check
    # `health` fails when the last successful poll is older than this (0: three poll intervals)
    health_max_age_minutes: float = Field(0, ge=0)
    operators: list[str] = []  # the operator's addresses: told once when an outage starts and once when it ends
    alert_after_minutes: float = Field(30, ge=0)  # an outage this long is worth an e-mail
    min_free_mb: int = Field(1024, ge=0)  # the storage disk is "nearly full" below this
    busy_backoff_minutes: float = Field(10, ge=0)  # first wait after a provider says "too many logins / busy"
    failed_replies_alert: int = Field(5, ge=1)  # this many automatic replies failed or bounced in a row: tell
    # organiser commands wait this long for a poll in progress to release the processing lock
    lock_wait_seconds: float = Field(120, ge=0)


class Limits(_Section):
    """The backstop behind the parsers' counted limits: each message is parsed in a child process that is
    killed when it takes longer or grows larger than this (the file it was reading is set aside)."""

    parse_seconds: float = Field(300, gt=0)
    parse_memory_mb: int = Field(2048, ge=128)
    # workers side by side: with 2 the next message is read while one is recorded. Each holds the parser
    # stack (~65 MB) and a message; on the 2-core machine 2 gained 4 % throughput for 190 MiB (bench/README)
    parse_workers: int = Field(1, ge=1, le=4)
    # a message's photos inspected side by side in its worker (the decoder and the face detector release the
    # GIL, so a second thread uses the second core for a few MB more); 1 = one after another
    photo_threads: int = Field(2, ge=1, le=8)


class Documents(_Section):
    """Scans are read by OCR (RapidOCR, models inside its package) and legacy .doc/.wps/.et/.xls files are
    converted by LibreOffice, each in a child process with its own limits (inside the parse's `[limits]`)."""

    ocr_max_pages: int = Field(3, ge=0, le=50)  # pages read per scan: the first ones and the last; 0 = no OCR
    ocr_page_seconds: float = Field(60, gt=0)  # per page; an overrun gives `ocr_failed`, never a hang
    # the OCR child's address-space limit (virtual, not resident: the models take ~1.6 GB of it, ~600 MB resident)
    ocr_memory_mb: int = Field(3072, ge=256)
    soffice: str = "soffice"  # LibreOffice's program (looked up on PATH); "" = do not convert legacy files
    convert_seconds: float = Field(120, gt=0)  # per conversion (a fresh LibreOffice profile each time)

    def soffice_path(self) -> str | None:
        """The program to run, or None when it is switched off or not installed."""
        return shutil.which(self.soffice) if self.soffice.strip() else None


def split_listen(value: str) -> tuple[str, int]:
    """HOST:PORT (an IPv6 host in brackets: [::1]:8025) as (host, port); ValueError says what is wrong."""
    host, sep, port = value.strip().rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not sep or not host or not port.isdigit() or not 1 <= int(port) <= 65535 or any(c in host for c in "[]/ "):
        raise ValueError(f"must be HOST:PORT, e.g. \"127.0.0.1:8025\" (got {value!r})")
    return host, int(port)


class Web(_Section):
    """The organisers' read-only web view (`mailintake web`, or inside `serve` when enabled). It listens on
    loopback by default: the operator puts a TLS reverse proxy in front (deploy/OPERATIONS.md)."""

    enabled: bool = False  # `serve` runs the view too
    listen: str = "127.0.0.1:8025"
    # the session cookie's Secure flag; "auto": when the request came over https, or with
    # X-Forwarded-Proto: https from a reverse proxy on loopback
    secure_cookies: Literal["auto"] | bool = "auto"
    session_hours: float = Field(12, gt=0, le=720)  # a login lasts at most this long
    idle_minutes: float = Field(60, gt=0)  # ... and ends sooner after this long without a request
    login_attempts: int = Field(5, ge=1)  # failed logins (per name and per address) before a lockout
    lockout_minutes: float = Field(15, gt=0)

    @field_validator("listen")
    @classmethod
    def _host_port(cls, value: str) -> str:
        split_listen(value)
        return value.strip()

    @property
    def address(self) -> tuple[str, int]:
        return split_listen(self.listen)


class Config(_Section):
    mailbox: Mailbox
    smtp: Smtp = Smtp()
    database: Database = Database()
    storage: Storage = Storage()
    campaign: Campaign = Campaign()
    replies: Replies = Replies()
    reports: Reports = Reports()
    decisions: Decisions = Decisions()
    schedule: Schedule = Schedule()
    limits: Limits = Limits()
    documents: Documents = Documents()
    web: Web = Web()
    path: Path | None = None  # where it was read from; relative paths resolve against its folder

    def resolve(self, value: str) -> Path:
        """Relative paths in the config are relative to the config file, not the working directory."""
        p = Path(value).expanduser()
        if p.is_absolute() or self.path is None:
            return p
        return self.path.parent / p

    def database_url(self) -> str:
        url = self.database.url
        prefix = "sqlite:///"
        if url.startswith(prefix) and not url.startswith(prefix + "/") and ":memory:" not in url:
            return prefix + str(self.resolve(url[len(prefix):]))
        return url

    def parser_settings(self) -> ParserSettings:
        ph, ar = self.campaign.photos, self.campaign.archives
        return ParserSettings(
            photo_min_bytes={
                "id_photo": ph.id_min_bytes if ph.id_min_bytes is not None else ph.min_bytes,
                "life_photo": ph.life_min_bytes if ph.life_min_bytes is not None else ph.min_bytes,
            },
            id_ratio_min=ph.id_ratio_min,
            id_ratio_max=ph.id_ratio_max,
            max_image_pixels=ph.max_pixels,
            archives=ArchiveLimits(ar.max_total_bytes, ar.max_ratio, ar.max_entries, ar.max_depth),
            documents=self.document_settings(),
        )

    def document_settings(self) -> DocumentSettings:
        """The OCR and conversion caches and LibreOffice's work folders live under the storage root (where the
        sweep finds what a killed parse left); a config read from no file (an in-memory one) has no anchor for
        a relative root, so it gets no cache and the system temp dir rather than whatever directory is current."""
        doc = self.documents
        root = self.resolve(self.storage.root)
        anchored = root.is_absolute()
        return DocumentSettings(
            ocr_max_pages=doc.ocr_max_pages, ocr_page_seconds=doc.ocr_page_seconds,
            ocr_memory_bytes=doc.ocr_memory_mb * 1024 * 1024,
            ocr_cache_dir=str(root / "cache" / "ocr") if anchored else None,
            soffice=doc.soffice_path(), convert_seconds=doc.convert_seconds,
            convert_cache_dir=str(root / "cache" / "legacy") if anchored else None,
            convert_work_dir=str(root / "convert") if anchored else None,
        )


def load(path: str | Path) -> Config:
    """Read and validate a config file; raise ConfigError with one line per problem."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError([f"{path}: file not found"]) from exc
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read: {exc.strerror}"]) from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError([f"{path}: not valid TOML: {exc}"]) from exc
    return from_dict(data, path)


def from_dict(data: dict, path: Path | None = None) -> Config:
    try:
        cfg = Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError([_line(path, err) for err in exc.errors()]) from None
    return cfg.model_copy(update={"path": path.resolve() if path else None})


def _line(path: Path | None, err: dict) -> str:
    key = ".".join(str(p) for p in err["loc"]) or "(top level)"
    msg = err["msg"].removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        msg = "unknown key (misspelt?)"
    elif err["type"] == "missing":
        msg = "required key is missing"
    return f"{path or '<config>'}: {key}: {msg}"
