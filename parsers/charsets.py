"""Bytes in a charset nobody declared, or declared wrongly, read by evidence: characters are never invented.

`read` decides, in this order, and stops at the first reading that holds:

1. the label the text carries itself (an RFC 2047 word, an RFC 2231 parameter, a body part's charset),
   when the bytes are valid in it. GB-family labels read as GB18030 (朱镕基 labelled gb2312), ISO-8859-1
   as its superset windows-1252, as browsers and mail clients do;
2. the charsets the part or the message declares elsewhere (`declared`), when the bytes are valid in
   one and the reading is plausible for it: a body's iso-8859-1 is weak evidence for a header, and GBK
   bytes read as "ÕÅÈý" are not plausible Latin text, so they go on down the list;
3. strict UTF-8 without C1 controls ("ÂŸ" is windows-1252), unless the reading is what short GBK names
   look like misread (叶志伟 as "Ҷ־ΰ": no Han, U+0080..U+07FF, not words of one everyday alphabet) and
   the GB18030 reading is plausible;
4. strict GB18030, only when the reading is plausible Chinese (`plausible_chinese`);
5. Big5 (cp950), Shift_JIS (cp932) and windows-1252 (zip names: the DOS code pages cp866 and cp850,
   which Russian and Western Windows write, instead of windows-1252), each kept when it decodes and is
   plausible for its script, charset-normalizer judging the survivors (it may reject them all);
6. nothing plausible for the whole: ASCII is kept, and each run of 8-bit bytes between ASCII that is
   valid UTF-8, or plausible GB18030 of two characters or more, on its own (a UTF-8 client's "回复："
   before a raw GBK subject); a last run cut inside its last character keeps its whole characters;
   every other run is one U+FFFD (a declared multi-byte label other than UTF-8 decodes with
   replacement in that label). `undecodable_findings` turns what is left into `undecodable_text` warnings.

Plausible Chinese (GB18030), concretely: no private-use, unassigned, surrogate or control code point
(C0 other than tab/CR/LF, C1); no kana, Greek, Cyrillic, pinyin or bopomofo letters (GB2312 rows 4-8,
where Big5 bytes land: 中華民國 reads as "い地チ瓣"); at least half of the non-ASCII letters among the
6,763 hanzi of GB2312 (levels 1 and 2, bytes B0A1-F7FE: names use level 2, 梓 婷 妍); and none of the
shapes Latin-1 accents take when read as double-byte: 1-2 non-ASCII characters inside a Latin word
("Forma玢o", "A敲O"), or only lone characters beside Latin letters ("JO鬃"). Big5 and Shift_JIS
readings pass the same test against their own everyday sets (Big5 常用字 A440-C67E; JIS level-1 kanji
and the kana) and must hold at least one of them. Single-byte readings must be one alphabet per word,
have no box drawing or stray signs (none glued to an accented letter or another sign: "ë÷", "°±²"), no
word of two or more letters made only of accented letters ("ÕÅÈý" is GBK, not Latin) and no capital
after a small letter inside a word ("уехЩ" is GBK read as KOI8-R). The numbers
these rules were chosen on are in tests/parsers/test_charsets.py.
"""

from __future__ import annotations

import codecs
import itertools
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from email.parser import BytesParser
from email.policy import compat32
from functools import cache
from typing import TYPE_CHECKING

import charset_normalizer

from mailintake.common import findings as F
from mailintake.common.vocab import Role

if TYPE_CHECKING:  # types only: mime imports this module (through filenames)
    from mailintake.parsers.facts import ExtractedFile
    from mailintake.parsers.mime import MimeMessage

# Han ideographs, wherever a person's name may be written with them: the unified block, Extensions A–I
# and the compatibility ideographs (刘䶮, 𠇔, 𪚥 are ordinary names).
HAN_RANGES: tuple[tuple[int, int], ...] = (
    (0x3400, 0x4DBF),  # Extension A
    (0x4E00, 0x9FFF),  # CJK Unified Ideographs
    (0xF900, 0xFAFF),  # Compatibility Ideographs
    (0x20000, 0x2A6DF),  # Extension B
    (0x2A700, 0x2B73F),  # Extension C
    (0x2B740, 0x2B81F),  # Extension D
    (0x2B820, 0x2CEAF),  # Extension E
    (0x2CEB0, 0x2EBEF),  # Extension F
    (0x2EBF0, 0x2EE5F),  # Extension I
    (0x2F800, 0x2FA1F),  # Compatibility Ideographs Supplement
    (0x30000, 0x3134F),  # Extension G
    (0x31350, 0x323AF),  # Extension H
)
HAN_CHARS = "".join(f"\\U{lo:08x}-\\U{hi:08x}" for lo, hi in HAN_RANGES)  # inside a regex [...]
HAN = f"[{HAN_CHARS}]"  # one Han ideograph, as a regex
_HAN = re.compile(HAN)

