"""Deterministic sample images (seeded) for the demo and the tests: real JPEG/PNG bytes.

Campaign photos must be >= 2 MB, so the photo generators add sensor-like noise and raise the JPEG
quality (then the size) until the bytes reach `min_bytes`; noise is made with numpy to stay fast.
"""

from __future__ import annotations

import io
import math

import numpy as np
from PIL import Image, ImageDraw

SEAL_RED = (212, 28, 38)
_QUALITIES = (90, 94, 97, 99)


def life_photo_jpeg(seed: int, width: int = 3000, height: int = 2000, min_bytes: int = 2_097_152) -> bytes:
    """A busy outdoor-like scene: gradient sky/ground, many coloured shapes, noise."""
    rng = np.random.default_rng(seed)
    return _jpeg_at_least(lambda w, h: _busy_scene(rng, w, h), width, height, min_bytes, rng, noise=18)


def id_photo_jpeg(seed: int, width: int = 1500, height: int = 2100, min_bytes: int = 2_097_152) -> bytes:
    """A studio ID photo: plain light-blue/white/red backdrop, head and shoulders in colour, framed per seed;
    OpenCV's frontal-face cascade finds its one face (36 seeds checked in tests/test_photo_faces.py)."""
    rng = np.random.default_rng(seed)
    return _jpeg_at_least(lambda w, h: _id_scene(rng, w, h), width, height, min_bytes, rng, noise=20)


def seal_png(text_seed: int, diameter_px: int = 400, rotation: float = 0, alpha: float = 1.0) -> bytes:
    """A red round official seal on a transparent background: ring, star, glyphs along the ring."""
    return _png(seal_image(text_seed, diameter_px, rotation, alpha))


def seal_image(text_seed: int, diameter_px: int = 400, rotation: float = 0, alpha: float = 1.0) -> Image.Image:
    """The RGBA image behind `seal_png`, for callers that stamp it onto a page."""
    rng = np.random.default_rng(text_seed)
    d = diameter_px
    ink = Image.new("L", (d, d), 0)
    draw = ImageDraw.Draw(ink)
    ring = max(2, round(d * 0.035))
    draw.ellipse((1, 1, d - 2, d - 2), outline=255, width=ring)
    _star(draw, d / 2, d / 2, d * 0.17)
    _ring_glyphs(ink, rng, d)
    _glyph_row(draw, rng, d / 2, d * 0.74, d * 0.07, count=int(rng.integers(3, 6)))
    if rotation:
        ink = ink.rotate(rotation, resample=Image.Resampling.BILINEAR)
    seal = Image.new("RGBA", (d, d), (*SEAL_RED, 0))
    seal.putalpha(ink.point(lambda v: round(v * alpha)))
    return seal


def scanned_report_page(seed: int, sealed: bool, faint: bool = False, rotation_deg: float = 0) -> bytes:
    """An A4 page scanned at 150 dpi (1240x1754 JPEG): text lines, signature block, optional seal."""
    rng = np.random.default_rng(seed)
    page = Image.new("RGB", (1240, 1754), (248, 247, 243))
    draw = ImageDraw.Draw(page)
    _glyph_row(draw, rng, 620, 200, 52, count=int(rng.integers(8, 13)), fill=(25, 25, 25))
    for y in range(330, 1330, 50):
        width = int(rng.integers(18, 36)) if y < 1280 else int(rng.integers(6, 20))
        _glyph_line(draw, rng, 150 + (60 if rng.random() < 0.2 else 0), y, width)
    _glyph_line(draw, rng, 760, 1480, 9)  # 推荐单位（盖章）
    _glyph_line(draw, rng, 800, 1550, 7)  # date
    if sealed:
        stamp = seal_image(seed, 236, rotation=float(rng.uniform(-30, 30)), alpha=0.45 if faint else 0.92)
        page = _stamp(page, stamp, (940 - 118, 1500 - 118))
    if rotation_deg:
        page = page.rotate(rotation_deg, resample=Image.Resampling.BICUBIC, fillcolor=(250, 250, 250))
    page = _add_noise(page, rng, 4)
    buf = io.BytesIO()
    page.save(buf, "JPEG", quality=85)
    return buf.getvalue()


