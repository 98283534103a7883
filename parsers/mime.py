"""One raw message into headers, bodies and leaf parts, whatever state its MIME structure is in.

Built on the stdlib parser (compat32, fed from a stream) rather than mail-parser's own decoding: that
decodes GB2312-labelled subjects, names and bodies with gb2312 and silently loses GBK-only characters
(朱镕基 became "FƼ"), which is the commonest Chinese case. Headers and names go through
`parsers.filenames`; each leaf payload is decoded once and its transfer-encoded text dropped at once.
"""

from __future__ import annotations

import base64
import binascii
import io
import quopri
import re
from dataclasses import dataclass, field
from email.message import Message
from email.parser import BytesParser, Parser
from email.policy import compat32
from email.utils import getaddresses
from html.parser import HTMLParser

from mailintake.parsers.filenames import (
    decode_bytes,
    decode_filename,
    decode_words,
    header_param,
    header_text,
    raw_header,
    unfold,
)

SIGNATURE_MAX_BYTES = 300 * 1024
MAX_DEPTH = 40  # deeper nesting is hostile; the parts below it are reported, not read
_CANDIDATE_PHOTO = re.compile(r"^[\u3400-\u9fff]{2,4}[\s_\-－—.·]?\d{1,3}$")
_EML_POLICY = compat32.clone(linesep="\r\n", max_line_length=0)  # forwarded mail keeps its lines
_CID_REF = re.compile(r"""cid:([^"'\s>)]+)""", re.IGNORECASE)


@dataclass
class MimePart:
    filename: str | None
    content_type: str
    disposition: str | None  # "attachment" | "inline" | None
    content_id: str | None
    content: bytes
    signature_image: bool = False


@dataclass
class MimeMessage:
    message_id: str | None
    sender: str | None  # bare address, lower-case
    sender_name: str | None
    subject: str
    date_header: str | None
    headers: dict[str, str]  # lower-case name -> decoded value (first occurrence)
    body_text: str
    body_html: str
    defects: list[str] = field(default_factory=list)
    parts: list[MimePart] = field(default_factory=list)


def parse_mime(raw: bytes) -> MimeMessage:
    """Everything readable in `raw`; structural problems become `defects`, never exceptions."""
    defects: list[str] = []
    try:
        msg = BytesParser(policy=compat32).parse(io.BytesIO(raw))
    except Exception as exc:  # RecursionError on hostile nesting, or a parser bug
        defects.append(f"unparseable message, headers only: {type(exc).__name__}")
        msg = _headers_only(raw)
    headers = _headers(msg)
    result = MimeMessage(
        message_id=headers.get("message-id") or None,
        sender=None,
        sender_name=None,
        subject=headers.get("subject", ""),
        date_header=headers.get("date"),
        headers=headers,
        body_text="",
        body_html="",
        defects=defects,
    )
    result.sender, result.sender_name = _sender(msg)
    texts, htmls = _collect(msg, result, depth=0)
    result.body_html = "\n".join(htmls)
    result.body_text = "\n".join(texts) if texts else "\n".join(html_to_text(h) for h in htmls)
    _mark_signature_images(result)
    result.defects = _counted(result.defects)
    return result


def _headers_only(raw: bytes) -> Message:
    try:
        return BytesParser(policy=compat32).parse(io.BytesIO(raw), headersonly=True)
    except Exception:  # nothing readable at all
        return Message()


def _headers(msg: Message) -> dict[str, str]:
    headers: dict[str, str] = {}
    for name, value in msg.raw_items():
        key = name.strip().lower()
        if key not in headers:
            headers[key] = header_text(str(value))
    return headers


def _sender(msg: Message) -> tuple[str | None, str | None]:
    raw = raw_header(msg, "from")
    if raw is None:
        return None, None
    try:
        pairs = getaddresses([unfold(raw)])
    except Exception:  # getaddresses can trip over hostile quoting
        return None, None
    name, address = pairs[0] if pairs else ("", "")
    return (address.strip().lower() or None), (decode_words(name).strip() or None)


def _collect(part: Message, out: MimeMessage, depth: int) -> tuple[list[str], list[str]]:
    """Walk the tree: body texts are returned, every other leaf becomes a MimePart."""
    _note_defects(part, out)
    if depth > MAX_DEPTH:
        out.defects.append(f"nesting deeper than {MAX_DEPTH} levels: inner parts not read")
        return [], []
    ctype = _content_type(part)
    if ctype.startswith("multipart/"):
        children = part.get_payload() if isinstance(part.get_payload(), list) else _reread(part, out)
        if children is not None:
            return _collect_all(children, out, depth + 1)
        if not part.get_payload():
            return [], []  # an empty container: nothing was lost
    try:
        leaf = _leaf(part, ctype, out)
    except Exception as exc:  # one broken part must not hide the others
        out.defects.append(f"unreadable part ({ctype}): {type(exc).__name__}")
        return [], []
    if leaf.filename is None and leaf.disposition != "attachment" and ctype in ("text/plain", "text/html"):
        text = decode_bytes(leaf.content, header_param(part, "content-type", "charset"))
        return ([text], []) if ctype == "text/plain" else ([], [text])
    out.parts.append(leaf)
    return [], []


def _collect_all(children: list[Message], out: MimeMessage, depth: int) -> tuple[list[str], list[str]]:
    texts: list[str] = []
    htmls: list[str] = []
    for child in children:
        child_texts, child_htmls = _collect(child, out, depth)
        texts += child_texts
        htmls += child_htmls
    return texts, htmls


