"""The ID photo rule (小2寸正面免冠彩色照片) as a submitter meets it: exactly one frontal face, of a plausible
size and place, judged upright. Real faces from the pictures scikit-image ships (testkit.portraits), found by
OpenCV's bundled cascade; nothing is downloaded. A life or work photo with nobody in it is fine."""

from __future__ import annotations

import cv2
import pytest
from PIL import Image

from mailintake.ingest.samples import clients, images
from mailintake.parsers import faces
from mailintake.parsers.facts import FaceFacts
from mailintake.parsers.message import parse_message
from mailintake.parsers.photos import inspect_photo, photo_findings
from testkit import portraits
from testkit.config import default_settings
from testkit.mail import MAILBOX

SETTINGS = default_settings()
MIB = 1024 * 1024


@pytest.fixture(scope="module")
def photos() -> dict[str, bytes]:
    """Camera-sized JPEGs (each over the campaign's 2 MiB), made once for the module."""
    return {
        "id": portraits.jpeg(portraits.id_photo()),
        "two": portraits.jpeg(portraits.two_people(), seed=1),
        "cat": portraits.jpeg(portraits.cat_portrait(), seed=2),
        "profile": portraits.jpeg(portraits.profile_portrait(), seed=3),
        "far": portraits.jpeg(portraits.half_length(), seed=4),
        "coffee": portraits.jpeg(portraits.coffee_scene(), seed=5),
    }


def as_id_photo(data: bytes, name: str = "张三1.jpg"):
    info = inspect_photo(data, SETTINGS.max_image_pixels)
    return info, photo_findings(name, len(data), info, "id_photo", SETTINGS)


def id_problems(found) -> list[str]:
    return [p for f in found if f.code == "id_photo_format" for p in f.params["problems"]]


def test_a_studio_portrait_of_one_person_passes_as_an_id_photo_with_nothing_said(photos):
    info, found = as_id_photo(photos["id"])
    assert len(photos["id"]) >= 2 * MIB and info.plain_background and info.colour
    assert found == []
    [face] = info.faces.frontal
    assert 0.25 < face.w < 0.45 and abs(face.x + face.w / 2 - 0.5) < 0.05  # about a third of the width, centred


def test_two_people_in_the_id_photo_are_counted_in_the_warning(photos):
    info, found = as_id_photo(photos["two"])
    [finding] = found
    assert (finding.code, finding.severity, len(info.faces.frontal)) == ("id_photo_format", "warning", 2)
    assert finding.detail == ("证件照“张三1.jpg”检测到2张人脸，应为小2寸（宽高比0.66–0.80）正面免冠彩色竖版照片。")


def test_an_id_photo_with_nobody_facing_the_camera_says_no_frontal_face_was_found(photos):
    _, found = as_id_photo(photos["cat"])
    assert id_problems(found) == ["face_none"]
    assert "证件照“张三1.jpg”未检测到正面人像" in found[0].detail


def test_a_person_seen_from_the_side_is_told_apart_from_nobody(photos):
    info, found = as_id_photo(photos["profile"])
    assert info.faces == FaceFacts(frontal=(), profile=True)
    assert id_problems(found) == ["face_profile"]
    assert "人像为侧面" in found[0].detail


def test_a_half_length_shot_is_too_small_a_face_for_an_id_photo(photos):
    info, found = as_id_photo(photos["far"])
    [face] = info.faces.frontal
    assert face.w < 0.15
    assert id_problems(found) == ["face_small"]
    assert f"人像过小（人脸宽度约为照片宽度的{face.w:.0%}）" in found[0].detail


@pytest.mark.parametrize("orientation", [6, 8])
def test_a_portrait_a_phone_stored_sideways_is_judged_upright(orientation):
    data = portraits.jpeg(portraits.id_photo(), orientation=orientation)  # stored 1920×1320
    info, found = as_id_photo(data)
    assert (info.width, info.height) == (1320, 1920) and len(info.faces.frontal) == 1
    assert found == []


def test_without_its_orientation_tag_the_same_sideways_file_is_a_landscape_photo():
    sideways = portraits.id_photo(width=660, height=960).transpose(Image.Transpose.ROTATE_90)
    info, found = as_id_photo(portraits.jpeg(sideways, min_bytes=0))
    assert (info.width, info.height, info.faces) == (960, 660, None)  # a face lying on its side is not looked for
    assert id_problems(found) == ["landscape"]


def test_a_life_or_work_photo_with_nobody_in_it_says_nothing(photos):
    for data in (photos["coffee"], photos["cat"]):
        info = inspect_photo(data, SETTINGS.max_image_pixels)
        assert photo_findings("张三2.jpg", len(data), info, "life_photo", SETTINGS) == []


def test_a_missing_detector_leaves_the_photo_unjudged_and_says_so_in_its_facts(photos, monkeypatch, tmp_path):
    monkeypatch.setattr(cv2.data, "haarcascades", str(tmp_path))  # an install without the cascade files
    monkeypatch.setattr(faces, "_SPARES", faces._Spares())  # none loaded yet
    info, found = as_id_photo(photos["two"])
    assert info.faces == FaceFacts(problem="detector_missing")
    assert found == []


def test_the_sample_generators_id_photos_each_show_one_well_placed_face():
    """The demo's and the tests' drawn ID photos (`ingest/samples`, no scikit-image there) are proper ID photos
    to the detector, whatever the seed and backdrop, so tests that mean "a good ID photo" get one."""
    judged = {}
    for seed in [*range(24), *range(2021, 2033)]:
        data = images.id_photo_jpeg(seed, 500, 700, min_bytes=0)
        judged[seed] = id_problems(as_id_photo(data)[1])
    assert {seed: p for seed, p in judged.items() if p} == {}


def test_a_mail_with_a_couples_photo_as_the_id_photo_gets_the_warning_under_that_file(photos):
    raw = clients.build_message(sender="spbkx@163.com", sender_name="沙坪坝区科协", to=MAILBOX,
                                subject="【沙坪坝区】张三推荐材料", body="请查收。", client="qqmail",
                                attachments=[("张三1.jpg", photos["two"]), ("张三2.jpg", photos["coffee"])])
    files = {f.display_name: f for f in parse_message(raw, SETTINGS).files}
    assert (files["张三1.jpg"].role, files["张三2.jpg"].role) == ("id_photo", "life_photo")
    assert [(x.code, x.params["faces"]) for x in files["张三1.jpg"].findings] == [("id_photo_format", 2)]
    assert files["张三2.jpg"].findings == []
    hashes = [files[n].photo.phash for n in ("张三1.jpg", "张三2.jpg")]
    assert [len(h) for h in hashes] == [64, 64] and hashes[0] != hashes[1]