# Labels that senders put on GBK/GB18030 bytes: decoding with the superset never loses a character.
_GB_LABELS = frozenset(
    {"gb2312", "gbk", "gb18030", "cp936", "ms936", "x-gbk", "gb_2312-80", "euc-cn", "x-euc-cn",
     "csgb2312", "chinese", "936", "hz-gb-2312"}
)
_LATIN1_LABELS = frozenset({"iso-8859-1", "iso8859-1", "latin1", "latin-1", "l1", "iso_8859-1", "cp819", "ibm819"})
_TEXT_CANDIDATES = ("cp950", "cp932", "cp1252")
ZIP_CANDIDATES = ("cp950", "cp932", "cp866", "cp850")
_CJK_CODECS = frozenset({"gb18030", "cp950", "big5", "cp932", "shift_jis"})
_ANALYSED_CHARS = 4000  # plausibility looks at the start of long texts only
_MIN_COMMON_SHARE = 0.5
# charset-normalizer's mess ratio above which it rejects a reading. Its default, 0.2, is for pages of text;
# on a name or a subject real words score up to 0.5 ("AÇÃO") and mojibake 0.8–1.0 ("Ã©tÃ©", "ÕÅÈý").
_JUDGE_MAX_MESS = 0.6
_LATIN_MARKS = frozenset("°©®™€£¥§²³¹¼½¾×÷±¢")  # signs that never touch an accented letter
_LATIN_SYMBOLS = frozenset("°©®™€£¥§µ²³¹¼½¾ªº«»‹›„“”‘’‚–—…•·×÷±¿¡¢\xa0")
_ALPHABETS = {"cp1252": {"LATIN"}, "iso8859-1": {"LATIN"}, "cp850": {"LATIN"}, "cp437": {"LATIN"},
              "cp866": {"LATIN", "CYRILLIC"}, "utf-8": {"LATIN", "CYRILLIC"}}  # utf-8: misread-GBK test only
_NON_ASCII_LETTER = r"[^\x00-\x7f\u00b7\u2000-\u206f\u3000-\u303f\uff00-\uff60\uffe0-\uffef]"  # not punctuation
_WEDGED = re.compile(r"([A-Za-z]+)([^\x00-\x7f]{1,2})(?=([A-Za-z]+))")
_LONE = re.compile(rf"(?<!{_NON_ASCII_LETTER}){_NON_ASCII_LETTER}(?!{_NON_ASCII_LETTER})")
# the letters of GB2312 rows 4-8 (kana, Greek, Cyrillic, pinyin, bopomofo): GBK has them, Chinese text does not
_NOT_IN_CHINESE = re.compile(r"[\u3041-\u30ff\uff66-\uff9f\u0391-\u03c9\u0401-\u0451\u0100-\u01dc\u3105-\u3129]")
_C1 = re.compile("[\x80-\x9f]")
_FFFD_RUN = re.compile("\ufffd+")
_SURROGATE = re.compile("[\ud800-\udfff]")  # utf-7 and unicode-escape decode "+2AA-", "\\ud800" to lone surrogates
_RUNS_READ_BYTES = 256 * 1024  # beyond this, an unreadable text's 8-bit runs are not read one by one
_WORD_SPLIT = re.compile(r"[\s\d!-/:-@\[-`{-~]+")  # whitespace, digits, ASCII punctuation


@dataclass(frozen=True)
class Reading:
    text: str
    codec: str | None  # None: no reading was plausible, `text` keeps U+FFFD where the bytes were


def charset_codec(label: str | None) -> str | None:
    """The codec for a declared charset label: GB-family labels become gb18030, ISO-8859-1 windows-1252;
    None for no label or one Python does not know."""
    if not label:
        return None
    name = label.strip().strip('"').strip("'").lower()
    if name in _GB_LABELS:
        return "gb18030"
    if name in _LATIN1_LABELS:
        return "cp1252"
    try:
        info = codecs.lookup(name)
    except (LookupError, ValueError):
        return None
    return info.name if getattr(info, "_is_text_encoding", True) else None  # not base64, zlib, rot13


