"""Whether a document carries a state-secret classification mark (绝密/机密/秘密).

Such material must not travel by ordinary e-mail, so a hit quarantines the file. The words themselves
are common in prose ("商业秘密", "保守国家秘密"), so only the formal shapes count: a level followed by
★ (the national standard's mark, optionally with a term) or a 密级 field whose value is a level.
"""

from __future__ import annotations

import re

_SPACE = r"[ \t\u3000]*"
_LEVEL = rf"(?:绝{_SPACE}密|机{_SPACE}密|秘{_SPACE}密)"
_STAR = rf"{_SPACE}[★☆*＊]"
_TERM = rf"(?:{_SPACE}(?:[0-9０-９一二三四五六七八九十两半]+{_SPACE}(?:年|个月|月|天|日)|长期|启用前))?"
_STARRED = re.compile(rf"{_LEVEL}{_STAR}{_TERM}")
_FIELD = re.compile(rf"密{_SPACE}级{_SPACE}[:：|｜]{_SPACE}{_LEVEL}(?:{_STAR}{_TERM})?")

# A starred mark starts a line or stands after a separator; after a CJK character or an opening quote
# the words are prose ("国家秘密★" does not occur in real marks, "“机密★”字样" is a mention). A 密级
# field may have any label before it ("文件密级：机密") but its value must end there.
_NOT_BEFORE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff“‘\"'「『《〈]")
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")


def find_secrecy_marking(text: str) -> str | None:
    """The first classification mark in `text`, as written (e.g. "机密★1年", "密级：秘密"), or None."""
    hits = [m for m in _STARRED.finditer(text) if _starts_clean(text, m.start())]
    hits += [m for m in _FIELD.finditer(text) if _ends_clean(text, m.end())]
    if not hits:
        return None
    return min(hits, key=lambda m: m.start()).group().strip()


def _starts_clean(text: str, start: int) -> bool:
    return start == 0 or not _NOT_BEFORE.match(text[start - 1])


def _ends_clean(text: str, end: int) -> bool:
    """A 密级 field's value ends the field: "密级：机密文件…" is a sentence, not a mark."""
    return end == len(text) or not _CJK.match(text[end])
