"""Attachment names and header text as Chinese mail clients really write them.

Clients mix RFC 2231 (`filename*=gbk''%D5%C5`), RFC 2047 encoded-words inside quotes, raw 8-bit GBK or
UTF-8, and GB2312 labels on GBK-only characters (朱镕基). The stdlib and mail-parser lose or truncate
several of these (see the mail-stack notes), so decoding is done here from the raw header text.
"""

from __future__ import annotations

import binascii
import re
import unicodedata
from email.message import Message

# Labels that senders put on GBK/GB18030 bytes: decoding with the superset never loses a character.
_GB_LABELS = frozenset(
    {"gb2312", "gbk", "gb18030", "cp936", "ms936", "x-gbk", "gb_2312-80", "euc-cn", "x-euc-cn",
     "csgb2312", "chinese", "936", "hz-gb-2312"}
)
_ENCODED_WORD = re.compile(r"=\?([^?\s*]+)(?:\*[^?\s]*)?\?([bBqQ])\?([^?\s]*)\?=")
_FOLD = re.compile(r"\r\n|\r|\n")
_QP_ESCAPE = re.compile(rb"=([0-9A-Fa-f]{2})")


def charset_codec(label: str | None) -> str | None:
    """The codec to use for a declared charset label; GB family labels become gb18030."""
    if not label:
        return None
    name = label.strip().strip('"').lower()
    return "gb18030" if name in _GB_LABELS else name


def decode_bytes(data: bytes, label: str | None) -> str:
    """Bytes in a declared charset; a wrong or missing label falls back to UTF-8, then GB18030."""
    codec = charset_codec(label)
    for candidate in (codec, "utf-8", "gb18030"):
        if candidate is None:
            continue
        try:
            return data.decode(candidate)
        except (LookupError, UnicodeError, ValueError):  # unknown, non-text or NUL-bearing labels too
            continue
    return data.decode("gb18030", "replace")


def recover_8bit(value: str) -> str:
    """Header text whose raw 8-bit bytes the email package kept as surrogates, decoded properly."""
    if not any("\udc80" <= ch <= "\udcff" for ch in value):
        return value
    return decode_bytes(value.encode("utf-8", "surrogateescape"), None)


def decode_words(value: str) -> str:
    """RFC 2047 text, tolerant: adjacent words in one charset are joined before decoding (clients split
    multi-byte characters across words) and whitespace between encoded-words is dropped."""
    pieces: list[tuple[str | None, str | bytes]] = []
    pos = 0
    for match in _ENCODED_WORD.finditer(value):
        gap = value[pos : match.start()]
        between_words = gap.isspace() and bool(pieces) and pieces[-1][0] is not None
        if gap and not between_words:
            pieces.append((None, gap))
        label, data = match[1].lower(), _word_bytes(match[2], match[3])
        if pieces and pieces[-1][0] == label:
            pieces[-1] = (label, pieces[-1][1] + data)
        else:
            pieces.append((label, data))
        pos = match.end()
    if pos == 0:
        return value
    pieces.append((None, value[pos:]))
    return "".join(p if isinstance(p, str) else decode_bytes(p, label) for label, p in pieces)


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


def unfold(raw: str) -> str:
    """A raw header value on one line with its 8-bit bytes recovered, encoded-words left alone."""
    return recover_8bit(_FOLD.sub("", raw))


def header_text(raw: str) -> str:
    """A raw header value as a person reads it: unfolded, 8-bit recovered, encoded-words decoded."""
    return decode_words(unfold(raw)).strip()


def raw_header(part: Message, name: str) -> str | None:
    """The first occurrence of a header as stored (compat32 `get` would hide raw 8-bit bytes)."""
    wanted = name.lower()
    for key, value in part.raw_items():
        if key.lower() == wanted:
            return str(value)
    return None


def decode_filename(part: Message) -> str | None:
    """The attachment name as the sender saw it, without directories or control characters.

    Content-Disposition `filename` (RFC 2231 form first) wins over Content-Type `name`. Returns None
    when neither yields a usable name; never raises.
    """
    for header, param in (("content-disposition", "filename"), ("content-type", "name")):
        try:
            name = _param_name(raw_header(part, header), param)
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


def _params(raw: str | None, param: str) -> list[str | tuple[str, str, str]]:
    """Values of `param` in a raw structured header; RFC 2231 ones as (charset, language, octets)."""
    if not raw:
        return []
    holder = Message()
    holder["X-Param"] = unfold(raw)
    return [v for k, v in holder.get_params(header="x-param") or [] if k.lower() == param]


def _param_name(raw: str | None, param: str) -> str | None:
    values = _params(raw, param)
    if not values:
        return None
    encoded = [v for v in values if isinstance(v, tuple)]
    if encoded:
        label, _language, text = encoded[0]
        decoded = decode_bytes(_latin1_bytes(text), label)
    else:
        decoded = decode_words(str(values[0]))
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
