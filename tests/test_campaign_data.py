"""Campaign facts live in data and config, not code: next year's campaign is a new file, not a patch."""

from __future__ import annotations

import pytest

from mailintake.ingest import config as config_mod
from mailintake.ingest.registry import Registry, district_names
from mailintake.ingest.rules import FileRow, judge
from mailintake.parsers.subjects import strip_reply_prefixes


def make_config(path=None, **campaign):
    return config_mod.from_dict({"mailbox": {"host": "h"}, "campaign": campaign}, path)


def ineligible(post: str, **campaign) -> bool:
    files = [FileRow(1, "k", "汇总表.xlsx", "summary", None, None, None,
                     {"unit": "某单位", "rows": [{"name": "张三", "post": post}]}, [])]
    [c] = judge("institution", 2, files, [], make_config(**campaign).campaign).candidates
    return any(f.code == "ineligible_role" for f in c.findings)


def test_the_2021_defaults_still_recognise_district_offices_and_organisers():
    r = Registry(make_config())
    assert r.normalise("渝中区科协") == "渝中区"
    assert r.normalise("重庆市渝中区党委宣传部（盖章）") == "渝中区"
    assert r.normalise("石柱县科学技术协会") == "石柱土家族自治县"
    assert {"重庆市科协", "市科协", "中国科协"} <= r.organisers
    assert r.normalise("市科协") is None and r.normalise("市科协宣传部") is None
    assert r.find_in_text("【市科协】关于推荐的通知") is None
    assert r.find_in_text("关于报送重庆大学最美科技工作者推荐材料的函") == "重庆大学"
    assert r.category("重庆市机械工程学会") == "society"
    assert r.category("重庆大学") == "institution"
    assert len(district_names(make_config())) == 41


def test_an_organiser_name_that_ends_with_an_office_suffix_is_not_a_unit():
    # was a known bug: office suffixes were stripped before the organiser check (重庆市科协 -> 重庆市)
    r = Registry(make_config())
    assert r.normalise("重庆市科协") is None
    assert r.normalise("中国科协") is None
    assert r.normalise("中国科学技术协会") is None
    assert r.normalise("中国科协宣传部") is None  # 中国科协 once 宣传部 is stripped
    assert r.normalise("重庆市科学技术协会宣传部") is None
    assert r.normalise("重庆市") is None  # only the city
    assert r.find_in_text("【重庆市科协】关于推荐的通知") is None


@pytest.mark.parametrize(("written", "unit"), [
    ("两江新区党工委宣传部", "两江新区"),
    ("两江新区党工委宣传部（办公室）", "两江新区"),
    ("重庆高新区党工委宣传部办公室", "重庆高新区"),
    ("万盛经开区科技部门", "万盛经开区"),
    ("万盛经开区文明办", "万盛经开区"),
    ("渝北区文明办", "渝北区"),
    ("渝北区委宣传部", "渝北区"),
    ("渝北区党委宣传部", "渝北区"),
    ("渝北区科技局", "渝北区"),
    ("渝北区科学技术协会", "渝北区"),
    ("重庆市渝北区科协（盖章）", "渝北区"),
    ("忠县委宣传部", "忠县"),
    ("巫溪县科学技术局", "巫溪县"),
    ("石柱县委宣传部", "石柱土家族自治县"),
    ("秀山土家族苗族自治县委宣传部", "秀山土家族苗族自治县"),
])
def test_a_district_written_with_any_of_its_offices_is_that_district(written, unit):
    r = Registry(make_config())
    assert r.normalise(written) == unit
    assert r.category(r.normalise(written)) == "district"
    assert r.find_in_text(f"{written}关于报送最美科技工作者推荐材料的函") == unit
    assert r.find_in_text(f"【{written}】推荐材料") == unit


@pytest.mark.parametrize(("written", "unit"), [
    ("渝北区某某有限公司科协", "渝北区某某有限公司"),
    ("江津区中心医院", "江津区中心医院"),
    ("重庆市渝北区某某集团", "重庆市渝北区某某集团"),
    ("两江新区某某研究院", "两江新区某某研究院"),
    ("渝北区机械工程学会", "渝北区机械工程学会"),
])
def test_an_organisation_that_lies_in_a_district_is_not_the_district(written, unit):
    r = Registry(make_config())
    assert r.normalise(written) == unit
    assert r.category(unit) in ("institution", "society")
    assert r.find_in_text(f"{written}推荐材料") == unit
    assert r.find_in_text(f"关于报送{written}最美科技工作者推荐材料的函") == unit
    assert r.find_in_text(f"最美科技工作者推荐材料（{written}）") == unit


