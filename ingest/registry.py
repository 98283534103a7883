"""Recommending units: the shipped registry of district-level units, name normalisation, categories.

Units write their names many ways (渝中区科协, 石柱县, 高新区); one canonical name per unit keeps a
dossier together across e-mails. The districts, aliases and the region's wording (office suffixes, the
organisers' names, the words that make a name a society or an institution, the reply prefixes, …)
come from a data file: `campaign.registry_data`, by default the shipped data/chongqing_units.toml.
The config can add units, aliases, sender addresses and words.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from mailintake.common.errors import ConfigError
from mailintake.ingest.config import Config

_PUNCT = re.compile(r"[\s（）()\[\]【】〔〕“”\"'《》:：,，。、·\-—_]+")
_BREAK = re.compile(r"[（）()\[\]【】〔〕“”\"'《》:：,，。、·\-—_]+")  # _PUNCT but spaces: where a name ends
_SEALED = re.compile(r"[（(]\s*(盖章|公章|章)\s*[）)]")
_HANZI = re.compile(r"[\u3400-\u9fff]")
_DATE = re.compile(r"\d{4}\s*年\s*\d{1,2}\s*月|\d{4}[-./]\d{1,2}[-./]\d{1,2}")
DEFAULT_DATA = "chongqing_units.toml"
# Word lists a campaign's own data file may leave out: they are the form's wording, not the region's,
# so the 2021 lists apply. Districts, aliases, city prefixes and organisers are never inherited.
_WORD_LISTS = ("office_suffixes", "sentence_leads", "noise_words", "organisation_words", "society_words",
               "institution_words", "reply_prefixes")


class _DataFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    districts: list[str]
    aliases: dict[str, str] = {}
    city_prefixes: list[str] = []
    organisers: list[str] = []
    office_suffixes: list[str] | None = None
    sentence_leads: list[str] | None = None
    noise_words: list[str] | None = None
    organisation_words: list[str] | None = None
    society_words: list[str] | None = None
    institution_words: list[str] | None = None
    reply_prefixes: list[str] | None = None

    @field_validator("districts", "city_prefixes", "organisers", *_WORD_LISTS)
    @classmethod
    def _no_blank_words(cls, value: list[str] | None) -> list[str] | None:
        if value and any(not w.strip() for w in value):
            raise ValueError("must not contain an empty word (it would match every name)")
        return value


@dataclass(frozen=True)
class RegistryData:
    """One data file's contents: the districts, their aliases and the region's wording."""

    districts: tuple[str, ...]
    aliases: tuple[tuple[str, str], ...]
    city_prefixes: tuple[str, ...]
    organisers: tuple[str, ...]
    office_suffixes: tuple[str, ...]
    sentence_leads: tuple[str, ...]
    noise_words: tuple[str, ...]
    organisation_words: tuple[str, ...]
    society_words: tuple[str, ...]
    institution_words: tuple[str, ...]
    reply_prefixes: tuple[str, ...]


def _parse(text: str, origin: str, defaults: RegistryData | None) -> RegistryData:
    """Validate a data file; word lists it leaves out come from `defaults` (None: they are required)."""
    try:
        raw = _DataFile.model_validate(tomllib.loads(text))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"{origin}: not valid TOML: {exc}"]) from None
    except ValidationError as exc:
        raise ConfigError([f"{origin}: {'.'.join(str(p) for p in err['loc'])}: "
                           f"{err['msg'].removeprefix('Value error, ')}" for err in exc.errors()]) from None
    words: dict[str, tuple[str, ...]] = {}
    for key in _WORD_LISTS:
        value = getattr(raw, key)
        if value is None and defaults is None:
            raise ConfigError([f"{origin}: {key}: required key is missing"])
        words[key] = getattr(defaults, key) if value is None else tuple(value)
    return RegistryData(districts=tuple(raw.districts), aliases=tuple(raw.aliases.items()),
                        city_prefixes=tuple(raw.city_prefixes), organisers=tuple(raw.organisers), **words)


@cache
def _shipped(name: str = DEFAULT_DATA) -> RegistryData:
    """A data file shipped in mailintake/ingest/data, read once per process."""
    text = resources.files("mailintake.ingest").joinpath("data", name).read_text("utf-8")
    return _parse(text, f"mailintake/ingest/data/{name}", None if name == DEFAULT_DATA else _shipped())


@cache
def _own_file(path: Path) -> RegistryData:
    """A campaign's own data file, read once per process."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([f"campaign.registry_data: {path}: file not found"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([f"campaign.registry_data: {path}: cannot read: {exc}"]) from None
    return _parse(text, str(path), _shipped())


