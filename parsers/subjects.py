"""Subjects as people mean them: the reply and forward prefixes mail clients add are not part of them.

"回复：转发：Re: 【渝北区】推荐材料" is a mail about "【渝北区】推荐材料". The prefix words are the
campaign's data (`reply_prefixes` in the registry data file and the config), passed in: this module
knows only their form, a word followed by a colon of any width.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
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