def test_a_district_named_before_an_organisation_in_the_same_text_is_still_found():
    r = Registry(make_config())
    assert r.find_in_text("渝北区科协推荐渝北区人民医院张三的材料") == "渝北区"


def test_a_name_the_registry_does_not_know_is_a_unit_only_when_its_form_says_what_it_is():
    r = Registry(make_config())
    assert r.category("重庆市机械工程学会") == "society"
    assert r.category("重庆市老科技工作者协会") == "society"
    assert r.category("重庆市生态经济研究会") == "society"
    for institution in ("重庆某某科技有限公司", "中国某某集团", "重庆大学", "重庆某某职业学院",
                        "重庆医科大学附属第一医院", "中国科学院重庆绿色智能技术研究院", "重庆市某某研究所"):
        assert r.category(institution) == "institution"
    assert r.category(r.normalise("重庆大学科协")) == "institution"  # its 科协 is an office
    for unknown in ("重庆市经济和信息化委员会科技处", "江北区科学技术委员会", "渝北区人民政府", "某某中心"):
        assert r.category(r.normalise(unknown)) is None
    assert Registry(make_config(institution_words=["中心"])).category("某某中心") == "institution"


@pytest.mark.parametrize("subject", [
    "回复：重庆市植物学会推荐材料（更正汇总表）",
    "回复:重庆市植物学会推荐材料（更正汇总表）",
    "答复： 重庆市植物学会推荐材料（更正汇总表）",
    "Re: 重庆市植物学会推荐材料（更正汇总表）",
    "RE：重庆市植物学会推荐材料（更正汇总表）",
    "re:Fw:重庆市植物学会推荐材料（更正汇总表）",
    "Fwd: 转发：重庆市植物学会推荐材料（更正汇总表）",
    "回覆﹕重庆市植物学会推荐材料（更正汇总表）",
    "转：回复：回复：重庆市植物学会推荐材料（更正汇总表）",
])
def test_reply_and_forward_prefixes_are_not_part_of_a_subject(subject):
    r = Registry(make_config())
    assert strip_reply_prefixes(subject, r.reply_prefixes) == "重庆市植物学会推荐材料（更正汇总表）"
    assert r.find_in_text(strip_reply_prefixes(subject, r.reply_prefixes)) == "重庆市植物学会"


def test_a_mailing_lists_subject_tag_is_not_a_unit():
    """Mailman puts the list's short name in brackets before the subject ("[tuijian] …")."""
    registry = Registry(make_config())
    assert registry.find_in_text("[tuijian] 【沙坪坝区】推荐材料") == "沙坪坝区"
    assert registry.find_in_text("[Ticket#2021052012] 重庆大学科协推荐材料") == "重庆大学"


def test_a_prefix_word_without_its_colon_is_ordinary_text():
    prefixes = Registry(make_config()).reply_prefixes
    assert strip_reply_prefixes("转发通知的回复材料", prefixes) == "转发通知的回复材料"
    assert strip_reply_prefixes("Report: 推荐材料", prefixes) == "Report: 推荐材料"
    assert strip_reply_prefixes(" 回复：", prefixes) == ""
    assert strip_reply_prefixes("回执：推荐材料", prefixes) == "回执：推荐材料"
    assert strip_reply_prefixes("回执：推荐材料", [*prefixes, "回执"]) == "推荐材料"
    assert strip_reply_prefixes("Re: 推荐材料", []) == "Re: 推荐材料"
    r = Registry(make_config(reply_prefixes=["答"]))
    assert strip_reply_prefixes("答：Re：推荐材料", r.reply_prefixes) == "推荐材料"


def test_the_2021_post_words_still_mark_military_and_senior_officials_ineligible():
    assert ineligible("某部队现役军人")
    assert ineligible("市经信委副厅长")
    assert not ineligible("高级工程师")


def test_a_post_word_added_in_the_config_marks_a_candidate_ineligible():
    default = config_mod.Campaign().ineligible_post_words
    assert not ineligible("某县县长")
    assert ineligible("某县县长", ineligible_post_words=[*default, "县长"])
    assert ineligible("某部队现役军人", ineligible_post_words=[*default, "县长"])


