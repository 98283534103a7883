"""Who may see the web view: organisers' accounts (argon2 hashes), login sessions, the login rate limit and
the audit log.

A password is never stored or logged, only its argon2id hash (argon2-cffi's RFC 9106 defaults); a cookie's
value is never stored either, only its sha256, so a copy of the database lets no one in. A session ends at
its absolute expiry or after the idle time, whichever comes first, and when its account is disabled or its
password changed. Failed logins are counted per name and per client address in the memory of one app
instance: `login_attempts` failures lock that name (or address) out for `lockout_minutes`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import re
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, or_, select

from mailintake.common.errors import MailintakeError
from mailintake.store.db import Database
from mailintake.store.models import WebSession, WebUser

Clock = Callable[[], dt.datetime]
AUDIT = logging.getLogger("mailintake.web.audit")
MIN_PASSWORD = 10
MAX_PASSWORD = 1024  # argon2 takes any length; a megabyte "password" is only a way to burn CPU
_NAME = re.compile(r"[^\s\x00-\x1f\x7f]{1,100}")
TOUCH_EVERY = dt.timedelta(minutes=1)  # last_seen is written at most this often per session
MAX_TALLIES = 10_000  # throttle entries kept in memory; the oldest go first beyond this


class AccountError(MailintakeError):
    """A web account cannot be made or changed as asked (a bad name, a short password, no such user)."""


@dataclass(frozen=True)
class Account:
    name: str
    created_at: dt.datetime
    disabled: bool
    sessions: int  # logins still open


@dataclass(frozen=True)
class SessionUser:
    """The organiser behind a request, and the token their forms must send back (logout)."""

    user_id: int
    name: str
    csrf: str


def said(text: str, limit: int = 100) -> str:
    """A name a client typed, fit for one log line: control characters and line breaks shown escaped."""
    return repr(text[:limit])[1:-1]


def csrf_token(cookie: str) -> str:
    """The form token of a session: derived from its secret cookie (which scripts and other sites cannot
    read), so nothing more is stored, and a forged form cannot carry it."""
    return hmac.new(cookie.encode(), b"mailintake-csrf", hashlib.sha256).hexdigest()


def _digest(cookie: str) -> str:
    return hashlib.sha256(cookie.encode()).hexdigest()


class Accounts:
    """The organisers' accounts (`mailintake web add-user | disable-user | users`) and password checks."""

    def __init__(self, db: Database, clock: Clock, hasher: PasswordHasher | None = None):
        self.db, self.clock = db, clock
        self.hasher = hasher or PasswordHasher()
        # an unknown name is checked against this, so it takes as long as a wrong password
        self._decoy = self.hasher.hash(secrets.token_urlsafe(16))

    def set_password(self, name: str, password: str) -> bool:
        """Create the account, or give an existing one a new password (and enable it again, ending its
        sessions); True when it was created."""
        name = valid_name(name)
        if len(password) < MIN_PASSWORD:
            raise AccountError(f"the password must be at least {MIN_PASSWORD} characters long")
        if len(password) > MAX_PASSWORD:
            raise AccountError(f"the password must be at most {MAX_PASSWORD} characters long")
        hashed = self.hasher.hash(password)
        with self.db.session() as s:
            user = s.scalars(select(WebUser).where(WebUser.name == name)).first()
            if user is None:
                s.add(WebUser(name=name, password_hash=hashed, created_at=self.clock(), disabled=False))
                return True
            user.password_hash, user.disabled = hashed, False
            s.execute(delete(WebSession).where(WebSession.user_id == user.id))
            return False

    def disable(self, name: str) -> None:
        """The account can no longer log in; its open sessions end now."""
        with self.db.session() as s:
            user = s.scalars(select(WebUser).where(WebUser.name == name.strip())).first()
            if user is None:
                raise AccountError(f"no web user {name!r} (see `mailintake web users`)")
            user.disabled = True
            s.execute(delete(WebSession).where(WebSession.user_id == user.id))

    def accounts(self) -> list[Account]:
        with self.db.session() as s:
            users = list(s.scalars(select(WebUser).order_by(WebUser.name)))
            open_ = {u.id: len(list(s.scalars(select(WebSession.token_sha256).where(WebSession.user_id == u.id))))
                     for u in users}
        return [Account(u.name, u.created_at, u.disabled, open_[u.id]) for u in users]

    def check(self, name: str, password: str) -> int | None:
        """The account's id when the name and password are right and the account is enabled."""
        with self.db.session() as s:
            user = s.scalars(select(WebUser).where(WebUser.name == name.strip())).first()
            if user is None or len(password) > MAX_PASSWORD:
                self._verify(self._decoy, password[:MAX_PASSWORD])
                return None
            if not self._verify(user.password_hash, password) or user.disabled:
                return None
            if self.hasher.check_needs_rehash(user.password_hash):  # the hasher's parameters were raised
                user.password_hash = self.hasher.hash(password)
            return user.id

    def _verify(self, hashed: str, password: str) -> bool:
        try:
            return self.hasher.verify(hashed, password)
        except (VerificationError, InvalidHashError):
            return False


