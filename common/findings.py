"""The finding vocabulary: stable codes, their severity, their parameters and the sentences they render to.

A finding is kept as code + subject + parameters (plain JSON values: sizes in bytes, instants as ISO 8601
with offset, counts as integers, reasons as codes) and rendered where it is shown, from the one table
below. Replies, the workbook, the digest and the web view each render the same finding; nothing stores
a sentence. Codes are a public contract (`status --json` shows them): add, never rename.
"""

from __future__ import annotations

import datetime as dt
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

Param = str | int | float | bool | None | list


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


ERROR, WARNING = Severity.ERROR, Severity.WARNING

# code -> (severity, Chinese template). Fields: {subject} and the finding's params; a format spec names a
# renderer below ({size:size}, {received:instant}, {category:category}, {reason:reason} ...).
CATALOGUE: dict[str, tuple[Severity, str]] = {
    "missing_report": (ERROR, "缺少推荐工作情况报告（须加盖推荐单位公章）。"),
    "missing_summary": (ERROR, "缺少推荐人选汇总表（附件2）。"),
    "summary_unreadable": (
        ERROR, "推荐人选汇总表“{subject}”无法读取：{reason:reason}。请提供Excel格式（.xlsx或.xls）。"),
    "missing_form": (ERROR, "候选人{subject}缺少推荐表（附件1）。"),
    "missing_id_photo": (ERROR, "候选人{subject}缺少小2寸正面免冠彩色证件照。"),
    "photo_count": (ERROR, "候选人{subject}的生活或工作照片有{count}张，应为{min}至{max}张。"),
    "photo_not_jpeg": (ERROR, "照片“{subject}”不是JPG格式（实际为{actual}），请提供JPG格式照片。"),
    "photo_too_small": (ERROR, "照片“{subject}”大小为{size:size}，小于要求的{minimum:size}，请提供原图。"),
    "photo_bad_name": (ERROR, "照片“{subject}”未按“姓名+序号”命名（例如：张三1.jpg）。"),
    "photo_unknown_person": (ERROR, "照片“{subject}”中的姓名“{person}”不在推荐人选汇总表中。"),
    "photo_corrupt": (ERROR, "照片“{subject}”已损坏或不完整，无法打开，请重新发送。"),
    "quota_exceeded": (ERROR, "推荐人选{count}名，超过{category:category}推荐名额（不超过{quota}名）。"),
    "archive_unreadable": (ERROR, "压缩包“{subject}”无法解开：{reason:reason}。"),
    "archive_unsafe": (ERROR, "压缩包“{subject}”存在安全风险（{reason:reason}），未予解压，请重新打包后发送。"),
    "cloud_attachment": (
        ERROR,
        "邮件中的材料为超大附件或网盘链接（{hosts:list}），系统无法自动接收，请以普通附件形式发送。{expiries:expiries}",
    ),
    "classified_marker": (
        ERROR,
        "材料“{subject}”带有密级标识（{marking}），涉密材料不得通过普通电子邮件报送，请按保密规定报送。",
    ),
    "unknown_unit": (ERROR, "未能识别推荐单位，请在邮件主题中注明推荐单位名称（例如：【沙坪坝区】推荐材料）。"),
    "late": (WARNING, "材料于{received:instant}送达，晚于报送截止时间{deadline:instant}。"),
    "report_unsealed": (WARNING, "推荐工作情况报告“{subject}”未检测到推荐单位公章，请确认已加盖公章。"),
    "id_photo_format": (
        WARNING,
        "证件照“{subject}”{problems:id_problems}，应为小2寸（宽高比{ratio_min:.2f}–{ratio_max:.2f}）正面免冠彩色竖版照片。",
    ),
    "photo_reused": (
        WARNING,
        "照片“{subject}”（{person}）与“{other}”（{other_person}）是同一张照片，请核实是否误用了其他人选的照片。",
    ),
    "previously_honoured": (WARNING, "候选人{subject}已获得相关荣誉称号，原则上不再推荐。"),
    "ineligible_role": (WARNING, "候选人{subject}的职务（{post}）可能不符合推荐范围（现役军人或司局级以上领导干部）。"),
    "duplicate_message": (
        WARNING, "本邮件与此前收到的邮件（编号{original_reference}（{original_key}））内容相同，按重复邮件处理。"),
    "unit_conflict": (
        WARNING,
        "推荐单位信息不一致：{chosen_signal:signal}为“{chosen}”，{other_signal:signal}为“{other}”。已按“{chosen}”登记。",
    ),
    "file_corrupt": (ERROR, "文件“{subject}”{reason:reason}，无法打开，请重新发送。"),
    "markings_not_checked": (WARNING, "“{subject}”为扫描件或无文字层，未能检查密级标识。"),
    "ocr_failed": (WARNING, "扫描件“{subject}”的文字识别未能完成（{reason:reason}），其中的文字未能读取。"),
    "summary_scanned": (
        WARNING,
        "推荐人选汇总表“{subject}”为扫描件，系统按文字识别读出人选{count}名（{names:list}），可能不准确，"
        "请另发Excel格式（.xlsx或.xls）。"),
    "legacy_format": (
        WARNING, "“{subject}”为旧版Office或WPS格式（.{kind}），{reason:reason}，请另存为.docx或.xlsx格式后重新发送。"),
    "nested_too_deep": (ERROR, "压缩包“{subject}”中嵌套的压缩包层数过多，未予解压，请直接打包全部材料。"),
    "document_too_complex": (
        ERROR, "文件“{subject}”过于复杂，系统未能完整检查，请转换为普通PDF或Word文档后重新发送。"),
    "image_too_complex": (
        ERROR,
        "照片“{subject}”的编码过于复杂（渐进式扫描超过{scans_limit}次），系统未能检查，请另存为普通JPG后重新发送。",
    ),
    "processing_limit": (
        ERROR, "“{subject}”过于复杂，系统未能完整检查（{reason:reason}），请转换为普通PDF或JPG后重新发送。"),
    "message_damaged": (
        WARNING, "邮件结构不完整（{losses:losses}），部分内容可能未能读取，请核对回执中的文件清单，必要时重新发送。"),
    "header_cut": (
        WARNING, "邮件的{header}过长（{length}个字符），只保留了前{kept}个字符。"),
    "undecodable_text": (
        WARNING, "“{subject}”中有无法识别的字符（{where}），系统未作猜测，以“\ufffd”原样保留，请核对。"),
}

