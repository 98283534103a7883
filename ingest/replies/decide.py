"""Which automatic reply a message gets, if any: a pure function of its facts and its unit's verdict.

Two questions, kept apart. `loop_block` says whether we may answer at all ("never to a robot"): the union
of the signs mature ticket systems check. It never changes what the message's material counts for.
`reply_kind` says which reply, first that applies: quarantine_notice, late_notice, deficiency, receipt;
enquiries (`other`) get at most an acknowledgement; auto-replies and bounces get nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from email.utils import getaddresses

from mailintake.common.vocab import (
    DossierStatus,
    Kind,
    display_reference,  # noqa: F401 - part of this module's vocabulary
)

RECEIPT, DEFICIENCY, LATE_NOTICE, QUARANTINE_NOTICE, ACKNOWLEDGEMENT = (
    "receipt", "deficiency", "late_notice", "quarantine_notice", "acknowledgement")
KINDS = (QUARANTINE_NOTICE, LATE_NOTICE, DEFICIENCY, RECEIPT, ACKNOWLEDGEMENT)  # automatic replies
LIMIT_NOTICE = "limit_notice"  # the one "no more automatic replies today" notice to an address
DECISIONS_CONFIRMATION = "decisions_confirmation"  # what an organiser's decisions workbook changed

_PRECEDENCE = frozenset({"bulk", "list", "junk", "auto_reply"})
_LIST_HEADERS = ("list-id", "list-unsubscribe", "mailing-list")
_AUTO_FLAGS = ("x-autoreply", "x-autorespond", "x-auto-reply")
_SUPPRESS = frozenset({"all", "oof", "autoreply"})
DAEMON_LOCALS = frozenset({"mailer-daemon", "postmaster", "noreply", "no-reply", "notification"})
_REPORT_REASONS = frozenset({"dsn", "mdn", "report", "ndr_header"})
# Auto-reply and read-receipt subjects, as a prefix only: "关于外出务工人员…" is a submission like any other.
_AUTO_SUBJECT = re.compile(
    r"^\s*(?:自动回复|自动答复|休假中|外出|已读|auto|automatic reply)\s*[:：]|^\s*(?:自动回复|自动答复|休假中)",
    re.IGNORECASE)
_ANGLE_IDS = re.compile(r"<([^<>\s]+)>")


@dataclass(frozen=True)
class Ours:
    """What identifies our own mail: the addresses we send from and the Message-IDs we make."""

    addresses: frozenset[str]
    id_domain: str

    def made_id(self, message_id: str) -> bool:
        local, _, domain = message_id.strip("<>").rpartition("@")
        return local.startswith("mailintake.") and domain.lower() == self.id_domain.lower()


def loop_block(headers: Mapping[str, str], sender: str | None, subject: str, kind_reason: str,
               ours: Ours) -> str | None:
    """The first sign that forbids an automatic reply, as a stable code; None when we may reply."""
    h = {k.lower(): (v or "").strip() for k, v in headers.items()}
    if "auto-submitted" in h and h["auto-submitted"].split(";")[0].strip().lower() != "no":
        return "auto_submitted"
    if h.get("precedence", "").lower() in _PRECEDENCE:
        return "precedence"
    if "x-loop" in h:
        return "x_loop"
    if any(name in h for name in _LIST_HEADERS):
        return "list"
    suppress = {p.strip().lower() for p in h.get("x-auto-response-suppress", "").split(",")}
    if suppress & _SUPPRESS:
        return "auto_response_suppress"
    if any(name in h for name in _AUTO_FLAGS):
        return "autoreply_header"
    if "return-path" in h and h["return-path"].replace(" ", "") in ("<>", ""):
        return "null_return_path"
    if kind_reason in _REPORT_REASONS:
        return "report"
    address = (sender or "").lower()
    if not address:
        return "no_sender"
    if address.partition("@")[0] in DAEMON_LOCALS:
        return "daemon_sender"
    if address in ours.addresses:
        return "own_address"
    ids = _ANGLE_IDS.findall(" ".join(h.get(n, "") for n in ("message-id", "references", "in-reply-to")))
    if any(ours.made_id(i) for i in ids):
        return "our_message_id"
    if _AUTO_SUBJECT.match(subject or ""):
        return "auto_subject"
    return None


def reply_kind(kind: str | None, quarantined: bool, late: bool, unit_known: bool,
               dossier_status: str | None, acknowledge_enquiries: bool) -> str | None:
    """The reply a message gets once the loop rules allow one; None: no reply is owed."""
    if kind == Kind.SUBMISSION:
        if quarantined:
            return QUARANTINE_NOTICE
        if late:
            return LATE_NOTICE
        if not unit_known or dossier_status != DossierStatus.COMPLETE:
            return DEFICIENCY
        return RECEIPT
    if kind == Kind.OTHER and acknowledge_enquiries:
        return ACKNOWLEDGEMENT
    return None


def reply_address(headers: Mapping[str, str], sender: str | None) -> str | None:
    """RFC 3834 section 4: the Return-Path when it is a real address, else Reply-To, else From."""
    h = {k.lower(): v for k, v in headers.items()}
    for value in (h.get("return-path"), h.get("reply-to")):
        address = _first_address(value or "")
        if address:
            return address
    return sender


def _first_address(value: str) -> str | None:
    for _, address in getaddresses([value]):
        address = address.strip().lower()
        if "@" in address and not any(c.isspace() for c in address):
            return address
    return None


def own_addresses(addresses: Iterable[str]) -> frozenset[str]:
    return frozenset(a.strip().lower() for a in addresses if a and "@" in a)
