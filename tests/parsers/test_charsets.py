"""Undeclared bytes are read by evidence (`parsers.charsets`), never invented; Han names from every block.

How plausibility was decided: `plausible_chinese` and `read` were run on generated and hand-written
corpora of the kinds below (the generators are the ones in this file; 20,000 strings per random corpus,
seed 2021, and longer hand lists than the ones kept here; "strict" = the bytes decode as GB18030 at all,
which is all the decoder used to ask):

    corpus                                           strict GB18030  plausible Chinese  read right  U+FFFD  wrong
    Latin words with accents, 139 (cp1252)                  79.1%        1.4%             100.0%     0.0%   0.0%
    the same in capitals (cp1252)                           79.9%        2.9%              99.3%     0.0%   0.7%
    random accented Latin "words" (cp1252)                  73.3%        0.4%              99.0%     0.6%   0.4%
    Big5, 45 hand-written phrases and names                100.0%       11.1%              88.9%     0.0%  11.1%
    Big5, 591 windows of real Traditional text (4-16)      100.0%        0.5%              99.5%     0.0%   0.5%
    Big5, random 常用字 strings (2-10)                      100.0%       16.2%              83.8%     0.0%  16.2%
    Shift_JIS, 25 hand-written phrases                     100.0%        0.0%             100.0%     0.0%   0.0%
    Shift_JIS, random level-1 kanji and kana               100.0%        0.0%             100.0%     0.0%   0.0%
    Chinese names, random (GBK)                            100.0%      100.0%             100.0%     0.0%   0.01%
    Chinese names with rare characters (GB18030), 30       100.0%      100.0%             100.0%     0.0%   0.0%
    Chinese subjects and file names (GBK), 35              100.0%      100.0%             100.0%     0.0%   0.0%

Decisions the numbers made: the everyday set is GB2312 levels 1 and 2 (6,763), not level 1 alone: the
random names use a given-name list in which one character in five is level 2 (梓 婷 妍), and with level 1
alone 2.2% of them failed, with both none, at no cost on the other corpora. Kana, Greek, Cyrillic, pinyin
and bopomofo (GB2312 rows 4-8) rule a GB18030 reading out: that took Big5 from 20% to 11% wrong (hand
list) and 21% to 16% (random). Valid UTF-8 holding C1 controls is windows-1252 misread ("ÂŸ"). Before,
strict UTF-8 also took 2.2% of random GBK names ("钱眉伟" as "Ǯüΰ"); now 0.01%. Big5 and GBK share their
byte ranges, so a Big5 string whose every character lands in GB2312's hanzi rows reads as plausible GBK:
about one random 常用字 string in six, one window in two hundred of real text, where punctuation and the
commonest characters (rows A4-AF) land on kana and private-use code points; the message's own big5
declaration settles the rest (step 2). Known limits: EUC-KR Korean is GB2312-shaped and reads as
plausible Chinese; windows-1251 is no candidate.

Zip names (`ZIP_CANDIDATES`: cp866 and cp850 instead of windows-1252), against the old rule (UTF-8 unless
it looks like misread GBK, then GB18030 whenever it decodes): single GB2312 level-1 hanzi + ".jpg" 98.0%
-> 100%, random pairs 99.93% -> 100%, random names 99.98% -> 100%; Latin names in cp850 1.4% -> 100%;
unflagged UTF-8 Latin 1.4% -> 100% (decomposed, as macOS writes: 93.5% -> 100%), Cyrillic 0% -> 100%;
Russian names in cp866 0% -> 83% (lower-case "привет" is also plausible Big5).
"""

from __future__ import annotations

import io
import random
import zipfile

import pytest
from docx import Document

from mailintake.ingest.samples import documents, images
from mailintake.ingest.samples.clients import build_message
from mailintake.ingest.samples.mailbox import person
from mailintake.parsers.charsets import HAN_RANGES, ZIP_CANDIDATES, is_han, plausible_chinese, read
from mailintake.parsers.documents import decode_text
from mailintake.parsers.message import parse_message
from mailintake.parsers.photo_names import parse_photo_name, person_from_name
from mailintake.parsers.summary import read_summary
from testkit.config import default_settings