# (code, flag param) -> the sentence said instead when the finding's params set that flag
VARIANTS: dict[tuple[str, str], str] = {
    ("photo_too_small", "inline"): (
        "照片“{subject}”是粘贴在邮件正文中的图片，已被邮件客户端压缩为{size:size}（要求不小于{minimum:size}），"
        "请将原图作为附件发送。"),
    ("photo_reused", "id_as_life"): "证件照“{other}”又作为生活或工作照片“{subject}”报送，请另选一张生活或工作照片。",
    ("photo_reused", "same_person"): "照片“{subject}”与“{other}”是同一张照片，请另选一张生活或工作照片。",
}

# reason codes -> the words they stand for; a reason may use the finding's other params
REASONS: dict[str, str] = {
    # archives
    "archive_encrypted": "压缩包已加密，请去掉密码后重新发送",
    "archive_corrupt": "压缩包已损坏或不完整",
    "archive_method": "使用了不支持的压缩方式，请改用zip格式（标准压缩）重新打包",
    "rar_unreadable": "无法读取该RAR压缩包，请改用zip格式",
    "not_an_archive": "不是支持的压缩格式（zip、rar、7z）",
    "too_many_entries": "文件数超过{limit}个",
    "declared_too_large": "解压后共{total:size}，超过上限{limit:size}",
    "absolute_path": "含有绝对路径“{entry}”",
    "parent_path": "含有指向上级目录的路径“{entry}”",
    "link_entry": "含有链接文件“{entry}”",
    "ratio": "文件“{entry}”的压缩比高达{ratio:.0f}倍",
    "unpacked_too_large": "实际解压数据超过上限{limit:size}",
    # documents and summary tables
    "document_corrupt": "已损坏",
    "document_encrypted": "设置了打开密码",
    "summary_corrupt": "文件已损坏",
    "summary_no_header": "未找到表头（序号、姓名…）",
    "not_excel": "不是Excel表格",
    "summary_too_complex": "表格过于复杂，系统未能完整读取，请只保留汇总表一页后重新发送",
    # the bounded parse's backstop (the file was not checked; `reprocess` tries it again)
    "limit_time": "处理时间超过{limit:.0f}秒",
    "limit_memory": "所需内存超过{limit:size}",
    "limit_died": "读取时处理程序异常退出",
    # reading scans (OCR) and converting legacy Office files, each in its own bounded child process
    "ocr_time": "每页识别时间超过{limit:.0f}秒",
    "ocr_memory": "所需内存超过{limit:size}",
    "ocr_died": "识别程序异常退出",
    "ocr_unavailable": "识别组件不可用",
    "converter_missing": "系统无法转换此格式，其内容未能读取",
    "convert_failed": "转换失败，其内容未能读取",
    "convert_time": "转换时间超过{limit:.0f}秒，其内容未能读取",
}

# what a damaged message may have lost (parsers/mime.py records the codes)
LOSSES = {"unparseable": "无法解析邮件结构，只读取了邮件头", "too_deep": "嵌套层数过多，内层未读取",
          "unreadable_part": "有无法读取的部分", "invalid_base64": "附件编码有误",
          "unterminated_part": "有未结束的部分", "boundary_missing": "分隔标记缺失", "header_cut": "邮件头被截断"}
