"""What kind of mail this is, and why: only material opens a dossier, and only a submission's counts.

`classify_kind` answers one question: does this message's material count for a unit? Whether an
automatic reply may be sent to it is a separate question (the loop rules of the replies issue), so the
signs that only say "do not answer this automatically" (Precedence: list/bulk/junk, List-Id,
List-Unsubscribe, X-BeenThere, X-Auto-Response-Suppress) never decide the kind: a unit's mail relayed
through a mailing list or a bulk-marking gateway still counts.

Strong signs override material, because reports, receipts and challenges carry attachments of their
own (the status part, the returned original with the organisers' notice and its templates, the held
message quoted whole by a challenge system) and none of it is a unit's material:

- a report structure (RFC 6522/3464/8098/6533): a status or disposition part anywhere, or a
  multipart/report, whatever its report-type says (missing, anonymised, another type);
- Exchange's X-MS-Exchange-Message-Is-Ndr; a mailer-daemon, postmaster or MicrosoftExchange<32 hex>
  sender or a "Mail Delivery System/Subsystem" name (a unit never sends from those);
- a bounce subject prefix ("Undeliverable:", "未送达:", "无法投递", "系统退信", "退信："…) with the returned
  message (message/rfc822, text/rfc822-headers) or a null Return-Path: a unit resending after a bounce
  ("系统退信后重新发送：…") has neither;
- a challenge-response signature (the headers and subjects of Apache SpamAssassin's
  rules/20_vbounce.cf challenge-response rules; TMDA's X-Delivery-Agent only with its auto-reply marks,
  since TMDA stamps its users' own mail too);
- a read-receipt subject prefix ("已读：", "已读回执", "Read:", "未读:"), RFC 3834 Auto-Submitted other
  than "no", X-Autoreply/X-Autorespond/X-QQ-AUTO-REPLY or Precedence: auto_reply, an auto-reply
  subject prefix ("自动回复:", "自动答复:", "Automatic reply:", "Out of Office:"), since no unit starts a
  submission's subject with those;
- a null Return-Path with the returned message.

Weak signs decide only between auto_reply, bounce and other when there is no material: a bounce
subject or a null Return-Path alone, a read-receipt or auto-reply word anywhere in the subject ("我正在
休假", "转发：已读回执"). With material they change nothing: "【沙坪坝区】关于外出务工人员…（邮箱已设自动回复）"
with attachments is a submission. A Disposition-Notification-To header asks for a receipt; it is
none, and changes nothing.

Reason codes (`MessageFacts.kind_reason`, shown by `status` as `kind_reason`), in the order tested:

- ``dsn``: bounce: report-type=delivery-status, or a message/(global-)delivery-status part anywhere.
- ``mdn``: auto_reply: report-type=disposition-notification, or a message/(global-)disposition-notification part.
- ``report``: bounce: any other multipart/report (report-type missing or unknown, no status part).
- ``ndr_header``: bounce: Exchange flagged it a non-delivery report (X-MS-Exchange-Message-Is-Ndr).
- ``daemon_sender``: bounce: from mailer-daemon, postmaster, MicrosoftExchange<hex> or "Mail Delivery System".
- ``bounce_subject``: bounce: a bounce subject prefix with the returned message or a null Return-Path.
- ``challenge``: auto_reply: a challenge-response system asks the sender to confirm (TMDA, BoxTrapper…).
- ``read_receipt_subject``: auto_reply: a read-receipt subject prefix (or, without material, word).
- ``auto_submitted``: auto_reply: Auto-Submitted auto-replied, auto-generated or auto-notified.
- ``autoreply_header``: auto_reply: X-Autoreply, X-Autorespond, X-QQ-AUTO-REPLY or Precedence: auto_reply.
- ``auto_reply_subject``: auto_reply: an auto-reply subject prefix (or, without material, word).
- ``null_return_path``: bounce: Return-Path <> with the returned message, or without material.
- ``material``: submission: it carries material and no strong sign.
- ``list_material``: submission: material that came through a list or relay (List-*, X-BeenThere,
  Precedence list/bulk/junk); whether to answer it is the loop rules' question.
- ``no_material``: other: nothing to assess and nothing automatic about it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mailintake.common.vocab import Kind
from mailintake.parsers.mime import MimeMessage

_DAEMONS = frozenset({"mailer-daemon", "mailerdaemon", "mail-daemon", "postmaster"})
_EXCHANGE_SYSTEM = re.compile(r"microsoftexchange[0-9a-f]{32}")  # Exchange's own NDR/OOF mailbox
_DAEMON_NAMES = re.compile(r"mail delivery (?:system|subsystem|service)", re.IGNORECASE)  # Postfix, Gmail

_DSN_PARTS = frozenset({"message/delivery-status", "message/global-delivery-status"})
_MDN_PARTS = frozenset({"message/disposition-notification", "message/global-disposition-notification"})
_RETURNED_PARTS = frozenset({"message/rfc822", "text/rfc822-headers", "message/rfc822-headers",
                             "message/global", "message/global-headers"})
_REPORT_TYPE = re.compile(r"""report-type\s*=\s*"?\s*([\w.+-]*)""", re.IGNORECASE)

