"""The campaign rules as a pure function: a unit's current files -> findings and status."""

from __future__ import annotations

from itertools import count

from mailintake.common import findings as F
from mailintake.ingest import config
from mailintake.ingest.rules import FileRow, MessageRow, judge, sealed_names

CAMPAIGN = config.from_dict({"mailbox": {"host": "h"}, "campaign": {"previously_honoured": ["钱学"]}}).campaign
_ids = count(1)


def file(role: str, name: str, person: str | None = None, seq: int | None = None, rows: list[dict] | None = None,
         findings: list | None = None) -> FileRow:
    summary = {"unit": "某单位", "rows": rows} if rows is not None else None
    return FileRow(next(_ids), "k", name, role, person, seq, None, summary, findings or [])


def candidate(name: str, life: int = 3) -> list[FileRow]:
    return ([file("form", f"{name}推荐表.docx", name), file("id_photo", f"{name}1.jpg", name, 1)]
            + [file("life_photo", f"{name}{n}.jpg", name, n) for n in range(2, 2 + life)])


def table(*names: str, **fields: str) -> FileRow:
    return file("summary", "汇总表.xlsx", rows=[{"name": n, **fields} for n in names])


def verdict(files: list[FileRow], quota: int = 2, messages: list[MessageRow] | None = None):
    return judge("institution", quota, files, messages or [], CAMPAIGN)


def codes(v) -> list[str]:
    return sorted(j.finding.code for j in v.findings)


def test_a_full_set_of_materials_is_complete():
    v = verdict([file("report", "报告.pdf"), table("张三"), *candidate("张三")])
    assert (v.status, codes(v)) == ("complete", [])


def test_a_withdrawn_candidate_drops_out_with_the_quota_excess():
    first = verdict([file("report", "报告.pdf"), table("甲", "乙", "丙"), *candidate("甲"), *candidate("乙"),
                     *candidate("丙")])
    assert codes(first) == ["quota_exceeded"]
    later = verdict([file("report", "报告.pdf"), table("甲", "乙", "丙"), *candidate("甲"), *candidate("乙"),
                     *candidate("丙"), table("甲", "乙")])
    assert (later.status, codes(later)) == ("complete", [])
    assert [c.name for c in later.candidates] == ["甲", "乙"]


def test_photos_of_someone_never_listed_are_reported():
    stranger = file("life_photo", "李四2.jpg", "李四", 2)
    v = verdict([file("report", "报告.pdf"), table("张三"), *candidate("张三"), stranger])
    assert codes(v) == ["photo_unknown_person"]


def test_a_later_file_with_the_same_name_or_slot_supersedes_the_earlier_one():
    bad = file("life_photo", "张三2.jpg", "张三", 2, findings=[F.make("photo_too_small", "张三2.jpg")])
    fixed_same_name = file("life_photo", "张三2.jpg", "张三", 2)
    fixed_other_name = file("life_photo", "张三-2.jpg", "张三", 2)
    base = [file("report", "报告.pdf"), table("张三"), *candidate("张三")]
    assert codes(verdict([*base, bad])) == ["photo_too_small"]
    assert codes(verdict([*base, bad, fixed_same_name])) == []
    assert codes(verdict([*base, bad, fixed_other_name])) == []


def test_counts_and_missing_pieces_are_per_candidate():
    v = verdict([table("张三"), file("life_photo", "张三2.jpg", "张三", 2)])
    assert codes(v) == ["missing_form", "missing_id_photo", "missing_report", "photo_count"]
    [c] = v.candidates
    assert (c.form, c.id_photo, c.life_photos) == (False, False, 1)
    too_many = verdict([file("report", "r.pdf"), table("张三"), *candidate("张三", life=6)])
    assert codes(too_many) == ["photo_count"]


def test_eligibility_warnings_do_not_make_a_dossier_incomplete():
    v = verdict([file("report", "r.pdf"), table("钱学", "赵兵", post="某部队现役军人"), *candidate("钱学"),
                 *candidate("赵兵")])
    assert codes(v) == ["ineligible_role", "ineligible_role", "previously_honoured"]
    assert v.status == "complete"


def test_late_material_keeps_the_unit_late_until_decided():
    late = F.make("late", None, received="2021年05月29日", deadline="2021年05月28日")
    files = [file("report", "r.pdf"), table("张三"), *candidate("张三")]
    assert verdict(files, messages=[MessageRow("k", True, False, [late])]).late is True
    assert verdict(files, messages=[MessageRow("k", False, False, [late])]).late is False


def test_a_cloud_link_is_kept_in_view_only_while_something_is_missing():
    link = F.make("cloud_attachment", None, hosts="pan.baidu.com")
    rows = [MessageRow("k", False, False, [link])]
    assert codes(verdict([table("张三")], messages=rows)).count("cloud_attachment") == 1
    full = [file("report", "r.pdf"), table("张三"), *candidate("张三")]
    assert codes(verdict(full, messages=rows)) == []


def test_a_quarantined_message_marks_the_unit_quarantined():
    v = verdict([], messages=[MessageRow("k", False, True, [])])
    assert v.status == "quarantined"


def test_a_quarantined_unit_lists_its_candidates_by_name_only():
    sealed = MessageRow("k", False, True, [], ["孙磊", "周红"])
    v = verdict([], messages=[sealed])
    assert v.status == "quarantined"
    assert [(c.name, c.fields, c.form, c.id_photo, c.life_photos, c.findings) for c in v.candidates] == [
        ("孙磊", {}, False, False, 0, []), ("周红", {}, False, False, 0, [])]
    assert codes(v) == ["missing_report", "missing_summary"]  # unit findings come from unsealed files only
    # a name also in the unsealed material is listed once, judged on that material
    open_files = [file("report", "r.pdf"), table("孙磊"), *candidate("孙磊")]
    v = verdict(open_files, messages=[MessageRow("k1", False, False, []), sealed])
    assert [c.name for c in v.candidates] == ["孙磊", "周红"]
    assert (v.candidates[0].form, v.candidates[0].life_photos, v.candidates[1].form) == (True, 3, False)
    assert (v.status, codes(v)) == ("quarantined", [])
    # names count towards the quota like any candidate
    assert codes(verdict(open_files, quota=1, messages=[sealed])) == ["quota_exceeded"]
    # a message that is not quarantined brings no names this way
    assert verdict([], messages=[MessageRow("k", False, False, [], ["孙磊"])]).candidates == []


def test_sealed_names_come_from_the_unmarked_summary_else_from_the_forms():
    marked = F.make("classified_marker", "孙磊推荐表.docx", marking="机密★1年")
    form = file("form", "孙磊推荐表.docx", "孙磊", findings=[marked])
    photos = candidate("周红")[1:]
    assert sealed_names([table("孙磊", "周红"), form, *photos]) == ["孙磊", "周红"]
    assert sealed_names([form, *photos]) == ["孙磊"]  # no summary: forms only, never photos
    classified_table = file("summary", "汇总表.xlsx", rows=[{"name": "钱多"}], findings=[marked])
    assert sealed_names([classified_table, form]) == ["孙磊"]
    assert sealed_names([table("甲"), table("乙", "丙")]) == ["乙", "丙"]  # the last table