CATEGORY_LABELS = {"district": "区县", "society": "学会", "institution": "企事业单位"}
SIGNAL_LABELS = {"summary": "汇总表", "sender_config": "配置的发件地址", "subject": "邮件主题",
                 "report": "报告", "filename": "附件名", "sender_history": "此前来信", "decision": "组织方指定"}
_ID_PROBLEMS = {"landscape": "为横版照片（{width}×{height}）", "square": "为方形照片（{width}×{height}）",
                "ratio": "宽高比为{ratio:.2f}（{width}×{height}）", "greyscale": "为黑白照片",
                "face_none": "未检测到正面人像", "face_profile": "人像为侧面", "faces_many": "检测到{faces}张人脸",
                "face_small": "人像过小（人脸宽度约为照片宽度的{face_width:.0%}）",
                "face_large": "人像过大（人脸宽度约为照片宽度的{face_width:.0%}）", "face_off_centre": "人像未居中"}


@dataclass(frozen=True)
class Finding:
    """One problem found: what (code), about which file or person (subject), and the facts (params)."""

    code: str
    subject: str | None = None
    params: Mapping[str, Param] = field(default_factory=dict)
    legacy_detail: str | None = None  # the sentence a database from before schema 0002 stored instead of params

    @property
    def severity(self) -> Severity:
        return CATALOGUE[self.code][0]

    @property
    def detail(self) -> str:
        """The sentence a submitter reads (Chinese)."""
        return self.legacy_detail if self.legacy_detail is not None else render(self.code, self.subject, self.params)


def make(code: str, subject: str | None = None, **params: Param) -> Finding:
    """A finding from the catalogue; unknown codes are a programming error (KeyError)."""
    CATALOGUE[code]  # noqa: B018 - fail where the finding is made, not where it is shown
    return Finding(code, subject, dict(params))


def render(code: str, subject: str | None, params: Mapping[str, Any]) -> str:
    """The Chinese sentence for a finding; a missing parameter renders as empty text, never an error."""
    template = next((t for (c, flag), t in VARIANTS.items() if c == code and params.get(flag)), CATALOGUE[code][1])
    return _Formatter(_Values(params, subject=subject or "")).fill(template)


def human_size(n: int) -> str:
    """Sizes as Windows Explorer shows them (1 MB = 1,048,576 bytes)."""
    if n >= 1024 * 1024:
        return f"{n / 1048576:.1f} MB"
    if n >= 1024:
        return f"{n / 1024:.0f} KB"
    return f"{n} 字节"


def local_minute(instant: str) -> str:
    """An ISO 8601 instant in its own offset, as organisers write it: 2021年05月29日 09:12."""
    return dt.datetime.fromisoformat(instant).strftime("%Y年%m月%d日 %H:%M")


class _Values(dict):
    def __missing__(self, key: str) -> str:
        return ""


def _sizes(value: int, values: _Values) -> str:
    """Explorer-style sizes; when a size and its limit round to the same text, bytes show the gap."""
    shown = human_size(int(value))
    others = [int(v) for k, v in values.items() if k in ("size", "minimum") and isinstance(v, int) and v != value]
    if any(human_size(o) == shown for o in others):
        return f"{shown}（{int(value):,} 字节）"
    return shown


def _expiries(value: list, values: _Values) -> str:
    said = [f"{host}链接有效期：{expires}" for host, expires in value or []]
    return ("；".join(said) + "。") if said else ""


def _id_problems(value: list, values: _Values) -> str:
    return "且".join(_Formatter(values).fill(_ID_PROBLEMS[p]) for p in value or [])


_SPECS: dict[str, Callable[[Any, _Values], str]] = {
    "size": _sizes,
    "instant": lambda v, _: local_minute(v) if v else "",
    "category": lambda v, _: CATEGORY_LABELS.get(v, str(v)),
    "signal": lambda v, _: SIGNAL_LABELS.get(v, str(v)),
    "list": lambda v, _: "、".join(map(str, v or [])),
    "losses": lambda v, _: "；".join(LOSSES.get(x, str(x)) for x in v or []),
    "reason": lambda v, values: _Formatter(values).fill(REASONS.get(v, str(v))) if v else "",
    "expiries": _expiries,
    "id_problems": _id_problems,
}


class _Formatter(string.Formatter):
    """str.format with named renderers as format specs; the whole value map is at hand for each."""

    def __init__(self, values: _Values):
        self.values = values

    def fill(self, template: str) -> str:
        return self.vformat(template, (), self.values)

    def format_field(self, value: Any, format_spec: str) -> str:
        if format_spec in _SPECS:
            return _SPECS[format_spec](value, self.values)
        if value == "" and format_spec:  # a missing number renders as nothing
            return ""
        return format(value, format_spec)
