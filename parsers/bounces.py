"""Which of our messages a bounce returns, to whom it failed and why, as typed facts.

Every automatic reply carries a Message-ID of its own (``<mailintake.<hex>@domain>``). When one bounces,
the bounce lands in the intake mailbox, and only the parser sees its structure; so the parser names the
returned message's Message-IDs and the server's reason, and ingest links the bounce to its outbox row.

The returned Message-ID is looked for wherever real bounces put it; the answer is the union, in this order:

1. the status part (message/delivery-status, message/global-delivery-status; RFC 3464 and 6533): a field
   named like a Message-ID (Original-Message-ID, X-Original-Message-ID), which some MTAs add;
2. the returned headers (text/rfc822-headers, message/global-headers): their Message-ID;
3. the returned message (message/rfc822, message/global): the Message-ID of its header block;
4. "Message-ID: <…>" lines in the body or any text part, for bounces without that structure: QQ Mail's
   and NetEase's 系统退信, Exchange NDRs that paste the original headers as text, qmail's QSBMF with the
   original after "--- Below this line is a copy of the message.";
5. the bounce's own In-Reply-To and References (Exchange and Office 365 NDRs set them).

Recipients are the status part's Final-Recipient and Original-Recipient (of recipients not delivered,
relayed or expanded); without a status part naming any, exim's X-Failed-Recipients header; without that,
the QSBMF/Postfix "<address>:" lines of the bounce's own text. Status and diagnostic come from
the status part's first failed recipient; without a Diagnostic-Code the reason is the best line of the
bounce's own text (before any copy of the original): an SMTP reply first, then a 退信原因/Reason label,
then a wording such as "User unknown". Without a Status field, the status is the enhanced code the
reason gives ("550 5.1.1 …", qmail's "(#5.1.1)"), if any.

Everything is bounded (the first MAX_PART_BYTES of a part, MAX_IDS ids) and nothing raises: a message
that says nothing gives an empty BounceFacts.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Iterator

from mailintake.parsers.charsets import read as read_text
from mailintake.parsers.facts import BounceFacts
from mailintake.parsers.mime import FORWARDED_TYPES, MimeMessage, MimePart, html_to_text

MAX_PART_BYTES = 64 * 1024  # of any part (characters of a body): a status part or a header block is far smaller
MAX_IDS = 50
MAX_RECIPIENTS = 50
DIAGNOSTIC_CHARS = 500

_STATUS_PARTS = frozenset({"message/delivery-status", "message/global-delivery-status"})
_HEADER_PARTS = frozenset({"text/rfc822-headers", "message/rfc822-headers", "message/global-headers"})

_MSG_ID = re.compile(r"<[^<>\s@]{1,250}@[^<>\s@]{1,250}>")
_ID_LINE = re.compile(  # a pasted header line; "Message-id:" indented in a report's text too
    r"^[ \t>]*(?:x-)?(?:original[- ])?message[- ]?id[ \t]*[:：][ \t]*(?:\r?\n[ \t]+)?"
    r"(<[^<>\s@]{1,250}@[^<>\s@]{1,250}>)",
    re.IGNORECASE | re.MULTILINE,
)
_FIELD = re.compile(r"([!-9;-~]+)[ \t]*:(.*)")  # a header field: printable ASCII name, no colon in it
_ADDRESS = re.compile(r"[^\s<>;,\"']+@[^\s<>;,\"']+")
_STATUS = re.compile(r"(?<![\d.])[245]\.\d{1,3}\.\d{1,3}(?!\.?\d)")
_REPLY_STATUS = re.compile(  # "550 5.1.1", "550-5.1.1", and qmail's "(#5.1.1)"
    r"(?:(?<![\w.:/+-])[45][0-5]\d[ -]|#)([245]\.\d{1,3}\.\d{1,3})(?!\.?\d)")
_ADDRESS_TYPE = re.compile(r"^[\w.+-]+[ \t]*;")  # "smtp;", "X-Postfix;", "rfc822;", "utf-8;"

# Where a bounce's own words end and the copy of the original begins (qmail, exim, sendmail, Exchange).
_COPY_MARKER = re.compile(
    r"^[ \t-]*(?:below this line is a copy of the message|enclosed is a copy of the message|"
    r"this is a copy of the message|(?:original|unsent|returned) message (?:follows|headers?)|"
    r"message headers? follows|原(?:始)?邮件头)",
    re.IGNORECASE | re.MULTILINE,
)
_SMTP_REPLY = re.compile(  # a reply code before its enhanced code or its text, or ending a folded line
    r"(?<![\w.:/+-])[45][0-5]\d(?:[ -](?:[245]\.\d{1,3}\.\d{1,3}(?!\.?\d)|[A-Za-z<(#])|[ \t]*$)")
_SUCCESS = ("deliver", "relay", "expand")  # RFC 3464 actions of recipients that did not fail
_REASON_LABEL = re.compile(r"^(?:(?:退信|失败|错误|拒收|退回)?原因[ \t]*[:：]?|reason[ \t]*[:：])[ \t]*(.*)$",
                           re.IGNORECASE)
_REASON_WORDS = re.compile(
    r"user unknown|unknown user|no such (?:user|recipient|mailbox)|no mailbox|"
    r"mailbox (?:not found|unavailable|full|is full)|"
    r"does not exist|not found|over quota|quota exceeded|address rejected|recipient rejected|"
    r"不存在|已满|拒收|拒绝|超时|无法投递|无法送达",
    re.IGNORECASE,
)
_QSBMF_RECIPIENT = re.compile(r"^[ \t]*<([^<>\s@]+@[^<>\s@]+)>:", re.MULTILINE)

Fields = dict[str, str]  # lower-case field name -> unfolded value (its first occurrence)


def read_bounce(mime: MimeMessage) -> BounceFacts:
    """What `mime`, a bounce, says about the message it returns; empty facts when it says nothing."""
    try:
        return _read(mime)
    except Exception:  # a bug here must not cost the message its record; the facts are only a link
        return BounceFacts()


def _read(mime: MimeMessage) -> BounceFacts:
    blocks = [block for part in _parts(mime, _STATUS_PARTS) for block in _blocks(_text(part))]
    own = _own_text(mime)
    chosen = _chosen(blocks)
    diagnostic = _diagnostic(chosen) or _body_reason(own)
    status = _first(_STATUS, chosen.get("status", "")) or _first(_REPLY_STATUS, diagnostic or "", group=1)
    ids = itertools.chain(_report_ids(blocks), _returned_ids(mime), _pasted_ids(mime), _thread_ids(mime))
    return BounceFacts(original_ids=_unique(ids, MAX_IDS), recipients=_recipients(blocks, mime, own),
                       status=status, diagnostic=diagnostic)


# --- the parts ---------------------------------------------------------------------------------------


def _parts(mime: MimeMessage, types: Iterable[str]) -> list[MimePart]:
    wanted = frozenset(types)
    return [part for part in mime.parts if part.content_type in wanted]


def _text(part: MimePart) -> str:
    """A part's first MAX_PART_BYTES as text: UTF-8 when it is (RFC 6533 parts are), else by evidence."""
    text = _decoded(part.content[:MAX_PART_BYTES], partial=len(part.content) > MAX_PART_BYTES)
    return html_to_text(text) if part.content_type == "text/html" else text


