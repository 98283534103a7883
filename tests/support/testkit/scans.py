"""Scanned pages as submitters make them: real Chinese text drawn with Noto Sans CJK on an A4 page at 150 dpi,
a red seal over the signature, optionally turned or skewed, saved as PNG, JPEG, TIFF or an image-only PDF.

The text is real (not glyph-like strokes) so that OCR has something to read; nothing here is committed as a
binary: every test draws its own page.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from mailintake.ingest.samples.documents import FORM_TITLE, SIGNED_ON, SUMMARY_TITLE
from mailintake.ingest.samples.images import SEAL_RED, seal_image

CJK_FONT = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
_SC = 2  # the face index of Noto Sans CJK SC in the collection
PAGE = (1240, 1754)  # A4 at 150 dpi
DPI = 150
INK = (28, 28, 28)
PAPER = (250, 249, 245)
REPORT_LINES = (
    "市科协：",
    "根据《关于开展2021年重庆市“最美科技工作者”学习宣传活动的通知》",
    "要求，我单位高度重视，及时转发通知，广泛发动基层单位推荐，经个人",
    "申报、单位审核、集体研究和公示，确定推荐人选。",
    "推荐人选均长期工作在科技一线，事迹突出，群众认可，公示期间未收到",
    "异议。",
    "特此报告。",
)


def font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(CJK_FONT, size, index=_SC)


def report_page(unit: str, marking: str | None = None, sealed: bool = True, signed_on: str = SIGNED_ON,
                body: Sequence[str] = REPORT_LINES) -> Image.Image:
    """推荐工作情况报告 as printed, signed, stamped and scanned: marking top left, title, body, unit and date."""
    page, draw = _blank()
    if marking:
        draw.text((110, 90), marking, font=font(40), fill=INK)
    draw.text((620, 220), "推荐工作情况报告", font=font(56), fill=INK, anchor="mm")
    y = 360
    for line in body:
        draw.text((130, y), line, font=font(30), fill=INK)
        y += 62
    draw.text((1090, 1380), unit, font=font(32), fill=INK, anchor="rm")
    draw.text((1090, 1450), signed_on, font=font(32), fill=INK, anchor="rm")
    return _stamped(page, (900, 1410)) if sealed else page


def form_page(name: str, unit: str, marking: str | None = None) -> Image.Image:
    """附件1 推荐表 filled in by hand-typing and scanned: a ruled table, the candidate named only inside."""
    page, draw = _blank()
    if marking:
        draw.text((110, 90), marking, font=font(40), fill=INK)
    draw.text((620, 200), FORM_TITLE, font=font(40), fill=INK, anchor="mm")
    rows = [("姓名", name, "性别", "男"), ("出生年月", "1980.01", "民族", "汉族"),
            ("政治面貌", "中共党员", "人选类别", "区县"), ("工作单位及职务", "重庆某研究院高级工程师", "", ""),
            ("推荐单位", unit, "", "")]
    left, top, height, widths = 110, 300, 110, (250, 380, 170, 220)
    for r, cells in enumerate(rows):
        y = top + r * height
        x = left
        for c, text in enumerate(cells):
            width = widths[c] if cells[2] or c == 0 else sum(widths[1:])
            draw.rectangle((x, y, x + width, y + height), outline=INK, width=3)
            if text:
                draw.text((x + 20, y + height / 2), text, font=font(32), fill=INK, anchor="lm")
            x += width
            if not cells[2] and c == 1:
                break
    return page


def summary_page(unit: str, names: Sequence[str]) -> Image.Image:
    """附件2 推荐人选汇总表 printed and scanned: title, 推荐单位 line, header, one row per candidate."""
    page, draw = _blank()
    draw.text((620, 180), SUMMARY_TITLE, font=font(36), fill=INK, anchor="mm")
    draw.text((110, 280), f"推荐单位（盖章）：{unit}", font=font(30), fill=INK)
    columns = (("序号", 120), ("姓名", 220), ("性别", 140), ("出生年月", 220), ("工作单位及职务", 320))
    for r, cells in enumerate([[c for c, _ in columns]]
                              + [[str(n), who, "女", "1980.05", "研究员"] for n, who in enumerate(names, 1)]):
        y, x = 360 + r * 90, 110
        for (_, width), text in zip(columns, cells, strict=True):
            draw.rectangle((x, y, x + width, y + 90), outline=INK, width=3)
            draw.text((x + width / 2, y + 45), text, font=font(30), fill=INK, anchor="mm")
            x += width
    return _stamped(page, (900, 1500))


def turned(page: Image.Image, degrees: int = 0, skew: float = 0.0) -> Image.Image:
    """As it came off the scanner: a quarter turn (counter-clockwise degrees) and/or a small skew."""
    if skew:
        page = page.rotate(skew, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=PAPER)
    if degrees:
        page = page.rotate(degrees, expand=True)
    return page


def png(page: Image.Image) -> bytes:
    return _saved(page, "PNG")


def jpeg(page: Image.Image) -> bytes:
    return _saved(page, "JPEG", quality=88)


def tiff(page: Image.Image) -> bytes:
    return _saved(page, "TIFF", compression="tiff_deflate", dpi=(DPI, DPI))


def image_pdf(pages: Sequence[Image.Image]) -> bytes:
    """An image-only PDF (what a scanner or 扫描全能王 writes): one JPEG per page, no text layer."""
    first, *rest = [p.convert("RGB") for p in pages]
    buffer = io.BytesIO()
    first.save(buffer, "PDF", resolution=DPI, save_all=True, append_images=rest)
    return buffer.getvalue()


def blank_page(size: tuple[int, int] = PAGE) -> Image.Image:
    return _blank(size)[0]


def _blank(size: tuple[int, int] = PAGE) -> tuple[Image.Image, ImageDraw.ImageDraw]:
    page = Image.new("RGB", size, PAPER)
    return page, ImageDraw.Draw(page)


def _stamped(page: Image.Image, centre: tuple[int, int]) -> Image.Image:
    """The seal's red ink multiplies over the paper and the black text under it."""
    seal = seal_image(7, 240, rotation=-12, alpha=0.9)
    arr = np.asarray(page, dtype=np.float32)
    x, y = centre[0] - seal.width // 2, centre[1] - seal.height // 2
    alpha = np.asarray(seal.getchannel("A"), dtype=np.float32)[..., None] / 255
    tint = np.array(SEAL_RED, dtype=np.float32) / 255
    region = arr[y:y + seal.height, x:x + seal.width]
    arr[y:y + seal.height, x:x + seal.width] = region * (1 - alpha * (1 - tint))
    return Image.fromarray(arr.astype(np.uint8))


def _saved(page: Image.Image, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    page.convert("RGB").save(buffer, fmt, **options)
    return buffer.getvalue()
