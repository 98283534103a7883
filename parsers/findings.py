"""The finding vocabulary: stable codes, their severity, and the sentence a submitter reads.

Codes are a public contract (replies, reports and `status --json` use them): add, never rename.
"""

from __future__ import annotations

from .facts import Finding

ERROR, WARNING = "error", "warning"

# code -> (severity, Chinese template; {subject} and keyword params are filled in by `make`)
CATALOGUE: dict[str, tuple[str, str]] = {
    "missing_report": (ERROR, "缺少推荐工作情况报告（须加盖推荐单位公章）。"),
    "missing_summary": (ERROR, "缺少推荐人选汇总表（附件2）。"),
    "summary_unreadable": (ERROR, "推荐人选汇总表“{subject}”无法读取：{reason}。请提供Excel格式（.xlsx或.xls）。"),
    "missing_form": (ERROR, "候选人{subject}缺少推荐表（附件1）。"),
    "missing_id_photo": (ERROR, "候选人{subject}缺少小2寸正面免冠彩色证件照。"),
    "photo_count": (ERROR, "候选人{subject}的生活或工作照片有{count}张，应为{min}至{max}张。"),
    "photo_not_jpeg": (ERROR, "照片“{subject}”不是JPG格式（实际为{actual}），请提供JPG格式照片。"),
    "photo_too_small": (ERROR, "照片“{subject}”大小为{size}，小于要求的{minimum}，请提供原图。"),
    "photo_bad_name": (ERROR, "照片“{subject}”未按“姓名+序号”命名（例如：张三1.jpg）。"),
    "photo_unknown_person": (ERROR, "照片“{subject}”中的姓名“{person}”不在推荐人选汇总表中。"),
    "photo_corrupt": (ERROR, "照片“{subject}”已损坏或不完整，无法打开，请重新发送。"),
    "quota_exceeded": (ERROR, "推荐人选{count}名，超过{category}推荐名额（不超过{quota}名）。"),
    "archive_unreadable": (ERROR, "压缩包“{subject}”无法解开：{reason}。"),
    "archive_unsafe": (ERROR, "压缩包“{subject}”存在安全风险（{reason}），未予解压，请重新打包后发送。"),
    "cloud_attachment": (
        ERROR,
        "邮件中的材料为超大附件或网盘链接（{hosts}），系统无法自动接收，请以普通附件形式发送。{expiry}",
    ),
    "classified_marker": (
        ERROR,
        "材料“{subject}”带有密级标识（{marking}），涉密材料不得通过普通电子邮件报送，请按保密规定报送。",
    ),
    "unknown_unit": (ERROR, "未能识别推荐单位，请在邮件主题中注明推荐单位名称（例如：【沙坪坝区】推荐材料）。"),
    "late": (WARNING, "材料于{received}送达，晚于报送截止时间{deadline}。"),
    "report_unsealed": (WARNING, "推荐工作情况报告“{subject}”未检测到推荐单位公章，请确认已加盖公章。"),
    "id_photo_format": (WARNING, "证件照“{subject}”{reason}，应为小2寸（宽高比{ratio}）彩色竖版照片。"),
    "previously_honoured": (WARNING, "候选人{subject}已获得相关荣誉称号，原则上不再推荐。"),
    "ineligible_role": (WARNING, "候选人{subject}的职务（{post}）可能不符合推荐范围（现役军人或司局级以上领导干部）。"),
    "duplicate_message": (WARNING, "本邮件与此前收到的邮件（编号{original}）内容相同，按重复邮件处理。"),
    "unit_conflict": (WARNING, "推荐单位信息不一致：{detail}。已按“{chosen}”登记。"),
    "file_corrupt": (ERROR, "文件“{subject}”{reason}，无法打开，请重新发送。"),
    "markings_not_checked": (WARNING, "“{subject}”为扫描件或无文字层，未能检查密级标识。"),
    "nested_too_deep": (ERROR, "压缩包“{subject}”中嵌套的压缩包层数过多，未予解压，请直接打包全部材料。"),
}


def make(code: str, subject: str | None = None, **params: object) -> Finding:
    """Build a finding from the catalogue; unknown template params render as empty text."""
    severity, template = CATALOGUE[code]
    values = _Defaults(subject=subject or "", **{k: str(v) for k, v in params.items()})
    return Finding(code, severity, subject, template.format_map(values))


class _Defaults(dict):
    def __missing__(self, key: str) -> str:
        return ""


def human_size(n: int) -> str:
    """Sizes as Windows Explorer shows them (1 MB = 1,048,576 bytes)."""
    if n >= 1024 * 1024:
        return f"{n / 1048576:.1f} MB"
    if n >= 1024:
        return f"{n / 1024:.0f} KB"
    return f"{n} 字节"