SETTINGS = default_settings()
LATIN = [
    "Formação", "Conceição", "João", "São", "Paulo", "Gonçalves", "Brasília", "Antônio", "Lúcia", "Inês", "Araújo",
    "Magalhães", "Estêvão", "Müller", "Jürgen", "Größe", "Straße", "Köln", "München", "Düsseldorf", "Schröder",
    "über", "Österreich", "café", "naïve", "crème", "brûlée", "déjà", "façade", "résumé", "élève", "Hélène",
    "François", "Noël", "Zoë", "Chloé", "Gérard", "Jérôme", "hôtel", "forêt", "château", "garçon", "España",
    "señor", "niño", "año", "mañana", "Muñoz", "Núñez", "Peña", "Ibáñez", "Martínez", "González", "Pérez", "García",
    "Rodríguez", "López", "città", "perché", "più", "così", "Niccolò", "caffè", "København", "Søren", "Bjørn",
    "Ångström", "Malmö", "Göteborg", "Tromsø",
]
BIG5 = [
    "推薦材料", "臺北市", "最美科技工作者推薦表", "【沙坪壩區】推薦材料", "推薦工作情況報告", "附件二：推薦人選匯總表",
    "國立臺灣大學", "陳水扁", "周杰倫", "張學友", "劉德華", "關於推薦年度優秀科技工作者的函", "會議通知", "請查收附件",
    "報名表", "個人簡歷", "學術論文", "中華民國", "英語教學", "每日聽",
]
SJIS = ["山田太郎", "東京都の資料", "日本語のテキスト", "会議のお知らせ", "報告書", "見積書", "添付ファイル",
        "田中花子", "履歴書", "株式会社"]
CHINESE = [
    "张三1.jpg", "朱镕基", "陶喆", "马龑", "张韡武", "刘䶮", "王𠇔", "李𪚥", "【沙坪坝区】2021年最美科技工作者推荐材料",
    "附件1：张三推荐表.docx", "附件2：推荐人选汇总表.xlsx", "推荐工作情况报告.pdf", "回复：推荐材料已收到",
    "渝中区科协推荐材料（1/3）", "李四-生活照2.jpg", "最美科技工作者推荐表（刘洋）.doc", "重庆医科大学附属第一医院",
    "“最美科技工作者”推荐", "綦江区", "璧山区", "冯梓婵", "韩妍璐",
]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁"
GIVEN = ("伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华玉萍红玲芬燕彩春菊凤洁梅琳素云莲真环雪荣爱妹香月"
         "佳嘉琼勤珍贞莉娣叶璐娅琦晶妍茜秋珊莎锦黛青倩婷婉娴瑾颖露瑶怡婵雁蓓仪荷丹蓉眉君琴蕊薇菁梦岚婕馨瑗琰韵"
         "志建国文斌宏俊峰辉波宇浩然子轩梓涵一诺欣悦昭冰爽茗羽希宁")
HINET_SUBJECT = (  # imap_tools' content_transfer_encoding_empty: the raw bytes, one character per byte
    "4d8119\xa1@(\xa4j\xb8\xc9\xaaw\xc4\xd1\xb1M\xbd\xe6) \xa4j\xaea\xbb\xa1\xad^\xbby \xa8C\xa4\xe9\xc5\xa5MP3 "
    "(2004\xa6~6\xa4\xeb\xa5\xf7) \xc1c\xc5\xe9\xa4\xa4\xa4\xe5\xa5\xfa\xba\xd0\xaa\xa9 "
    "(\xad^\xbby\xb1\xd0\xbe\xc7)\xa1@8afb90"
).encode("latin-1")


def gb(text: str) -> bytes:
    return text.encode("gb18030")


# --- the decoding order ------------------------------------------------------------------------------


def test_a_label_the_bytes_are_valid_in_is_taken_gb_labels_as_gb18030():
    assert read("朱镕基".encode("gbk"), "gb2312").text == "朱镕基"  # 镕 is GBK-only
    assert read(b"Forma\x8a\xe3o", "iso-8859-1").text == "FormaŠão"  # windows-1252, as browsers read latin-1