def _jpeg_at_least(scene, width, height, min_bytes, rng, noise: int) -> bytes:
    """Encode with rising quality, then rising size, until the file reaches `min_bytes`."""
    while True:
        image = _add_noise(scene(width, height), rng, noise)
        for quality in _QUALITIES:
            buf = io.BytesIO()
            image.save(buf, "JPEG", quality=quality)
            if buf.tell() >= min_bytes:
                return buf.getvalue()
        width, height = round(width * 1.25), round(height * 1.25)


def _busy_scene(rng: np.random.Generator, w: int, h: int) -> Image.Image:
    top, bottom = rng.integers(40, 230, 3), rng.integers(20, 200, 3)
    t = np.linspace(0, 1, h, dtype=np.float32)[:, None, None]
    grad = np.broadcast_to(top * (1 - t) + bottom * t, (h, w, 3)).astype(np.uint8)
    image = Image.fromarray(grad)
    draw = ImageDraw.Draw(image)
    for _ in range(60):
        x, y = int(rng.integers(-w // 8, w)), int(rng.integers(-h // 8, h))
        sw, sh = int(rng.integers(w // 30, w // 4)), int(rng.integers(h // 30, h // 3))
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        box = (x, y, x + sw, y + sh)
        kind = rng.integers(0, 3)
        if kind == 0:
            draw.rectangle(box, fill=colour)
        elif kind == 1:
            draw.ellipse(box, fill=colour)
        else:
            draw.line(box, fill=colour, width=int(rng.integers(3, 40)))
    return image


_BACKDROPS = ((67, 142, 219), (246, 246, 244), (200, 32, 40))


def _id_scene(rng: np.random.Generator, w: int, h: int) -> Image.Image:
    backdrop = np.array(_BACKDROPS[int(rng.integers(0, len(_BACKDROPS)))], dtype=np.float32)
    shade = np.linspace(1.0, 0.94, h, dtype=np.float32)[:, None, None]  # studio light falls off
    image = Image.fromarray(np.broadcast_to(backdrop * shade, (h, w, 3)).astype(np.uint8))
    draw = ImageDraw.Draw(image)
    skin = tuple(int(c) for c in rng.integers((205, 160, 130), (235, 190, 160)))
    suit = tuple(int(c) for c in rng.integers(15, 70, 3))
    hair = tuple(int(c) for c in rng.integers(15, 45, 3))
    # each sitter is framed a little differently, as at a studio: a perceptual hash tells two people apart
    cx, fy = w * (0.5 + rng.uniform(-0.05, 0.05)), h * (0.42 + rng.uniform(-0.04, 0.04))  # face centre
    fw = w * rng.uniform(0.15, 0.21)  # half the face's width
    fh = fw * rng.uniform(1.25, 1.45)
    shoulders = w * rng.uniform(0.38, 0.5)
    draw.ellipse((cx - shoulders, fy + fh * 0.95, cx + shoulders, h * 1.35), fill=suit)
    draw.polygon([(cx - fw * 0.5, fy + fh * 0.95), (cx + fw * 0.5, fy + fh * 0.95), (cx, fy + fh * 1.6)],
                 fill=(245, 245, 245))  # collar
    draw.rectangle((cx - fw * 0.4, fy + fh * 0.5, cx + fw * 0.4, fy + fh * 1.05), fill=skin)  # neck
    # hair frames the face on top and at the sides: a face detector keys on that dark-light-dark pattern
    draw.ellipse((cx - fw * 1.15, fy - fh * 1.25, cx + fw * 1.15, fy + fh * rng.uniform(0.2, 0.9)), fill=hair)
    draw.ellipse((cx - fw, fy - fh, cx + fw, fy + fh), fill=skin)  # face
    draw.chord((cx - fw * 1.1, fy - fh * 1.2, cx + fw * 1.1, fy - fh * 0.1), 180, 360, fill=hair)  # fringe
    ey, spacing, line = fy - fh * 0.12, fw * rng.uniform(0.38, 0.48), max(2, round(fw * 0.06))
    for ex in (cx - spacing, cx + spacing):
        draw.line((ex - fw * 0.24, ey - fh * 0.14, ex + fw * 0.24, ey - fh * 0.16), fill=hair, width=line)  # brow
        draw.ellipse((ex - fw * 0.16, ey - fh * 0.05, ex + fw * 0.16, ey + fh * 0.05), fill=(245, 245, 245))
        draw.ellipse((ex - fw * 0.08, ey - fh * 0.05, ex + fw * 0.08, ey + fh * 0.05), fill=(40, 30, 25))
    shadow = tuple(max(0, c - 40) for c in skin)
    draw.line((cx, ey + fh * 0.05, cx - fw * 0.08, fy + fh * 0.3), fill=shadow, width=line)  # nose
    draw.line((cx - fw * 0.12, fy + fh * 0.32, cx + fw * 0.1, fy + fh * 0.32), fill=shadow, width=line)
    draw.chord((cx - fw * 0.35, fy + fh * 0.42, cx + fw * 0.35, fy + fh * 0.62), 0, 180, fill=(170, 80, 80))  # mouth
    return image


def _add_noise(image: Image.Image, rng: np.random.Generator, amplitude: int) -> Image.Image:
    arr = np.asarray(image, dtype=np.int16)
    noise = rng.integers(-amplitude, amplitude + 1, size=arr.shape, dtype=np.int16)
    return Image.fromarray(np.clip(arr + noise, 0, 255).astype(np.uint8))


def _star(draw: ImageDraw.ImageDraw, cx: float, cy: float, r: float) -> None:
    points = []
    for i in range(10):
        radius = r if i % 2 == 0 else r * 0.38
        angle = -math.pi / 2 + i * math.pi / 5
        points.append((cx + radius * math.cos(angle), cy + radius * math.sin(angle)))
    draw.polygon(points, fill=255)


def _ring_glyphs(ink: Image.Image, rng: np.random.Generator, d: int) -> None:
    """Glyph-like marks along the upper arc, each turned to face the centre as on a real seal."""
    count = int(rng.integers(9, 15))
    size = max(6, round(d * 0.13))
    radius = d / 2 * 0.74
    for i in range(count):
        angle = math.radians(158 + (224 * i / (count - 1)))  # 158°..382°: all but the bottom
        glyph = Image.new("L", (size, size), 0)
        _glyph(ImageDraw.Draw(glyph), rng, 0, 0, size, 255)
        glyph = glyph.rotate(-math.degrees(angle) - 90, resample=Image.Resampling.BILINEAR)
        x = round(d / 2 + radius * math.cos(angle) - size / 2)
        y = round(d / 2 + radius * math.sin(angle) - size / 2)
        ink.paste(255, (x, y), glyph)


def _glyph(draw: ImageDraw.ImageDraw, rng: np.random.Generator, x: float, y: float, size: float, fill) -> None:
    """A few random horizontal/vertical strokes inside a square cell, like a CJK character."""
    width = max(1, round(size / 9))
    for _ in range(int(rng.integers(3, 7))):
        a, b = sorted(float(v) for v in rng.uniform(0.1, 0.9, 2) * size)
        c = float(rng.uniform(0.1, 0.9)) * size
        line = (x + a, y + c, x + b, y + c) if rng.random() < 0.55 else (x + c, y + a, x + c, y + b)
        draw.line(line, fill=fill, width=width)


def _glyph_row(draw, rng, cx: float, cy: float, size: float, count: int, fill=255) -> None:
    left = cx - count * size / 2
    for i in range(count):
        _glyph(draw, rng, left + i * size, cy - size / 2, size * 0.9, fill)


def _glyph_line(draw, rng, x: int, y: int, count: int) -> None:
    for i in range(count):
        grey = int(rng.integers(10, 60))
        _glyph(draw, rng, x + i * 26, y, 24, (grey, grey, grey))


def _stamp(page: Image.Image, seal: Image.Image, at: tuple[int, int]) -> Image.Image:
    """Ink multiplies: where the seal lies over black text the text stays black."""
    arr = np.asarray(page, dtype=np.float32)
    x, y = at
    h, w = seal.height, seal.width
    a = np.asarray(seal.getchannel("A"), dtype=np.float32)[..., None] / 255
    tint = np.array(SEAL_RED, dtype=np.float32) / 255
    region = arr[y : y + h, x : x + w]
    arr[y : y + h, x : x + w] = region * (1 - a * (1 - tint))
    return Image.fromarray(arr.astype(np.uint8))


def _png(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return buf.getvalue()