def read(data: bytes, label: str | None = None, declared: Iterable[str | None] = (),
         candidates: Sequence[str] = _TEXT_CANDIDATES, partial: bool = False) -> Reading:
    """`data` as text by the evidence above. `partial`: the bytes may end inside a character (a size cap
    cut them), which is then no error."""
    own = charset_codec(label)
    if own is not None:
        text = _strict(data, own, partial)
        if text is None and own == "cp1252":
            text = _strict(data, "latin-1", partial)
        if text is not None:
            return Reading(text, own)
    if data.isascii():
        return Reading(data.decode("ascii"), "ascii")
    for codec in _declared_order(declared, own):
        text = _strict(data, codec, partial)
        if text is not None and plausible(text, codec):
            return Reading(text, codec)
    utf8 = _strict(data, "utf-8", partial)
    if utf8 is not None and _C1.search(utf8):
        utf8 = None  # U+0080..U+009F in valid UTF-8 is windows-1252 misread ("ÂŸ" is C2 9F)
    gb = _strict(data, "gb18030", partial)
    if utf8 is not None and not (_looks_like_misread_gbk(utf8) and gb is not None and plausible_chinese(gb)):
        return Reading(utf8, "utf-8")
    if gb is not None and plausible_chinese(gb):
        return Reading(gb, "gb18030")
    judged = _judged(data, candidates, partial)
    if judged is not None:
        return judged
    return Reading(_unguessed(data, own, partial), None)


def plausible(text: str, codec: str) -> bool:
    """Whether `text`, read with `codec`, looks like text written in it (see the module docstring).
    Charsets without a model here (EUC-KR, KOI8-R...) only have to be clean, and one alphabet a word
    when they are single-byte."""
    codec = codecs.lookup(codec).name
    if codec == "utf-8":  # a body's utf-8 is no evidence for a GBK name that happens to be valid UTF-8
        return _clean(text) and not _looks_like_misread_gbk(text)
    if codec == "gb18030":
        return plausible_chinese(text)
    if codec in _CJK_CODECS:  # Big5 or Shift_JIS without a single ideograph or kana is no evidence ("Garc｛")
        return _plausible_cjk(text, _common_set(codec), letterless=False)
    if codec in _ALPHABETS or _accepts_anything(codec):
        return _plausible_alphabetic(text, codec)
    return _clean(text)  # the other multi-byte charsets: valid is the evidence


def plausible_chinese(text: str) -> bool:
    """A GB18030 reading that is Chinese text, not Latin-1, Big5 or Shift_JIS bytes read as GBK."""
    return _plausible_cjk(text, _common_set("gb18030"), chinese=True)


def is_han(ch: str) -> bool:
    return bool(_HAN.match(ch))


def _looks_like_misread_gbk(text: str) -> bool:
    """A valid UTF-8 reading that is really GBK: short GBK names often are valid UTF-8 (叶志伟 reads as
    "Ҷ־ΰ"; so do 18% of single GB2312 level-1 hanzi, 3% of random pairs). Such readings have no Han,
    land in U+0080..U+07FF, and are not words of one alphabet ("Café", "Иванов" are)."""
    text = text[:_ANALYSED_CHARS]
    if _HAN.search(text) or not any("\x80" <= ch < "\u0800" for ch in text):
        return False
    return not _plausible_alphabetic(text, "utf-8")


# --- the parsed message ----------------------------------------------------------------------------

def reread_headers(raw: bytes, mime: MimeMessage) -> None:
    """The subject and the sender's name read again with the charsets the message declares (step 2 above)
    when their raw header held undeclared 8-bit bytes: the MIME walk decodes headers before it has seen the
    parts that declare anything. `undecodable_findings` then warns of what is still unreadable."""
    from mailintake.parsers import filenames  # filenames decodes with this module: imported when used

    end = re.search(rb"\r?\n\r?\n", raw)
    try:
        head = BytesParser(policy=compat32).parsebytes(raw[: end.end() if end else len(raw)], headersonly=True)
    except Exception:  # the MIME walk already read what it could
        return
    subject, sender = filenames.raw_header(head, "subject"), filenames.raw_header(head, "from")
    if not any(value and filenames.has_8bit(value) for value in (subject, sender)):
        return
    declared = filenames.message_charsets(raw)
    if not declared:
        return
    if subject and filenames.has_8bit(subject):
        mime.subject = filenames.header_text(subject, declared)
        if "subject" in mime.headers:
            mime.headers["subject"] = mime.subject
    if sender and filenames.has_8bit(sender):
        mime.sender_name = filenames.sender_name(sender, declared)