def test_bytes_invalid_in_their_label_are_read_by_evidence():
    assert read("张三".encode("gbk"), "utf-8").text == "张三"
    assert read("Formação".encode("cp1252"), "us-ascii").text == "Formação"


def test_a_charset_declared_elsewhere_wins_when_its_reading_is_plausible():
    assert read("謝謝".encode("big5")).text == "谅谅"  # alone, two Big5 characters are also plausible GBK
    assert read("謝謝".encode("big5"), None, ["big5"]).text == "謝謝"
    assert read("张三1.jpg".encode("gbk"), None, ["iso-8859-1"]).text == "张三1.jpg"  # "ÕÅÈý1.jpg" is no Latin
    assert read("叶志伟".encode("gbk"), None, ["utf-8"]).text == "叶志伟"  # valid UTF-8, but misread GBK ("Ҷ־ΰ")


def test_undeclared_latin1_is_not_read_as_gb18030():
    """The issue's example: "Formação" decodes as GB18030 ("Forma玢o"), but that is not Chinese text."""
    data = "Formação".encode("cp1252")
    assert data.decode("gb18030") == "Forma玢o"
    assert not plausible_chinese("Forma玢o")
    assert read(data) == read(data)  # a pure function
    assert (read(data).text, read(data).codec) == ("Formação", "cp1252")


def test_an_undeclared_big5_subject_from_hinet_reads_as_big5():
    """The raw Subject of imap_tools' tests/messages_data/error_emails/content_transfer_encoding_empty
    (msa.hinet.net): as GBK it decodes strictly, into kana and private-use code points."""
    assert not plausible_chinese(HINET_SUBJECT.decode("gb18030"))
    assert read(HINET_SUBJECT).text == read(HINET_SUBJECT, None, ["big5"]).text
    assert read(HINET_SUBJECT).text == ("4d8119\u3000(大補泡麵專賣) 大家說英語 每日聽MP3 (2004年6月份) 繁體中文光碟版 "
                                        "(英語教學)\u30008afb90")


@pytest.mark.parametrize(("text", "codec"), [("東京都の資料.pdf", "cp932"), ("【臺北市】推薦材料", "cp950"),
                                             ("Müller.pdf", "cp1252"), ("张老师", "gb18030"), ("张三1.jpg", "utf-8")])
def test_each_candidate_reads_its_own_text(text, codec):
    assert read(text.encode(codec)).text == text


def test_short_gbk_names_that_are_valid_utf8_read_as_gbk_and_utf8_latin_stays_utf8():
    assert "钱眉伟".encode("gbk").decode("utf-8") == "Ǯüΰ"
    assert read("钱眉伟".encode("gbk")).text == "钱眉伟"
    assert read("叶志伟1.jpg".encode("gbk")).text == "叶志伟1.jpg"
    assert read("Café.jpg".encode()).text == "Café.jpg"
    assert read("Иванов.doc".encode()).text == "Иванов.doc"


def test_nothing_plausible_stays_u_fffd_keeping_what_is_certain():
    assert read(bytes(range(0x80, 0xA0)) + b".jpg") == read(bytes(range(0x80, 0xA0)) + b".jpg")
    assert read(bytes(range(0x80, 0xA0)) + b".jpg").text == "\ufffd.jpg"
    assert read(bytes(range(0x80, 0xA0))).codec is None
    cut = "【沙坪坝区】推荐材料（第一批）".encode("gbk")[:-1]  # the last character lost its trail byte
    assert read(cut).text == "【沙坪坝区】推荐材料（第一批\ufffd"
    # a UTF-8 client's reply prefix before a raw GBK subject: each run is read on its own evidence
    assert read("回复: ".encode() + "推荐材料".encode("gbk")).text == "回复: 推荐材料"
    assert read("Отчёт.doc".encode("cp1251")).text == "\ufffd.doc"  # no candidate reads windows-1251


