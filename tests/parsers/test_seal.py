"""Red round official seal (公章) on report pages: found when stamped, not imagined elsewhere.

The seals here are drawn independently of ingest.samples.images (and of the detector's assumptions):
other sizes and ring widths, rings broken into arcs, text as blocks, a star only, faint ink over
text, scanner skew, JPEG compression; and red things that are not seals.
"""

from __future__ import annotations

import io
import math

import numpy as np
import pytest
from PIL import Image, ImageDraw

from mailintake.ingest.samples import images
from mailintake.parsers.seal import find_seal, seal_in_images
from testkit.config import default_settings

MAX_PIXELS = default_settings().max_image_pixels

PAGE = (1240, 1754)  # A4 at 150 dpi
RED, BLUE = (205, 35, 45), (30, 60, 190)


def blank_page(size=PAGE) -> Image.Image:
    return Image.new("RGB", size, (252, 251, 247))


def body_text(page: Image.Image, top: int, bottom: int, seed: int, ink=(20, 20, 20), glyph=22) -> None:
    """Rows of glyph-sized dark blocks with strokes, like printed Chinese text."""
    rng = np.random.default_rng(seed)
    draw = ImageDraw.Draw(page)
    for y in range(top, bottom, glyph * 2):
        right = int(rng.integers(page.width // 2, page.width - 140))
        for x in range(140, right, glyph + 4):
            for _ in range(3):
                x0, y0 = x + int(rng.integers(0, glyph - 6)), y + int(rng.integers(0, glyph - 6))
                horizontal = rng.random() < 0.5
                x1, y1 = (x + glyph - 2, y0 + 2) if horizontal else (x0 + 2, y + glyph - 2)
                draw.rectangle((x0, y0, x1, y1), fill=ink)


def seal_ink(
    diameter: int, ring: int, *, arcs: int = 0, text: bool = True, star: float = 0.2, spin: float = 0
) -> Image.Image:
    """An 'L' coverage mask of a seal: ring (solid, or `arcs` pieces), star, text blocks on the ring."""
    ink = Image.new("L", (diameter, diameter), 0)
    draw = ImageDraw.Draw(ink)
    box = (ring // 2, ring // 2, diameter - 1 - ring // 2, diameter - 1 - ring // 2)
    if arcs:
        step = 360 / arcs
        for i in range(arcs):
            draw.arc(box, i * step + spin, (i + 0.8) * step + spin, fill=255, width=ring)
    else:
        draw.ellipse(box, outline=255, width=ring)
    c, r = diameter / 2, diameter / 2
    if star:
        radii = [r * star * (1 if i % 2 == 0 else 0.4) for i in range(10)]
        angles = [math.radians(spin - 90 + 36 * i) for i in range(10)]
        pts = [(c + k * math.cos(a), c + k * math.sin(a)) for k, a in zip(radii, angles, strict=True)]
        draw.polygon(pts, fill=255)
    if text:
        block = diameter * 0.07
        for deg in range(140, 400, 17):
            a = math.radians(deg + spin)
            x, y = c + r * 0.7 * math.cos(a), c + r * 0.7 * math.sin(a)
            draw.rectangle((x - block / 2, y - block / 2, x + block / 2, y + block / 2), fill=255)
    return ink


def stamp(page: Image.Image, ink: Image.Image, centre: tuple[int, int], colour=RED, opacity=1.0) -> None:
    """Multiply the ink onto the page, as stamp ink over paper and print does."""
    arr = np.asarray(page, dtype=np.float32).copy()
    a = np.asarray(ink, dtype=np.float32)[..., None] / 255 * opacity
    x0, y0 = centre[0] - ink.width // 2, centre[1] - ink.height // 2
    region = arr[y0 : y0 + ink.height, x0 : x0 + ink.width]
    tint = np.array(colour, dtype=np.float32) / 255
    arr[y0 : y0 + ink.height, x0 : x0 + ink.width] = region * (1 - a * (1 - tint))
    page.paste(Image.fromarray(arr.astype(np.uint8)))


def as_jpeg(image: Image.Image, quality: int = 80) -> bytes:
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def report_page(seed: int = 1) -> Image.Image:
    page = blank_page()
    body_text(page, 260, 1400, seed)
    body_text(page, 1480, 1600, seed + 1)  # signature block the seal lands on
    return page


# --- seals that must be found -----------------------------------------------------------------------


def test_a_thick_ringed_seal_over_the_signature_block_is_found():
    page = report_page()
    stamp(page, seal_ink(300, ring=12), (900, 1540))
    assert find_seal(page)


def test_a_thin_ring_broken_into_short_arcs_is_still_a_seal():
    page = report_page(2)
    stamp(page, seal_ink(250, ring=3, arcs=40, spin=5), (880, 1520))
    assert seal_in_images([as_jpeg(page)], MAX_PIXELS)


def test_a_seal_with_only_a_star_inside_is_found():
    page = report_page(3)
    stamp(page, seal_ink(280, ring=7, text=False, star=0.35), (900, 1500))
    assert find_seal(page)


def test_a_faint_seal_at_35_percent_on_a_skewed_jpeg_scan_is_found():
    page = report_page(4)
    stamp(page, seal_ink(270, ring=6, spin=20), (930, 1530), opacity=0.35)
    scan = page.rotate(5, resample=Image.Resampling.BICUBIC, fillcolor=(255, 255, 255))
    assert seal_in_images([as_jpeg(scan, quality=75)], MAX_PIXELS)


def test_a_seal_partly_hidden_under_a_handwritten_signature_is_found():
    page = report_page(17)
    stamp(page, seal_ink(260, ring=6, spin=-12), (900, 1540), opacity=0.9)
    draw = ImageDraw.Draw(page)
    for i in range(8):
        draw.line((760 + i * 5, 1450 + i * 20, 1060, 1620 - i * 10), fill=(10, 10, 10), width=8)
    assert find_seal(page)


def test_a_200_dpi_scan_rotated_a_few_degrees_is_found():
    page = blank_page((1654, 2339))
    body_text(page, 350, 1900, 5, glyph=30)
    stamp(page, seal_ink(331, ring=9, spin=40), (1220, 2000))
    scan = page.rotate(-3, resample=Image.Resampling.BICUBIC, fillcolor=(255, 255, 255))
    assert seal_in_images([as_jpeg(scan, quality=85)], MAX_PIXELS)


def test_an_electronic_seal_image_from_a_document_is_found():
    ink = seal_ink(360, ring=10, spin=8)
    seal = Image.new("RGBA", ink.size, (*RED, 0))  # transparent pixels keep a red colour value
    seal.putalpha(ink)
    buf = io.BytesIO()
    seal.save(buf, "PNG")
    assert seal_in_images([buf.getvalue()], MAX_PIXELS)


def test_the_demo_generator_pages_come_out_as_labelled():
    assert seal_in_images([images.scanned_report_page(7, sealed=True, faint=True, rotation_deg=2)], MAX_PIXELS)
    assert not seal_in_images([images.scanned_report_page(7, sealed=False)], MAX_PIXELS)


# --- red things that are not seals ------------------------------------------------------------------


def test_a_red_letterhead_bar_and_red_title_are_not_a_seal():
    page = report_page(6)
    draw = ImageDraw.Draw(page)
    draw.rectangle((100, 210, 1140, 222), fill=RED)  # 红头 rule
    body_text(page, 90, 180, 7, ink=RED, glyph=70)  # big red title glyphs
    assert not find_seal(page)


def test_a_filled_red_circle_logo_with_a_white_letter_is_not_a_seal():
    page = report_page(8)
    draw = ImageDraw.Draw(page)
    draw.ellipse((880, 1400, 1100, 1620), fill=RED)
    draw.rectangle((940, 1450, 965, 1570), fill="white")  # an "H"
    draw.rectangle((1015, 1450, 1040, 1570), fill="white")
    draw.rectangle((940, 1498, 1040, 1522), fill="white")
    assert not find_seal(page)


def test_a_filled_red_square_and_a_red_framed_box_are_not_seals():
    page = report_page(9)
    draw = ImageDraw.Draw(page)
    draw.rectangle((850, 1400, 1080, 1630), fill=RED)
    draw.rectangle((200, 1400, 430, 1630), outline=RED, width=10)
    draw.rectangle((270, 1470, 360, 1560), fill=RED)
    assert not find_seal(page)


def test_red_stripes_are_not_a_seal():
    page = blank_page()
    draw = ImageDraw.Draw(page)
    for y in range(300, 1500, 60):
        draw.rectangle((150, y, 1090, y + 25), fill=RED)
    assert not find_seal(page)


def test_a_small_red_ring_logo_is_not_a_seal():
    page = report_page(10)
    stamp(page, seal_ink(80, ring=6), (200, 120))
    assert not find_seal(page)


def test_a_page_without_red_is_not_sealed():
    assert not seal_in_images([as_jpeg(report_page(11))], MAX_PIXELS)


def test_a_blue_round_seal_is_not_a_red_official_seal():
    page = report_page(12)
    stamp(page, seal_ink(300, ring=10), (900, 1540), colour=BLUE)
    assert not find_seal(page)


# --- robustness -------------------------------------------------------------------------------------


@pytest.mark.parametrize("data", [b"", b"not an image", as_jpeg(report_page(13))[:5000]])
def test_unreadable_images_count_as_no_seal_without_raising(data):
    assert seal_in_images([data], MAX_PIXELS) is False


def test_any_sealed_image_among_several_is_enough():
    sealed = report_page(14)
    stamp(sealed, seal_ink(300, ring=8), (900, 1540))
    assert seal_in_images([b"junk", as_jpeg(report_page(15)), as_jpeg(sealed)], MAX_PIXELS)
    assert not seal_in_images([], MAX_PIXELS)


def test_palette_and_cmyk_pages_are_examined_too():
    page = report_page(16)
    stamp(page, seal_ink(300, ring=8), (900, 1540))
    assert find_seal(page.convert("CMYK"))
    assert find_seal(page.quantize(64))


def electronic_seal_png(ink: Image.Image) -> bytes:
    """An electronic seal as offices paste it: red ink on a transparent background."""
    rgba = Image.new("RGBA", ink.size, (*RED, 0))
    rgba.putalpha(ink)
    buf = io.BytesIO()
    rgba.save(buf, "PNG")
    return buf.getvalue()


def test_an_electronic_seal_pasted_into_a_docx_report_counts_as_sealed_end_to_end():
    from mailintake.ingest.samples import clients, documents
    from mailintake.parsers.message import parse_message

    sealed = documents.report_docx("南岸区科协", electronic_seal_png(seal_ink(260, ring=9, spin=7)))
    logo = Image.new("L", (260, 260), 0)
    ImageDraw.Draw(logo).ellipse((0, 0, 259, 259), fill=255)  # a filled red round logo: not a seal
    unsealed = documents.report_docx("南岸区科协", electronic_seal_png(logo))
    for data, expected in ((sealed, True), (unsealed, False)):
        raw = clients.build_message(sender="a@qq.com", sender_name="南岸区科协", to="834396688@qq.com",
                                    subject="【南岸区】报告", body="", attachments=[("推荐工作情况报告.docx", data)])
        [report] = parse_message(raw, default_settings()).files
        assert (report.role, report.sealed) == ("report", expected)
        assert ("report_unsealed" in [f.code for f in report.findings]) is not expected
