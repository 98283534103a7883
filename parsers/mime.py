"""One raw message into headers, bodies and leaf parts, whatever state its MIME structure is in.

Built on the stdlib parser (compat32, fed from a stream) rather than mail-parser's own decoding: that
decodes GB2312-labelled subjects, names and bodies with gb2312 and silently loses GBK-only characters
(朱镕基 became "FƼ"), which is the commonest Chinese case. Headers and names go through
`parsers.filenames`; each leaf payload is decoded once and its transfer-encoded text dropped at once.

Line endings are part of a file: the stream is read without newline translation, so a 7bit/8bit/binary
part is its body's bytes exactly as they stand in the raw message (the CRLF before a boundary line belongs
to the boundary, RFC 2046), and quoted-printable is decoded here per RFC 2045 (soft breaks vanish, every
hard line break becomes CRLF). Body texts, which are not files, get "\n" line ends.

Not every leaf is a file: an empty multipart, an unnamed empty part and the body's other text forms
(text/enriched, text/richtext, text/calendar as a multipart/alternative) are not. A forwarded message
(message/rfc822) is read like the outer one, to the same MIME depth: its parts become the `inner` parts of
its .eml part.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import io
import re
from dataclasses import dataclass, field
from email.message import Message
from email.parser import BytesParser, Parser
from email.policy import compat32
from email.utils import getaddresses
from html.parser import HTMLParser

from mailintake.parsers import mime_skeleton
from mailintake.parsers.filenames import (
    decode_bytes,
    decode_filename,
    decode_words,
    header_param,
    header_text,
    raw_header,
    unfold,
)
from mailintake.parsers.filetypes import detect_type, is_image
from mailintake.parsers.photo_names import parse_photo_name

SIGNATURE_MAX_BYTES = 300 * 1024  # inline images at least this big are always material
TINY_IMAGE_BYTES = 16 * 1024  # an inline image smaller than this is an icon, whatever its format
MAX_DEPTH = 40  # deeper nesting is hostile; the parts below it are reported, not read
FORWARDED_TYPES = frozenset({"message/rfc822", "message/global"})
EML_COPIES = 2  # forwarded .eml copies kept, in message sizes: a forward nested in a forward is inside it
_EML_POLICY = compat32.clone(linesep="\r\n", max_line_length=0)  # forwarded mail keeps its lines
_CID_REF = re.compile(r"""cid:([^"'\s>)]+)""", re.IGNORECASE)
_CANDIDATE_PHOTO = re.compile(r"^[\u3400-\u9fff]{2,4}[\s_\-－—.·]?\d{1,3}$")  # 张三1, 张三·1: a candidate's photo
_BODY_FORMS = frozenset({"text/enriched", "text/richtext", "text/calendar"})  # the body in other text forms
_RAW_ENCODINGS = frozenset({"", "7bit", "8bit", "binary"})
_QP_CHUNK = 1024 * 1024


@dataclass
class MimePart:
    filename: str | None
    content_type: str
    disposition: str | None  # "attachment" | "inline" | None
    content_id: str | None
    content: bytes
    signature_image: bool = False  # signature art: listed, never material
    inline: bool = False  # shown in the body: disposition inline, or referenced from the HTML by Content-ID
    inner: list[MimePart] = field(default_factory=list)  # a forwarded message's parts, read like the outer's
    kept: bool = True  # False: a forward nested in a forward past EML_COPIES; its bytes are inside the outer .eml


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
    losses: list[str] = field(default_factory=list)  # codes of defects that may have cost content (LOSSES)
    parts: list[MimePart] = field(default_factory=list)  # its own files; a forwarded message's are in `inner`


def parse_mime(raw: bytes, min_body: int | None = mime_skeleton.MIN_BODY) -> MimeMessage:
    """Everything readable in `raw`; structural problems become `defects`, never exceptions. (`min_body`:
    the skeleton's threshold; None reads everything with the stdlib, as the fuzzers' reference.)"""
    defects: list[str] = []
    losses: list[str] = []
    try:
        msg = _parse(raw, min_body)
    except Exception as exc:  # RecursionError on hostile nesting, or a parser bug
        defects.append(f"unparseable message, headers only: {type(exc).__name__}")
        losses.append("unparseable")
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
        losses=losses,
    )
    result.sender, result.sender_name = _sender(msg)
    texts, htmls = _collect(msg, _Walk(result, EML_COPIES * len(raw)), result.parts, depth=0)
    result.body_html = "\n".join(htmls)
    result.body_text = "\n".join(texts) if texts else "\n".join(html_to_text(h) for h in htmls)
    _mark_signature_images(result.parts, result.body_html)
    result.defects = _counted(result.defects)
    return result


