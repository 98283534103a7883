"""Photo checks as a submitter meets them: JPEG only, >= 2 MB, intact, a colour portrait ID photo,
names 姓名+序号, and which of a person's photos is the ID photo."""

from __future__ import annotations

import dataclasses
import io
import random
import struct
import zlib

import pytest
from PIL import Image

from mailintake.ingest.samples import images
from mailintake.parsers.facts import PhotoInfo
from mailintake.parsers.photo_names import looks_like_id_photo_name, parse_photo_name, person_from_name
from mailintake.parsers.photos import choose_id_photo, inspect_photo, photo_findings
from testkit import portraits
from testkit.config import default_settings

SETTINGS = default_settings()
MAX_PIXELS = SETTINGS.max_image_pixels
RATIO_MIN, RATIO_MAX = SETTINGS.id_ratio_min, SETTINGS.id_ratio_max
MIB = 1024 * 1024


def codes(found) -> list[str]:
    return [f.code for f in found]


def encode(image: Image.Image, fmt: str = "JPEG", **options) -> bytes:
    buf = io.BytesIO()
    image.save(buf, fmt, **options)
    return buf.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header declares width x height but whose pixel data is a few bytes of nothing."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


@pytest.fixture(scope="module")
def life_jpeg() -> bytes:
    return images.life_photo_jpeg(1)  # 3000x2000, >= 2 MiB


@pytest.fixture(scope="module")
def id_jpeg() -> bytes:
    return images.id_photo_jpeg(2)  # 1500x2100, plain backdrop, >= 2 MiB


@pytest.fixture(scope="module")
def busy_portrait_jpeg() -> bytes:
    return images.life_photo_jpeg(3, width=1500, height=2000)  # a phone's 3:4 portrait


@pytest.fixture(scope="module")
def infos(life_jpeg, id_jpeg, busy_portrait_jpeg) -> dict[str, PhotoInfo]:
    return {
        "life": inspect_photo(life_jpeg, MAX_PIXELS),
        "id": inspect_photo(id_jpeg, MAX_PIXELS),
        "busy_portrait": inspect_photo(busy_portrait_jpeg, MAX_PIXELS),
    }


# --- what inspect_photo sees ------------------------------------------------------------------------


def test_a_large_life_photo_is_an_intact_colour_jpeg_with_a_busy_background(life_jpeg, infos):
    info = infos["life"]
    assert len(life_jpeg) >= 2 * MIB
    assert (info.format, info.width, info.height, info.problem) == ("JPEG", 3000, 2000, None)
    assert info.colour and not info.plain_background
    assert photo_findings("张三2.jpg", len(life_jpeg), info, "life_photo", SETTINGS) == []


def test_a_studio_id_photo_has_a_plain_background_and_passes(id_jpeg, infos):
    info = infos["id"]
    assert (info.width, info.height, info.colour, info.plain_background) == (1500, 2100, True, True)
    assert photo_findings("张三1.jpg", len(id_jpeg), info, "id_photo", SETTINGS) == []


def test_a_phone_portrait_with_a_busy_background_is_not_plain(infos):
    info = infos["busy_portrait"]
    assert (info.width, info.height, info.plain_background) == (1500, 2000, False)


def test_exif_orientation_turns_a_landscape_stored_phone_photo_into_a_portrait():
    # a real face (the ID photo rule looks for one), stored 480×330 with EXIF 6: "rotate 90° clockwise to view"
    data = portraits.jpeg(portraits.id_photo(width=330, height=480), min_bytes=0, orientation=6)
    info = inspect_photo(data, MAX_PIXELS)
    assert (info.width, info.height) == (330, 480)
    assert photo_findings("张三1.jpg", 3 * MIB, info, "id_photo", SETTINGS) == []


# --- photo_not_jpeg / photo_too_small ----------------------------------------------------------------


def test_a_png_renamed_to_jpg_is_reported_as_png():
    data = encode(Image.new("RGB", (300, 400), (200, 180, 160)), "PNG")
    info = inspect_photo(data, MAX_PIXELS)
    found = photo_findings("张三2.jpg", len(data), info, "life_photo", SETTINGS)
    assert info.format == "PNG"
    assert codes(found) == ["photo_not_jpeg", "photo_too_small"]
    assert "实际为PNG" in found[0].detail


def test_a_phone_mpo_file_counts_as_jpeg():
    frames = [Image.new("RGB", (300, 400), c) for c in ((200, 60, 60), (60, 60, 200))]
    data = encode(frames[0], "MPO", save_all=True, append_images=frames[1:])
    info = inspect_photo(data, MAX_PIXELS)
    assert info.format == "MPO" and info.problem is None
    assert "photo_not_jpeg" not in codes(photo_findings("张三2.jpg", len(data), info, "life_photo", SETTINGS))


