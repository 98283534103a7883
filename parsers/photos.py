"""Photo facts from bytes (format, upright size, colour, plain backdrop, integrity, faces, perceptual hash)
and the findings the campaign's photo rules derive from them: JPEG only, >= 2 MB, the ID photo a 小2寸 colour
portrait of one person facing the camera.

Pillow opens lazily, so the header is read first and the pixel budget is checked before any decode;
integrity then costs one reduced decode (JPEG DCT scaling), because `verify()` misses truncation. That one
decoded image, turned upright by its EXIF orientation first, serves every check: faces at DETECT_SIDE px,
colour, backdrop and the hash on a 128 px thumbnail of it. A message's photos may be inspected side by
side (`photos_inspected_meanwhile`, while the caller reads the documents): Pillow's
decoder and OpenCV's detector release the GIL, so a second thread uses the second core, and the facts are
the same as one by one.
"""

from __future__ import annotations

import contextlib
import io
import math
import warnings
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np
from PIL import Image

from mailintake.common import findings
from mailintake.common.vocab import Role
from mailintake.parsers.faces import DETECT_SIDE, find_faces
from mailintake.parsers.facts import FaceFacts, Finding, ParserSettings, PhotoInfo
from mailintake.parsers.photo_names import looks_like_id_photo_name