def _parse(raw: bytes, min_body: int | None = mime_skeleton.MIN_BODY, as_text: bool = False) -> Message:
    """The stdlib parser fed from a stream, as BytesParser does, but without newline translation: its
    TextIOWrapper would turn every CRLF into LF, and a file's bytes (and sha256) with them. It reads only
    the message's skeleton (`mime_skeleton`): leaf bodies of `min_body` bytes or more are put back after,
    not read line by line (None: the stdlib reads everything, as the fuzzers' reference)."""
    cut = mime_skeleton.skeleton(raw, min_body) if min_body is not None else mime_skeleton.Skeleton(raw)
    text = io.TextIOWrapper(io.BytesIO(cut.raw), encoding="ascii", errors="surrogateescape", newline="")
    try:
        msg = Parser(policy=compat32).parse(text)
    finally:
        text.detach()
    mime_skeleton.restore(msg, cut.bodies, as_text)
    return msg


@dataclass
class _Walk:
    out: MimeMessage  # where defects go
    eml_left: int  # bytes of forwarded .eml copies that may still be kept


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


def _collect(part: Message, walk: _Walk, parts: list[MimePart], depth: int,
             parent: str = "") -> tuple[list[str], list[str]]:
    """Walk the tree: body texts are returned, every leaf that is a file becomes a MimePart in `parts`."""
    out = walk.out
    _note_defects(part, out)
    if depth > MAX_DEPTH:
        out.defects.append(f"nesting deeper than {MAX_DEPTH} levels: inner parts not read")
        out.losses.append("too_deep")
        return [], []
    ctype = _content_type(part)
    if ctype.startswith("multipart/"):
        payload = part.get_payload()
        children = payload if isinstance(payload, list) else _reread(part, out)
        if children is not None:
            return _collect_all(children, walk, parts, depth + 1, ctype)
        if isinstance(payload, str) and payload.strip():
            out.defects.append(f"{ctype} without any part: its text (a preamble) is not a file")
            if len(payload.strip()) > PREAMBLE_CHARS:  # more than a preamble: parts whose boundary is lost
                out.losses.append("boundary_missing")
        return [], []  # an empty multipart holds no file
    try:
        if ctype in FORWARDED_TYPES and isinstance(part.get_payload(), list):
            parts.append(_forwarded(part, ctype, walk, depth))
            return [], []
        leaf = _leaf(part, ctype, out)
    except Exception as exc:  # one broken part must not hide the others
        out.defects.append(f"unreadable part ({ctype}): {type(exc).__name__}")
        out.losses.append("unreadable_part")
        return [], []
    if _is_body(leaf, parent):
        if ctype in ("text/plain", "text/html"):
            text = _lf(decode_bytes(leaf.content, header_param(part, "content-type", "charset")))
            return ([text], []) if ctype == "text/plain" else ([], [text])
        return [], []  # the body in another text form (enriched text, a calendar invitation): not a file
    if leaf.filename is None and not ctype.startswith("message/") and not leaf.content.strip():
        return [], []  # an unnamed empty body: nothing was sent
    parts.append(leaf)
    return [], []


def _collect_all(children: list[Message], walk: _Walk, parts: list[MimePart], depth: int,
                 parent: str) -> tuple[list[str], list[str]]:
    texts: list[str] = []
    htmls: list[str] = []
    for child in children:
        child_texts, child_htmls = _collect(child, walk, parts, depth, parent)
        texts += child_texts
        htmls += child_htmls
    return texts, htmls


def _is_body(leaf: MimePart, parent: str) -> bool:
    """Text that is the message's body (or one of its alternatives) rather than an attached file."""
    if not leaf.content_type.startswith("text/") or leaf.disposition == "attachment":
        return False
    if parent == "multipart/alternative":
        return True
    return leaf.filename is None and (leaf.content_type in ("text/plain", "text/html") or
                                      leaf.content_type in _BODY_FORMS)