def undecodable_findings(mime: MimeMessage, files: list[ExtractedFile]) -> list[F.Finding]:
    """One `undecodable_text` warning for each header and file name the decoders had to leave U+FFFD in."""
    found = []
    if "\ufffd" in (mime.subject or ""):
        found.append(F.make("undecodable_text", "Subject", where="邮件主题", text=mime.subject))
    if "\ufffd" in (mime.sender_name or ""):
        found.append(F.make("undecodable_text", "From", where="发件人", text=mime.sender_name))
    for f in files:
        if "\ufffd" in f.display_name:
            in_archive = f.parent is not None and files[f.parent].role == Role.ARCHIVE
            found.append(F.make("undecodable_text", f.display_name, where="压缩包内文件名" if in_archive else "附件名"))
    return found


# --- deciding --------------------------------------------------------------------------------------

def _strict(data: bytes, codec: str, partial: bool) -> str | None:
    try:
        text = codecs.getincrementaldecoder(codec)("strict").decode(data, final=not partial)
    except (LookupError, UnicodeError, ValueError, TypeError):  # unknown, non-text or NUL-bearing codecs too
        return None
    return None if _SURROGATE.search(text) else text  # a lone surrogate is no text: no database can store it


def _declared_order(declared: Iterable[str | None], own: str | None) -> list[str]:
    """Distinct declared codecs, those that accept any byte (single-byte code pages) after the others."""
    codecs_ = [c for c in dict.fromkeys(charset_codec(label) for label in declared) if c and c != own]
    return sorted(codecs_, key=_accepts_anything)


@cache
def _accepts_anything(codec: str) -> bool:
    return _strict(bytes(range(0x80, 0x100)), codec, False) is not None


def _judged(data: bytes, candidates: Sequence[str], partial: bool) -> Reading | None:
    """The candidates that decode plausibly, charset-normalizer choosing between them (or rejecting all)."""
    readings = {}
    for codec in candidates:
        text = _strict(data, codec, partial)
        if text is not None and plausible(text, codec):
            readings[codecs.lookup(codec).name] = text
    if not readings:
        return None
    try:
        matches = charset_normalizer.from_bytes(data, cp_isolation=list(readings), threshold=_JUDGE_MAX_MESS,
                                                enable_fallback=False)
    except Exception:  # the judge failing must not cost the message; no verdict is no reading
        return None
    for match in matches:
        codec = _codec_name(match.encoding)
        if codec in readings:
            return Reading(readings[codec], codec)
    return None


def _codec_name(name: str) -> str | None:
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def _unguessed(data: bytes, own: str | None, partial: bool) -> str:
    """No reading holds for the whole: keep what is certain, U+FFFD for the rest.

    A declared multi-byte label decodes with replacement in that label. Otherwise each run of 8-bit
    bytes between ASCII is kept when it is, on its own, valid UTF-8 that is not misread GBK, or two or
    more characters of plausible GB18030 not touching a Latin letter (a UTF-8 client's "回复：" before a
    raw GBK subject); a last run cut inside its last character (a truncated header) keeps its whole
    characters; anything else is one U+FFFD. Past `_RUNS_READ_BYTES` only ASCII is kept.
    """
    if own is not None and own not in ("utf-8", "ascii") and not _accepts_anything(own):
        try:
            text = codecs.getincrementaldecoder(own)("replace").decode(data, final=not partial)
            return _SURROGATE.sub("\ufffd", text)
        except (LookupError, UnicodeError, ValueError, TypeError):
            pass
    if len(data) > _RUNS_READ_BYTES:  # a big undecodable text (binary named .txt): ASCII only, quickly
        return _FFFD_RUN.sub("\ufffd", data.decode("ascii", "replace"))
    pieces = re.split(rb"([\x80-\xff]+)", data)
    out = []
    for i, run in enumerate(pieces):
        if i % 2 == 0:
            out.append(run.decode("ascii"))
            continue
        by_letter = pieces[i - 1][-1:].isalpha() or pieces[i + 1][:1].isalpha()
        out.append(_run_text(run, by_letter, cut=i == len(pieces) - 2 and not pieces[-1]))
    return "".join(out)