def test_an_iphone_heic_photo_is_named_as_heic_not_as_damaged():
    data = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes(4000)
    info = inspect_photo(data, MAX_PIXELS)
    found = photo_findings("张三2.jpg", len(data), info, "life_photo", SETTINGS)
    assert (info.format, info.problem) == ("HEIC", None)
    assert codes(found) == ["photo_not_jpeg", "photo_too_small"]


@pytest.fixture(scope="module")
def jpeg_of_1_9_mib() -> bytes:
    data = images.life_photo_jpeg(11, width=2440, height=1700, min_bytes=1_800_000)
    assert 1.85 * MIB < len(data) < 1.95 * MIB  # precondition of the test below
    return data


def test_a_1_9_mib_photo_is_too_small_in_windows_megabytes(jpeg_of_1_9_mib):
    info = inspect_photo(jpeg_of_1_9_mib, MAX_PIXELS)
    found = photo_findings("张三3.jpg", len(jpeg_of_1_9_mib), info, "life_photo", SETTINGS)
    assert codes(found) == ["photo_too_small"]
    assert "大小为1.9 MB，小于要求的2.0 MB" in found[0].detail


def test_a_size_that_rounds_to_the_minimum_is_shown_in_bytes():
    info = PhotoInfo(format="JPEG", width=3000, height=2000)
    (finding,) = photo_findings("张三3.jpg", 2_090_000, info, "life_photo", SETTINGS)
    assert "2.0 MB（2,090,000 字节）" in finding.detail and "（2,097,152 字节）" in finding.detail


def test_the_minimum_size_is_per_role_and_configurable():
    info = PhotoInfo(format="JPEG", width=1500, height=2100)
    settings = dataclasses.replace(default_settings(), photo_min_bytes={"life_photo": 2 * MIB})
    assert photo_findings("张三1.jpg", 300_000, info, "id_photo", settings) == []
    assert codes(photo_findings("张三2.jpg", 300_000, info, "life_photo", settings)) == ["photo_too_small"]


# --- photo_corrupt ----------------------------------------------------------------------------------


