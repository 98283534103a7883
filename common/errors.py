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


class StoreError(MailintakeError):
    """The database or the storage root cannot be used as it is."""


class NotMigrated(StoreError):
    """The database schema is not the one this program needs: run `mailintake db upgrade`."""


class UnknownMessage(MailintakeError):
    """An organiser named a message (key or reference number) that does not exist."""
