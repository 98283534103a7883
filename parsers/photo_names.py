"""Reading 姓名+序号 out of photo file names, leniently, the way submitters actually write them.

Names arrive as 张三1.jpg, 张三-1.jpg, 张三_01.JPG, 张三（1）.jpg, 张三 1.jpeg, 阿卜杜·热合曼1.jpg; full-width
characters are folded (NFKC) first so 张三１.jpg and 张三（1）.jpg parse like their ASCII twins. A name is
Han ideographs from any block (`charsets.HAN`: Extensions A–I and the compatibility ideographs too).
"""

from __future__ import annotations

import re
import unicodedata

from mailintake.parsers.charsets import HAN

_CJK = HAN  # every Han block: 刘䶮1.jpg and 王𠇔1.jpg name people as 张三1.jpg does
_DOT = r"[·•・‧.]"
# A plain name is 2-6 characters; with a middle dot (minority names) each part is 1-8 characters.
_NAME = rf"(?:{_CJK}{{1,8}}(?:{_DOT}{_CJK}{{1,8}})+|{_CJK}{{2,6}})"
_SEQ = r"(?:\(\s*(?P<paren>\d{1,3})\s*\)|(?P<bare>\d{1,3}))"
_PHOTO_NAME = re.compile(rf"(?P<name>{_NAME})\s*[-_—–\s]?\s*{_SEQ}")
_EXTENSION = re.compile(r"\.[A-Za-z0-9]{1,5}$")

ID_KEYWORDS = ("证件照", "证件", "免冠", "寸照", "小2寸", "小二寸", "一寸", "二寸", "两寸", "1寸", "2寸")
_LIFE_KEYWORDS = ("生活照", "工作照", "照片", "相片", "图片", "近照", "合影", "生活", "工作", "活动")
# Words that fill the name slot in file names but are not people.
_NOT_NAMES = ("附件", "材料", "汇总", "推荐", "报告", "照片", "图片", "新建")


def parse_photo_name(filename: str) -> tuple[str, int] | None:
    """(person, sequence) for a 姓名+序号 file name, else None (IMG_2034.jpg, 张三.jpg, 张三证件照.jpg)."""
    match = _PHOTO_NAME.fullmatch(_stem(filename))
    if match is None or _is_not_name(match["name"]):
        return None
    return _normalise_dots(match["name"]), int(match["paren"] or match["bare"])


def looks_like_id_photo_name(filename: str) -> bool:
    """True when the name says it is the ID photo (证件照, 免冠, 二寸 ...)."""
    stem = _stem(filename)
    return any(keyword in stem for keyword in ID_KEYWORDS)


def person_from_name(filename: str) -> str | None:
    """The leading name in 张三证件照.jpg or 张三-生活照2.jpg: the CJK name before a photo keyword or digit."""
    stem = _stem(filename)
    cut = min(_keyword_positions(stem), default=None)
    if cut is None:
        return None
    head = re.sub(r"[\s\-_—–()的]+$", "", stem[:cut])
    if not re.fullmatch(_NAME, head) or _is_not_name(head):
        return None
    return _normalise_dots(head)


def _stem(filename: str) -> str:
    base = re.split(r"[/\\]", filename)[-1]
    base = unicodedata.normalize("NFKC", base).strip()
    return _EXTENSION.sub("", base).strip()


def _keyword_positions(stem: str) -> list[int]:
    positions = [stem.find(k) for k in ID_KEYWORDS + _LIFE_KEYWORDS]
    digit = re.search(r"\d", stem)
    if digit:
        positions.append(digit.start())
    return [p for p in positions if p > 0]


def _is_not_name(name: str) -> bool:
    return any(word in name for word in _NOT_NAMES + ID_KEYWORDS + _LIFE_KEYWORDS)


def _normalise_dots(name: str) -> str:
    return re.sub(_DOT, "·", name)
