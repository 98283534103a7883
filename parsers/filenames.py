"""Attachment names and header text as Chinese mail clients really write them.

Clients mix RFC 2231 (`filename*=gbk''%D5%C5`), RFC 2047 encoded-words inside quotes, raw 8-bit GBK or
UTF-8, and GB2312 labels on GBK-only characters (朱镕基). The stdlib and mail-parser lose or truncate
several of these (see the mail-stack notes), so decoding is done here from the raw header text.

Bytes without a label, or invalid in theirs, are read by the evidence in `parsers.charsets` (the
charsets the part or message declares, strict UTF-8, plausible GB18030, Big5/Shift_JIS/windows-1252
judged by charset-normalizer) and stay U+FFFD when nothing is plausible. `declared` parameters carry
the charsets the part or message declares elsewhere, most specific first.
"""

from __future__ import annotations

import binascii
import re
import unicodedata
from collections.abc import Sequence
from email.message import Message
from email.utils import getaddresses

from mailintake.parsers.charsets import charset_codec, read

_ENCODED_WORD = re.compile(r"=\?([^?\s*]+)(?:\*[^?\s]*)?\?([bBqQ])\?([^?\s]*)\?=")
_FOLD = re.compile(r"\r\n|\r|\n")
_QP_ESCAPE = re.compile(rb"=([0-9A-Fa-f]{2})")
_ENTITY_CONTENT_TYPE = re.compile(rb"(?im)^content-type:[^\r\n]*(?:\r?\n[ \t][^\r\n]*)*")
_CHARSET_PARAM = re.compile(rb"""(?i)charset\s*=\s*["']?([A-Za-z0-9._:+-]{1,40})""")


def decode_bytes(data: bytes, label: str | None, declared: Sequence[str] = ()) -> str:
    """Bytes in their own label when valid in it, else read by evidence (`charsets.read`)."""
    return read(data, label, declared).text


def recover_8bit(value: str, declared: Sequence[str] = ()) -> str:
    """Header text whose raw 8-bit bytes the email package kept as surrogates, decoded by evidence."""
    if not has_8bit(value):
        return value
    return decode_bytes(value.encode("utf-8", "surrogateescape"), None, declared)


def has_8bit(value: str) -> bool:
    """Whether header text still holds raw 8-bit bytes (as the email package's surrogates)."""
    return any("\udc80" <= ch <= "\udcff" for ch in value)


def decode_words(value: str, declared: Sequence[str] = ()) -> str:
    """RFC 2047 text, tolerant: adjacent words in one charset are joined before decoding (clients split
    multi-byte characters across words, sometimes under two labels of one family: gb2312 then gbk) and
    whitespace between encoded-words is dropped."""
    pieces: list[tuple[str | None, str | bytes]] = []  # (label, bytes) for words, (None, text) between
    pos = 0
    for match in _ENCODED_WORD.finditer(value):
        gap = value[pos : match.start()]
        between_words = gap.isspace() and bool(pieces) and pieces[-1][0] is not None
        if gap and not between_words:
            pieces.append((None, gap))
        label, data = match[1].lower(), _word_bytes(match[2], match[3])
        previous = pieces[-1][0] if pieces else None
        if previous is not None and (charset_codec(previous) or previous) == (charset_codec(label) or label):
            pieces[-1] = (previous, pieces[-1][1] + data)
        else:
            pieces.append((label, data))
        pos = match.end()
    if pos == 0:
        return value
    pieces.append((None, value[pos:]))
    return "".join(p if isinstance(p, str) else decode_bytes(p, label, declared) for label, p in pieces)


def _word_bytes(encoding: str, text: str) -> bytes:
    if encoding in "bB":
        text = text.rstrip("=")
        text += "=" * (-len(text) % 4)
        try:
            return binascii.a2b_base64(text)
        except (binascii.Error, ValueError):
            return b""
    raw = text.replace("_", " ").encode("ascii", "replace")
    return _QP_ESCAPE.sub(lambda m: bytes([int(m[1], 16)]), raw)