# Phones often write MPO (a JPEG with a multi-picture index); it is a .jpg in every viewer.
JPEG_FORMATS = frozenset({"JPEG", "MPO"})
_T = Image.Transpose
_UPRIGHT = {
    2: _T.FLIP_LEFT_RIGHT,
    3: _T.ROTATE_180,
    4: _T.FLIP_TOP_BOTTOM,
    5: _T.TRANSPOSE,
    6: _T.ROTATE_270,
    7: _T.TRANSVERSE,
    8: _T.ROTATE_90,
}  # EXIF Orientation -> transpose
_THUMB = 128
_MAGIC = (
    (b"\xff\xd8\xff", "JPEG"),
    (b"\x89PNG", "PNG"),
    (b"GIF8", "GIF"),
    (b"BM", "BMP"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
)
# Where one face sits in a proper 小2寸 photo. The detector's box spans brows to chin and cheek to cheek: in a
# head-and-shoulders ID photo (head ~60 % of the width) it is 35-55 % of the width, centred, in the upper half.
# The bounds are loose on purpose: they catch a half-length or group shot (face under 15 %), a close-up that
# cuts off chin and hair (over 80 %), and a face pushed to a side or the bottom, not a studio's own framing.
FACE_WIDTH_MIN, FACE_WIDTH_MAX = 0.15, 0.80
FACE_MIN_SIDE = 100  # px: a face a third of this wide is still above the cascades' 24 px window
FACE_OFF_CENTRE = 0.20  # the face's centre at most this share of the width from the middle
FACE_CENTRE_Y = (0.15, 0.70)  # the face's centre between these shares of the height
# 16×16 DCT signs (256 bits, 64 hex digits), not imagehash's default 8×8: on head-and-shoulders portraits the
# 64-bit hash put two different sitters as few as 2-4 bits apart, as close as a re-saved copy (0-2); the 256-bit
# one keeps them 16+ apart and a copy within 4 (bench/photo_checks.py prints both)
PHASH_SIZE = 16
_PHASH_SIDE = PHASH_SIZE * 4  # the picture the DCT reads: 64×64 grey, its lowest 16×16 frequencies kept
_n = np.arange(_PHASH_SIDE)
# scipy.fftpack's unnormalised DCT-II, y[k] = 2 Σ x[n] cos(πk(2n+1)/2N), only the rows the hash keeps: a matrix
# product gives imagehash.phash's bits (a test holds them equal) without importing SciPy into every worker
_DCT_ROWS = 2 * np.cos(np.pi * np.arange(PHASH_SIZE)[:, None] * (2 * _n[None, :] + 1) / (2 * _PHASH_SIDE))
MAX_JPEG_SCANS = 100  # progressive JPEGs have about 10 (a camera's thumbnail adds one or two)
_HEIF_BRANDS = {b"heic": "HEIC", b"heix": "HEIC", b"mif1": "HEIF", b"msf1": "HEIF", b"avif": "AVIF"}


def inspect_photo(data: bytes, max_pixels: int) -> PhotoInfo:
    """Facts about one image; never raises. problem: "bomb" (over max_pixels), "too_complex" (a JPEG with
    more scans than MAX_JPEG_SCANS) or "corrupt" (undecodable)."""
    with _quiet():
        return _inspect(data, max_pixels)


@contextlib.contextmanager
def photos_inspected_meanwhile(images: Sequence[bytes], max_pixels: int,
                               threads: int) -> Iterator[list[Future[PhotoInfo]]]:
    """`inspect_photo` of each on `threads` threads while the caller's block does other work; leaving the
    block waits for them all. Warnings are ignored in the whole block, the caller's included: catch_warnings
    swaps process-wide filters, so it is entered once here, never inside a thread."""
    with _quiet(), ThreadPoolExecutor(max(1, min(threads, len(images))), thread_name_prefix="mailintake-photo") as pool:
        yield [pool.submit(_inspect, data, max_pixels) for data in images]


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Pillow's bomb/palette warnings are facts here, not alarms
        yield


def _inspect(data: bytes, max_pixels: int) -> PhotoInfo:
    try:
        image = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError:
        return PhotoInfo(format=_sniff(data), problem="bomb")
    except Exception:
        # HEIC/HEIF that this Pillow cannot decode is still a named, intact non-JPEG photo.
        heif = _sniff_heif(data)
        return PhotoInfo(format=heif, problem=None if heif else "corrupt")
    return _inspect_opened(image, max_pixels, data)


def _inspect_opened(image: Image.Image, max_pixels: int, data: bytes) -> PhotoInfo:
    info = PhotoInfo(format=image.format, width=image.width, height=image.height, mode=image.mode)
    if image.width * image.height > max_pixels:
        info.problem = "bomb"
        return info
    if image.format in JPEG_FORMATS and jpeg_scans(data) > MAX_JPEG_SCANS:
        info.problem = "too_complex"  # each scan makes the decoder walk the whole image again
        return info
    orientation = _orientation(image)
    try:
        upright = _decode_small(image)
    except Exception:
        info.problem = "corrupt"
        return info
    if orientation in _UPRIGHT:
        upright = upright.transpose(_UPRIGHT[orientation])
    if orientation in (5, 6, 7, 8):
        info.width, info.height = info.height, info.width
    small = upright.copy()
    small.thumbnail((_THUMB, _THUMB))
    info.colour = Image.getmodebase(info.mode) != "L" and _has_colour(small)
    info.plain_background = _plain_background(small)
    info.phash = phash(small)
    # only a portrait can pass as an ID photo (a landscape one is told so), and below FACE_MIN_SIDE px a face
    # would be smaller than the detector's window: a thumbnail, which photo_too_small already refuses
    if FACE_MIN_SIDE <= info.width <= info.height:
        # a profile is looked for on a studio backdrop only: that is where a side view is the ID photo's
        # fault, and it spares every busy phone portrait two more passes (without it: "no frontal face")
        info.faces = find_faces(upright, look_for_profile=info.plain_background)
    return info


def phash(image: Image.Image) -> str:
    """The perceptual hash (imagehash.phash with hash_size 16): which of the 16×16 lowest DCT frequencies of
    a 64×64 grey copy lie above their median, as 64 hex digits, row by row."""
    grey = image.convert("L").resize((_PHASH_SIDE, _PHASH_SIDE), Image.Resampling.LANCZOS)
    low = np.round(_DCT_ROWS @ np.asarray(grey, dtype=np.float64) @ _DCT_ROWS.T, 6)  # a flat picture's 1e-13s are 0
    bits = (low > np.median(low)).flatten()
    return f"{int(''.join('1' if b else '0' for b in bits), 2):0{PHASH_SIZE * PHASH_SIZE // 4}x}"


def jpeg_scans(data: bytes) -> int:
    """Start-of-scan markers in a JPEG. Entropy-coded data stuffs every 0xFF with 0x00, so FF DA occurs
    only as a marker (an EXIF thumbnail adds its own few): counted before any decoding, by numpy a MiB at a
    time (0.75 ms for a 3 MB photo; `bytes.count` took 2.7 and held the GIL the other photo threads need).
    A chunk's 0xFF positions are its only temporary: 8 MiB at most, for a file of nothing but 0xFF."""
    view, scans = np.frombuffer(data, np.uint8), 0
    for start in range(0, max(len(view) - 1, 0), _SCAN_CHUNK):
        chunk = view[start:start + _SCAN_CHUNK + 1]  # one byte more: a marker cut by the chunk's end
        marks = np.flatnonzero(chunk[:-1] == 0xFF)
        scans += int(np.count_nonzero(chunk[marks + 1] == 0xDA))
    return scans


_SCAN_CHUNK = 1 << 20


def _orientation(image: Image.Image) -> int:
    try:
        return int(image.getexif().get(0x0112, 1))
    except Exception:  # a malformed EXIF block does not make the photo unusable
        return 1


def _decode_small(image: Image.Image) -> Image.Image:
    """Decode every byte once, cheaply: a JPEG at the coarsest DCT scale (down to 1/8) that still leaves
    DETECT_SIDE px on the longest side, which entropy-decodes the whole stream all the same."""
    if image.format in JPEG_FORMATS:
        scale = min(1.0, DETECT_SIDE / max(image.width, image.height, 1))
        image.draft("RGB", (max(1, math.ceil(image.width * scale)), max(1, math.ceil(image.height * scale))))
    image.load()
    small = image.convert("RGB")
    small.thumbnail((DETECT_SIDE, DETECT_SIDE))
    return small


def _has_colour(small: Image.Image) -> bool:
    """An RGB file can hold a black-and-white photo: look for pixels whose channels clearly differ."""
    rgb = np.asarray(small, dtype=np.int16)
    chroma = rgb.max(axis=2) - rgb.min(axis=2)
    return float(np.mean(chroma > 20)) > 0.02


def _plain_background(small: Image.Image) -> bool:
    """A studio backdrop: the top band and the upper side bands are one smooth colour.

    Nearly all band pixels (>= 90%) must lie close to the band's median colour, which tolerates a
    little hair reaching the top edge; those pixels must also be smooth (low std-dev), unlike a wall,
    foliage or a street. Side bands stop at 60% of the height, where the shoulders reach the edges.
    """
    rgb = np.asarray(small, dtype=np.float32)
    h, w, _ = rgb.shape
    bw, bh, side = max(2, round(w * 0.08)), max(2, round(h * 0.08)), max(3, round(h * 0.6))
    band = np.concatenate(
        [rgb[:bh].reshape(-1, 3), rgb[bh:side, :bw].reshape(-1, 3), rgb[bh:side, w - bw :].reshape(-1, 3)]
    )
    near = np.abs(band - np.median(band, axis=0)).max(axis=1) <= 28
    return float(near.mean()) >= 0.9 and float(band[near].std(axis=0).max()) <= 10


def _sniff(data: bytes) -> str | None:
    heif = _sniff_heif(data)
    if heif:
        return heif
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    return next((name for magic, name in _MAGIC if data.startswith(magic)), None)


def _sniff_heif(data: bytes) -> str | None:
    return _HEIF_BRANDS.get(data[8:12]) if data[4:8] == b"ftyp" else None


def photo_findings(name: str, size: int, info: PhotoInfo, role: str, settings: ParserSettings) -> list[Finding]:
    """Rule findings for one photo in `role` (id_photo / life_photo): format, size, integrity, ID shape."""
    found = []
    if info.format is not None and info.format not in JPEG_FORMATS:
        found.append(findings.make("photo_not_jpeg", name, actual=info.format))
    minimum = settings.photo_min_bytes.get(role)
    if minimum and size < minimum:
        found.append(findings.make("photo_too_small", name, size=size, minimum=minimum))
    if info.problem == "too_complex":
        found.append(findings.make("image_too_complex", name, scans_limit=MAX_JPEG_SCANS))
    elif info.problem is not None:
        found.append(findings.make("photo_corrupt", name))
    elif role == Role.ID_PHOTO and info.width and info.height:
        problems = _id_format_problems(info, settings.id_ratio_min, settings.id_ratio_max)
        problems += _face_problems(info.faces)
        if problems:
            found.append(findings.make(
                "id_photo_format", name, problems=problems, width=info.width, height=info.height,
                ratio=info.width / info.height, ratio_min=settings.id_ratio_min,
                ratio_max=settings.id_ratio_max, **_face_params(info.faces)))
    return found


def _id_format_problems(info: PhotoInfo, ratio_min: float, ratio_max: float) -> list[str]:
    """Problem codes (landscape | square | ratio, then greyscale); `common.findings` words them."""
    w, h = info.width, info.height
    problems = []
    if w > h:
        problems.append("landscape")
    elif w == h:
        problems.append("square")
    elif not ratio_min <= w / h <= ratio_max:
        problems.append("ratio")
    if not info.colour:
        problems.append("greyscale")
    return problems


def _face_problems(faces: FaceFacts | None) -> list[str]:
    """Problem codes for the person in an ID photo: face_none | face_profile | faces_many, or one face badly
    placed (face_small | face_large, face_off_centre). Nothing when nobody looked (landscape, no detector)."""
    if faces is None or faces.problem is not None:
        return []
    if not faces.frontal:
        return ["face_profile" if faces.profile else "face_none"]
    if len(faces.frontal) > 1:
        return ["faces_many"]
    (face,) = faces.frontal
    problems = []
    if face.w < FACE_WIDTH_MIN:
        problems.append("face_small")
    elif face.w > FACE_WIDTH_MAX:
        problems.append("face_large")
    cy = face.y + face.h / 2
    if abs(face.x + face.w / 2 - 0.5) > FACE_OFF_CENTRE or not FACE_CENTRE_Y[0] <= cy <= FACE_CENTRE_Y[1]:
        problems.append("face_off_centre")
    return problems


def _face_params(faces: FaceFacts | None) -> dict[str, int | float]:
    """The counts the face problems are worded from: faces found, and the one face's width share."""
    if faces is None or faces.problem is not None:
        return {}
    params: dict[str, int | float] = {"faces": len(faces.frontal)}
    if len(faces.frontal) == 1:
        params["face_width"] = round(faces.frontal[0].w, 3)
    return params


def choose_id_photo(
    candidates: list[tuple[int, PhotoInfo, int | None, str]],
    ratio_min: float,
    ratio_max: float,
) -> int | None:
    """Index of one person's ID photo among (index, info, seq, filename): a 证件照-style name first,
    else a portrait of ID proportions on a plain backdrop (lowest seq), else seq 1, else None.

    Shape alone is not enough: phones shoot 3:4 portraits (0.75) that would pass the ratio test.
    """
    for index, _, _, filename in candidates:
        if looks_like_id_photo_name(filename):
            return index
    shaped = [
        (seq if seq is not None else 10**6, index)
        for index, info, seq, _ in candidates
        if info.problem is None and info.plain_background and _id_shaped(info, ratio_min, ratio_max)
    ]
    if shaped:
        return min(shaped)[1]
    return next((index for index, _, seq, _ in candidates if seq == 1), None)


def _id_shaped(info: PhotoInfo, ratio_min: float, ratio_max: float) -> bool:
    return 0 < info.width < info.height and ratio_min <= info.width / info.height <= ratio_max
