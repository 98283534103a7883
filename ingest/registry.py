"""Recommending units: the shipped registry of district-level units, name normalisation, categories.

Units write their names many ways (渝中区科协, 石柱县, 高新区); one canonical name per unit keeps a
dossier together across e-mails. The config can add units, aliases and sender addresses.
"""

from __future__ import annotations

import re
import tomllib
from functools import cache
from importlib import resources

from .config import Config

_PUNCT = re.compile(r"[\s（）()\[\]【】〔〕“”\"'《》:：,，。、·\-—_]+")
_SEALED = re.compile(r"[（(]\s*(盖章|公章|章)\s*[）)]")
_OFFICE_SUFFIXES = ("科学技术协会", "党委宣传部", "宣传部", "文明办", "科学技术局", "科技局", "科技部门", "科协")
_ORG = re.compile(r"([\u4e00-\u9fff]{2,30}(?:研究会|学会|协会|大学|学院|医院|公司|研究院|研究所|集团|中心|科协))")
_DATE = re.compile(r"\d{4}\s*年\s*\d{1,2}\s*月|\d{4}[-./]\d{1,2}[-./]\d{1,2}")
ORGANISERS = {"重庆市科学技术协会", "重庆市科协", "市科协", "中国科协", "市科协宣传部"}


@cache
def _shipped() -> tuple[tuple[str, ...], dict[str, str]]:
    data = tomllib.loads(resources.files("ingest").joinpath("data/chongqing_units.toml").read_text("utf-8"))
    return tuple(data["districts"]), dict(data["aliases"])


def district_names(cfg: Config) -> list[str]:
    extra = [u.name for u in cfg.campaign.units if u.category == "district"]
    return list(_shipped()[0]) + [n for n in extra if n not in _shipped()[0]]


class Registry:
    def __init__(self, cfg: Config):
        districts, aliases = _shipped()
        self.categories: dict[str, str] = dict.fromkeys(districts, "district")
        self.aliases: dict[str, str] = dict(aliases)
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
            for suffix in _OFFICE_SUFFIXES:
                if name.endswith(suffix) and len(name) > len(suffix) + 1:
                    name = name[: -len(suffix)]
        bare = name.removeprefix("重庆市").removeprefix("重庆")
        for candidate in (name, bare):
            if candidate in self.categories:
                return candidate
            if candidate in self.aliases:
                return self.aliases[candidate]
        if not name or name in ORGANISERS or len(name) < 2:
            return None
        return name

    def category(self, name: str) -> str:
        if name in self.categories:
            return self.categories[name]
        if name.endswith(("学会", "协会", "研究会")):
            return "society"
        return "institution"

    def find_in_text(self, text: str | None) -> str | None:
        """A unit named in free text (a subject, a filename, a report): bracketed first, then known names."""
        if not text:
            return None
        for bracketed in re.findall(r"[【\[〔]([^】\]〕]{2,40})[】\]〕]", text):
            unit = self.normalise(bracketed)
            if unit and unit not in ORGANISERS and not _is_noise(unit):
                return unit
        compact = _PUNCT.sub("", text)
        for known in self._known:
            if known in compact:
                return self.aliases.get(known, known)
        for org in _ORG.findall(compact):
            unit = self.normalise(_trim_org(org))
            if unit and unit not in ORGANISERS and not _is_noise(unit):
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


def _trim_org(org: str) -> str:
    """Drop words that precede an organisation name in a sentence ("关于报送重庆大学" -> "重庆大学")."""
    for lead in ("关于报送", "报送", "关于", "现将", "我单位", "我们", "附件", "推荐"):
        if lead in org:
            org = org.split(lead)[-1]
    return org


def _is_noise(name: str) -> bool:
    return any(word in name for word in ("最美科技工作者", "推荐材料", "推荐表", "汇总表", "报告", "附件"))
