"""Recommending units: the shipped registry of district-level units, name normalisation, categories.

Units write their names many ways (渝中区科协, 石柱县, 高新区); one canonical name per unit keeps a
dossier together across e-mails. The districts, aliases and the region's wording (office suffixes, the
organisers' names, …) come from a data file: `campaign.registry_data`, by default the shipped
data/chongqing_units.toml. The config can add units, aliases, sender addresses and words.
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
_SEALED = re.compile(r"[（(]\s*(盖章|公章|章)\s*[）)]")
_DATE = re.compile(r"\d{4}\s*年\s*\d{1,2}\s*月|\d{4}[-./]\d{1,2}[-./]\d{1,2}")
DEFAULT_DATA = "chongqing_units.toml"
# Word lists a campaign's own data file may leave out: they are the form's wording, not the region's,
# so the 2021 lists apply. Districts, aliases, city prefixes and organisers are never inherited.
_WORD_LISTS = ("office_suffixes", "sentence_leads", "noise_words", "organisation_words", "society_words")


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
        self.organisers: frozenset[str] = frozenset(_merged(data.organisers, campaign.organisers))
        self._city_prefixes = _merged(data.city_prefixes, campaign.city_prefixes)
        self._office_suffixes = _before_shorter(data.office_suffixes, campaign.office_suffixes)
        self._sentence_leads = _merged(data.sentence_leads, campaign.sentence_leads)
        self._noise_words = _merged(data.noise_words, campaign.noise_words)
        org_words = _merged(data.organisation_words, campaign.organisation_words)
        self._org = _org_pattern(org_words) if org_words else None
        self._society_words = _merged(data.society_words, campaign.society_words)
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
        # longest first, so 万盛经开区 wins over 万盛 and 石柱土家族自治县 over 石柱县
        self._known = sorted([*self.categories, *self.aliases], key=len, reverse=True)

    def normalise(self, raw: str | None) -> str | None:
        """Canonical unit name for what a submitter wrote, or None when nothing is left."""
        if not raw:
            return None
        name = _PUNCT.sub("", _SEALED.sub("", raw))
        name = name.removeprefix("推荐单位")
        for _ in range(2):
            for suffix in self._office_suffixes:
                if name.endswith(suffix) and len(name) > len(suffix) + 1:
                    name = name[: -len(suffix)]
        bare = name
        for prefix in self._city_prefixes:
            bare = bare.removeprefix(prefix)
        for candidate in (name, bare):
            if candidate in self.categories:
                return candidate
            if candidate in self.aliases:
                return self.aliases[candidate]
        if not name or name in self.organisers or len(name) < 2:
            return None
        return name

    def category(self, name: str) -> str:
        if name in self.categories:
            return self.categories[name]
        if name.endswith(self._society_words):
            return "society"
        return "institution"

    def find_in_text(self, text: str | None) -> str | None:
        """A unit named in free text (a subject, a filename, a report): bracketed first, then known names."""
        if not text:
            return None
        for bracketed in re.findall(r"[【\[〔]([^】\]〕]{2,40})[】\]〕]", text):
            unit = self.normalise(bracketed)
            if unit and unit not in self.organisers and not self._is_noise(unit):
                return unit
        compact = _PUNCT.sub("", text)
        for known in self._known:
            if known in compact:
                return self.aliases.get(known, known)
        for org in self._org.findall(compact) if self._org else ():
            unit = self.normalise(self._trim_org(org))
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

    def _trim_org(self, org: str) -> str:
        """Drop words that precede an organisation name in a sentence ("关于报送重庆大学" -> "重庆大学")."""
        for lead in self._sentence_leads:
            if lead in org:
                org = org.split(lead)[-1]
        return org

    def _is_noise(self, name: str) -> bool:
        return any(word in name for word in self._noise_words)