def _run_text(run: bytes, by_letter: bool, cut: bool) -> str:
    """`cut`: the run ends the text, so its last character may have lost bytes (a truncated header)."""
    if len(run) < 2:
        return "\ufffd"  # one 8-bit byte is no character in UTF-8 or GB18030
    for codec in ("utf-8", "gb18030"):
        try:
            text = run.decode(codec)
        except UnicodeDecodeError:
            continue
        if _run_holds(text, codec, by_letter):
            return text
    for codec in ("utf-8", "gb18030") if cut else ():  # without the character cut at its end
        try:
            text = codecs.getincrementaldecoder(codec)("strict").decode(run, final=False)
        except UnicodeDecodeError:
            continue
        if text and _run_holds(text, codec, by_letter):
            return text + "\ufffd"
    return "\ufffd"


def _run_holds(text: str, codec: str, by_letter: bool) -> bool:
    if codec == "utf-8":
        return not _C1.search(text) and not _looks_like_misread_gbk(text)
    return len(text) >= 2 and not by_letter and plausible_chinese(text)


# --- plausibility ----------------------------------------------------------------------------------

def _clean(text: str) -> bool:
    """No private-use, unassigned, surrogate or control code point (tab, CR and LF aside), no U+FFFD."""
    for ch in text[:_ANALYSED_CHARS]:
        if ch.isascii():
            if ch < " " and ch not in "\t\r\n" or ch == "\x7f":
                return False
            continue
        if ch == "\ufffd" or unicodedata.category(ch) in ("Cc", "Co", "Cn", "Cs") and not is_han(ch):
            return False  # (Extension H and I are unassigned in this Python's Unicode 14 tables)
    return True


def _plausible_cjk(text: str, common: frozenset[str], letterless: bool = True, chinese: bool = False) -> bool:
    text = text[:_ANALYSED_CHARS]
    if not _clean(text) or _wedged_in_latin_word(text) or _only_lone_ideographs_by_letters(text):
        return False
    if chinese and _NOT_IN_CHINESE.search(text):
        return False  # no kana or Greek in Chinese names and subjects: Big5 read as GBK has ("い地チ瓣": 中華民國)
    letters = [ch for ch in text if not ch.isascii() and ch.isalpha() and not _fullwidth_ascii(ch)]
    if not letters:  # punctuation only (“”、（）): acceptable in Chinese, nothing to weigh
        return letterless
    return sum(ch in common for ch in letters) >= _MIN_COMMON_SHARE * len(letters)


def _fullwidth_ascii(ch: str) -> bool:
    return "\uff01" <= ch <= "\uff5e"


def _wedged_in_latin_word(text: str) -> bool:
    """1–2 non-ASCII characters inside a Latin word: how accented Latin letters look when their bytes are
    read as a double-byte charset ("Forma玢o", "A敲O", "M〕ler"). Chinese text rarely does this ("A区B座"
    does); punctuation between two single letters ("A、B") is Chinese, so it counts in longer words only."""
    for match in _WEDGED.finditer(text):
        if re.search(_NON_ASCII_LETTER, match[2]) or len(match[1]) + len(match[3]) >= 3:
            return True
    return False


def _only_lone_ideographs_by_letters(text: str) -> bool:
    """Every non-ASCII letter stands alone beside an ASCII letter ("JO鬃", "FXDBANK林", "争m"): Latin
    words whose accented letters were read as double-byte. Chinese names and subjects have runs."""
    runs = re.findall(rf"{_NON_ASCII_LETTER}+", text)
    if not runs or any(len(run) > 1 for run in runs):
        return False
    return all(_by_ascii_letter(text, m.start()) for m in _LONE.finditer(text))


def _by_ascii_letter(text: str, i: int) -> bool:
    return (i > 0 and text[i - 1].isascii() and text[i - 1].isalpha()) or (
        i + 1 < len(text) and text[i + 1].isascii() and text[i + 1].isalpha())


