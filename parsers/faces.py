"""Faces in a photo, for the ID photo rule (小2寸正面免冠彩色照片): how many frontal faces, where, and whether
only a face in profile is seen. Pure: a decoded image in, facts out.

The detector is OpenCV's Haar cascades, which opencv-python 4.x ships inside its wheel (`cv2.data.haarcascades`;
OpenCV 5 dropped them, hence the `<5` pin): nothing is downloaded, ever. It runs on a grey copy at most
DETECT_SIDE px long and looks for faces no smaller than MIN_FACE of the shorter side: an ID photo's face is far
larger, and the small scales are where nearly all of a cascade's time goes, so one photo costs tens of
milliseconds (bench/photo_checks.py measures it). OpenCV is imported on first use, so only the parse worker
pays its ~30 MB, never the service that spawns it.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

from mailintake.parsers.facts import FaceBox, FaceFacts

if TYPE_CHECKING:
    import cv2

DETECT_SIDE = 400  # px, the longest side detection runs at (an ID photo's face is then >= ~60 px wide)
MIN_FACE = 0.10  # the smallest face looked for, as a share of the shorter side
FRONTAL = "haarcascade_frontalface_default.xml"
PROFILE = "haarcascade_profileface.xml"  # trained on faces turned one way: the mirror image finds the other
_SCALE_STEP = 1.1  # the cascade's scale factor: 10 % steps keep a face from falling between two scales (1.15 lost some)
_NEIGHBOURS = 5  # overlapping hits a face needs; fewer lets texture (hair, foliage) pass as a face


def find_faces(image: Image.Image, look_for_profile: bool = True) -> FaceFacts:
    """Frontal faces (boxes as shares of the image, largest first) and, when there is none and
    `look_for_profile`, whether a face in profile is seen (two more passes: the cascade and its mirror).
    A missing cascade file is a problem value, never an exception: the photo is then not judged."""
    with _cascade(FRONTAL) as frontal:
        if frontal is None:
            return FaceFacts(problem="detector_missing")
        grey = _grey(image)
        h, w = grey.shape
        boxes = sorted(_detect(frontal, grey), key=lambda b: -b[2] * b[3])
    found = tuple(FaceBox(x / w, y / h, bw / w, bh / h) for x, y, bw, bh in boxes)
    return FaceFacts(frontal=found, profile=not found and look_for_profile and _profile_seen(grey))


def _grey(image: Image.Image) -> np.ndarray:
    small = image.convert("L")
    if max(small.size) > DETECT_SIDE:
        small.thumbnail((DETECT_SIDE, DETECT_SIDE))
    return np.ascontiguousarray(np.asarray(small, dtype=np.uint8))


def _detect(cascade: cv2.CascadeClassifier, grey: np.ndarray) -> list[tuple[int, int, int, int]]:
    least = max(24, round(min(grey.shape) * MIN_FACE))  # 24 px: the cascades' own window
    if min(grey.shape) < least:
        return []
    found = cascade.detectMultiScale(grey, scaleFactor=_SCALE_STEP, minNeighbors=_NEIGHBOURS, minSize=(least, least))
    return [tuple(int(v) for v in box) for box in found]


def _profile_seen(grey: np.ndarray) -> bool:
    with _cascade(PROFILE) as profile:
        if profile is None:
            return False
        return bool(_detect(profile, grey)) or bool(_detect(profile, np.ascontiguousarray(grey[:, ::-1])))


class _Spares:
    """Classifiers loaded once (parsing the XML takes 20-30 ms) and lent out one photo at a time: OpenCV's
    classifier keeps scratch state while it detects, so two photos inspected side by side never share one."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._idle: dict[str, list[cv2.CascadeClassifier]] = {}

    @contextlib.contextmanager
    def lend(self, name: str) -> Iterator[cv2.CascadeClassifier | None]:
        with self._lock:
            idle = self._idle.setdefault(name, [])
            cascade = idle.pop() if idle else None
        if cascade is None:
            folder = _shipped_folder()
            cascade = _loaded(Path(folder) / name) if folder else None
        try:
            yield cascade
        finally:
            if cascade is not None:
                with self._lock:
                    self._idle[name].append(cascade)


_SPARES = _Spares()  # per process, like the module: the cascades are read-only files of the installed OpenCV


def _cascade(name: str) -> contextlib.AbstractContextManager[cv2.CascadeClassifier | None]:
    return _SPARES.lend(name)


def detector_problem(folder: str | Path | None = None) -> str | None:
    """Whether both cascades the ID photo check uses load, for `mailintake check`: None, or what is wrong.
    `folder`: where to look (default: the one OpenCV ships). Loads them afresh, as a parse worker will."""
    try:
        folder = folder or _shipped_folder()
    except ImportError as exc:
        return f"OpenCV is not installed ({exc.name})"
    if not folder:
        return "this OpenCV ships no Haar cascades (OpenCV 5 dropped them: opencv-python-headless must be < 5)"
    for name in (FRONTAL, PROFILE):
        path = Path(folder) / name
        if not path.is_file():
            return f"the face detector's cascade {path} is missing"
        if _loaded(path) is None:
            return f"the face detector's cascade {path} does not load"
    return None


def _shipped_folder() -> str | None:
    import cv2  # here, not at the top: see the module's docstring

    return getattr(getattr(cv2, "data", None), "haarcascades", None)


def _loaded(path: Path) -> cv2.CascadeClassifier | None:
    """The classifier, or None when the file is missing, damaged or holds no cascade. Checked first: OpenCV
    itself only prints an error and hands back an empty classifier for a missing file, and raises (a
    SystemError around its own) for a damaged one."""
    import cv2

    if not path.is_file():
        return None
    try:
        cascade = cv2.CascadeClassifier(str(path))
    except (cv2.error, SystemError):
        return None
    return None if cascade.empty() else cascade
