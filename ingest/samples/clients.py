"""Raw RFC 5322 messages as the mail clients Chinese submitters use really send them.

Used by the tests and the demo mailbox generator, so the parser is exercised on the encodings seen in
the wild: RFC 2047 words in GB18030/GBK (QQ Mail, Foxmail, 163), RFC 2231 with continuations (Outlook),
raw 8-bit GBK/UTF-8 names, GB2312 labels on GBK-only characters, and `name=`-only parts. Output is a
pure function of the arguments: ids, boundaries and dates derive from them, never from a clock or RNG.
"""

from __future__ import annotations

import base64
import hashlib
import html
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import quote

CRLF = "\r\n"
DEFAULT_DATE = "Mon, 10 May 2021 09:30:00 +0800"
CLIENTS = (
    "qqmail", "foxmail", "outlook", "netease163", "raw_gbk", "raw_utf8", "gb2312_label_gbk_chars", "name_only",
)


@dataclass(frozen=True)
class _Client:
    label: str  # charset label the client declares
    codec: str  # how it really encodes text
    mailer: str
    names: str  # "rfc2047" | "rfc2231" | "raw" | "name_only"
    generic_type: bool  # sends every attachment as application/octet-stream


_STYLES = {
    "qqmail": _Client("gb18030", "gb18030", "QQMail 2.x", "rfc2047", True),
    "foxmail": _Client("GBK", "gbk", "Foxmail 7.2.20.273[cn]", "rfc2047", False),
    "outlook": _Client("utf-8", "utf-8", "Microsoft Outlook 16.0", "rfc2231", False),
    "netease163": _Client(
        "GBK", "gbk", "Coremail Webmail Server Version XT5.0.13 build 20210104(ab8c30b6) 163com", "rfc2047", True
    ),
    "raw_gbk": _Client("GBK", "gbk", "Microsoft Outlook Express 6.00.2900.5512", "raw", False),
    "raw_utf8": _Client("utf-8", "utf-8", "PHPMailer 5.2.14", "raw", False),
    "gb2312_label_gbk_chars": _Client("gb2312", "gbk", "Microsoft Outlook Express 6.00.2900.5512", "rfc2047", False),
    "name_only": _Client("utf-8", "utf-8", "Lotus Notes Release 8.5.3", "name_only", True),
}

_TYPES = {
    "jpg": "image/jpeg", "jpeg": "image/jpeg", "png": "image/png", "gif": "image/gif", "pdf": "application/pdf",
    "doc": "application/msword", "xls": "application/vnd.ms-excel", "zip": "application/x-zip-compressed",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "rar": "application/octet-stream", "7z": "application/octet-stream",
}

# An entity: its own header lines and its body, both as text where raw 8-bit bytes are surrogates.
_Entity = tuple[list[str], str]


def build_message(
    *,
    sender: str,
    sender_name: str,
    to: str,
    subject: str,
    body: str,
    attachments: Sequence[tuple[str, bytes]] = (),
    client: str = "qqmail",
    date: str | None = None,
    message_id: str | None = None,
    extra_headers: dict[str, str] | None = None,
    html_body: str | None = None,
    inline_images: Sequence[tuple[str, bytes, str]] = (),
    forwarded: Sequence[bytes] = (),
) -> bytes:
    """A message as `client` sends it. Attachments named *.eml travel as message/rfc822; `forwarded`
    messages are attached as message/rfc822 without a name. `body=""` with `html_body` gives an
    HTML-only message; inline images are (name, bytes, content-id)."""
    style = _STYLES[client]
    seed = _digest(sender, subject, date, [n for n, _ in attachments], len(inline_images), len(forwarded))
    if inline_images and html_body is None:
        html_body = _html_with_images(body, [cid for _, _, cid in inline_images])
    root = _content_tree(client, style, seed, body, html_body, inline_images, attachments, forwarded)
    headers = [
        f"From: {_address(client, style, sender_name, sender)}",
        f"To: {to}",
        f"Subject: {_header_text(client, style, subject)}",
        f"Date: {date or DEFAULT_DATE}",
        f"Message-ID: {message_id or _message_id(client, seed, sender)}",
        "MIME-Version: 1.0",
        f"X-Mailer: {style.mailer}",
        *(["X-QQ-MIME: TCMime 1.0 by Tencent", "X-QQ-Mailer: QQMail 2.x"] if client == "qqmail" else []),
        *(f"{k}: {_header_text(client, style, v)}" for k, v in (extra_headers or {}).items()),
    ]
    return _render((headers + root[0], root[1])).encode("ascii", "surrogateescape")