def _reread(part: Message, out: MimeMessage) -> list[Message] | None:
    """A multipart whose declared boundary never occurs: re-read it with the first delimiter-looking
    line of its body (senders that rewrite the boundary in one place only produce these)."""
    payload = part.get_payload()
    found = re.search(r"^--(\S{1,70}?)[ \t]*\r?$", payload, re.MULTILINE) if isinstance(payload, str) else None
    if not found:
        return None
    header = f'Content-Type: multipart/mixed; boundary="{found[1]}"\n\n'
    try:
        children = Parser(policy=compat32).parsestr(header + payload).get_payload()
    except Exception:  # the same hostile nesting that broke the first read
        return None
    if not isinstance(children, list) or not children:
        return None
    out.defects.append("multipart boundary not found: re-read with the delimiter found in the body")
    return children


def _leaf(part: Message, ctype: str, out: MimeMessage) -> MimePart:
    filename = decode_filename(part)
    if ctype.startswith("message/") and isinstance(part.get_payload(), list):
        content = _transfer_decode(b"".join(_flatten(sub) for sub in part.get_payload()), part)
        if filename is None and ctype == "message/rfc822":
            filename = _eml_name(content)
    else:
        content = _payload_bytes(part, out)
    part.set_payload("")  # drop the transfer-encoded text now that it is decoded
    disposition = (raw_header(part, "content-disposition") or "").split(";")[0].strip().lower() or None
    cid = header_text(raw_header(part, "content-id") or "").strip("<> ") or None
    return MimePart(filename, ctype, disposition, cid, content)


def _payload_bytes(part: Message, out: MimeMessage) -> bytes:
    """Decode base64 straight from the stored text (no intermediate copies); anything odd goes through
    the stdlib, which tolerates bad padding and records a defect."""
    payload = part.get_payload()
    if not isinstance(payload, str):
        return b""
    if _transfer_encoding(part) == "base64":
        try:
            return binascii.a2b_base64(payload)
        except (binascii.Error, ValueError):
            out.defects.append("invalid base64 in a part: decoded leniently")
    data = part.get_payload(decode=True)
    return data if isinstance(data, bytes) else b""


def _transfer_encoding(part: Message) -> str:
    return (raw_header(part, "content-transfer-encoding") or "").strip().lower()


def _flatten(msg: Message) -> bytes:
    try:
        return msg.as_bytes(policy=_EML_POLICY)
    except Exception:  # a charset the generator cannot apply: fall back to the stored text
        return msg.as_string().encode("utf-8", "surrogateescape")


def _transfer_decode(content: bytes, part: Message) -> bytes:
    """Forwarded mail that a client base64-encoded against RFC 2046: the parser saw no headers in it."""
    cte = _transfer_encoding(part)
    if cte == "base64":
        try:
            return base64.b64decode(re.sub(rb"\s+", b"", content), validate=True)
        except (binascii.Error, ValueError):
            return content
    return quopri.decodestring(content) if cte == "quoted-printable" else content


def _eml_name(content: bytes) -> str:
    head = BytesParser(policy=compat32).parsebytes(content[:65536], headersonly=True)
    subject = header_text(raw_header(head, "subject") or "")
    subject = re.sub(r"[\\/\x00-\x1f]", "_", subject).strip()
    return f"{subject or '转发的邮件'}.eml"


def _content_type(part: Message) -> str:
    raw = raw_header(part, "content-type")
    value = header_text(raw).split(";")[0].strip().lower() if raw else ""
    return value if re.fullmatch(r"[\w.+-]+/[\w.+-]+", value) else part.get_default_type()


def _note_defects(part: Message, out: MimeMessage) -> None:
    for defect in getattr(part, "defects", []):
        out.defects.append(f"{type(defect).__name__} in {_content_type(part)}")


def _counted(defects: list[str]) -> list[str]:
    """One line per distinct defect: hostile nesting can repeat the same one thousands of times."""
    counts: dict[str, int] = {}
    for defect in defects:
        counts[defect] = counts.get(defect, 0) + 1
    return [d if n == 1 else f"{d} (x{n})" for d, n in counts.items()]


def _mark_signature_images(msg: MimeMessage) -> None:
    """Small inline images that are not named like candidate photos are letterhead/signature art."""
    referenced = {ref.strip("<>").lower() for ref in _CID_REF.findall(msg.body_html)}
    for part in msg.parts:
        if not part.content_type.startswith("image/") or len(part.content) >= SIGNATURE_MAX_BYTES:
            continue
        inline = part.disposition == "inline" or (part.content_id or "").lower() in referenced
        stem = (part.filename or "").rsplit(".", 1)[0]
        part.signature_image = inline and not _CANDIDATE_PHOTO.match(stem)


def html_to_text(markup: str) -> str:
    """Readable text of an HTML body: tags dropped, block elements as line breaks, entities decoded."""
    extractor = _TextExtractor()
    try:
        extractor.feed(markup)
        extractor.close()
    except Exception:  # html.parser is lenient; this guards only against pathological input
        return re.sub(r"<[^>]*>", " ", markup)
    return re.sub(r"\n\s*\n+", "\n", "".join(extractor.chunks)).strip()


class _TextExtractor(HTMLParser):
    _BREAKS = frozenset({"br", "p", "div", "tr", "li", "h1", "h2", "h3", "h4", "table", "blockquote"})
    _HIDDEN = frozenset({"script", "style", "head", "title"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._HIDDEN:
            self._hidden += 1
        elif tag in self._BREAKS:
            self.chunks.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._HIDDEN:
            self._hidden = max(0, self._hidden - 1)
        elif tag in self._BREAKS:
            self.chunks.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.chunks.append(data)