_AUTO_FLAGS = ("x-autoreply", "x-autorespond", "x-qq-auto-reply")
_LIST_HEADERS = ("list-id", "list-unsubscribe", "list-post", "list-help", "list-subscribe", "list-archive",
                 "list-owner", "mailing-list", "x-mailing-list", "x-beenthere")
_LIST_PRECEDENCE = frozenset({"bulk", "list", "junk"})

# Challenge-response systems, after Apache SpamAssassin rules/20_vbounce.cf (__CRBOUNCE_*, __AUTO_GEN_CM).
_CHALLENGE_HEADERS = ("x-boxtrapper", "x-bluebottle-request", "x-spamarrest-noauth", "x-askversion",
                      "x-spamazoid-md", "spamlion", "x-choicemail-registration-request", "x-exispam")
_CHALLENGE_SUBJECT = re.compile(
    r"^\s*(?:please confirm your (?:message|e-?mail)|please verify your e-?mail address|your e-?mail requires "
    r"verification|unverified e-?mail to |请确认您的邮件|请确认你的邮件|请验证您的邮箱)|\[qurb .\d+\]\s*$",
    re.IGNORECASE,
)

_BOUNCE_SUBJECT = re.compile(
    r"^\s*(?:undeliverable\b|undelivered mail\b|returned mail\b|mail delivery failed|delivery status notification|"
    r"failure notice|delivery failure|message not delivered|未送达|无法送达|无法投递|投递失败|系统退信|退信通知|"
    r"退信\s*(?:[:：]|$))",  # not "退信重发：…", a unit resending
    re.IGNORECASE,
)
_READ_RECEIPT_PREFIX = re.compile(
    r"^\s*(?:已读回执|阅读回执|(?:已读|未读|已阅读|read|not read|read receipt|return receipt)\s*[:：])", re.IGNORECASE,
)
_READ_RECEIPT_WORDS = re.compile(r"已读回执|阅读回执|read receipt|return receipt", re.IGNORECASE)
_AUTO_REPLY_PREFIX = re.compile(
    r"^\s*(?:自动回复|自动答复|自動回覆|自动应答|(?:auto(?:matic)?[\s_-]?reply|auto[\s_-]?response|"
    r"out of (?:the )?office(?: auto-?reply)?)\s*(?:[:：]|$))",
    re.IGNORECASE,
)
_AUTO_REPLY_WORDS = re.compile(
    r"自动回复|自动答复|自動回覆|auto[\s_-]?reply|automatic\s+reply|out\s+of\s+(?:the\s+)?office|休假|autoresponse",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class KindVerdict:
    """A message's kind and the short, stable code of the sign that decided it (see the module docstring)."""

    kind: Kind
    reason: str


def classify_kind(msg: MimeMessage, has_materials: bool) -> KindVerdict:
    """The kind of `msg` and why: the first strong sign wins over material; weak signs decide only
    between auto_reply, bounce and other for a message without material."""
    for test in (_report, _bounce, _auto_reply):
        verdict = test(msg, has_materials)
        if verdict:
            return verdict
    returned = _has_part(msg, _RETURNED_PARTS)
    if _null_return_path(msg) and (returned or not has_materials):
        return KindVerdict(Kind.BOUNCE, "null_return_path")  # a null sender without auto-reply marks
    if has_materials:
        return KindVerdict(Kind.SUBMISSION, "list_material" if _via_list(msg) else "material")
    if _READ_RECEIPT_WORDS.search(msg.subject):
        return KindVerdict(Kind.AUTO_REPLY, "read_receipt_subject")
    if _AUTO_REPLY_WORDS.search(msg.subject):
        return KindVerdict(Kind.AUTO_REPLY, "auto_reply_subject")
    return KindVerdict(Kind.OTHER, "no_material")


def _report(msg: MimeMessage, has_materials: bool) -> KindVerdict | None:
    """The report structures of RFC 6522/3464/8098, wherever they sit: some MTAs leave report-type out
    or anonymise it, some send the status part in a multipart/mixed, lists wrap the report in a footer."""
    ctype = msg.headers.get("content-type", "")
    is_report = ctype.split(";")[0].strip().lower() == "multipart/report"
    found = _REPORT_TYPE.search(ctype) if is_report else None
    report_type = found[1].lower() if found else ""
    if report_type == "delivery-status" or _has_part(msg, _DSN_PARTS):
        return KindVerdict(Kind.BOUNCE, "dsn")
    if report_type == "disposition-notification" or _has_part(msg, _MDN_PARTS):
        return KindVerdict(Kind.AUTO_REPLY, "mdn")
    if is_report:
        return KindVerdict(Kind.BOUNCE, "report")
    return None


def _bounce(msg: MimeMessage, has_materials: bool) -> KindVerdict | None:
    if "x-ms-exchange-message-is-ndr" in msg.headers:
        return KindVerdict(Kind.BOUNCE, "ndr_header")
    local = (msg.sender or "").split("@")[0]
    if local in _DAEMONS or _EXCHANGE_SYSTEM.fullmatch(local) or _DAEMON_NAMES.fullmatch(msg.sender_name or ""):
        return KindVerdict(Kind.BOUNCE, "daemon_sender")
    if _BOUNCE_SUBJECT.match(msg.subject) and (
        not has_materials or _has_part(msg, _RETURNED_PARTS) or _null_return_path(msg)
    ):
        return KindVerdict(Kind.BOUNCE, "bounce_subject")
    return None


def _auto_reply(msg: MimeMessage, has_materials: bool) -> KindVerdict | None:
    h = msg.headers
    if _is_challenge(msg):
        return KindVerdict(Kind.AUTO_REPLY, "challenge")
    if _READ_RECEIPT_PREFIX.match(msg.subject):
        return KindVerdict(Kind.AUTO_REPLY, "read_receipt_subject")
    if h.get("auto-submitted", "no").strip().lower().split(";")[0].split("(")[0].strip() not in ("no", ""):
        return KindVerdict(Kind.AUTO_REPLY, "auto_submitted")
    flagged = any(h.get(name, "").strip().lower() not in ("", "no", "false", "0") for name in _AUTO_FLAGS)
    if flagged or _precedence(msg) == "auto_reply":
        return KindVerdict(Kind.AUTO_REPLY, "autoreply_header")
    if _AUTO_REPLY_PREFIX.match(msg.subject):
        return KindVerdict(Kind.AUTO_REPLY, "auto_reply_subject")
    return None


def _is_challenge(msg: MimeMessage) -> bool:
    h = msg.headers
    if any(name in h for name in _CHALLENGE_HEADERS) or _precedence(msg) == "spam":
        return True
    if "mUlTiPaRtBoUnDaRy_MailInBlack" in h.get("content-type", ""):
        return True
    if h.get("x-delivery-agent", "").lower().startswith("tmda"):  # also on TMDA users' own mail, so not alone
        replied = h.get("auto-submitted", "").lower().startswith("auto-replied")
        generated = ".tmda@" in h.get("message-id", "").lower() and _precedence(msg) == "bulk"
        if replied or generated:
            return True
    return bool(_CHALLENGE_SUBJECT.search(msg.subject))


def _has_part(msg: MimeMessage, types: frozenset[str]) -> bool:
    return any(part.content_type in types for part in msg.parts)


def _precedence(msg: MimeMessage) -> str:
    return msg.headers.get("precedence", "").strip().lower()


def _via_list(msg: MimeMessage) -> bool:
    return _precedence(msg) in _LIST_PRECEDENCE or any(name in msg.headers for name in _LIST_HEADERS)


def _null_return_path(msg: MimeMessage) -> bool:
    return msg.headers.get("return-path", "x").replace(" ", "") == "<>"