def build_auto_reply(
    *, sender: str, sender_name: str, to: str, original_subject: str, date: str | None = None,
    text: str = "您好，我目前正在休假，无法及时回复邮件，返回后将尽快与您联系。",
) -> bytes:
    """A QQ Mail 自动回复: HTML only, "自动回复: <subject>", flagged with the headers QQ and RFC 3834 use."""
    return build_message(
        sender=sender, sender_name=sender_name, to=to, subject=f"自动回复: {original_subject}", body="",
        html_body=f"<div>{html.escape(text)}</div>", client="qqmail", date=date,
        extra_headers={"X-QQ-AUTO-REPLY": "true", "Auto-Submitted": "auto-replied", "X-Autoreply": "yes"},
    )


def build_bounce(
    *, original: bytes, to: str, failed_recipient: str, daemon: str = "MAILER-DAEMON@qq.com",
    date: str | None = None, diagnostic: str = "550 Mailbox not found or access denied",
) -> bytes:
    """A delivery-status notification (RFC 3464) from MAILER-DAEMON with an empty Return-Path."""
    seed = _digest(daemon, failed_recipient, date, original[:200])
    explanation = (f"很抱歉，您的邮件无法投递到 {failed_recipient}。\r\n"
                   f"This is the mail system. Your message could not be delivered: {diagnostic}\r\n")
    status = (f"Reporting-MTA: dns; {daemon.split('@')[-1]}{CRLF}{CRLF}Final-Recipient: rfc822; {failed_recipient}"
              f"{CRLF}Action: failed{CRLF}Status: 5.1.1{CRLF}Diagnostic-Code: smtp; {diagnostic}{CRLF}")
    parts = [
        _text_part("plain", explanation, "utf-8", "utf-8"),
        (["Content-Type: message/delivery-status"], status),
        (["Content-Type: message/rfc822", "Content-Disposition: attachment"], _as_text(original)),
    ]
    boundary = f"{seed[:12]}.{int(seed[12:20], 16)}/report"
    report = _multipart("report", boundary, parts, extra="; report-type=delivery-status")
    headers = [
        "Return-Path: <>",
        f"From: MAILER-DAEMON (Mail Delivery System) <{daemon}>",
        f"To: {to}",
        "Subject: Undelivered Mail Returned to Sender",
        f"Date: {date or DEFAULT_DATE}",
        f"Message-ID: <{seed[:24].lower()}@{daemon.split('@')[-1]}>",
        "Auto-Submitted: auto-replied",
        "MIME-Version: 1.0",
    ]
    return _render((headers + report[0], report[1])).encode("ascii", "surrogateescape")


def build_html_with_logo(
    *, sender: str, sender_name: str, to: str, subject: str, body: str, logo: bytes,
    attachments: Sequence[tuple[str, bytes]] = (), client: str = "qqmail", logo_name: str = "image001.png",
    date: str | None = None,
) -> bytes:
    """An HTML mail whose signature shows a small logo embedded by Content-ID, as Outlook/Foxmail do."""
    cid = f"{_digest(sender, logo_name)[:16].lower()}@signature"
    html_body = (f"<div>{html.escape(body)}</div><div><br>--<br><img src=\"cid:{cid}\" width=\"120\"><br>"
                 f"{html.escape(sender_name)}</div>")
    return build_message(
        sender=sender, sender_name=sender_name, to=to, subject=subject, body=body, attachments=attachments,
        client=client, date=date, html_body=html_body, inline_images=[(logo_name, logo, cid)],
    )


