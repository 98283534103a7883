"""Reading the candidates out of a unit's 推荐人选汇总表 (附件2), however the unit laid it out."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pytest
import xlwt

from mailintake.ingest.samples import documents as samples
from mailintake.parsers.facts import SummaryRow, SummaryTable
from mailintake.parsers.summary import CORRUPT, NO_HEADER, NOT_EXCEL, read_summary

UNIT = "沙坪坝区科协"
ZHANG = {"name": "张三", "gender": "男", "birth": "1978.05", "ethnicity": "汉族", "politics": "中共党员",
         "post": "重庆大学教授", "category": "区县", "deeds": "长期从事材料科学研究。", "phone": "13800000001"}
LI = {"name": "李四", "gender": "女", "birth": 1985.03, "ethnicity": "土家族", "politics": "九三学社社员",
      "post": "重庆某医院主任医师", "category": "区县", "deeds": "扎根基层医疗三十年。", "phone": 13900000002}


def xlsx(*sheets: list[list]) -> bytes:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for number, rows in enumerate(sheets, start=1):
        sheet = book.create_sheet(f"Sheet{number}")
        for row in rows:
            sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def xls(rows: list[list]) -> bytes:
    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("Sheet1")
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value is not None:
                sheet.write(r, c, value)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def names(table: SummaryTable) -> list[str]:
    return [row.name for row in table.rows]


# --- the real 附件2 layout ----------------------------------------------------------------------

@pytest.mark.parametrize("kind, make", [("xlsx", samples.summary_xlsx), ("xls", samples.summary_xls)])
def test_realistic_summary_gives_unit_and_every_candidate_by_meaning(kind, make):
    table = read_summary(make(UNIT, [ZHANG, LI]), kind)

    assert table == SummaryTable(unit=UNIT, rows=[
        SummaryRow("张三", {"seq": "1", "gender": "男", "birth": "1978-05", "ethnicity": "汉族",
                           "politics": "中共党员", "post": "重庆大学教授", "category": "区县",
                           "deeds": "长期从事材料科学研究。", "phone": "13800000001"}),
        SummaryRow("李四", {"seq": "2", "gender": "女", "birth": "1985-03", "ethnicity": "土家族",
                           "politics": "九三学社社员", "post": "重庆某医院主任医师", "category": "区县",
                           "deeds": "扎根基层医疗三十年。", "phone": "13900000002"}),
    ])


@pytest.mark.parametrize("kind, make", [("xlsx", samples.summary_xlsx), ("xls", samples.summary_xls)])
def test_excel_dates_in_the_birth_column_become_year_and_month(kind, make):
    table = read_summary(make(UNIT, [{**ZHANG, "birth": dt.datetime(1978, 5, 1)}]), kind)

    assert table.rows[0].fields["birth"] == "1978-05"


# --- layouts units invent -----------------------------------------------------------------------

def test_columns_in_another_order_are_mapped_by_their_labels():
    data = xlsx([
        ["姓名", "联系电话", "序号", "工作单位及职务", "出生年月", "性别"],
        ["王五", "13700000003", 1, "西南大学研究员", "1990.07", "男"],
    ])

    row = read_summary(data, "xlsx").rows[0]

    assert row == SummaryRow("王五", {"phone": "13700000003", "seq": "1", "post": "西南大学研究员",
                                      "birth": "1990-07", "gender": "男"})


def test_blank_rows_title_and_notes_around_the_table_are_skipped():
    data = xlsx([
        ["2021年重庆市“最美科技工作者”推荐人选汇总表"],
        [],
        ["请按姓名、性别、出生年月等顺序如实填写"],
        [None, None, "推荐单位（盖章）：九龙坡区科协"],
        [],
        ["序号", "姓名", "性别", "人选类别"],
        [],
        [1, "张三", "男", "区县"],
        [],
        [2, "李四", "女", "区县"],
        [3, None, None, None],
        ["注：人选类别填写区县、学会或企事业单位。"],
        [4, "不是人选", "男", "区县"],
    ])

    table = read_summary(data, "xlsx")

    assert table.unit == "九龙坡区科协"
    assert names(table) == ["张三", "李四"]


@pytest.mark.parametrize("footer", ["填表说明：请勿改动表头", "联系人：赵六  电话：63003526", "填表人：赵六"])
def test_the_table_ends_at_a_notes_or_contact_line(footer):
    data = xlsx([["序号", "姓名"], [1, "张三"], [footer], [2, "赵六"]])

    assert names(read_summary(data, "xlsx")) == ["张三"]


def test_three_blank_rows_end_the_table():
    data = xlsx([["序号", "姓名"], [1, "张三"], [], [], [], [2, "另一张表的人"]])

    assert names(read_summary(data, "xlsx")) == ["张三"]


def test_labels_with_spaces_line_breaks_and_full_width_brackets_are_recognised():
    data = xlsx([
        ["序  号", "姓  名", "性\u3000别", "出生\n年月", "工作单位及职务\n（职称）", "主要事迹(100字以内)", "手机"],
        [1, "张  三", "男", "1978.05", "重庆大学教授", "事迹", "13800000001"],
        [2, "李\u3000四", "女", "1985.03", "重庆某医院主任医师", "事迹", "13900000002"],
    ])

    table = read_summary(data, "xlsx")

    assert names(table) == ["张三", "李四"]
    assert set(table.rows[0].fields) == {"seq", "gender", "birth", "post", "deeds", "phone"}


@pytest.mark.parametrize("birth, expected", [
    (1978.05, "1978-05"),
    (1980.1, "1980-10"),  # typed as 1980.10; Excel dropped the zero
    (1978.12, "1978-12"),
    ("1978.05", "1978-05"),
    ("1978.5", "1978-05"),
    ("1978年5月", "1978-05"),
    ("1978-05-12", "1978-05"),
    ("１９７８．０５", "1978-05"),
    ("197805", "1978-05"),
    (dt.datetime(1978, 5, 12), "1978-05"),
    ("不详", "不详"),
    ("1978.13", "1978.13"),
])
def test_birth_dates_are_normalised_to_year_and_month(birth, expected):
    data = xlsx([["姓名", "出生年月"], ["张三", birth]])

    assert read_summary(data, "xlsx").rows[0].fields["birth"] == expected


def test_float_birth_dates_in_a_legacy_xls_are_normalised():
    data = xls([["姓名", "出生年月"], ["张三", 1978.05], ["李四", 1980.1]])

    assert [r.fields["birth"] for r in read_summary(data, "xls").rows] == ["1978-05", "1980-10"]


def test_empty_cells_leave_their_meaning_out():
    data = xlsx([["姓名", "性别", "民族"], ["张三", None, "汉族"]])

    assert read_summary(data, "xlsx").rows[0].fields == {"ethnicity": "汉族"}


def test_the_first_sheet_with_a_header_is_used():
    data = xlsx([["填表说明"], ["请在第二个工作表填写"]], [["序号", "姓名"], [1, "张三"]])

    assert names(read_summary(data, "xlsx")) == ["张三"]


# --- the unit line ------------------------------------------------------------------------------

@pytest.mark.parametrize("cells, unit", [
    (["推荐单位（盖章）：沙坪坝区科协"], "沙坪坝区科协"),
    (["推荐单位(盖章):沙坪坝区科协"], "沙坪坝区科协"),
    (["推荐单位：重庆市机械工程学会（盖章）"], "重庆市机械工程学会"),
    (["推荐单位（盖章）：", None, "重庆大学"], "重庆大学"),
    (["推荐单位（盖章）：渝中区科协        填报日期：2021年5月20日"], "渝中区科协"),
    (["推荐单位（盖章）：渝中区科协 填报日期：2021年5月20日"], "渝中区科协"),
    (["推荐单位（盖章）："], None),
    (["2021年重庆市“最美科技工作者”推荐人选汇总表"], None),
])
def test_unit_line_above_the_header(cells, unit):
    data = xlsx([cells, ["序号", "姓名"], [1, "张三"]])

    assert read_summary(data, "xlsx").unit == unit


def test_unit_line_below_the_table_is_found_too():
    data = xlsx([["序号", "姓名"], [1, "张三"], [], ["推荐单位（盖章）：北碚区科协"]])

    assert read_summary(data, "xlsx").unit == "北碚区科协"


def test_a_notes_row_mentioning_units_is_not_the_unit_line():
    data = xlsx([["序号", "姓名"], [1, "张三"], ["注：由推荐单位统一报送。"]])

    assert read_summary(data, "xlsx").unit is None


# --- unreadable ---------------------------------------------------------------------------------

def test_a_workbook_without_a_recognisable_header_gives_a_reason():
    data = xlsx([["推荐人选"], ["张三", "男", "1978.05"]])

    assert read_summary(data, "xlsx") == NO_HEADER


def test_a_header_below_the_first_twenty_rows_is_not_searched_for():
    data = xlsx([[f"说明{n}"] for n in range(20)] + [["序号", "姓名"], [1, "张三"]])

    assert read_summary(data, "xlsx") == NO_HEADER


@pytest.mark.parametrize("kind, data", [
    ("xlsx", b"PK\x03\x04broken"),
    ("xlsx", samples.summary_xlsx(UNIT, [ZHANG])[:2000]),
    ("xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1broken"),
    ("xls", b""),
])
def test_corrupt_workbooks_give_a_reason_not_an_exception(kind, data):
    assert read_summary(data, kind) == CORRUPT


def test_a_summary_sent_as_a_word_document_is_not_read():
    assert read_summary(samples.form_docx("张三", UNIT), "docx") == NOT_EXCEL