def registry_data(cfg: Config) -> RegistryData:
    """The data file the config names: a shipped file by bare name, else a path relative to the config."""
    name = cfg.campaign.registry_data
    if Path(name).name == name and resources.files("mailintake.ingest").joinpath("data", name).is_file():
        return _shipped(name)
    return _own_file(cfg.resolve(name).resolve())


def _merged(shipped: tuple[str, ...], extra: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys([*shipped, *extra]))


def _before_shorter(words: tuple[str, ...], extra: list[str]) -> tuple[str, ...]:
    """`words` in their order, each extra word inserted before the first word it ends with, so 党工委宣传部
    added to [..., 宣传部, ...] is stripped whole rather than leaving 党工委 behind."""
    out = list(words)
    for word in extra:
        if word not in out:
            out.insert(next((i for i, w in enumerate(out) if word.endswith(w)), len(out)), word)
    return tuple(out)


@cache
def _org_pattern(words: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile(r"([\u4e00-\u9fff]{2,30}(?:" + "|".join(map(re.escape, words)) + "))")


def district_names(cfg: Config) -> list[str]:
    shipped = registry_data(cfg).districts
    extra = [u.name for u in cfg.campaign.units if u.category == "district"]
    return list(shipped) + [n for n in extra if n not in shipped]


class Registry:
    def __init__(self, cfg: Config):
        data, campaign = registry_data(cfg), cfg.campaign
        self.categories: dict[str, str] = dict.fromkeys(data.districts, "district")
        self.aliases: dict[str, str] = dict(data.aliases)
        self.organisers: frozenset[str] = frozenset(map(_compact, _merged(data.organisers, campaign.organisers)))
        self._city_prefixes = _merged(data.city_prefixes, campaign.city_prefixes)
        # compared with names whose brackets and spaces are gone: "党工委宣传部（办公室）" -> 党工委宣传部办公室
        self._office_suffixes = tuple(dict.fromkeys(_before_shorter(
            tuple(map(_compact, data.office_suffixes)), [_compact(w) for w in campaign.office_suffixes])))
        self._sentence_leads = _merged(data.sentence_leads, campaign.sentence_leads)
        self._noise_words = _merged(data.noise_words, campaign.noise_words)
        org_words = _merged(data.organisation_words, campaign.organisation_words)
        self._org = _org_pattern(org_words) if org_words else None
        self._society_words = _merged(data.society_words, campaign.society_words)
        self._institution_words = _merged(data.institution_words, campaign.institution_words)
        self.reply_prefixes: tuple[str, ...] = _merged(data.reply_prefixes, campaign.reply_prefixes)
        self.senders: dict[str, str] = {}
        self.quotas: dict[str, int] = {}
        for u in cfg.campaign.units:
            self.categories[u.name] = u.category
            if u.quota is not None:
                self.quotas[u.name] = u.quota
            for alias in u.aliases:
                self.aliases[alias] = u.name
            for sender in u.senders:
                self.senders[sender.lower()] = u.name
        # The last character of the district names (区, 县): an office word that begins with it shares
        # it with the district ("渝北区委宣传部" is 渝北区 + 区委宣传部).
        self._level_chars = frozenset(n[-1] for n, c in self.categories.items() if c == "district")
        # longest first, so 万盛经开区 wins over 万盛 and 石柱土家族自治县 over 石柱县
        self._known = sorted([*self.categories, *self.aliases], key=len, reverse=True)

    def normalise(self, raw: str | None) -> str | None:
        """Canonical unit name for what a submitter wrote, or None when nothing is left.

        A district name with any of its offices is the district ("两江新区党工委宣传部（办公室）" ->
        两江新区); an organiser's name, before or after its office words are stripped, and a name that
        is only the city are never a unit."""
        if not raw:
            return None
        stages = self._office_stages(_compact(_SEALED.sub("", raw)).removeprefix("推荐单位"))
        if any(self._is_organiser(stage) for stage in stages):
            return None
        name = stages[-1]
        bare = self._without_city(name)
        for candidate in (name, bare):
            if candidate in self.categories:
                return candidate
            if candidate in self.aliases:
                return self.aliases[candidate]
        if not bare or len(name) < 2:
            return None
        return name

    def category(self, name: str) -> str | None:
        """district | society | institution, or None: a name the registry does not know and whose form
        does not say what it is (no society or institution word at its end) is no unit yet."""
        name = self.aliases.get(name, name)
        if name in self.categories:
            return self.categories[name]
        if name.endswith(self._society_words):
            return "society"
        if name.endswith(self._institution_words):
            return "institution"
        return None

    def find_in_text(self, text: str | None) -> str | None:
        """A unit named in free text (a subject, a filename, a report): bracketed first, then known names,
        then organisation names. A known district inside an organisation's name ("渝北区某某有限公司科协",
        "江津区中心医院") is where that organisation is, not the unit."""
        if not text:
            return None
        for bracketed in re.findall(r"[【\[〔]([^】\]〕]{2,40})[】\]〕]", text):
            if not _HANZI.search(bracketed):
                continue  # a mailing list's tag ("[tuijian] …") or a ticket number, never a unit's name
            unit = self.normalise(bracketed)
            if unit and unit not in self.organisers and not self._is_noise(unit):
                return unit
        compact = _compact(text)
        organisations = self._organisations(text)
        for known in self._known:
            unit = self.aliases.get(known, known)
            for at in _occurrences(compact, known):
                if not any(start <= at < end and other is not None and other != unit
                           for start, end, other in organisations):
                    return unit
        for _, _, unit in organisations:
            if unit and unit not in self.organisers and not self._is_noise(unit):
                return unit
        return None

    def find_signatory(self, text: str | None) -> str | None:
        """The unit that signs a report: the last short lines before the date, where seals go."""
        lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
        for line in reversed(lines[-6:]):
            if _DATE.search(line) or len(line) > 40:
                continue
            unit = self.find_in_text(line)
            if unit:
                return unit
        return None

    def _office_stages(self, name: str) -> list[str]:
        """`name` and what is left after each office word is stripped from its end, in order."""
        stages = [name]
        for _ in range(2):
            for suffix in self._office_suffixes:
                if name.endswith(suffix):
                    keep = len(name) - len(suffix) + (suffix[0] in self._level_chars)
                    if keep >= 2:
                        name = name[:keep]
                        stages.append(name)
        return stages

    def _without_city(self, name: str) -> str:
        for prefix in self._city_prefixes:
            name = name.removeprefix(prefix)
        return name

    def _is_organiser(self, name: str) -> bool:
        return name in self.organisers or self._without_city(name) in self.organisers

    def _organisations(self, text: str) -> list[tuple[int, int, str | None]]:
        """Organisation names in free text: (start, end) in the compacted text and the unit each names.

        Punctuation other than spaces ends a name ("推荐材料（渝北区某某有限公司）" names 渝北区某某有限公司)."""
        found: list[tuple[int, int, str | None]] = []
        if self._org is None:
            return found
        offset = 0
        for segment in map(_compact, _BREAK.split(text)):
            for m in self._org.finditer(segment):
                org = self._trim_org(m.group(1))
                found.append((offset + m.end(1) - len(org), offset + m.end(1), self.normalise(org)))
            offset += len(segment)
        return found

    def _trim_org(self, org: str) -> str:
        """Drop words that precede an organisation name in a sentence ("关于报送重庆大学" -> "重庆大学")."""
        for lead in self._sentence_leads:
            if lead in org:
                org = org.split(lead)[-1]
        return org

    def _is_noise(self, name: str) -> bool:
        return any(word in name for word in self._noise_words)


def _compact(text: str) -> str:
    """A name without brackets, spaces and punctuation, as names are compared."""
    return _PUNCT.sub("", text)


def _occurrences(text: str, word: str):
    at = text.find(word)
    while at >= 0:
        yield at
        at = text.find(word, at + 1)
