"""Reading one IMAP folder: UIDs, sizes, INTERNALDATEs and raw bytes, plus the post-action.

Nothing here deletes mail or sets \\Seen: bodies are fetched with BODY.PEEK, the post-action is a
keyword and/or MOVE, and when the server allows neither we simply rely on the database checkpoint.
"""

from __future__ import annotations

import ast
import contextlib
import datetime as dt
import logging
import re
import ssl
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError, LoginError

from mailintake.common.errors import LoginRefused, MailboxBusy, SourceError
from mailintake.ingest.config import Mailbox
from mailintake.ingest.tls import client_context

log = logging.getLogger(__name__)

# What providers say when they want a client to come back later: RFC 5530 response codes, Gmail's
# "Too many simultaneous connections", Exchange's "try again later", Chinese providers' 频繁/稍后.
_BUSY_MARKERS = ("[UNAVAILABLE]", "[LIMIT]", "[INUSE]", "TOO MANY", "TRY AGAIN LATER", "频繁", "稍后")


@dataclass(frozen=True)
class Entry:
    uid: int
    size: int
    internaldate: dt.datetime


class ImapSource:
    def __init__(self, cfg: Mailbox, password: str):
        self.cfg = cfg
        self._password = password
        self.client: IMAPClient | None = None
        self.uidvalidity = 0
        self.can_keyword = False
        self.can_move = False

    @property
    def identity(self) -> str:
        return f"imap://{self.cfg.username}@{self.cfg.host}:{self.cfg.port}"

    @property
    def folder(self) -> str:
        return self.cfg.folder

    def __enter__(self) -> ImapSource:
        self.connect()
        try:
            self._select()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def connect(self) -> ImapSource:
        """Connected and logged in, no folder selected (enough to append)."""
        self.client = self._connect()
        return self

    def append(self, folder: str, raw: bytes) -> None:
        """Store `raw` in `folder` as read, creating the folder when the server says it does not exist."""
        assert self.client is not None
        try:
            self.client.append(folder, raw, flags=[b"\\Seen"])
        except IMAPClientError as exc:
            if "TRYCREATE" not in str(exc).upper():
                raise
            self.client.create_folder(folder)
            self.client.append(folder, raw, flags=[b"\\Seen"])

    def close(self) -> None:
        if self.client is not None:
            with contextlib.suppress(IMAPClientError, OSError):
                self.client.logout()
            self.client = None

    @property
    def where(self) -> str:
        return f"IMAP {self.cfg.host}:{self.cfg.port}"

    def _connect(self) -> IMAPClient:
        cfg = self.cfg
        ctx = client_context(cfg)
        try:
            client = IMAPClient(
                cfg.host, port=cfg.port, ssl=cfg.security == "tls", ssl_context=ctx,
                timeout=cfg.timeout_seconds,
            )
            client.normalise_times = False  # keep INTERNALDATE aware; naive local time shifts lateness
            # imapclient turns on imaplib debugging, which formats every literal: 10x slower fetches.
            client._imap.debug = 0
            if cfg.security == "starttls":
                client.starttls(ctx)
        except ssl.SSLCertVerificationError as exc:
            raise SourceError(f"{self.where}: TLS certificate not trusted ({exc.verify_message}); "
                              "set mailbox.ca_file to the server's CA") from None
        except (TimeoutError, ssl.SSLError, ConnectionError, OSError, IMAPClientError) as exc:
            error = MailboxBusy if _busy(exc) else SourceError
            raise error(f"{self.where}: cannot connect: {_reason(exc)}") from None
        try:
            client.login(cfg.username, self._password)
        except LoginError as exc:
            client.shutdown()
            if _busy(exc):
                raise MailboxBusy(f"{self.where}: the server asks us to come back later: {_reason(exc)}") from None
            raise LoginRefused(f"{self.where}: login failed for {cfg.username}: wrong username or password "
                               f"(QQ Mail needs an authorisation code); the server said: {_reason(exc)}") from None
        except (IMAPClientError, OSError) as exc:
            raise SourceError(f"{self.where}: login failed: {_reason(exc)}") from None
        return client

    def reselect(self) -> None:
        """On a kept connection, between polls: select the folder again, so UIDVALIDITY, the flags the
        server allows and the new mail are current. A dead connection raises SourceError."""
        try:
            self._select()
        except OSError as exc:
            raise SourceError(f"{self.where}: connection lost: {_reason(exc)}") from None

    def _select(self) -> None:
        assert self.client is not None
        try:
            info = self.client.select_folder(self.cfg.folder)
        except IMAPClientError as exc:
            raise SourceError(f"{self.where}: cannot open folder {self.cfg.folder!r}: {_reason(exc)}") from None
        self.uidvalidity = int(info[b"UIDVALIDITY"])
        permanent = {f.decode() if isinstance(f, bytes) else f for f in info.get(b"PERMANENTFLAGS", ())}
        keyword = self.cfg.mark_keyword
        self.can_keyword = bool(keyword) and ("\\*" in permanent or keyword in permanent)
        self.can_move = bool(self.cfg.move_to) and self.client.has_capability("MOVE")
        if self.cfg.mark_keyword and not self.can_keyword:
            log.warning("%s: server does not allow keyword %s; relying on the database checkpoint",
                        self.where, keyword)
        if self.cfg.move_to and not self.can_move:
            log.warning("%s: server lacks MOVE; messages stay in %s", self.where, self.cfg.folder)

    def uids_after(self, last_uid: int) -> list[int]:
        """UIDs above the checkpoint. `UID n:*` also returns the highest UID when it is lower: filter."""
        assert self.client is not None
        found = self.client.search(["UID", f"{last_uid + 1}:*"])
        return sorted(u for u in found if u > last_uid)

    def entries(self, uids: list[int]) -> list[Entry]:
        """Sizes and arrival times, cheap (no bodies), in UID order."""
        assert self.client is not None
        out: list[Entry] = []
        for start in range(0, len(uids), 500):
            part = uids[start:start + 500]
            data = self.client.fetch(part, ["RFC822.SIZE", "INTERNALDATE"])
            for uid in part:
                item = data.get(uid)
                if item is None:  # expunged meanwhile
                    continue
                out.append(Entry(uid, int(item[b"RFC822.SIZE"]), _aware(item[b"INTERNALDATE"])))
        return out

    def bodies(self, entries: list[Entry]) -> Iterator[tuple[Entry, Iterable[bytes]]]:
        """Each message's raw bytes as pieces to consume in order: small messages fetched in batches bounded
        by `batch_bytes` (one piece each), a big one in partial fetches of `chunk_bytes`, each asked for only
        when the one before has been taken, so no big message is ever held whole."""
        batch: list[Entry] = []
        budget = 0
        for entry in entries:
            if entry.size > self.cfg.chunk_bytes:
                yield from self._fetch_batch(batch)
                batch, budget = [], 0
                yield entry, self._chunks(entry)
                continue
            if batch and budget + entry.size > self.cfg.batch_bytes:
                yield from self._fetch_batch(batch)
                batch, budget = [], 0
            batch.append(entry)
            budget += entry.size
        yield from self._fetch_batch(batch)

    def _fetch_batch(self, batch: list[Entry]) -> Iterator[tuple[Entry, bytes]]:
        if not batch:
            return
        assert self.client is not None
        data = self.client.fetch([e.uid for e in batch], ["BODY.PEEK[]"])
        for entry in batch:
            item = data.pop(entry.uid, None)
            if item is not None and b"BODY[]" in item:
                yield entry, (bytes(item[b"BODY[]"]),)

    def _chunks(self, entry: Entry) -> Iterator[bytes]:
        assert self.client is not None
        done, step = 0, self.cfg.chunk_bytes
        while True:
            part = self.client.fetch([entry.uid], [f"BODY.PEEK[]<{done}.{step}>"])
            item = part.get(entry.uid, {})
            chunk = next((v for k, v in item.items() if k.startswith(b"BODY[]")), b"") or b""
            if chunk:
                yield chunk
            done += len(chunk)
            if len(chunk) < step:
                return

    def present(self, uids: list[int]) -> set[int]:
        """Which of these UIDs are still in the folder."""
        assert self.client is not None
        return set(self.client.search(["UID", ",".join(map(str, uids))])) if uids else set()

    def post_action(self, uids: list[int]) -> None:
        """Mark and/or move messages that are safely recorded. Never deletes, never COPY+EXPUNGE."""
        if not uids or self.client is None:
            return
        if self.can_keyword:
            self.client.add_flags(uids, [self.cfg.mark_keyword.encode()], silent=True)
        if self.can_move:
            self.client.move(uids, self.cfg.move_to)


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _busy(exc: BaseException) -> bool:
    said = _reason(exc).upper()
    return any(marker in said for marker in _BUSY_MARKERS)


def _reason(exc: BaseException) -> str:
    text = str(exc) or exc.__class__.__name__
    if exc.args and isinstance(exc.args[0], bytes):  # imaplib passes the server's words as bytes
        text = exc.args[0].decode(errors="replace")
    elif re.fullmatch(r"b(['\"]).*\1", text, re.S):  # … or as their repr (imapclient's LoginError)
        text = ast.literal_eval(text).decode(errors="replace")
    return text.strip().splitlines()[0] if text.strip() else exc.__class__.__name__