def unfold(raw: str, declared: Sequence[str] = ()) -> str:
    """A raw header value on one line with its 8-bit bytes recovered, encoded-words left alone."""
    return recover_8bit(_FOLD.sub("", raw), declared)


def header_text(raw: str, declared: Sequence[str] = ()) -> str:
    """A raw header value as a person reads it: unfolded, 8-bit recovered, encoded-words decoded."""
    return decode_words(unfold(raw, declared), declared).strip()


def sender_name(raw_from: str, declared: Sequence[str] = ()) -> str | None:
    """The display name of a raw From header (张老师 in `"张老师" <12345@qq.com>`), decoded; None if absent."""
    try:
        pairs = getaddresses([unfold(raw_from, declared)])
    except Exception:  # getaddresses can trip over hostile quoting
        return None
    name = pairs[0][0] if pairs else ""
    return decode_words(name, declared).strip() or None


def message_charsets(raw: bytes) -> tuple[str, ...]:
    """The charsets a raw message declares on its entities' Content-Type lines, in order of appearance:
    the evidence for its undeclared 8-bit header bytes."""
    found = []
    for header in _ENTITY_CONTENT_TYPE.finditer(raw):
        found += [m[1].decode("ascii").lower() for m in _CHARSET_PARAM.finditer(header[0])]
    return tuple(dict.fromkeys(found))


def raw_header(part: Message, name: str) -> str | None:
    """The first occurrence of a header as stored (compat32 `get` would hide raw 8-bit bytes)."""
    wanted = name.lower()
    for key, value in part.raw_items():
        if key.lower() == wanted:
            return str(value)
    return None


def decode_filename(part: Message, declared: Sequence[str] = ()) -> str | None:
    """The attachment name as the sender saw it, without directories or control characters.

    Content-Disposition `filename` (RFC 2231 form first) wins over Content-Type `name`. Raw 8-bit bytes
    are read with the part's own declared charset as first evidence, then `declared` (the message's).
    Returns None when neither yields a usable name; never raises.
    """
    own = header_param(part, "content-type", "charset")
    evidence = (own, *declared) if own and own.isascii() else tuple(declared)
    for header, param in (("content-disposition", "filename"), ("content-type", "name")):
        try:
            name = _param_name(raw_header(part, header), param, evidence)
        except Exception:  # hostile header text must cost the name, never the message
            name = None
        if name:
            return name
    return None


def header_param(part: Message, header: str, param: str) -> str | None:
    """A plain parameter value (e.g. a charset) read from the raw header; None when absent."""
    try:
        values = [v for v in _params(raw_header(part, header), param) if isinstance(v, str)]
    except Exception:  # hostile header text: behave as if the parameter were absent
        return None
    return values[0].strip() if values else None


def _params(raw: str | None, param: str, declared: Sequence[str] = ()) -> list[str | tuple[str, str, str]]:
    """Values of `param` in a raw structured header; RFC 2231 ones as (charset, language, octets)."""
    if not raw:
        return []
    holder = Message()
    holder["X-Param"] = unfold(raw, declared)
    return [v for k, v in holder.get_params(header="x-param") or [] if k.lower() == param]


def _param_name(raw: str | None, param: str, declared: Sequence[str]) -> str | None:
    values = _params(raw, param, declared)
    if not values:
        return None
    encoded = [v for v in values if isinstance(v, tuple)]
    if encoded:
        label, _language, text = encoded[0]
        decoded = decode_bytes(_latin1_bytes(text), label, declared)
    else:
        decoded = decode_words(str(values[0]), declared)
    return clean_name(decoded)


def _latin1_bytes(text: str) -> bytes:
    """RFC 2231 values come back as one char per octet; real characters mean the sender sent 8-bit."""
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        return text.encode("utf-8")


def clean_name(name: str) -> str | None:
    """Last path component, no control/format characters (bidi overrides hide extensions)."""
    name = "".join(ch for ch in name if unicodedata.category(ch) not in ("Cc", "Cf"))
    name = re.split(r"[\\/]", name)[-1].strip().strip('"').strip()
    return None if name in ("", ".", "..") else name
