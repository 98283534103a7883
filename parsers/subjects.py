"""Subjects as people mean them: the reply and forward prefixes mail clients add are not part of them.

"回复：转发：Re: 【渝北区】推荐材料" is a mail about "【渝北区】推荐材料". The prefix words are the
campaign's data (`reply_prefixes` in the registry data file and the config), passed in: this module
knows only their form, a word followed by a colon of any width.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

# ASCII, full-width, small and ratio colons: clients and IMEs write all of them
COLONS = ":：﹕∶"


@cache
def _pattern(prefixes: tuple[str, ...]) -> re.Pattern[str] | None:
    words = sorted({p.strip() for p in prefixes if p.strip()}, key=len, reverse=True)
    if not words:
        return None
    alternatives = "|".join(map(re.escape, words))
    return re.compile(rf"\s*(?:{alternatives})\s*[{COLONS}]\s*", re.IGNORECASE)


def strip_reply_prefixes(subject: str | None, prefixes: Sequence[str]) -> str:
    """`subject` without its leading reply/forward prefixes, however many and in whatever order.

    Each prefix is one of `prefixes` (Latin letters in any case: Re, RE, re) followed by a colon
    (:, ：, ﹕ or ∶) and optional spaces; a prefix word without its colon is ordinary text and stays.
    """
    text = subject or ""
    pattern = _pattern(tuple(prefixes))
    if pattern is None:
        return text.strip()
    while True:
        m = pattern.match(text)
        if m is None or m.end() == 0:
            return text.strip()
        text = text[m.end():]


@dataclass(frozen=True)
class SeriesMark:
    """A subject's "part k of n": (2/3), 【2/3】, 第2封共3封, 之二; `total` is None when the mark has none."""

    part: int
    total: int | None


MAX_PARTS = 10  # more is not a series of mails but something else, e.g. a date (5/20)
_NUMERALS = {c: i for i, c in enumerate("一二三四五六七八九十", 1)} | {"两": 2}
_NUMBER = r"(\d{1,2}|[一二两三四五六七八九十]{1,2})"
_OPEN, _CLOSE = r"[(（\[【<《〔]", r"[)）\]】>》〕]"
_SERIES = (
    re.compile(rf"{_OPEN}\s*{_NUMBER}\s*[/／]\s*{_NUMBER}\s*{_CLOSE}"),  # (1/3) 【2／3】
    re.compile(rf"第\s*{_NUMBER}\s*[封份部个]?(?:邮件)?\s*[,，、/／]?\s*共\s*{_NUMBER}\s*[封份部个]"),  # 第1封，共3封
    re.compile(rf"共\s*{_NUMBER}\s*[封份部个][^第]{{0,4}}第\s*{_NUMBER}\s*[封份部个]"),  # 共3封 第1封 (total first)
    re.compile(rf"之\s*{_NUMBER}(?![\d一二两三四五六七八九十])"),  # 之一 之二: no total
    re.compile(rf"(?:part|邮件)\s*{_NUMBER}\s*(?:of|/)\s*{_NUMBER}", re.IGNORECASE),  # part 1 of 3
)


def series_mark(subject: str | None) -> SeriesMark | None:
    """The part number a unit put in the subject of one of several mails, or None."""
    text = subject or ""
    for n, pattern in enumerate(_SERIES):
        m = pattern.search(text)
        if m is None:
            continue
        numbers = [_number(g) for g in m.groups()]
        if n == 2:
            numbers.reverse()
        part, total = numbers[0], (numbers[1] if len(numbers) > 1 else None)
        if part is None or part < 1 or (total is not None and not part <= total <= MAX_PARTS):
            continue
        return SeriesMark(part, total)
    return None


def _number(text: str) -> int | None:
    if text.isdigit():
        return int(text)
    if len(text) == 1:
        return _NUMERALS.get(text)
    if text[0] == "十":  # 十一 .. 十九
        return 10 + _NUMERALS.get(text[1], 0) if text[1] != "十" else None
    if text[1] == "十":  # 二十
        return _NUMERALS.get(text[0], 0) * 10
    return None
