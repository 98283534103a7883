"""Photos with real people in them, composed from pictures scikit-image ships (nothing downloaded).

`skimage.data.astronaut()` is the NASA portrait of Eileen Collins (public domain, 512×512): a real face a real
detector must find; `camera()` is a man seen from the side (CC0). From them: a studio ID photo (head and
shoulders cut out onto a plain backdrop), its mirror image (the same person, another picture: a second
candidate), two people side by side, a half-length shot, a profile, and pictures with nobody in them (the cat
`chelsea()`, the cup `coffee()`). `jpeg()` makes any of them a camera-sized file over the campaign's 2 MiB,
stored sideways with an EXIF orientation when asked.
"""

from __future__ import annotations

import functools
import io

import numpy as np
from PIL import Image, ImageDraw, ImageFilter
from skimage import data

MIB = 1024 * 1024
BLUE, WHITE, RED = (67, 142, 219), (246, 246, 244), (200, 32, 40)  # the studio backdrops
_FACE = (224, 113)  # the astronaut's face centre in the 512 px original (the detector's box: ~96 px wide)
_T = Image.Transpose
_STORED = {6: _T.ROTATE_90, 8: _T.ROTATE_270, 3: _T.ROTATE_180}  # upright -> as a phone stores it with that tag


@functools.cache
def astronaut() -> Image.Image:
    return Image.fromarray(data.astronaut())


@functools.cache
def _cutout_mask() -> Image.Image:
    """Head and shoulders of the astronaut, softly edged: what a studio's backdrop replacement keeps."""
    mask = Image.new("L", (512, 512), 0)
    draw = ImageDraw.Draw(mask)
    cx, cy = _FACE
    draw.ellipse((cx - 82, cy - 100, cx + 82, cy + 92), fill=255)  # head and hair
    draw.rectangle((cx - 40, cy + 60, cx + 40, cy + 130), fill=255)  # neck
    draw.ellipse((cx - 200, cy + 110, cx + 200, cy + 520), fill=255)  # shoulders
    return mask.filter(ImageFilter.GaussianBlur(4))


def _person(mirrored: bool) -> tuple[Image.Image, Image.Image, tuple[int, int]]:
    """(picture, cut-out mask, face centre), turned left-right when `mirrored`."""
    picture, mask, (x, y) = astronaut(), _cutout_mask(), _FACE
    if mirrored:
        return picture.transpose(_T.FLIP_LEFT_RIGHT), mask.transpose(_T.FLIP_LEFT_RIGHT), (511 - x, y)
    return picture, mask, (x, y)


def _paste_person(canvas: Image.Image, scale: float, face_at: tuple[float, float], mirrored: bool = False) -> None:
    picture, mask, (fx, fy) = _person(mirrored)
    size = (round(512 * scale), round(512 * scale))
    picture, mask = picture.resize(size, Image.Resampling.LANCZOS), mask.resize(size, Image.Resampling.LANCZOS)
    canvas.paste(picture, (round(face_at[0] - fx * scale), round(face_at[1] - fy * scale)), mask)


def id_photo(backdrop: tuple[int, int, int] = BLUE, mirrored: bool = False, width: int = 1320,
             height: int = 1920) -> Image.Image:
    """A 小2寸 studio portrait (33:48): one face, about a third of the width, centred in the upper half."""
    canvas = Image.new("RGB", (width, height), backdrop)
    _paste_person(canvas, scale=width * 0.34 / 96, face_at=(width / 2, height * 0.40), mirrored=mirrored)
    return canvas


def two_people(backdrop: tuple[int, int, int] = BLUE, width: int = 1320, height: int = 1920) -> Image.Image:
    """Two people side by side in one portrait frame (a couple's or a team's photo sent as the ID photo)."""
    canvas = Image.new("RGB", (width, height), backdrop)
    for at, mirrored in ((0.27, False), (0.73, True)):
        _paste_person(canvas, scale=width * 0.2 / 96, face_at=(width * at, height * 0.42), mirrored=mirrored)
    return canvas


