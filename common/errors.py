"""The project's own errors: one root, so the command line maps each to one line and an exit code.

Each carries the sentence an operator reads; none is a bug (bugs stay ordinary exceptions and show
their traceback).
"""

from __future__ import annotations


class MailintakeError(Exception):
    """Something an operator can fix: printed as `<prefix>: <message>`, exit code `exit_code`."""

    exit_code = 1
    prefix = "error"

    @property
    def lines(self) -> list[str]:
        return [str(self)]


class ConfigError(MailintakeError):
    """The config file is missing, unreadable or invalid: one line per problem, exit code 2."""

    exit_code = 2
    prefix = "config error"

    def __init__(self, lines: list[str]):
        super().__init__("\n".join(lines))
        self._lines = lines

    @property
    def lines(self) -> list[str]:
        return self._lines


class SourceError(MailintakeError):
    """A mailbox problem worth one clear line (bad password, unreachable, folder missing …)."""


class LoginRefused(SourceError):
    """The server rejected the username or password (QQ Mail: the authorisation code). Unlike an outage it
    will not fix itself, so `serve` tells the operator at once."""


class MailboxBusy(SourceError):
    """The provider asks us to come back later (too many logins or connections, account busy): `serve`
    backs off for longer than after an ordinary outage, and does not count it as a wrong password."""


class StoreError(MailintakeError):
    """The database or the storage root cannot be used as it is."""


class DiskNearlyFull(StoreError):
    """The storage disk has less free space than `schedule.min_free_mb`: mail still comes in, but soon
    will not be storable."""


class StorageUnwritable(StoreError):
    """Writing to the storage root failed (disk full, quota, file size limit, read-only, permissions):
    nothing is recorded without its bytes, so the mail stays in the mailbox until the store is writable."""


class NotMigrated(StoreError):
    """The database schema is not the one this program needs: run `mailintake db upgrade`."""


class UnknownMessage(MailintakeError):
    """An organiser named a message (key or reference number) that does not exist."""
