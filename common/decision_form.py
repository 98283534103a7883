"""The organisers' decisions workbook (决定.xlsx): its sheets and columns, shared by the report that writes
it and the parser that reads it back. One header row per sheet; a blank decision cell means "no change"."""

from __future__ import annotations

from dataclasses import dataclass

FILE_NAME = "决定.xlsx"


@dataclass(frozen=True)
class FormSheet:
    title: str
    headers: tuple[str, ...]
    key: str  # the header of the column naming what the row is about
    decision: str  # the header of the column the organiser fills in
    date: str = "决定日期"


PAPER = FormSheet("纸质材料", ("单位", "类别", "纸质材料收到日期", "决定日期", "备注"), key="单位",
                  decision="纸质材料收到日期")
LATE = FormSheet("逾期材料", ("参考编号", "单位", "送达时间", "是否受理（受理/不受理）", "决定日期", "备注"),
                 key="参考编号", decision="是否受理（受理/不受理）")
ASSIGN = FormSheet("未识别单位", ("参考编号", "发件人", "主题", "推荐单位", "决定日期", "备注"),
                   key="参考编号", decision="推荐单位")
SHEETS = (PAPER, LATE, ASSIGN)

ACCEPT_WORDS = frozenset({"受理", "接受", "同意", "是", "同意受理"})
REJECT_WORDS = frozenset({"不受理", "不接受", "不同意", "否", "拒绝", "不予受理"})
NOT_RECEIVED_WORDS = frozenset({"未收到", "否", "无"})
