"""Which material each file is, and why: filename first, then the text inside, then the image itself.

The reason is written down for every file, because organisers see it in the report and must be able
to overrule a wrong guess.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from mailintake.common.vocab import Role
from mailintake.parsers.charsets import HAN_CHARS
from mailintake.parsers.facts import ExtractedFile, ParserSettings
from mailintake.parsers.filetypes import is_archive, is_image
from mailintake.parsers.photo_names import looks_like_id_photo_name, parse_photo_name, person_from_name
from mailintake.parsers.photos import choose_id_photo

# (role, filename/title keywords, reason) — checked in this order; 汇总表 before 推荐表 because
# "推荐人选汇总表" contains neither 推荐表 nor 报告, but "推荐表汇总" must still be a summary.
_KEYWORDS: list[tuple[Role, tuple[str, ...]]] = [
    (Role.SUMMARY, ("汇总表", "人选汇总", "附件2", "附件二", "推荐汇总")),
    (Role.FORM, ("推荐表", "附件1", "附件一", "申报表", "登记表")),
    (Role.REPORT, ("推荐工作情况报告", "工作情况报告", "情况报告", "推荐报告", "工作报告", "报告")),
]
_DOCUMENTS = {"pdf", "docx", "doc", "wps", "xlsx", "xls", "et", "text"}
# names in any Han block (刘䶮, 王𠇔, 𪚥): `charsets.HAN_CHARS`
_FORM_PERSON = re.compile(rf"姓\s*名[\s:：|｜,，]*([{HAN_CHARS}·]{{2,8}}?)(?=[\s|｜,，]|性\s*别|$)")
_CJK_NAME = re.compile(rf"^[{HAN_CHARS}·]{{2,6}}$")


def assign_roles(files: list[ExtractedFile], settings: ParserSettings) -> None:
    """Fill role, role_reason, person and seq on every file (in place)."""
    photos: dict[str | None, list[int]] = {}
    for index, f in enumerate(files):
        if is_archive(f.detected_type):
            f.role, f.role_reason = Role.ARCHIVE, "压缩包（其中文件逐一识别）"
        elif _by_keyword(f) or (f.detected_type in _DOCUMENTS and _by_text(f)):
            pass  # role set from the name or the text
        elif is_image(f.detected_type) or _looks_like_photo_name(f.display_name):
            photos.setdefault(_photo_person(f), []).append(index)
        else:
            f.role, f.role_reason = Role.OTHER, "文件名和内容均未显示其为推荐材料"
    for person, indexes in photos.items():
        _photo_roles(files, person, indexes, settings)


def basename(display_name: str) -> str:
    return PurePosixPath(display_name.replace("\\", "/")).name


def _stem(display_name: str) -> str:
    name = basename(display_name)
    return name.rsplit(".", 1)[0] if "." in name else name


def _by_keyword(f: ExtractedFile) -> bool:
    name = basename(f.display_name)
    for role, words in _KEYWORDS:
        hit = next((w for w in words if w in name), None)
        if hit is None:
            continue
        if role == Role.REPORT and is_image(f.detected_type) and parse_photo_name(name):
            return False  # 张三报告1.jpg is still somebody's photo
        f.role, f.role_reason = role, f"文件名含“{hit}”"
        if role == Role.FORM:
            f.person = form_person(f)
        return True
    return False


def _by_text(f: ExtractedFile) -> bool:
    text = (f.text or "")[:600]
    if f.summary is not None or any(w in text for w in ("推荐人选汇总表", "人选汇总表")):
        f.role, f.role_reason = Role.SUMMARY, "内容为推荐人选汇总表"
        return True
    if "推荐表" in text[:200]:
        f.role, f.role_reason = Role.FORM, "内容标题为推荐表"
        f.person = form_person(f)
        return True
    if "情况报告" in text[:300] or "推荐工作" in text[:300]:
        f.role, f.role_reason = Role.REPORT, "内容为推荐工作情况报告"
        return True
    stem = _stem(f.display_name)
    if _CJK_NAME.match(stem) and f.detected_type in {"pdf", "docx", "doc", "wps"}:
        f.role, f.role_reason, f.person = Role.FORM, f"以姓名“{stem}”命名的文档，按推荐表处理", stem
        return True
    return False


def form_person(f: ExtractedFile) -> str | None:
    """The candidate a form is about: its 姓名 field (typed, or read from a scan), else a name in its filename."""
    match = _FORM_PERSON.search(f.text or "")
    if match:
        return match.group(1)
    stem = _stem(f.display_name)
    for word in ("推荐表", "附件1", "附件一", "申报表", "登记表", "最美科技工作者", "2021年", "重庆市"):
        stem = stem.replace(word, " ")
    words = [w for w in re.split(r"[\s\-_—:：、（）()《》“”\"]+", stem) if _CJK_NAME.match(w)]
    return words[-1] if words else None


def _looks_like_photo_name(display_name: str) -> bool:
    return basename(display_name).lower().endswith((".jpg", ".jpeg", ".png", ".heic", ".bmp"))


def _photo_person(f: ExtractedFile) -> str | None:
    parsed = parse_photo_name(basename(f.display_name))
    if parsed:
        f.person, f.seq = parsed
    else:
        f.person = person_from_name(basename(f.display_name))
    return f.person


def _photo_roles(files: list[ExtractedFile], person: str | None, indexes: list[int],
                 settings: ParserSettings) -> None:
    chosen = None
    if person is not None:
        chosen = choose_id_photo(
            [(i, files[i].photo, files[i].seq, basename(files[i].display_name))
             for i in indexes if files[i].photo is not None],
            settings.id_ratio_min, settings.id_ratio_max,
        )
    for i in indexes:
        f = files[i]
        if i == chosen:
            f.role = Role.ID_PHOTO
            f.role_reason = _id_reason(f, settings)
        else:
            f.role = Role.LIFE_PHOTO
            f.role_reason = "生活或工作照片" if person else "照片，未能从文件名识别姓名"


def _id_reason(f: ExtractedFile, settings: ParserSettings) -> str:
    if looks_like_id_photo_name(basename(f.display_name)):
        return "文件名标明为证件照"
    info = f.photo
    if info and info.width and info.height:
        ratio = info.width / info.height
        if settings.id_ratio_min <= ratio <= settings.id_ratio_max and info.plain_background:
            return f"竖版（宽高比{ratio:.2f}）纯色背景，判定为证件照"
    return "该候选人序号为1的照片，按证件照处理"