@pytest.mark.parametrize("keep", ["half", "3 KB short"])
def test_a_truncated_jpeg_is_corrupt(life_jpeg, keep):
    data = life_jpeg[: len(life_jpeg) // 2] if keep == "half" else life_jpeg[:-3072]
    info = inspect_photo(data, MAX_PIXELS)
    assert (info.format, info.problem) == ("JPEG", "corrupt")
    assert "photo_corrupt" in codes(photo_findings("张三2.jpg", len(data), info, "life_photo", SETTINGS))


def test_bytes_that_are_no_image_are_corrupt_and_nothing_else():
    info = inspect_photo(b"<html>not a photo</html>" * 200_000, MAX_PIXELS)
    found = photo_findings("张三2.jpg", 4_800_000, info, "life_photo", SETTINGS)
    assert (info.format, info.problem) == (None, "corrupt")
    assert codes(found) == ["photo_corrupt"]


def test_a_header_declaring_30000_by_30000_pixels_is_a_bomb(recwarn):
    limit_before = Image.MAX_IMAGE_PIXELS
    info = inspect_photo(png_header_only(30000, 30000), MAX_PIXELS)
    assert info.problem == "bomb"
    assert codes(photo_findings("张三2.jpg", 3 * MIB, info, "life_photo", SETTINGS)) == [
        "photo_not_jpeg",
        "photo_corrupt",
    ]
    assert limit_before == Image.MAX_IMAGE_PIXELS
    assert len(recwarn) == 0


def test_the_pixel_budget_is_checked_from_the_header_before_decoding(recwarn):
    # 10000x10000 is over Pillow's warning limit but under its hard one; its pixel data is bogus, so
    # a decode would have reported "corrupt": "bomb" proves the budget was applied first.
    info = inspect_photo(png_header_only(10000, 10000), max_pixels=50_000_000)
    assert (info.format, info.width, info.height, info.problem) == ("PNG", 10000, 10000, "bomb")
    assert len(recwarn) == 0


# --- id_photo_format --------------------------------------------------------------------------------


def test_a_landscape_id_photo_is_flagged_as_landscape(life_jpeg, infos):
    (finding,) = photo_findings("张三1.jpg", len(life_jpeg), infos["life"], "id_photo", SETTINGS)
    assert finding.code == "id_photo_format" and finding.severity == "warning"
    assert "为横版照片（3000×2000）" in finding.detail


def test_a_black_and_white_id_photo_is_flagged_even_when_stored_as_rgb(id_jpeg):
    grey = Image.open(io.BytesIO(id_jpeg)).convert("L")
    for data in (encode(grey, quality=95), encode(grey.convert("RGB"), quality=95)):
        info = inspect_photo(data, MAX_PIXELS)
        (finding,) = photo_findings("张三1.jpg", 3 * MIB, info, "id_photo", SETTINGS)
        assert not info.colour and "黑白" in finding.detail


def test_a_too_narrow_portrait_is_flagged_with_its_ratio():
    info = inspect_photo(encode(Image.new("RGB", (500, 1000), (30, 120, 200))), MAX_PIXELS)
    (finding,) = photo_findings("张三1.jpg", 3 * MIB, info, "id_photo", SETTINGS)
    assert "宽高比为0.50（500×1000）" in finding.detail


def test_a_corrupt_id_photo_is_not_judged_on_its_shape(life_jpeg):
    info = inspect_photo(life_jpeg[:-3072], MAX_PIXELS)
    assert codes(photo_findings("张三1.jpg", 3 * MIB, info, "id_photo", SETTINGS)) == ["photo_corrupt"]


# --- names ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filename", "expected"),
    [
        ("张三1.jpg", ("张三", 1)),
        ("张三-1.jpg", ("张三", 1)),
        ("张三_01.JPG", ("张三", 1)),
        ("张三（1）.jpg", ("张三", 1)),
        ("张三(1).jpg", ("张三", 1)),
        ("张三 1.jpeg", ("张三", 1)),
        ("张三１.jpg", ("张三", 1)),
        ("欧阳娜娜12.jpg", ("欧阳娜娜", 12)),
        ("阿卜杜·热合曼1.jpg", ("阿卜杜·热合曼", 1)),
        ("材料.zip/张三/张三3.jpg", ("张三", 3)),
        ("IMG_2034.jpg", None),
        ("张三.jpg", None),
        ("张三证件照.jpg", None),
        ("张三生活照2.jpg", None),
        ("附件1.jpg", None),
        ("张三20210528.jpg", None),
    ],
)
def test_photo_names_are_read_as_name_and_sequence(filename, expected):
    assert parse_photo_name(filename) == expected


@pytest.mark.parametrize(
    ("filename", "is_id", "person"),
    [
        ("张三证件照.jpg", True, "张三"),
        ("张三-小2寸.jpg", True, "张三"),
        ("李四免冠照片.JPG", True, "李四"),
        ("张三-生活照2.jpg", False, "张三"),
        ("张三1.jpg", False, "张三"),
        ("IMG_2034.jpg", False, None),
        ("证件照.jpg", True, None),
    ],
)
def test_id_photo_keywords_and_the_person_in_free_form_names(filename, is_id, person):
    assert looks_like_id_photo_name(filename) is is_id
    assert person_from_name(filename) == person


# --- which photo is the ID photo ----------------------------------------------------------------------


def test_a_plain_background_portrait_wins_over_sequence_one(infos):
    candidates = [
        (0, infos["life"], 1, "张三1.jpg"),
        (1, infos["busy_portrait"], 2, "张三2.jpg"),
        (2, infos["id"], 3, "张三3.jpg"),
    ]
    assert choose_id_photo(candidates, RATIO_MIN, RATIO_MAX) == 2


def test_a_name_saying_id_photo_wins_over_shape(infos):
    candidates = [(0, infos["id"], 1, "张三1.jpg"), (1, infos["life"], None, "张三证件照.jpg")]
    assert choose_id_photo(candidates, RATIO_MIN, RATIO_MAX) == 1


def test_a_3_to_4_phone_portrait_with_a_busy_background_stays_a_life_photo(infos):
    candidates = [
        (0, infos["life"], 1, "张三1.jpg"),
        (1, infos["busy_portrait"], 2, "张三2.jpg"),
        (2, infos["life"], 3, "张三3.jpg"),
    ]
    assert choose_id_photo(candidates, RATIO_MIN, RATIO_MAX) == 0


def test_without_a_qualifying_photo_sequence_one_is_the_id_photo_or_none(infos):
    photos = [(5, infos["life"], 2, "张三2.jpg"), (6, infos["life"], 1, "张三1.jpg")]
    assert choose_id_photo(photos, RATIO_MIN, RATIO_MAX) == 6
    assert choose_id_photo([(5, infos["life"], 2, "张三2.jpg"), (7, infos["busy_portrait"], 3, "x.jpg")],
                           RATIO_MIN, RATIO_MAX) is None