def _content_tree(
    client: str, style: _Client, seed: str, body: str, html_body: str | None,
    inline_images: Sequence[tuple[str, bytes, str]], attachments: Sequence[tuple[str, bytes]],
    forwarded: Sequence[bytes],
) -> _Entity:
    label = _label(client, style, body + (html_body or ""))
    texts = [_text_part("plain", body, label, style.codec)] if body or html_body is None else []
    if html_body is not None:
        texts.append(_text_part("html", html_body, label, style.codec))
    content = texts[0] if len(texts) == 1 else _multipart("alternative", _boundary(client, seed, 3), texts)
    if inline_images:
        images = [_file_part(client, style, name, data, "inline", cid) for name, data, cid in inline_images]
        root_type = "multipart/alternative" if len(texts) > 1 else "text/html"
        content = _multipart("related", _boundary(client, seed, 2), [content, *images], f'; type="{root_type}"')
    files = [_file_part(client, style, name, data, "attachment") for name, data in attachments]
    files += [(["Content-Type: message/rfc822", "Content-Disposition: attachment"], _as_text(m)) for m in forwarded]
    return _multipart("mixed", _boundary(client, seed, 1), [content, *files]) if files else content


def _text_part(subtype: str, text: str, label: str, codec: str) -> _Entity:
    return ([f'Content-Type: text/{subtype};{CRLF}\tcharset="{label}"', "Content-Transfer-Encoding: base64"],
            _b64(text.encode(codec)))


def _file_part(
    client: str, style: _Client, name: str, data: bytes, disposition: str, cid: str | None = None
) -> _Entity:
    if name.lower().endswith(".eml") and disposition == "attachment":
        return ([f'Content-Type: message/rfc822; name="{_param_text(client, style, name)}"',
                 f'Content-Disposition: attachment; filename="{_param_text(client, style, name)}"'], _as_text(data))
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    ctype = "application/octet-stream" if style.generic_type and disposition == "attachment" else _TYPES.get(
        ext, "application/octet-stream")
    headers = _name_headers(client, style, name, ctype, disposition)
    headers.append("Content-Transfer-Encoding: base64")
    if cid:
        headers.append(f"Content-ID: <{cid}>")
    return headers, _b64(data)


def _name_headers(client: str, style: _Client, name: str, ctype: str, disposition: str) -> list[str]:
    text = _param_text(client, style, name)
    if style.names == "name_only":
        return [f'Content-Type: {ctype};{CRLF}\tname="{text}"']
    if style.names == "rfc2231":
        return [f'Content-Type: {ctype};{CRLF}\tname="{text}"', f"Content-Disposition: {disposition};{_rfc2231(name)}"]
    charset = f'{CRLF}\tcharset="{style.label}";' if client == "qqmail" else ""
    return [f'Content-Type: {ctype};{charset}{CRLF}\tname="{text}"',
            f'Content-Disposition: {disposition};{CRLF}\tfilename="{text}"']


def _param_text(client: str, style: _Client, text: str) -> str:
    """A name inside a quoted parameter: raw 8-bit for raw clients, else RFC 2047 words."""
    if text.isascii():
        return text
    if style.names == "raw":
        return _raw(text, style.codec)
    return " ".join(_encoded_words(text, _label(client, style, text), style.codec))


def _header_text(client: str, style: _Client, text: str) -> str:
    if text.isascii():
        return text
    if style.names == "raw":
        return _raw(text, style.codec)
    return f"{CRLF} ".join(_encoded_words(text, _label(client, style, text), style.codec))


def _address(client: str, style: _Client, name: str, address: str) -> str:
    if not name:
        return f"<{address}>"
    shown = _header_text(client, style, name)
    return f'"{shown}" <{address}>' if client in ("qqmail", "raw_gbk", "raw_utf8") else f"{shown} <{address}>"