def _decoded(data: bytes, partial: bool) -> str:
    return read_text(data, "utf-8", partial=partial).text


def _lines(text: str) -> list[str]:
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def _blocks(text: str) -> list[Fields]:
    """Header-style field blocks separated by blank lines (RFC 3464's per-message and per-recipient
    blocks); folded lines are joined, lines that are no field are skipped."""
    blocks: list[Fields] = []
    fields: Fields = {}
    name: str | None = None
    for line in _lines(text):
        if not line.strip():
            if fields:
                blocks.append(fields)
            fields, name = {}, None
        elif line[0] in " \t":
            if name is not None:
                fields[name] += " " + line.strip()
        else:
            found = _FIELD.match(line)
            name = found[1].lower() if found and found[1].lower() not in fields else None
            if found and name is not None:
                fields[name] = found[2].strip()
    if fields:
        blocks.append(fields)
    return blocks


def _header_block(part: MimePart) -> Fields:
    """The fields of a returned message's (or returned headers') header block: up to its first blank line,
    read without the body behind it."""
    data = part.content[:MAX_PART_BYTES]
    blank = re.search(rb"\r?\n[ \t]*\r?\n", data)
    blocks = _blocks(_decoded(data[: blank.start()] if blank else data, partial=blank is None))
    return blocks[0] if blocks else {}


# --- the returned message's ids ----------------------------------------------------------------------


def _report_ids(blocks: list[Fields]) -> Iterator[str]:
    for block in blocks:
        for name, value in block.items():
            if name.endswith("message-id"):
                yield from _MSG_ID.findall(value)[:1]


def _returned_ids(mime: MimeMessage) -> Iterator[str]:
    for types in (_HEADER_PARTS, FORWARDED_TYPES):
        for part in _parts(mime, types):
            yield from _MSG_ID.findall(_header_block(part).get("message-id", ""))[:1]


