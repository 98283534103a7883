"""Thumbnails of photos for the web view: made once per sha256 and kept as `<sha256>.jpg` in one folder
(`<storage root>/cache/thumbs/`), upright (EXIF orientation applied), small enough for a phone.

Decoding is bounded: the pixel count is read from the header and checked before any pixel is decoded, and
a JPEG is decoded at a reduced scale (`draft`), so a 60-megapixel camera original costs a few megabytes. A
file that cannot be decoded gets no thumbnail (the page shows a placeholder); nothing raises.
"""

from __future__ import annotations

import logging
import os
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path

from PIL import Image, ImageOps

log = logging.getLogger(__name__)

SIZE = 320  # the longer side, in pixels (a phone's screen shows two across)
QUALITY = 82
_HEX = frozenset("0123456789abcdef")


class Thumbnails:
    def __init__(self, folder: Path, max_pixels: int, size: int = SIZE):
        self.folder, self.max_pixels, self.size = Path(folder), max_pixels, size

    def path(self, sha256: str) -> Path:
        if len(sha256) != 64 or not set(sha256) <= _HEX:
            raise ValueError(f"not a sha256: {sha256!r}")
        return self.folder / f"{sha256}.jpg"

    def get(self, sha256: str, source: Path) -> Path | None:
        """The thumbnail of the photo stored at `source` (whose bytes have this sha256), made on first use;
        None when the photo cannot be decoded within the bounds."""
        target = self.path(sha256)
        if target.is_file():
            return target
        picture = self._decode(source)
        if picture is None:
            return None
        self.folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".thumb-", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as out:
                picture.save(out, "JPEG", quality=QUALITY, optimize=True)
            os.replace(tmp, target)  # two requests making the same thumbnail both land whole
        except OSError as exc:  # a full disk costs the cache, not the page
            log.warning("thumbnail of %s not cached: %s", sha256[:12], exc)
            Path(tmp).unlink(missing_ok=True)
            return None
        return target

    def drop(self, sha256: str) -> None:
        self.path(sha256).unlink(missing_ok=True)

    def prune(self, keep: Callable[[str], bool]) -> int:
        """Remove thumbnails whose photo is gone from the store (purged, quarantined) and leftover temp
        files; returns how many went."""
        if not self.folder.is_dir():
            return 0
        gone = 0
        for path in self.folder.iterdir():
            sha = path.name.removesuffix(".jpg")
            if path.name.startswith(".thumb-") or (path.suffix == ".jpg" and not keep(sha)):
                path.unlink(missing_ok=True)
                gone += 1
        return gone

    def _decode(self, source: Path) -> Image.Image | None:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # Pillow's own bomb warning: our bound is checked below
                with Image.open(source) as im:
                    width, height = im.size
                    if width * height > self.max_pixels or width < 1 or height < 1:
                        return None
                    if im.format == "JPEG":
                        im.draft("RGB", (self.size * 2, self.size * 2))  # decode at 1/2, 1/4 or 1/8 scale
                    upright = ImageOps.exif_transpose(im)
                    picture = upright.convert("RGB")
            picture.thumbnail((self.size, self.size), Image.Resampling.LANCZOS)
            return picture
        except Exception as exc:  # noqa: BLE001 - any damaged or hostile image: no thumbnail, never an error page
            log.info("no thumbnail for %s: %s", source.name[:12], type(exc).__name__)
            return None
