"""Benchmark: what face detection and perceptual hashing add to each photo, and the cross-unit pairing.

Run on purpose, never in the test suite:

    .venv/bin/python bench/photo_checks.py               # ~1 min
    .venv/bin/python bench/photo_checks.py --runs 9 --photos 20000

Per kind of photo (camera-sized JPEGs over 2 MiB from `ingest.samples.images`, and, when scikit-image is
installed, the real portraits of `tests/support/testkit/portraits.py`), the median of `--runs` runs of:
`inspect_photo` whole; the one reduced decode it makes; the 256-bit phash of the 128 px thumbnail; the
frontal-face pass; the two profile passes (run only on a plain backdrop with no frontal face). "faces+hash"
is the share of `inspect_photo` those two add. OpenCV's thread count is printed (it parallelises a pass).

Then how far apart perceptual hashes put different sitters (the drawn ID photos of 24 seeds, all pairs) and a
re-saved copy (half size, JPEG quality 70) of each, at imagehash's default 8×8 and at the 16×16 the photos use.

Then one whole submission (a unit's report, summary and two candidates' form, ID photo and three life photos,
as `ingest.samples` makes them) parsed by `parse_message` with and without the face and hash steps, and
`reports.queries._near_pairs` over `--photos` random hashes (a campaign's photos compared all against all, as
the cross-unit query does), with its time.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "support"))

import cv2  # noqa: E402
import imagehash  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from mailintake.ingest import config as config_mod  # noqa: E402
from mailintake.ingest.samples import clients, images  # noqa: E402
from mailintake.ingest.samples.mailbox import candidate_files, person, sealed_report, summary  # noqa: E402
from mailintake.parsers import faces  # noqa: E402
from mailintake.parsers import photos as ph  # noqa: E402
from mailintake.parsers.facts import FaceFacts  # noqa: E402
from mailintake.parsers.message import parse_message  # noqa: E402
from mailintake.reports import queries  # noqa: E402

MAX_PIXELS = 120_000_000


def median_ms(fn, runs: int) -> float:
    fn()  # warm: caches, the cascades' first load
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000


def inputs() -> dict[str, bytes]:
    found = {
        "drawn ID photo 1500×2100": images.id_photo_jpeg(2021),
        "life photo 3000×2000 (landscape: no face pass)": images.life_photo_jpeg(2021),
        "phone portrait 1500×2000 (busy)": images.life_photo_jpeg(2022, width=1500, height=2000),
    }
    try:
        from testkit import portraits
    except ImportError:  # scikit-image is a test dependency
        print("(scikit-image not installed: the real portraits are left out)")
        return found
    found["astronaut ID photo 1320×1920"] = portraits.jpeg(portraits.id_photo())
    found["profile on a backdrop 1320×1920 (+2 profile passes)"] = portraits.jpeg(portraits.profile_portrait())
    found["two people 1320×1920"] = portraits.jpeg(portraits.two_people())
    return found


def measure(name: str, data: bytes, runs: int) -> dict[str, float | str]:
    upright = ph._decode_small(Image.open(io.BytesIO(data)))
    thumb = upright.copy()
    thumb.thumbnail((128, 128))
    grey = faces._grey(upright)
    info = ph.inspect_photo(data, MAX_PIXELS)
    profile = info.faces is not None and not info.faces.frontal and info.plain_background

    def frontal_only(grey):
        with faces._cascade(faces.FRONTAL) as cascade:
            return faces._detect(cascade, grey)

    row: dict[str, float | str] = {
        "photo": name, "MB": len(data) / 1e6,
        "inspect": median_ms(lambda: ph.inspect_photo(data, MAX_PIXELS), runs),
        "decode": median_ms(lambda: ph._decode_small(Image.open(io.BytesIO(data))), runs),
        "phash": median_ms(lambda: ph.phash(thumb), runs),
        "frontal": median_ms(lambda: frontal_only(grey), runs)
        if info.faces is not None else 0.0,
        "profile": median_ms(lambda: faces._profile_seen(grey), runs) if profile else 0.0,
        "faces": "-" if info.faces is None else f"{len(info.faces.frontal)}{' profile' if info.faces.profile else ''}",
    }
    row["share"] = (row["phash"] + row["frontal"] + row["profile"]) / row["inspect"]
    return row


def hash_separation() -> None:
    pictures = [Image.open(io.BytesIO(images.id_photo_jpeg(seed, 600, 840, min_bytes=0))) for seed in range(24)]
    copies = []
    for p in pictures:
        buf = io.BytesIO()
        p.resize((300, 420)).save(buf, "JPEG", quality=70)
        copies.append(Image.open(buf))
    for size in (8, ph.PHASH_SIZE):
        def h(image: Image.Image, size: int = size) -> imagehash.ImageHash:
            thumb = image.convert("RGB")
            thumb.thumbnail((128, 128))
            return imagehash.phash(thumb, hash_size=size)
        hashes = [h(p) for p in pictures]
        apart = min(a - b for i, a in enumerate(hashes) for b in hashes[i + 1:])
        copy = max(a - h(c) for a, c in zip(hashes, copies, strict=True))
        print(f"phash {size}×{size} ({size * size} bits): two different sitters at least {apart} bits apart, "
              f"a re-saved copy at most {copy}")


def submission() -> bytes:
    unit, people = "沙坪坝区科协", ["张伟", "李娜"]
    files = [sealed_report(unit, 1), summary(unit, [person(p, "女", "1980.05", "研究员") for p in people])]
    for n, p in enumerate(people):
        files += candidate_files(p, 2021 + n)
    return clients.build_message(sender="spbkx@163.com", sender_name=unit, to="834396688@qq.com",
                                 subject="【沙坪坝区】推荐材料", body="请查收。", attachments=files)


def whole_message(runs: int) -> tuple[float, float, int]:
    """CPU ms (all threads: less disturbed by a busy machine than wall time) of parse_message on one submission,
    with the face and hash steps and with both stubbed out, runs interleaved so drift hits both alike."""
    raw, settings = submission(), config_mod.from_dict({"mailbox": {"host": "h"}}).parser_settings()
    real = ph.find_faces, ph.phash
    stubs = (lambda *_a, **_k: FaceFacts()), (lambda *_a, **_k: "0" * 64)
    times: dict[bool, list[float]] = {True: [], False: []}
    parse_message(raw, settings)  # warm
    try:
        for _ in range(runs):
            for checks in (True, False):
                ph.find_faces, ph.phash = real if checks else stubs
                t = time.process_time()
                parse_message(raw, settings)
                times[checks].append(time.process_time() - t)
    finally:
        ph.find_faces, ph.phash = real
    return statistics.median(times[True]) * 1000, statistics.median(times[False]) * 1000, len(raw)


def pairing(n: int, distance: int) -> tuple[float, int]:
    rng = np.random.default_rng(7)
    words = rng.integers(0, 2**63, size=(n, 4), dtype=np.int64).astype(np.uint64)
    photos = [(None, SimpleNamespace(sha256=f"s{i}", phash="".join(f"{int(w):016x}" for w in row)))
              for i, row in enumerate(words)]
    t = time.perf_counter()
    pairs = queries._near_pairs(photos, distance)
    return time.perf_counter() - t, len(pairs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--photos", type=int, default=10_000)
    args = parser.parse_args()
    print(f"OpenCV {cv2.__version__}, {cv2.getNumThreads()} threads; imagehash {imagehash.__version__}; "
          f"median of {args.runs} runs, ms")
    head = f"{'photo':52} {'MB':>5} {'inspect':>8} {'decode':>7} {'phash':>6} {'frontal':>8} {'profile':>8} " \
           f"{'faces':>9} {'faces+hash':>10}"
    print(head)
    for name, data in inputs().items():
        r = measure(name, data, args.runs)
        print(f"{r['photo']:52} {r['MB']:5.1f} {r['inspect']:8.1f} {r['decode']:7.1f} {r['phash']:6.1f} "
              f"{r['frontal']:8.1f} {r['profile']:8.1f} {r['faces']:>9} {r['share']:10.0%}")
    hash_separation()
    with_checks, without, size = whole_message(args.runs)
    print(f"one submission ({size / 1e6:.1f} MB, 8 photos, 2 of them portraits): parse_message {with_checks:.0f} "
          f"CPU ms, {without:.0f} without faces and hashes: {with_checks / without - 1:+.0%}")
    seconds, found = pairing(args.photos, 10)
    print(f"cross-unit pairing: {args.photos:,} photos ({args.photos * (args.photos - 1) // 2:,} pairs) "
          f"in {seconds:.2f} s, {found} near pairs among random hashes")


if __name__ == "__main__":
    main()