def test_a_text_file_cut_inside_a_character_by_the_size_cap_is_no_error():
    assert decode_text("张三李四".encode("gbk") + "王".encode("gbk")[:1]) == "张三李四"
    assert decode_text("Relatório de Formação\r\n".encode("cp1252")) == "Relatório de Formação\r\n"
    assert decode_text("推薦工作情況報告".encode("big5")) == "推薦工作情況報告"


# --- plausibility, measured (see the module docstring) ----------------------------------------------


def _random_latin(rng: random.Random, n: int) -> list[str]:
    accented = [chr(c) for c in range(0xC0, 0x100) if chr(c).islower()]  # cased with the word below
    out = []
    for _ in range(n):
        word = [rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(3, 10))]
        for _ in range(rng.randint(1, 2)):
            word[rng.randrange(len(word))] = rng.choice(accented)
        w = "".join(word)
        out.append(rng.choice([w, w.capitalize(), w.upper(), w + ".pdf", w + " " + rng.choice(LATIN)]))
    return out


def _rates(texts: list[str], codec: str) -> tuple[float, float]:
    """(share read as plausible Chinese, share `read` gets right)."""
    data = [t.encode(codec) for t in texts]
    chinese = sum(plausible_chinese(d.decode("gb18030", "replace")) and "\ufffd" not in d.decode("gb18030", "replace")
                  for d in data)
    right = sum(read(d).text == t for d, t in zip(data, texts, strict=True))
    return chinese / len(texts), right / len(texts)


def test_accented_latin_words_are_not_plausible_chinese():
    assert _rates(LATIN, "cp1252") == (pytest.approx(0.0, abs=0.02), 1.0)
    assert _rates([w.upper() for w in LATIN], "cp1252")[1] >= 0.98
    chinese, right = _rates(_random_latin(random.Random(2021), 2000), "cp1252")
    assert chinese <= 0.01 and right >= 0.97


def _pairs(codec: str, leads: range, trails: list[int], keep) -> list[str]:
    out = []
    for lead in leads:
        for trail in trails:
            try:
                ch = bytes([lead, trail]).decode(codec)
            except UnicodeDecodeError:
                continue
            if keep(bytes([lead, trail])):
                out.append(ch)
    return out


def _random_big5(rng: random.Random, n: int) -> list[str]:
    chars = _pairs("cp950", range(0xA4, 0xC7), [*range(0x40, 0x7F), *range(0xA1, 0xFF)], lambda b: b <= b"\xc6\x7e")
    return ["".join(rng.choice(chars) for _ in range(rng.randint(2, 10))) for _ in range(n)]


def _random_sjis(rng: random.Random, n: int) -> list[str]:
    kanji = _pairs("cp932", range(0x88, 0x99), [*range(0x40, 0x7F), *range(0x80, 0xFD)],
                   lambda b: b"\x88\x9f" <= b <= b"\x98\x72")
    chars = kanji + [chr(c) for c in range(0x3041, 0x3094)]
    return ["".join(rng.choice(chars) for _ in range(rng.randint(2, 10))) for _ in range(n)]


def _random_names(rng: random.Random, n: int) -> list[str]:
    return [rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.randint(1, 2))) for _ in range(n)]


def test_big5_and_shift_jis_texts_are_read_in_their_own_charsets():
    assert _rates(SJIS, "cp932") == (0.0, 1.0)
    assert _rates(_random_sjis(random.Random(2021), 1000), "cp932") == (0.0, 1.0)
    chinese, right = _rates(BIG5, "cp950")
    assert right >= 0.85 and chinese <= 0.15
    chinese, right = _rates(_random_big5(random.Random(2021), 1000), "cp950")
    assert right >= 0.8 and chinese <= 0.2


def test_real_chinese_names_and_subjects_are_plausible_chinese():
    assert _rates(CHINESE, "gb18030") == (1.0, 1.0)
    assert _rates(_random_names(random.Random(2021), 2000), "gbk")[1] >= 0.998
    assert all(plausible_chinese(name) for name in ("刘䶮", "王𠇔", "李𪚥", "陶喆", "朱镕基"))


