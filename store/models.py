"""The database schema. Portable SQL only: the same models run on SQLite and PostgreSQL.

Derived rows (attachments, findings, candidates, dossiers) can always be rebuilt from the raw messages
and the organisers' decisions; `message` and `decision` rows are the only ones that cannot.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class UTCDateTime(TypeDecorator):
    """An aware datetime stored as UTC; SQLite drops offsets, so they are restored on the way out."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: every stored instant must carry its offset")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    pass


class SyncState(Base):
    """How far one mailbox folder has been read: the checkpoint that advances only after rows commit."""

    __tablename__ = "sync_state"
    __table_args__ = (UniqueConstraint("source", "folder"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(300))
    folder: Mapped[str] = mapped_column(String(300))
    uidvalidity: Mapped[int] = mapped_column(BigInteger)
    last_uid: Mapped[int] = mapped_column(BigInteger, default=0)
    # after a UIDVALIDITY change, UIDs up to here are matched to earlier records by sha256
    rescan_until: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class Message(Base):
    """One mailbox entry. `id` is the reference number people see; `key` the stable identifier."""

    __tablename__ = "message"
    __table_args__ = (
        UniqueConstraint("source", "folder", "uidvalidity", "uid"),
        UniqueConstraint("source", "file_name"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(40), unique=True)
    source: Mapped[str] = mapped_column(String(300))
    folder: Mapped[str] = mapped_column(String(300))
    uidvalidity: Mapped[int | None] = mapped_column(BigInteger)
    uid: Mapped[int | None] = mapped_column(BigInteger)
    file_name: Mapped[str | None] = mapped_column(String(500))  # file sources: the entry's file name
    message_id: Mapped[str | None] = mapped_column(String(998), index=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(BigInteger)
    internaldate: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    sender: Mapped[str | None] = mapped_column(String(320))
    sender_name: Mapped[str | None] = mapped_column(String(320))  # the From display name, decoded
    subject: Mapped[str | None] = mapped_column(Text)
    kind: Mapped[str | None] = mapped_column(String(20))
    kind_reason: Mapped[str | None] = mapped_column(String(60))  # why the message was classed as `kind`
    state: Mapped[str] = mapped_column(String(20), default="stored", index=True)  # stored|processed|failed|purged
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # processing attempts, counted before each
    post_action_done: Mapped[bool] = mapped_column(Boolean, default=False)
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("message.id"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    unit_source: Mapped[str | None] = mapped_column(String(40))  # which signal named the unit
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    quarantined: Mapped[bool] = mapped_column(Boolean, default=False)
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    processed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    reply_block: Mapped[str | None] = mapped_column(String(40))  # why no automatic reply may go (loop rules)
    # owed a reply that no reply covers yet: its burst is still settling (ingest/replies/bursts.py)
    awaiting_reply: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    reply_address: Mapped[str | None] = mapped_column(String(320))  # where its reply goes (RFC 3834)

    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="message", cascade="all, delete-orphan", order_by="Attachment.ordinal"
    )
    findings: Mapped[list[Finding]] = relationship(
        back_populates="message", cascade="all, delete-orphan", order_by="Finding.id"
    )
    unit: Mapped[Unit | None] = relationship()
    duplicate_of: Mapped[Message | None] = relationship(remote_side=[id])


class Attachment(Base):
    """A file of a message: a MIME attachment or an archive member. Bytes live in the blob store."""

    __tablename__ = "attachment"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("message.id", ondelete="CASCADE"), index=True)
    ordinal: Mapped[int] = mapped_column(Integer)
    parent_ordinal: Mapped[int | None] = mapped_column(Integer)
    display_name: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(BigInteger)
    detected_type: Mapped[str] = mapped_column(String(20))
    role: Mapped[str] = mapped_column(String(20))
    role_reason: Mapped[str] = mapped_column(Text, default="")
    person: Mapped[str | None] = mapped_column(String(100))
    seq: Mapped[int | None] = mapped_column(Integer)
    inline: Mapped[bool] = mapped_column(Boolean, default=False)
    sealed: Mapped[bool | None] = mapped_column(Boolean)
    facts: Mapped[dict] = mapped_column(JSON, default=dict)  # photo info, summary rows, text excerpt
    # photos: the perceptual hash of the upright picture (64 hex digits), for reuse across candidates and units
    phash: Mapped[str | None] = mapped_column(String(64))
    # this file's own findings (also listed under the message); superseded files stop counting
    findings: Mapped[list[Finding]] = relationship(order_by="Finding.id", viewonly=True)

    message: Mapped[Message] = relationship(back_populates="attachments")


class Finding(Base):
    """A finding about a message, a file, a candidate or a unit (scope says which).

    Kept as code + subject + params; the sentence is rendered where it is shown (`common.findings`).
    `detail` holds the sentence only for rows written before schema 0002, whose params are NULL.
    """

    __tablename__ = "finding"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("message.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id", ondelete="CASCADE"), index=True)
    attachment_id: Mapped[int | None] = mapped_column(ForeignKey("attachment.id", ondelete="CASCADE"), index=True)
    candidate_id: Mapped[int | None] = mapped_column(ForeignKey("candidate.id", ondelete="CASCADE"), index=True)
    scope: Mapped[str] = mapped_column(String(20))  # message | attachment | candidate | unit
    code: Mapped[str] = mapped_column(String(40))
    severity: Mapped[str] = mapped_column(String(10))
    subject: Mapped[str | None] = mapped_column(Text)
    params: Mapped[dict | None] = mapped_column(JSON)
    detail: Mapped[str | None] = mapped_column(Text)

    message: Mapped[Message | None] = relationship(back_populates="findings")


class Unit(Base):
    __tablename__ = "unit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    category: Mapped[str] = mapped_column(String(20))  # district | society | institution
    quota: Mapped[int | None] = mapped_column(Integer)  # None: the campaign's quota for the category


class SenderUnit(Base):
    """Last-resort signal: a sender address already tied to a unit by an earlier message."""

    __tablename__ = "sender_unit"

    sender: Mapped[str] = mapped_column(String(320), primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id", ondelete="CASCADE"))


class Candidate(Base):
    __tablename__ = "candidate"
    __table_args__ = (UniqueConstraint("unit_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    fields: Mapped[dict] = mapped_column(JSON, default=dict)
    id_photo: Mapped[bool] = mapped_column(Boolean, default=False)
    life_photos: Mapped[int] = mapped_column(Integer, default=0)
    form: Mapped[bool] = mapped_column(Boolean, default=False)


class Dossier(Base):
    """A unit's verdict, recomputed whole from its current facts after every message."""

    __tablename__ = "dossier"

    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id", ondelete="CASCADE"), primary_key=True)
    status: Mapped[str] = mapped_column(String(20))  # complete | incomplete | quarantined
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    computed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    current_files: Mapped[list] = mapped_column(JSON, default=list)  # attachment ids in the dossier


class Decision(Base):
    """An organiser's decision about a message (`message_key`) or a unit (`unit_name`). Never rebuilt or
    deleted by reprocessing; the latest of a kind wins."""

    __tablename__ = "decision"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))  # assign | accept_late | reject_late | paper_received | resend
    message_key: Mapped[str | None] = mapped_column(String(40), index=True)  # what a message decision touches
    unit_name: Mapped[str | None] = mapped_column(String(200), index=True)  # what a unit decision touches
    value: Mapped[str | None] = mapped_column(Text)  # assign: the unit; paper_received: the ISO date
    # the day the organiser says it was decided (a decisions workbook row's date): an older copy sent back
    # never overrides a newer decision about the same thing
    decided_on: Mapped[dt.date | None] = mapped_column(Date)
    made_by: Mapped[str] = mapped_column(String(320), default="cli")
    made_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Outbox(Base):
    """One mail the service sends, with its own Message-ID and its content fixed when it was decided.

    `state`: pending -> sending -> sent | failed (5xx) | bounced (our reply came back); `uncertain` when a
    crash left it `sending` (it may have left: never resent by itself); `suppressed` when the per-address
    rate limit holds it back. `bounced_by_id`: the message that returned it.
    A reply links to the messages it covers through `OutboxCover`.
    """

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rfc822_message_id: Mapped[str] = mapped_column(String(998), unique=True)
    kind: Mapped[str] = mapped_column(String(30))  # receipt | deficiency | late_notice | quarantine_notice | ...
    state: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    to_address: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(Text)
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str] = mapped_column(Text)
    snapshot: Mapped[dict] = mapped_column(JSON, default=dict)  # what it covered and said (threading too)
    # files it carries (the digest's workbooks): [{"name", "sha256", "content_type"}], bytes in the outbox area
    attachments: Mapped[list | None] = mapped_column(JSON)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())  # back-off after a 4xx
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    to_day: Mapped[str | None] = mapped_column(String(10), index=True)  # campaign-tz day, for the rate limit
    bounced_by_id: Mapped[int | None] = mapped_column(ForeignKey("message.id", ondelete="SET NULL"))

    covers: Mapped[list[OutboxCover]] = relationship(back_populates="outbox", cascade="all, delete-orphan",
                                                     order_by="OutboxCover.message_id")


class OutboxCover(Base):
    """An automatic reply covers a message; `message_id` is unique, so no message is ever covered twice."""

    __tablename__ = "outbox_cover"

    outbox_id: Mapped[int] = mapped_column(ForeignKey("outbox.id", ondelete="CASCADE"), primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("message.id", ondelete="CASCADE"), primary_key=True,
                                            unique=True)

    outbox: Mapped[Outbox] = relationship(back_populates="covers")


class ServiceState(Base):
    """What the running service last did, by name (`poll_ok`, `last_error`, `digest`): `health` reads it."""

    __tablename__ = "service_state"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    detail: Mapped[str | None] = mapped_column(Text)


class WebUser(Base):
    """An organiser who may log in to the web view (`mailintake web add-user`); the password is kept only as
    an argon2 hash. Disabled accounts stay, so the audit log's names keep meaning something."""

    __tablename__ = "web_user"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)


class WebSession(Base):
    """A logged-in browser. Only the sha256 of the cookie's random value is stored, so a copy of the database
    lets no one in; a session ends at `expires_at` or after the configured idle time since `last_seen`."""

    __tablename__ = "web_session"

    token_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("web_user.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    last_seen: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