def _pasted_ids(mime: MimeMessage) -> Iterator[str]:
    for text in _texts(mime):
        for found in _ID_LINE.finditer(text):
            yield found[1]


def _texts(mime: MimeMessage) -> Iterator[str]:
    """The body (both forms) and every text part but returned headers, each bounded."""
    yield mime.body_text[:MAX_PART_BYTES]
    if mime.body_html:
        yield html_to_text(mime.body_html[:MAX_PART_BYTES])
    for part in mime.parts:
        if part.content_type.startswith("text/") and part.content_type not in _HEADER_PARTS:
            yield _text(part)


def _thread_ids(mime: MimeMessage) -> Iterator[str]:
    for name in ("in-reply-to", "references"):
        yield from _MSG_ID.findall(mime.headers.get(name, ""))


# --- recipients, status and reason -------------------------------------------------------------------


def _recipients(blocks: list[Fields], mime: MimeMessage, own: str) -> tuple[str, ...]:
    """The first source that names any: the status part, X-Failed-Recipients, the "<address>:" lines."""
    sources = (_report_recipients(blocks), _header_recipients(mime),
               (address.lower() for address in _QSBMF_RECIPIENT.findall(own)))
    return next((found for found in (_unique(s, MAX_RECIPIENTS) for s in sources) if found), ())


def _report_recipients(blocks: list[Fields]) -> Iterator[str]:
    """Final- and Original-Recipient of every recipient block but those delivered, relayed or expanded."""
    for block in blocks:
        if block.get("action", "").strip().lower().startswith(_SUCCESS):
            continue
        for name in ("final-recipient", "original-recipient"):
            value = _ADDRESS_TYPE.sub("", block.get(name, ""), count=1)
            yield from (address.lower() for address in _ADDRESS.findall(value)[:1])


def _header_recipients(mime: MimeMessage) -> Iterator[str]:
    """exim's X-Failed-Recipients: a comma-separated list of the addresses that failed."""
    return (address.lower() for address in _ADDRESS.findall(mime.headers.get("x-failed-recipients", "")))


def _chosen(blocks: list[Fields]) -> Fields:
    """The recipient block whose status and reason stand for the bounce: the first that failed."""
    recipients = [block for block in blocks if "status" in block or "diagnostic-code" in block]
    failed = [block for block in recipients if block.get("action", "").strip().lower().startswith("fail")]
    return (failed or recipients or [{}])[0]


def _diagnostic(block: Fields) -> str | None:
    """Diagnostic-Code without its type ("smtp; 550 5.1.1 …" -> "550 5.1.1 …")."""
    return _one_line(_ADDRESS_TYPE.sub("", block.get("diagnostic-code", ""), count=1))


def _own_text(mime: MimeMessage) -> str:
    """The bounce's own words: its body up to the copy of the original some bounces paste after them."""
    text = mime.body_text[:MAX_PART_BYTES]
    marker = _COPY_MARKER.search(text)
    return text[: marker.start()] if marker else text


def _body_reason(text: str) -> str | None:
    """The line of a bounce's text that best says why: an SMTP reply (with the lines indented under it,
    as Postfix and sendmail fold), else a labelled reason (退信原因：…, Reason: …; the next line when the
    label stands alone), else a line with a failure wording."""
    raw = _lines(text)
    for i, line in enumerate(raw):
        if _SMTP_REPLY.search(line):
            return _one_line(" ".join([line, *_continued(raw, i)]))
    lines = [line.strip() for line in raw if line.strip()]
    for i, line in enumerate(lines):
        label = _REASON_LABEL.match(line)
        if label:
            return _one_line(label[1]) or _one_line(lines[i + 1] if i + 1 < len(lines) else "")
    return next((_one_line(line) for line in lines if _REASON_WORDS.search(line)), None)


def _continued(lines: list[str], i: int) -> Iterator[str]:
    """The lines after lines[i] indented deeper than it: its continuation."""
    indent = len(lines[i]) - len(lines[i].lstrip())
    for line in itertools.islice(lines, i + 1, None):
        if not line.strip() or len(line) - len(line.lstrip()) <= indent:
            return
        yield line


def _one_line(text: str) -> str | None:
    return " ".join(text.split())[:DIAGNOSTIC_CHARS] or None


def _first(pattern: re.Pattern[str], text: str, group: int = 0) -> str | None:
    found = pattern.search(text)
    return found[group] if found else None


def _unique(values: Iterable[str], limit: int) -> tuple[str, ...]:
    """The first `limit` distinct values, in order; the scan stops there."""
    seen: dict[str, None] = {}
    for value in values:
        if len(seen) >= limit:
            break
        seen.setdefault(value, None)
    return tuple(seen)