def _forwarded(part: Message, ctype: str, walk: _Walk, depth: int) -> MimePart:
    """A forwarded message: its .eml (flattened with CRLF) and its parts, read like the outer message's
    (same MIME depth count, same rules for bodies, names and signature art).

    A forward nested in a forward is inside the outer .eml already; copies are kept while they fit in
    EML_COPIES message sizes, and past that the .eml is not kept again (its parts still are).
    """
    subs = part.get_payload()
    encoded = _transfer_encoding(part) in ("base64", "quoted-printable")  # against RFC 2046
    content = b""
    if encoded or walk.eml_left > 0:
        content = _transfer_decode(b"".join(_flatten(sub) for sub in subs), part)
    if encoded:  # the parser saw the encoded text, not the message: read the decoded one
        subs = [_parse(content)]
    kept = 0 < len(content) <= walk.eml_left
    if kept:
        walk.eml_left -= len(content)
    elif content or walk.eml_left <= 0:  # past the copies budget (an empty forward has nothing to keep)
        walk.eml_left, content = 0, b""
        walk.out.defects.append("forwarded message past EML_COPIES: its .eml is not kept again, its parts are")
    name = decode_filename(part) or _eml_name(subs[0] if subs else Message())
    inner: list[MimePart] = []
    _, htmls = _collect_all(subs, walk, inner, depth + 1, ctype)
    _mark_signature_images(inner, "\n".join(htmls))
    part.set_payload("")
    return MimePart(name, ctype, _disposition(part), _content_id(part), content, inner=inner, kept=kept)