def test_the_id_ratio_range_comes_from_the_caller(infos):
    candidates = [(0, infos["life"], 1, "张三1.jpg"), (1, infos["id"], 2, "张三2.jpg")]  # id: 0.714
    assert choose_id_photo(candidates, ratio_min=0.66, ratio_max=0.80) == 1
    assert choose_id_photo(candidates, ratio_min=0.75, ratio_max=0.80) == 0


def test_a_jpeg_with_thousands_of_scans_is_refused_before_it_is_decoded():
    """A progressive JPEG whose last scan repeats (the hostile shape): each scan is a full pass of the
    decoder over the image (about 6 ms per scan at 3000x2000, measured), so it is counted, not decoded."""
    from mailintake.ingest.samples import hostile
    from mailintake.parsers.photos import MAX_JPEG_SCANS, jpeg_scans

    data = hostile.many_scan_jpeg(3000)
    assert jpeg_scans(data) > 3000 > MAX_JPEG_SCANS  # the cost it would have had
    info = inspect_photo(data, MAX_PIXELS)
    assert info.problem == "too_complex" and info.format == "JPEG"
    [finding] = photo_findings("张三2.jpg", 3 * MIB, info, "life_photo", SETTINGS)
    assert finding.code == "image_too_complex" and "渐进式扫描超过100次" in finding.detail
    ordinary = encode(Image.new("RGB", (600, 400), (90, 120, 60)), progressive=True)
    assert inspect_photo(ordinary, MAX_PIXELS).problem is None and jpeg_scans(ordinary) < MAX_JPEG_SCANS



@pytest.mark.parametrize("shape", ["empty", "one byte", "a marker across the MiB", "all 0xFF", "random"])
def test_the_scan_count_finds_every_marker_bytes_count_finds(shape):
    from mailintake.parsers.photos import jpeg_scans

    mib = 1 << 20
    three = bytes(b"\xff\xda\x00"[i % 3] for i in range(256))  # every byte value onto one of the three
    data = {"empty": lambda: b"", "one byte": lambda: b"\xff",
            "a marker across the MiB": lambda: b"\x00" * (mib - 1) + b"\xff\xda" * 3,
            "all 0xFF": lambda: b"\xff" * (2 * mib + 5) + b"\xda",
            "random": lambda: random.Random(3).randbytes(3 * mib).translate(three)}[shape]()
    assert jpeg_scans(data) == data.count(b"\xff\xda")

def test_the_perceptual_hash_is_imagehash_s_phash_without_scipy():
    """Hashes recorded before (imagehash.phash 16x16) and after stay comparable: the same bits on photos,
    portraits, noise, a flat picture (whose AC terms are all zero) and odd sizes."""
    import imagehash
    import numpy as np

    from mailintake.parsers.photos import PHASH_SIZE, _decode_small, phash

    rng = np.random.default_rng(7)
    pictures = [_decode_small(Image.open(io.BytesIO(images.life_photo_jpeg(n, 900, 600, 0)))) for n in range(3)]
    pictures += [_decode_small(Image.open(io.BytesIO(images.id_photo_jpeg(n, 360, 480, 0)))) for n in range(3)]
    pictures += [Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)) for h, w in [(50, 333), (401, 77)]]
    pictures += [Image.new("RGB", (100, 100), "white"), Image.new("L", (70, 90), 128)]
    for picture in pictures:
        assert phash(picture) == str(imagehash.phash(picture, hash_size=PHASH_SIZE))


def test_photos_inspected_side_by_side_give_the_facts_one_by_one_gives(life_jpeg, id_jpeg, busy_portrait_jpeg):
    """Two threads at once (each with its own face detector) and in order, a corrupt one among them."""
    from mailintake.parsers.photos import photos_inspected_meanwhile

    batch = [life_jpeg, id_jpeg, life_jpeg[: len(life_jpeg) // 2], busy_portrait_jpeg,
             images.id_photo_jpeg(5, width=360, height=480, min_bytes=0), b"not an image"]
    one_by_one = [inspect_photo(data, MAX_PIXELS) for data in batch]
    with photos_inspected_meanwhile(batch, MAX_PIXELS, threads=2) as pending:
        side_by_side = [future.result() for future in pending]
    assert side_by_side == one_by_one
    assert [info.problem for info in one_by_one] == [None, None, "corrupt", None, None, "corrupt"]
    assert one_by_one[1].faces.frontal and one_by_one[4].faces.frontal