def valid_name(name: str) -> str:
    name = name.strip()
    if not _NAME.fullmatch(name):
        raise AccountError("a web user's name is 1 to 100 characters without spaces, e.g. xiong or 熊蔓源")
    return name


@dataclass(frozen=True)
class SessionPolicy:
    lifetime: dt.timedelta  # absolute: a login never lasts longer
    idle: dt.timedelta  # a login not used for this long has ended


class Sessions:
    """Login sessions in the database, so they survive a restart of the service and end everywhere at once
    when an account is disabled."""

    def __init__(self, db: Database, clock: Clock, policy: SessionPolicy):
        self.db, self.clock, self.policy = db, clock, policy

    def open(self, user_id: int) -> tuple[str, dt.datetime]:
        """A new session: the cookie's value (256 random bits) and when it expires. Ended sessions go."""
        now = self.clock()
        cookie = secrets.token_urlsafe(32)
        expires = now + self.policy.lifetime
        with self.db.session() as s:
            s.execute(delete(WebSession).where(or_(WebSession.expires_at <= now,
                                                   WebSession.last_seen <= now - self.policy.idle)))
            s.add(WebSession(token_sha256=_digest(cookie), user_id=user_id, created_at=now, expires_at=expires,
                             last_seen=now))
        return cookie, expires

    def find(self, cookie: str | None) -> SessionUser | None:
        """The organiser of a live session; an ended one is removed."""
        if not cookie or len(cookie) > 100:
            return None
        now = self.clock()
        with self.db.session() as s:
            row = s.execute(select(WebSession, WebUser).join(WebUser, WebUser.id == WebSession.user_id)
                            .where(WebSession.token_sha256 == _digest(cookie))).first()
            if row is None:
                return None
            session, user = row
            if user.disabled or now >= session.expires_at or now - session.last_seen >= self.policy.idle:
                s.delete(session)
                return None
            if now - session.last_seen >= TOUCH_EVERY:
                session.last_seen = now
            return SessionUser(user.id, user.name, csrf_token(cookie))

    def close(self, cookie: str | None) -> None:
        if cookie:
            with self.db.session() as s:
                s.execute(delete(WebSession).where(WebSession.token_sha256 == _digest(cookie)))


@dataclass
class _Tally:
    failures: list[dt.datetime] = field(default_factory=list)
    locked_until: dt.datetime | None = None


class LoginThrottle:
    """Failed logins per key (a name, a client address): `attempts` failures within `lockout` lock the key
    for `lockout`. Kept by the app instance, so a restart forgets it (the hash keeps guessing slow anyway)."""

    def __init__(self, attempts: int, lockout: dt.timedelta, clock: Clock):
        self.attempts, self.lockout, self.clock = attempts, lockout, clock
        self._tallies: dict[str, _Tally] = {}

    def locked_for(self, keys: Iterable[str]) -> dt.timedelta | None:
        """How much longer the longest lock among the keys lasts; None when none is locked."""
        now = self.clock()
        left = [t.locked_until - now for k in keys if (t := self._tallies.get(k)) and t.locked_until
                and t.locked_until > now]
        return max(left) if left else None

    def failed(self, keys: Iterable[str]) -> bool:
        """Count a failure for each key; True when that locked one of them."""
        now, locked = self.clock(), False
        for key in keys:
            tally = self._tallies.pop(key, None) or _Tally()
            tally.failures = [t for t in tally.failures if now - t < self.lockout] + [now]
            if len(tally.failures) >= self.attempts:
                tally.failures, tally.locked_until, locked = [], now + self.lockout, True
            self._tallies[key] = tally  # re-inserted: the dict's order is the order of last failure
        self._forget_oldest()
        return locked

    def succeeded(self, keys: Iterable[str]) -> None:
        for key in keys:
            self._tallies.pop(key, None)

    def _forget_oldest(self) -> None:
        while len(self._tallies) > MAX_TALLIES:
            del self._tallies[next(iter(self._tallies))]