@pytest.mark.parametrize("reading", ["Forma玢o", "INFORMA乔O", "A敲O", "JO鬃", "Caf脙", "い地チ瓣", "\ue4c6推荐",
                                     "推\x85荐", "推荐\u0378"])
def test_readings_that_are_not_chinese(reading):
    """Wedged in Latin words, lone beside letters, kana and private use (Big5 read as GBK), C1 controls,
    unassigned code points."""
    assert not plausible_chinese(reading)


# --- zip names ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "codec"), [("Документы/Иванов Иван.jpg", "cp866"), ("Müller Größe.pdf", "cp850"),
                                             ("叶志伟1.jpg", "gbk"), ("谩.jpg", "gbk"), ("Formação.pdf", "cp850")])
def test_zip_name_candidates_include_the_dos_code_pages(name, codec):
    assert read(name.encode(codec), candidates=ZIP_CANDIDATES).text == name


# --- Han names in every block ------------------------------------------------------------------------


@pytest.mark.parametrize("ch", ["䶮", "张", "𠇔", "𪚥", "\U0002a700", "\U0002b740", "\U0002b820", "\U0002ceb0",
                                "\U00030000", "\U00031350", "\uf900", "\U0002f800"])
def test_every_han_block_is_han(ch):
    assert is_han(ch)


def test_han_ranges_are_the_unicode_blocks_and_nothing_else():
    assert not any(is_han(ch) for ch in "aА・ー々〇，")
    assert (0x3400, 0x4DBF) in HAN_RANGES and (0x20000, 0x2A6DF) in HAN_RANGES and (0x31350, 0x323AF) in HAN_RANGES


@pytest.mark.parametrize("name", ["刘䶮", "王𠇔", "𪚥𪚥"])
def test_photo_names_in_extension_blocks_name_a_person(name):
    assert parse_photo_name(f"{name}1.jpg") == (name, 1)
    assert parse_photo_name(f"{name}（3）.JPG") == (name, 3)
    assert person_from_name(f"{name}证件照.jpg") == name


def _docx_without_name_label(title: str) -> bytes:
    doc = Document()
    doc.add_paragraph(title)
    doc.add_paragraph("主要事迹：长期扎根基层一线开展科技服务。")
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


@pytest.mark.parametrize(("filename", "text_name"), [("推荐表（刘䶮）.docx", False), ("附件1：王𠇔推荐表.docx", False),
                                                     ("推荐表.docx", True)])
def test_a_form_is_tied_to_a_person_named_in_an_extension_block(filename, text_name):
    """By its file name (推荐表（刘䶮）, the form's text has no 姓名 cell) or by the 姓名 cell of its text."""
    expected = "刘䶮" if "刘䶮" in filename or text_name else "王𠇔"
    data = documents.form_docx(expected, "沙坪坝区科协") if text_name else _docx_without_name_label("推荐表")
    facts = parse_message(build_message(sender="spbkx@qq.com", sender_name="沙坪坝区科协", to="kxj@cq.gov.cn",
                                        subject="【沙坪坝区】推荐材料", body="见附件", attachments=[(filename, data)]),
                          SETTINGS)
    [form] = facts.files
    assert (form.role, form.person) == ("form", expected)


def test_a_document_named_only_for_its_person_is_their_form():
    facts = parse_message(build_message(sender="spbkx@qq.com", sender_name="沙坪坝区科协", to="kxj@cq.gov.cn",
                                        subject="【沙坪坝区】推荐材料", body="见附件",
                                        attachments=[("刘䶮.docx", _docx_without_name_label("个人简介"))]), SETTINGS)
    [form] = facts.files
    assert (form.role, form.person) == ("form", "刘䶮")


def test_summary_rows_keep_extension_block_names():
    table = read_summary(documents.summary_xlsx("沙坪坝区科协", [person(p, "男", "1978.05", "研究员")
                                                                  for p in ("刘䶮", "王𠇔")]), "xlsx")
    assert [row.name for row in table.rows] == ["刘䶮", "王𠇔"]