def test_an_office_suffix_added_in_the_config_is_stripped_from_a_unit_name():
    assert Registry(make_config()).normalise("江北区科学技术委员会") == "江北区科学技术委员会"
    assert Registry(make_config()).normalise("两江新区党工委组织宣传部") == "两江新区党工委组织"
    r = Registry(make_config(office_suffixes=["科学技术委员会", "党工委组织宣传部"]))
    assert r.normalise("江北区科学技术委员会") == "江北区"
    # tried before the shorter 宣传部 it ends with, so nothing of it is left behind
    assert r.normalise("两江新区党工委组织宣传部") == "两江新区"
    assert r.normalise("渝中区科协") == "渝中区"


def test_an_organiser_added_in_the_config_is_never_a_recommending_unit():
    assert Registry(make_config()).normalise("市科协组宣部") == "市科协组宣部"
    r = Registry(make_config(organisers=["市科协组宣部"]))
    assert r.normalise("市科协组宣部") is None
    assert r.find_in_text("【市科协组宣部】通知") is None
    assert r.normalise("市科协") is None


def test_words_added_in_the_config_extend_finding_units_in_free_text():
    text = "兹报来某某实验室的推荐材料"
    assert Registry(make_config()).find_in_text(text) is None
    r = Registry(make_config(organisation_words=["实验室"], sentence_leads=["兹报来"]))
    assert r.find_in_text(text) == "某某实验室"
    assert Registry(make_config(society_words=["联合会"])).category("重庆市文学艺术界联合会") == "society"
    noisy = Registry(make_config(noise_words=["重庆大学"]))
    assert noisy.find_in_text("关于报送重庆大学推荐材料的函") is None


CHENGDU = """
districts = ["锦江区", "青羊区", "简阳市"]
city_prefixes = ["成都市", "成都"]
organisers = ["成都市科学技术协会", "市科协"]
society_words = ["学会"]

[aliases]
"简阳" = "简阳市"
"""


def test_a_campaign_can_ship_its_own_registry_data_file(tmp_path):
    (tmp_path / "chengdu_units.toml").write_text(CHENGDU, encoding="utf-8")
    cfg_file = tmp_path / "mailintake.toml"
    cfg = make_config(cfg_file, registry_data="chengdu_units.toml")  # relative to the config file
    r = Registry(cfg)
    assert district_names(cfg) == ["锦江区", "青羊区", "简阳市"]
    assert r.normalise("成都市锦江区科协") == "锦江区"  # office suffixes left out: the 2021 words apply
    assert r.normalise("简阳") == "简阳市"
    assert r.category("青羊区") == "district"
    assert r.normalise("市科协") is None and r.find_in_text("【市科协】通知") is None
    assert r.category("成都市化学学会") == "society"
    assert r.category("成都市作家协会") is None  # its own society words replace the 2021 ones
    assert r.category("成都中医药大学") == "institution"  # institution words left out: the 2021 words apply
    # Chongqing's districts and aliases are not inherited: 渝中区 is no unit there
    assert r.normalise("渝中区科协") == "渝中区" and r.category("渝中区") is None
    assert r.normalise("高新区") == "高新区"


def test_a_missing_or_malformed_registry_data_file_is_a_config_error(tmp_path):
    cfg = make_config(tmp_path / "mailintake.toml", registry_data="nowhere.toml")
    with pytest.raises(config_mod.ConfigError, match="campaign.registry_data: .*nowhere.toml: file not found"):
        Registry(cfg)
    (tmp_path / "bad.toml").write_text('districts = ["锦江区"]\nofice_suffixes = ["科协"]\n', encoding="utf-8")
    cfg = make_config(tmp_path / "mailintake.toml", registry_data=str(tmp_path / "bad.toml"))
    with pytest.raises(config_mod.ConfigError, match="ofice_suffixes: Extra inputs"):
        Registry(cfg)


def test_an_empty_word_in_the_config_is_refused():
    with pytest.raises(config_mod.ConfigError, match="campaign.office_suffixes: must not contain an empty word"):
        make_config(office_suffixes=[""])


@pytest.mark.parametrize("written", ["2021-0042", "#42", "42", " 2021-0042 "])
def test_a_message_is_named_by_its_reference_in_any_form_people_write(written):
    from mailintake.common.vocab import display_reference, parse_reference

    assert parse_reference(written) == 42 and display_reference(2021, 42) == "2021-0042"
    assert parse_reference("0c216fc232f2") is None  # a key, not a reference