def _lf(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _reread(part: Message, out: MimeMessage) -> list[Message] | None:
    """A multipart whose declared boundary never occurs: re-read it with the first delimiter-looking
    line of its body (senders that rewrite the boundary in one place only produce these)."""
    payload = part._payload  # raw 8-bit bytes stay surrogates, as the parts re-read from it need them
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
    if ctype.startswith("message/") and isinstance(part.get_payload(), list):  # delivery-status and the like
        content = _transfer_decode(b"".join(_flatten(sub) for sub in part.get_payload()), part)
    else:
        content = _payload_bytes(part, out)
    part.set_payload("")  # drop the transfer-encoded text now that it is decoded
    disposition = _disposition(part)
    return MimePart(filename, ctype, disposition, _content_id(part), content, inline=disposition == "inline")


def _disposition(part: Message) -> str | None:
    return (raw_header(part, "content-disposition") or "").split(";")[0].strip().lower() or None


def _content_id(part: Message) -> str | None:
    return header_text(raw_header(part, "content-id") or "").strip("<> ") or None


def _payload_bytes(part: Message, out: MimeMessage) -> bytes:
    """Decode base64 straight from the stored text (no intermediate copies) and quoted-printable per RFC
    2045; 7bit/8bit/binary bodies are their raw bytes, line ends included. Anything odd goes through the
    stdlib, which tolerates bad padding and records a defect."""
    cte = _transfer_encoding(part)
    body = getattr(part, mime_skeleton.BODY, None)  # a big body the skeleton kept as raw bytes
    if body is not None:
        if cte == "base64" and _ascii(body):  # the text path's a2b_base64 would see the same
            with contextlib.suppress(binascii.Error, ValueError):
                return _b64decode(body)
        part._payload = mime_skeleton.text(body)  # anything else: the stdlib's own text, as below
    payload = part._payload  # the stored text: get_payload() would decode raw 8-bit bytes (lossily) by charset
    if not isinstance(payload, str):
        return b""
    if cte == "base64":
        try:
            return binascii.a2b_base64(payload)
        except (binascii.Error, ValueError):
            out.defects.append("invalid base64 in a part: decoded leniently")
            out.losses.append("invalid_base64")
    elif cte == "quoted-printable":
        return _qp_decode(payload)
    elif cte in _RAW_ENCODINGS:
        return payload.encode("ascii", "surrogateescape")  # surrogates are the raw 8-bit bytes
    data = part.get_payload(decode=True)
    return data if isinstance(data, bytes) else b""


def _b64decode(body: memoryview) -> bytes:
    """binascii's lenient decode at SIMD speed (pybase64: 1 ms for a 4 MB photo's body, binascii 9 ms).

    The two give the same bytes and the same errors unless a padding "=" comes before the body's end (two
    encodings glued together: binascii stops at the first padding, pybase64 reads on), so such a body goes to
    binascii as before; a fuzz test holds the two to that."""
    import pybase64

    tail = bytes(body[-_B64_TAIL:])
    end = tail.rstrip(b"\r\n=")
    if not end or _padding_before(body, len(body) - len(tail) + len(end)):
        return binascii.a2b_base64(body)
    return pybase64.b64decode(body)


def _padding_before(body: memoryview, end: int) -> bool:
    """A "=" in body[:end], found by `bytes.find` in the message the view was cut from, at memchr speed: a
    numpy comparison built a temporary as big as the body, which cost more than the decode itself."""
    import numpy as np

    whole, view = body.obj, np.frombuffer(body, np.uint8)
    if isinstance(whole, bytes) and whole:
        start = view.ctypes.data - np.frombuffer(whole, np.uint8).ctypes.data
        return whole.find(b"=", start, start + end) >= 0
    return bool((view[:end] == 0x3D).any())


_B64_TAIL = 64  # the last bytes, where padding and line ends belong


def _ascii(body: memoryview | bytes) -> bool:
    """No byte over 0x7f, read in place at memory speed (a byte-class regex ran at 100 MB/s, a third of a
    photo mail's MIME time). numpy is imported here, not at the top: the service's parent reads headers with
    this module and never a body."""
    import numpy as np

    return not len(body) or int(np.frombuffer(body, np.uint8).max()) < 0x80


def _qp_decode(text: str) -> bytes:
    """Quoted-printable per RFC 2045 6.7: transport padding at line ends dropped, soft line breaks ("=" at
    the end of a line) removed, every hard line break CRLF whatever the raw line end was, =XX decoded.

    Read in chunks cut after a line feed, so the decoded bytes are the only copy that grows with the part.
    """
    out = io.BytesIO()
    pos = 0
    while pos < len(text):
        cut = text.find("\n", pos + _QP_CHUNK)
        end = len(text) if cut < 0 else cut + 1
        chunk = text[pos:end].encode("ascii", "surrogateescape").replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        lines = [line.rstrip(b" \t") for line in chunk.split(b"\n")]
        last = lines.pop()  # empty after a line feed; else the part's last line, which has no line break
        body = b"".join(line[:-1] if line.endswith(b"=") else line + b"\r\n" for line in lines)
        out.write(binascii.a2b_qp(body + (last[:-1] if last.endswith(b"=") else last)))
        pos = end
    return out.getvalue()


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
    return _qp_decode(content.decode("ascii", "surrogateescape")) if cte == "quoted-printable" else content


def _eml_name(msg: Message) -> str:
    subject = header_text(raw_header(msg, "subject") or "")
    subject = re.sub(r"[\\/\x00-\x1f]", "_", subject).strip()
    return f"{subject or '转发的邮件'}.eml"


def _content_type(part: Message) -> str:
    raw = raw_header(part, "content-type")
    value = header_text(raw).split(";")[0].strip().lower() if raw else ""
    return value if re.fullmatch(r"[\w.+-]+/[\w.+-]+", value) else part.get_default_type()


def _note_defects(part: Message, out: MimeMessage) -> None:
    for defect in getattr(part, "defects", []):
        out.defects.append(f"{type(defect).__name__} in {_content_type(part)}")
        if type(defect).__name__ in _STDLIB_LOSSES:
            out.losses.append(_STDLIB_LOSSES[type(defect).__name__])


# the stdlib's defects that mean part of the message may not have been read
_STDLIB_LOSSES = {"CloseBoundaryNotFoundDefect": "unterminated_part", "MissingHeaderBodySeparatorDefect": "header_cut",
                  "InvalidBase64CharactersDefect": "invalid_base64", "InvalidBase64PaddingDefect": "invalid_base64"}
PREAMBLE_CHARS = 1024  # "This is a multi-part message in MIME format." and its kin are far shorter


def _counted(defects: list[str]) -> list[str]:
    """One line per distinct defect: hostile nesting can repeat the same one thousands of times."""
    counts: dict[str, int] = {}
    for defect in defects:
        counts[defect] = counts.get(defect, 0) + 1
    return [d if n == 1 else f"{d} (x{n})" for d, n in counts.items()]


def _mark_signature_images(parts: list[MimePart], html: str) -> None:
    """Mark which inline images of one message (outer or forwarded: `html` is its own body) are signature
    art: small, not named like a candidate photo (姓名+序号), and either shown in the HTML's signature block
    or logo-like (not a JPEG, or tiny). Every other inline image is a pasted photo: material."""
    refs = _image_refs(html)
    for part in parts:
        cid = (part.content_id or "").strip("<>").lower()
        part.inline = part.inline or (bool(cid) and cid in refs)
        if not part.inline or len(part.content) >= SIGNATURE_MAX_BYTES or not _is_image(part):
            continue
        name = part.filename or ""
        if parse_photo_name(name) or _CANDIDATE_PHOTO.match(name.rsplit(".", 1)[0]):
            continue
        logo_like = not part.content.startswith(b"\xff\xd8\xff") or len(part.content) < TINY_IMAGE_BYTES
        part.signature_image = refs.get(cid) == "signature" or logo_like


def _is_image(part: MimePart) -> bool:
    return part.content_type.startswith("image/") or is_image(detect_type(part.content, part.filename))


def _image_refs(html: str) -> dict[str, str]:
    """Content-IDs the HTML shows -> "body", or "signature" when every showing is in the signature block."""
    refs = {ref.strip("<>").lower(): "body" for ref in _CID_REF.findall(html)}
    if not refs:
        return refs
    finder = _SignatureBlock()
    try:
        finder.feed(html)
        finder.close()
    except Exception:  # html.parser is lenient; this guards only against pathological input
        return refs
    for cid in finder.in_signature - finder.in_body:
        refs[cid] = "signature"
    return refs


class _SignatureBlock(HTMLParser):
    """Where each <img src="cid:..."> sits: in the signature block or in the body.

    The block is an element clients mark as the signature (QQ Mail/Exmail <sign signid=...>, Thunderbird
    class="moz-signature", Outlook id="Signature", Gmail class="gmail_signature", Apple Mail
    id="AppleMailSignature") or everything after a signature separator: a "--" / "------------------" line,
    Outlook's _MailAutoSig anchor, or Foxmail's short <hr> (width 210px) above its signature.
    """

    _MARKED = re.compile(r"signature|mailautosig|editorsign", re.IGNORECASE)
    _SEPARATOR = re.compile(r"^\s*-{2,}\s*$")
    _SHORT_RULE = re.compile(r"width\s*[:=]\s*[\"']?\s*(\d+)\s*px", re.IGNORECASE)

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.in_signature: set[str] = set()
        self.in_body: set[str] = set()
        self._open: tuple[str, int] | None = None  # the signature element's tag and its nesting depth
        self._after_separator = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "img":
            found = _CID_REF.search(values.get("src", ""))
            if found:
                cid = found[1].strip("<>").lower()
                (self.in_signature if self._open or self._after_separator else self.in_body).add(cid)
            return
        if tag == "hr":
            width = self._SHORT_RULE.search(f"width:{values.get('width', '')}px {values.get('style', '')}")
            self._after_separator |= bool(width and 0 < int(width[1]) <= 300)
            return
        if tag == "a" and self._MARKED.search(values.get("name", "")):
            self._after_separator = True
        if self._open is not None:
            if tag == self._open[0]:
                self._open = (tag, self._open[1] + 1)
        elif tag == "sign" or any(self._MARKED.search(values.get(k, "")) for k in ("id", "class")):
            self._open = (tag, 1)

    def handle_endtag(self, tag: str) -> None:
        if self._open is not None and tag == self._open[0]:
            depth = self._open[1] - 1
            self._open = (tag, depth) if depth else None

    def handle_data(self, data: str) -> None:
        if self._open is None and self._SEPARATOR.match(data.replace("\xa0", " ")):
            self._after_separator = True  # a marked block's own dashed line ends with the block


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


def parse_mime_headers(raw: bytes) -> MimeMessage:
    """The envelope only (no part is walked): for a message whose structure overran the bounded parse."""
    msg = _headers_only(raw)
    headers = _headers(msg)
    sender, sender_name = _sender(msg)
    return MimeMessage(message_id=headers.get("message-id") or None, sender=sender, sender_name=sender_name,
                       subject=headers.get("subject", ""), date_header=headers.get("date"), headers=headers,
                       body_text="", body_html="")