def _plausible_alphabetic(text: str, codec: str) -> bool:
    """Words of one alphabet each, no box drawing or stray signs, no word of accented letters only.

    For a valid UTF-8 reading (`codec` "utf-8", asked by `_looks_like_misread_gbk`) the test is stricter,
    because GBK pairs land on the same code points: only everyday Latin and Russian letters count,
    Greek does not (魏伟 reads as "κΰ"), combining accents only after an ASCII letter (macOS "Cafe\u0301"),
    and a reading without a word of two letters or more with a non-ASCII one ("£", "á") is no evidence.
    """
    text = text[:_ANALYSED_CHARS]
    if not _clean(text):
        return False
    alphabets = _ALPHABETS.get(codec)  # None: any alphabet, one per word
    for i, ch in enumerate(text):
        if ch.isascii():
            continue
        if "\u0300" <= ch <= "\u036f":
            if i == 0 or not (text[i - 1].isascii() and text[i - 1].isalpha()):
                return False
        elif ch.isalpha():
            if (alphabets is not None and _script(ch) not in alphabets) or (
                    codec == "utf-8" and not _everyday_letter(ch)):
                return False
        elif ch not in _LATIN_SYMBOLS and ch != "№":
            return False  # box drawing, ¤ ¦ ¨ ¯ ´ ¸ and the like: bytes of another charset
        elif ch in _LATIN_MARKS and any(not c.isascii() and (c.isalpha() or c in _LATIN_MARKS)
                                        for c in (text[i - 1 : i] + text[i + 1 : i + 2])):
            return False  # "ë÷", "°±²": signs glued to accents or to each other are double-byte characters
        elif ch not in "’·" and 0 < i < len(text) - 1 and text[i - 1].isalpha() and text[i + 1].isalpha():
            return False  # "d‹è": a quote or sign inside a word (only ’ and the Catalan l·l belong there)
    evidence = False  # a word of two or more letters with a non-ASCII one in it
    for word in _WORD_SPLIT.split(text):
        letters = [ch for ch in word if ch.isalpha()]
        if len({_script(ch) for ch in letters}) > 1:
            return False  # "MБller": one word, two alphabets
        if len(letters) >= 2 and all(not ch.isascii() for ch in letters) and _script(letters[0]) == "LATIN":
            return False  # "ÕÅÈý": a Latin word of accented letters only is double-byte text misread
        if any(a.islower() and b.isupper() and not b.isascii() for a, b in itertools.pairwise(letters)):
            return False  # "уехЩ": a capital after a small letter, inside a word, is another charset's byte
        evidence = evidence or (len(letters) >= 2 and any(not ch.isascii() for ch in letters))
    return codec != "utf-8" or evidence


def _everyday_letter(ch: str) -> bool:
    """Latin-1 and Latin Extended-A letters, Romanian and Vietnamese hooks, the Russian alphabet."""
    return ("\u00c0" <= ch <= "\u017f" or "\u0218" <= ch <= "\u021b" or ch in "\u01a0\u01a1\u01af\u01b0"
            or "\u0410" <= ch <= "\u044f" or ch in "\u0401\u0451")


def _script(ch: str) -> str:
    if ch.isascii() or ch in "ªµº":
        return "LATIN"
    return unicodedata.name(ch, "UNKNOWN").split(" ", 1)[0]


@cache
def _common_set(codec: str) -> frozenset[str]:
    """The everyday characters of a CJK charset, derived from its own byte ranges (no data file)."""
    if codec == "gb18030":  # GB2312 levels 1 and 2: 6,763 hanzi (names use level 2: 梓 婷 妍 琦)
        return frozenset(_decode_pairs("gb2312", range(0xB0, 0xF8), range(0xA1, 0xFF)))
    if codec in ("cp950", "big5"):  # Big5 常用字 A440–C67E: 5,401 hanzi
        pairs = _decode_pairs("cp950", range(0xA4, 0xC7), [*range(0x40, 0x7F), *range(0xA1, 0xFF)])
        return frozenset(ch for ch in pairs if is_han(ch) and ch.encode("cp950") <= b"\xc6\x7e")
    # JIS X 0208 level-1 kanji 889F–9872 (2,965) and the kana
    kanji = _decode_pairs("cp932", range(0x88, 0x99), [*range(0x40, 0x7F), *range(0x80, 0xFD)])
    kana = [chr(c) for c in [*range(0x3041, 0x3097), *range(0x30A1, 0x30FB), 0x30FC]]
    level1 = [ch for ch in kanji if is_han(ch) and b"\x88\x9f" <= ch.encode("cp932") <= b"\x98\x72"]
    return frozenset([*level1, *kana])


def _decode_pairs(codec: str, leads: Iterable[int], trails: Iterable[int]) -> list[str]:
    out = []
    trails = list(trails)
    for lead in leads:
        for trail in trails:
            try:
                out.append(bytes([lead, trail]).decode(codec))
            except UnicodeDecodeError:
                continue
    return out
