"""Large-attachment and net-disk links in a mail body: materials the service cannot receive by itself.

QQ Mail and 163/126 turn files over their size limit into "超大附件" download links that expire, and
some submitters paste net-disk shares instead. The links are only recorded (host, stated expiry) so the
submitter can be asked to resend; nothing is ever fetched.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterator
from html import unescape
from urllib.parse import urlsplit

from mailintake.parsers.facts import CloudLink

# Scheme optional: Chinese mails often paste "pan.baidu.com/s/1xYz 提取码：abcd". Not after "@" (addresses).
_URL = re.compile(
    r"(?<![@a-z0-9.-])(?:https?://)?(?:[a-z0-9-]+\.)+[a-z]{2,}(?::\d+)?(?:/[^\s<>\"'()（）【】「」，。；、！]*)?",
    re.IGNORECASE,
)
_NETDISKS = ("pan.baidu.com", "yun.baidu.com", "weiyun.com", "cloud.189.cn", "aliyundrive.com", "alipan.com",
             "115.com", "pan.quark.cn", "caiyun.139.com", "yun.139.com", "123pan.com")
_NETEASE = ("163.com", "126.com", "yeah.net", "188.com")
_NETEASE_LARGE_HOSTS = ("fs.", "u.", "dashi.")
_NETEASE_LARGE_PATH = re.compile(r"large-attachment|huge-attachment|cloud-attachment|bigattach", re.IGNORECASE)
_DATE = r"(\d{4})\s*(?:年|-|/|\.)\s*(\d{1,2})\s*(?:月|-|/|\.)\s*(\d{1,2})\s*日?(?:\s*\d{1,2}[:：]\d{2})?"
_EXPIRY_DATE = [
    re.compile(rf"(?:到期|过期|失效|有效期)(?:时间|日期)?(?:至|到|为)?\s*[:：]?\s*{_DATE}"),
    re.compile(rf"{_DATE}\s*(?:前有效|到期|过期|失效)"),
]
_EXPIRY_DAYS = re.compile(
    r"(?:有效期\s*[:：]?\s*(\d{1,3})\s*天)|(?:(\d{1,3})\s*天(?:后|内)?\s*(?:过期|到期|失效|有效))"
)
_TRAILING = ".,;:!?)]}>，。；：！？）】"


def find_cloud_links(text: str, html: str = "") -> list[CloudLink]:
    """Every large-attachment or net-disk link in the plain and HTML bodies, once per URL, with the
    expiry the mail states nearest to it ("2021-06-20" or "30天"), else None."""
    markup = unescape(html)
    large_attachment_mail = "大附件" in text or "大附件" in markup
    found: dict[str, CloudLink] = {}
    for source in (text, markup):
        links = [link for link in _links(source) if _is_cloud(link[1], link[0], large_attachment_mail)]
        for (url, host, _, _), expires in zip(links, _expiries(source, links), strict=True):
            key = url.split("://", 1)[-1]
            if key not in found:
                found[key] = CloudLink(url=url, host=host, expires=expires)
            found[key].expires = found[key].expires or expires
    return list(found.values())


def _links(source: str) -> list[tuple[str, str, int, int]]:
    """(url, host, start, end) of every link-looking text; scheme-less ones get https://."""
    links = []
    for m in _URL.finditer(source):
        found = m[0].rstrip(_TRAILING)
        if "://" not in found and "/" not in found:
            continue  # a bare domain in prose ("见qq.com") is not a link
        url = found if "://" in found else f"https://{found}"
        links.append((url, (urlsplit(url).hostname or "").lower(), m.start(), m.start() + len(found)))
    return links


def _expiries(source: str, links: list[tuple[str, str, int, int]]) -> list[str | None]:
    """Each stated expiry goes to the nearest link (QQ writes it just before, 163 just after; a tie goes
    to the link before)."""
    result: list[str | None] = [None] * len(links)
    starts, ends = [link[2] for link in links], [link[3] for link in links]
    for start, end, value in _expiry_mentions(source):
        candidates = []
        before, after = bisect_right(ends, start) - 1, bisect_left(starts, end)
        if before >= 0:
            candidates.append((start - ends[before], 0, before))
        if after < len(links):
            candidates.append((starts[after] - end, 1, after))
        if candidates:
            index = min(candidates)[2]
            result[index] = result[index] or value
    return result


def _expiry_mentions(source: str) -> Iterator[tuple[int, int, str]]:
    for pattern in _EXPIRY_DATE:
        for m in pattern.finditer(source):
            yield m.start(), m.end(), f"{int(m[1]):04d}-{int(m[2]):02d}-{int(m[3]):02d}"
    for m in _EXPIRY_DAYS.finditer(source):
        yield m.start(), m.end(), f"{m[1] or m[2]}天"


def _is_cloud(host: str, url: str, large_attachment_mail: bool) -> bool:
    if any(host == d or host.endswith("." + d) for d in _NETDISKS) or _is_lanzou(host):
        return True
    if host == "qq.com" or host.endswith(".qq.com"):
        return "ftn" in url.lower() or (large_attachment_mail and host.endswith("mail.qq.com"))
    if any(host == d or host.endswith("." + d) for d in _NETEASE):
        return host.startswith(_NETEASE_LARGE_HOSTS) or bool(_NETEASE_LARGE_PATH.search(url))
    return False


def _is_lanzou(host: str) -> bool:
    """Lanzou shares rotate domains (lanzous, lanzoui, lanzoux, ...) and subdomains (wwi., www.)."""
    labels = host.split(".")
    return len(labels) >= 2 and labels[-2].startswith("lanzou")