# --- undecodable_text ------------------------------------------------------------------------------


def _zip_with_raw_name(raw_name: bytes, data: bytes) -> bytes:
    class Raw(zipfile.ZipInfo):
        def _encodeFilenameFlags(self):  # noqa: N802 - zipfile's own hook
            return raw_name, self.flag_bits & ~0x800

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(Raw("x", date_time=(2021, 5, 20, 10, 0, 0)), data)
    return buf.getvalue()


def test_u_fffd_left_in_headers_and_names_is_a_warning_naming_them():
    """Raw bytes no candidate reads: an Outlook Express 6 message (the repo's raw_gbk client) whose sender
    name and attachment name a relay re-wrote in windows-1251 (not a candidate: "Отчёт" is "Îò÷¸ò" in
    windows-1252, an incomplete pair in GBK and Big5), and a zip member named by bytes B0-B2 (box drawing
    in the DOS code pages, half-width kana in Shift_JIS, a GBK pair and a lone lead byte)."""
    jpeg = images.life_photo_jpeg(3)
    raw = build_message(sender="spbkx@163.com", sender_name="沙坪坝区科协", to="kxj@cq.gov.cn",
                        subject="【沙坪坝区】推荐材料", body="请查收。", client="raw_gbk",
                        attachments=[("张三2.jpg", jpeg), ("材料.zip", _zip_with_raw_name(b"\xb0\xb1\xb2.jpg", jpeg))])
    raw = raw.replace("沙坪坝区科协".encode("gbk"), "Отдел".encode("cp1251"), 1)  # the display name
    raw = raw.replace("张三2.jpg".encode("gbk"), "Отчёт2.jpg".encode("cp1251"))
    facts = parse_message(raw, SETTINGS)
    found = sorted((f.subject, dict(f.params)) for f in facts.findings if f.code == "undecodable_text")
    assert facts.sender_name == "\ufffd"
    assert [f.display_name for f in facts.files] == ["\ufffd2.jpg", "材料.zip", "材料.zip/\ufffd.jpg"]
    assert found == [("From", {"where": "发件人", "text": "\ufffd"}),
                     ("材料.zip/\ufffd.jpg", {"where": "压缩包内文件名"}), ("\ufffd2.jpg", {"where": "附件名"})]


def test_a_message_whose_bytes_are_all_readable_has_no_such_warning():
    facts = parse_message(build_message(sender="spbkx@163.com", sender_name="沙坪坝区科协", to="kxj@cq.gov.cn",
                                        subject="【沙坪坝区】推荐材料", body="请查收。", client="raw_gbk",
                                        attachments=[("张三2.jpg", images.life_photo_jpeg(3))]), SETTINGS)
    assert [f.code for f in facts.findings if f.code == "undecodable_text"] == []
    assert (facts.subject, facts.sender_name, facts.files[0].display_name) == ("【沙坪坝区】推荐材料", "沙坪坝区科协",
                                                                               "张三2.jpg")


def test_the_messages_declared_charset_settles_an_undeclared_subject_and_sender():
    """A short raw Big5 subject and name, as hinet.net mail has them, with the body declaring big5: alone the
    subject is also plausible GBK ("谅谅"), the declaration makes it 謝謝."""
    raw = (b"From: " + "陳志明".encode("big5") + b" <3712f2@msa.hinet.net>\r\nTo: kxj@cq.gov.cn\r\n"
           b"Subject: " + "謝謝".encode("big5") + b"\r\nMIME-Version: 1.0\r\n"
           b'Content-Type: text/html; charset="big5"\r\nContent-Transfer-Encoding:\r\n\r\n'
           + "<p>附件為推薦材料</p>".encode("big5") + b"\r\n")
    facts = parse_message(raw, SETTINGS)
    assert (facts.subject, facts.sender_name, facts.headers["subject"]) == ("謝謝", "陳志明", "謝謝")
    undeclared = raw.replace(b'; charset="big5"', b"")
    assert parse_message(undeclared, SETTINGS).subject == "谅谅"  # without it, GB18030 comes first