def _label(client: str, style: _Client, text: str) -> str:
    """163 labels text GB2312 whenever every character fits in it."""
    if client == "netease163":
        try:
            text.encode("gb2312")
            return "GB2312"
        except UnicodeEncodeError:
            return style.label
    return style.label


def _encoded_words(text: str, label: str, codec: str) -> list[str]:
    """RFC 2047 B words of at most 75 characters, each holding whole characters."""
    room = (75 - len(f"=?{label}?B??=")) // 4 * 3
    words, chunk = [], ""
    for ch in text:
        if chunk and len((chunk + ch).encode(codec)) > room:
            words.append(chunk)
            chunk = ""
        chunk += ch
    words.append(chunk)
    return [f"=?{label}?B?{base64.b64encode(w.encode(codec)).decode()}?=" for w in words]


def _rfc2231(name: str, width: int = 60) -> str:
    """`filename*=utf-8''...`, split into `filename*N*=` continuations when long (Outlook, Thunderbird)."""
    encoded = "utf-8''" + quote(name.encode("utf-8"), safe="")
    if len(encoded) <= width:
        return f" filename*={encoded}"
    pieces, rest = [], encoded
    while rest:
        cut = min(width, len(rest))
        while cut < len(rest) and "%" in rest[cut - 2 : cut]:  # never split a %XX escape
            cut -= 1
        pieces.append(rest[:cut])
        rest = rest[cut:]
    return ";".join(f"{CRLF}\tfilename*{i}*={p}" for i, p in enumerate(pieces))


def _multipart(subtype: str, boundary: str, parts: list[_Entity], extra: str = "") -> _Entity:
    header = f'Content-Type: multipart/{subtype}{extra};{CRLF}\tboundary="{boundary}"'
    body = "This is a multi-part message in MIME format." + CRLF + CRLF
    body += "".join(f"--{boundary}{CRLF}{_render(p)}{CRLF}" for p in parts) + f"--{boundary}--{CRLF}"
    return [header], body


def _render(entity: _Entity) -> str:
    headers, body = entity
    return CRLF.join(headers) + CRLF + CRLF + body


def _boundary(client: str, seed: str, level: int) -> str:
    d = _digest(seed, level)
    if client == "qqmail":
        return f"----=_NextPart_{d[:8]}_{d[8:16]}_{d[16:24]}"
    if client == "foxmail":
        return f"----=_{level:03d}_NextPart{int(d[:10], 16) % 10**12:012d}_=----"
    if client == "outlook":
        return f"_00{level}_{d[:28]}_"
    if client == "netease163":
        return f"----=_Part_{int(d[:5], 16)}_{int(d[5:13], 16)}.1620610200000"
    return f"----=_Boundary_{level}_{d[:20]}"


def _message_id(client: str, seed: str, sender: str) -> str:
    domain = sender.rsplit("@", 1)[-1]
    if client == "qqmail":
        return f"<tencent_{seed[:32]}@qq.com>"
    if client == "netease163":
        return f"<{seed[:8].lower()}.{seed[8:12].lower()}.{seed[12:28].lower()}@{domain}>"
    return f"<{seed[:24]}@{domain}>"


def _html_with_images(body: str, cids: list[str]) -> str:
    images = "".join(f'<img src="cid:{cid}">' for cid in cids)
    return f"<div>{html.escape(body)}</div><div>{images}</div>"


def _b64(data: bytes) -> str:
    return base64.encodebytes(data).decode("ascii").replace("\n", CRLF)


def _raw(text: str, codec: str) -> str:
    """Text whose bytes go on the wire unencoded (surrogates become the raw bytes when rendered)."""
    return text.encode(codec).decode("ascii", "surrogateescape")


def _as_text(data: bytes) -> str:
    return data.decode("ascii", "surrogateescape")


def _digest(*parts: object) -> str:
    return hashlib.sha1(repr(parts).encode("utf-8", "surrogateescape")).hexdigest().upper()
