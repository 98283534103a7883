"""File names that are valid on Windows, where the expert panel opens the export.

Mail content (a unit's or a candidate's name, an original file name) becomes a path component here and
nowhere else, so the rules live in one place: no separator or reserved character, no control character,
no trailing dot or space, no device name, a bounded length, and no two entries of one folder that
Windows would take for the same name (it compares names without regard to case).
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Iterable

MAX_COMPONENT = 100  # characters; Windows allows 255, but the whole path must stay well under 260
MAX_BYTES = 240  # in UTF-8: Linux and macOS allow 255 bytes, which is 85 CJK characters, not 255
_MAX_EXTENSION = 10
# reserved characters, C0/C1 controls, and the bidi overrides that make a name read other than it is
_FORBIDDEN = re.compile('[<>:"/\\\\|?*\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]')
_DEVICES = frozenset({"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"}
                     | {f"{port}{n}" for port in ("COM", "LPT") for n in "0123456789¹²³"})


def safe_name(name: str, fallback: str = "_") -> str:
    """`name` as one valid Windows path component (never empty, never `.` or `..`)."""
    name = _FORBIDDEN.sub("_", unicodedata.normalize("NFC", name)).strip().rstrip(". ")
    name = _fit(name) or fallback
    stem, dot, rest = name.partition(".")
    if stem.rstrip(" ").upper() in _DEVICES:  # CON, con.txt and "NUL .jpg" all name a device
        name = f"{stem.rstrip(' ')}_{dot}{rest}"
    return name


def split_extension(name: str) -> tuple[str, str]:
    """("生活照1", ".jpg"); a name without a short, plain extension keeps it all in the stem."""
    stem, dot, ext = name.rpartition(".")
    if stem and dot and 0 < len(ext) <= _MAX_EXTENSION and " " not in ext:
        return stem, f".{ext}"
    return name, ""


def _fit(name: str) -> str:
    """`name` within the limits, cutting the stem and keeping the extension."""
    return _cut(*split_extension(name))


def _cut(stem: str, tail: str) -> str:
    """`stem` + `tail` within the limits (one character to spare for a device-name suffix), cutting the stem."""
    chars, nbytes = MAX_COMPONENT - 1 - len(tail), MAX_BYTES - 1 - len(tail.encode())
    if len(stem) > chars or len(stem.encode()) > nbytes:
        stem = stem[:chars]
        while len(stem.encode()) > nbytes:
            stem = stem[:-1]
        stem = stem.rstrip(". ")
    return stem + tail


class Folder:
    """The names taken in one folder of the export; a second claim of a name gets "name (2).ext"."""

    def __init__(self, reserved: Iterable[str] = ()):
        self._taken = {n.casefold() for n in reserved}

    def claim(self, name: str) -> str:
        name = safe_name(name)
        stem, ext = split_extension(name)
        for n in itertools.count(1):
            wanted = name if n == 1 else safe_name(_cut(stem, f" ({n}){ext}"))
            if wanted.casefold() not in self._taken:
                self._taken.add(wanted.casefold())
                return wanted
        raise AssertionError("unreachable")
