"""A byte-level short cut through a message's big leaf bodies, for the standard library parser's sake.

The stdlib's feed parser reads a message line by line: a 30 MB submission is 400,000 base64 lines, and
that reading is most of the time spent on a message (bench/README.md). Here the message's structure is
walked with `bytes.find` instead: every leaf body of at least `MIN_BODY` bytes is replaced by a one-line
token, the stdlib parses the small skeleton (headers, structure, defects — all its tolerance kept), and
`restore` puts back, as each leaf's payload, exactly the text the stdlib would have stored for it.

The walk follows the feed parser's own rules (its header-line pattern, a blank line ends the headers, a
delimiter line is `--boundary`, optional `--`, optional blanks, a line end; any enclosing multipart's
delimiter ends a part too; CR, LF and CRLF are all line ends). It only elides what it is sure of: at the
first thing it does not recognise it stops eliding and the rest is left to the stdlib as it is. The
fuzzers check, on every input they make, that the skeleton path gives the same parts as the stdlib alone.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from email.message import Message
from email.parser import Parser
from email.policy import compat32

MIN_BODY = 64 * 1024  # smaller bodies cost the stdlib little; eliding them would only add work
_HEADER_LINE = re.compile(rb"From |[\041-\071\073-\176]*:|[\t ]")  # email.feedparser.headerRE, on bytes
_EOL = b"\r\n"


BODY = "mailintake_body"  # the attribute `restore` gives a part: its elided body, as raw bytes


@dataclass
class Skeleton:
    raw: bytes  # the message with its big leaf bodies replaced by tokens
    bodies: dict[str, memoryview] = field(default_factory=dict)  # token -> the bytes of the stdlib's payload


@dataclass(frozen=True)
class _Delimiter:
    start: int  # first byte of the delimiter line
    end: int  # first byte after its line end
    boundary: bytes
    close: bool  # `--boundary--`


def skeleton(raw: bytes, min_body: int = MIN_BODY) -> Skeleton:
    """`raw` with its big leaf bodies cut out (the message itself when there is nothing worth cutting)."""
    cuts: list[tuple[int, int, bool]] = []  # (body start, body end, the stdlib strips one line end)
    top = _part(raw, 0, ())
    if top is not None:
        body, ctype, boundary = top
        if boundary:
            _walk(raw, body, (boundary,), cuts, min_body, digest=ctype == "multipart/digest")
        elif _leaf(ctype) and len(raw) - body >= min_body:
            cuts.append((body, len(raw), False))
    return _cut(raw, cuts) if cuts else Skeleton(raw)


def restore(msg: Message, bodies: dict[str, memoryview], as_text: bool = False) -> None:
    """Put the elided bodies back into the parsed skeleton: as the `BODY` attribute, a view of the raw bytes
    (no text copy of a 30 MB body: `mime._payload_bytes` decodes base64 straight from it, and makes the
    stdlib's text only for other encodings), or `as_text`, as the very payload the stdlib would store."""
    if not bodies:
        return
    size = len(next(iter(bodies)))
    for part in msg.walk():
        payload = part._payload
        if isinstance(payload, str) and len(payload) == size and payload in bodies:
            if as_text:
                part._payload = text(bodies[payload])
            else:
                part._payload = ""  # nothing else reads a leaf's body; if it did, it would find it empty
                setattr(part, BODY, bodies[payload])


def text(body: memoryview) -> str:
    """The body as the stdlib stores it: ASCII, other bytes as surrogates."""
    return bytes(body).decode("ascii", "surrogateescape")


def _walk(raw: bytes, pos: int, stack: tuple[bytes, ...], cuts: list, min_body: int, digest: bool) -> int | None:
    """The parts of the multipart whose body starts at `pos` (its boundary last in `stack`); returns where
    the enclosing multipart reads on (after the closing delimiter line, or at an enclosing delimiter that
    ended this one early), or None when something is not plain (then nothing more is cut)."""
    hit = _next_delimiter(raw, pos, stack)
    while hit is not None and hit.boundary == stack[-1] and not hit.close:
        part = _part(raw, hit.end, stack)
        if part is None:
            return None
        body, ctype, boundary = part
        if boundary:
            if boundary in stack:  # a nested multipart reusing an enclosing boundary: leave it to the stdlib
                return None
            after = _walk(raw, body, (*stack, boundary), cuts, min_body, digest=ctype == "multipart/digest")
            if after is None:
                return None
            hit = _next_delimiter(raw, after, stack)
        else:
            hit = _next_delimiter(raw, body, stack)
            if hit is not None and _leaf(ctype) and not digest and hit.start - body >= min_body:
                cuts.append((body, hit.start, True))
    if hit is None:
        return None
    # its own closing delimiter, or an enclosing one that ended it early (read again by the enclosing walk)
    return hit.end if hit.boundary == stack[-1] else hit.start


def _leaf(ctype: str) -> bool:
    """A body the stdlib stores as text: not a multipart (one without a boundary included) or a message."""
    return ctype.split("/")[0] not in ("multipart", "message")


def _part(raw: bytes, pos: int, stack: tuple[bytes, ...]) -> tuple[int, str, bytes | None] | None:
    """(body start, content type, boundary of a multipart) of the part whose headers start at `pos`; None
    unless its header block is plain: header lines only, ended by an empty line, no delimiter among them."""
    start = pos
    while True:
        end, nxt = _line(raw, pos)
        if nxt == pos:  # end of data inside the headers
            return None
        if end == pos:  # the empty line that ends the headers
            break
        if not _HEADER_LINE.match(raw, pos) or _delimiter_at(raw, pos, stack) is not None:
            return None
        pos = nxt
    headers = Parser(policy=compat32).parsestr(raw[start:pos].decode("ascii", "surrogateescape"), headersonly=True)
    ctype = headers.get_content_type()
    boundary = headers.get_boundary() if headers.get_content_maintype() == "multipart" else None
    try:
        return nxt, ctype, boundary.encode("ascii", "surrogateescape") if boundary else None
    except UnicodeEncodeError:  # a boundary the stdlib decoded into other characters: leave it to the stdlib
        return None


def _line(raw: bytes, pos: int) -> tuple[int, int]:
    """(end of the line's content, start of the next line) for the line starting at `pos`."""
    cr, lf = raw.find(b"\r", pos), raw.find(b"\n", pos)
    ends = [i for i in (cr, lf) if i >= 0]
    if not ends:
        return len(raw), len(raw)
    end = min(ends)
    return end, end + (2 if raw.startswith(_EOL, end) else 1)


def _next_delimiter(raw: bytes, pos: int, stack: tuple[bytes, ...]) -> _Delimiter | None:
    """The first delimiter line of any boundary in `stack` at or after the line start `pos`."""
    best: _Delimiter | None = None
    for boundary in stack:
        sep, at = b"--" + boundary, pos
        while (at := raw.find(sep, at)) >= 0 and (best is None or at < best.start):
            if at == pos or raw[at - 1] in b"\r\n":
                found = _delimiter_at(raw, at, (boundary,))
                if found is not None:
                    best = found
                    break
            at += 1
    return best


def _delimiter_at(raw: bytes, at: int, stack: tuple[bytes, ...]) -> _Delimiter | None:
    """The delimiter line starting at `at`, as the feed parser's boundary pattern matches it."""
    for boundary in stack:
        sep = b"--" + boundary
        if not raw.startswith(sep, at):
            continue
        j = at + len(sep)
        close = raw.startswith(b"--", j)
        j += 2 if close else 0
        while j < len(raw) and raw[j] in b" \t":
            j += 1
        if j == len(raw) or raw[j] in b"\r\n":
            return _Delimiter(at, j + (2 if raw.startswith(_EOL, j) else 1 if j < len(raw) else 0), boundary, close)
    return None


def _cut(raw: bytes, cuts: list[tuple[int, int, bool]]) -> Skeleton:
    nonce = secrets.token_hex(8)
    pieces: list[bytes] = []
    bodies: dict[str, str] = {}
    pos = 0
    for n, (start, end, strip) in enumerate(cuts):
        token = f"mailintake-elided-{nonce}-{n:06d}"
        tail = _final_eol(raw, start, end) if strip else b""
        bodies[token] = memoryview(raw)[start:end - len(tail)]
        pieces += [raw[pos:start], token.encode(), tail]
        pos = end
    pieces.append(raw[pos:])
    return Skeleton(b"".join(pieces), bodies)


def _final_eol(raw: bytes, start: int, end: int) -> bytes:
    """The one line end the stdlib strips from a part's body before the next delimiter."""
    for eol in (b"\r\n", b"\n", b"\r"):
        if raw.endswith(eol, start, end):
            return eol
    return b""