def half_length(backdrop: tuple[int, int, int] = WHITE, width: int = 1320, height: int = 1920) -> Image.Image:
    """One person far from the camera: a face a tenth of the width, low in the frame (not an ID photo)."""
    canvas = Image.new("RGB", (width, height), backdrop)
    _paste_person(canvas, scale=width * 0.12 / 96, face_at=(width * 0.5, height * 0.62))
    return canvas


def profile_portrait(backdrop: tuple[int, int, int] = BLUE, width: int = 1320, height: int = 1920) -> Image.Image:
    """A person seen from the side: the head of scikit-image's cameraman (CC0), who looks into his camera,
    cut out onto a studio backdrop and tinted (the original is black and white)."""
    cameraman = Image.fromarray(data.camera()).convert("RGB")
    tinted = Image.merge("RGB", [band.point(lambda v, k=k: round(v * k)) for band, k in
                                 zip(cameraman.split(), (1.0, 0.86, 0.74), strict=True)])
    mask = Image.new("L", (512, 512), 0)
    draw = ImageDraw.Draw(mask)
    draw.ellipse((138, 58, 272, 212), fill=255)  # head, from the hair to the chin
    draw.ellipse((60, 180, 360, 560), fill=255)  # shoulders
    mask = mask.filter(ImageFilter.GaussianBlur(4))
    canvas = Image.new("RGB", (width, height), backdrop)
    scale = width * 0.55 / 134
    size = (round(512 * scale), round(512 * scale))
    at = (round(width / 2 - 205 * scale), round(height * 0.40 - 135 * scale))
    canvas.paste(tinted.resize(size, Image.Resampling.LANCZOS), at, mask.resize(size, Image.Resampling.LANCZOS))
    return canvas


def cat_portrait(width: int = 1320, height: int = 1920) -> Image.Image:
    """A portrait-shaped picture with no person in it: scikit-image's cat, cropped upright."""
    cat = Image.fromarray(data.chelsea())  # 451×300
    crop = cat.crop((70, 0, 70 + 206, 300))
    return crop.resize((width, height), Image.Resampling.LANCZOS)


def coffee_scene(width: int = 3000, height: int = 2000) -> Image.Image:
    """A landscape life/work photo with nobody in it: a cup of coffee on a table."""
    return Image.fromarray(data.coffee()).resize((width, height), Image.Resampling.LANCZOS)


def life_scene(seed: int, width: int = 3000, height: int = 2000) -> Image.Image:
    """The astronaut at work, framed differently per seed (a life/work photo of a candidate)."""
    rng = np.random.default_rng(seed)
    x0, y0 = int(rng.integers(0, 120)), int(rng.integers(0, 120))
    return astronaut().crop((x0, y0, x0 + 390, y0 + 260)).resize((width, height), Image.Resampling.LANCZOS)


def jpeg(image: Image.Image, min_bytes: int = 2 * MIB, seed: int = 0, orientation: int | None = None) -> bytes:
    """The image as a camera JPEG of at least `min_bytes`: sensor-like noise makes the size (as
    `ingest/samples/images.py` does), quality and then the pixel size rise until it is reached. `orientation`
    stores the picture turned the way a phone does and says so in EXIF, so only a reader that honours the tag
    sees it upright."""
    rng = np.random.default_rng(seed)
    options: dict = {}
    if orientation is not None:
        image = image.transpose(_STORED[orientation]) if orientation in _STORED else image
        exif = Image.Exif()
        exif[0x0112] = orientation
        options["exif"] = exif
    while True:
        pixels = np.asarray(image.convert("RGB"), dtype=np.int16)
        noisy = Image.fromarray(np.clip(pixels + rng.integers(-20, 21, pixels.shape), 0, 255).astype(np.uint8))
        for quality in (92, 95, 97, 99):
            buf = io.BytesIO()
            noisy.save(buf, "JPEG", quality=quality, **options)
            if buf.tell() >= min_bytes:
                return buf.getvalue()
        image = image.resize((round(image.width * 1.25), round(image.height * 1.25)), Image.Resampling.LANCZOS)


def reencoded(data_: bytes, scale: float = 0.8, quality: int = 85) -> bytes:
    """The same picture as someone re-saves it: resized and recompressed (different bytes, same photo)."""
    image = Image.open(io.BytesIO(data_))
    image = image.resize((round(image.width * scale), round(image.height * scale)), Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=quality)
    return buf.getvalue()
