"""Is there a red round official seal (公章) on a page image? numpy only, no OpenCV/scipy.

A 公章 is a red ring about 4 cm across with a red star and red text inside; stamps are often faint,
rotated, broken up, or partly hidden under black text. Steps: a tolerant red mask on a ~1000 px copy;
8-connected components on a max-pooled, slightly dilated ~300 px grid (so a ring broken into arcs
stays one candidate); then each candidate is tested as a shape: roughly square bounding box, outer
edge round in most directions, hardly any red outside that circle, some red inside it, and not a
filled disc. Letterheads, red titles, filled logos, squares and stripes fail one of those tests.
"""

from __future__ import annotations

import io
import math
import warnings
from collections.abc import Iterable

import numpy as np
from PIL import Image

from mailintake.parsers.photos import MAX_JPEG_SCANS, jpeg_scans

_WORK_SIDE = 1000  # pages are examined at about this long side
_GRID_SIDE = 300  # components are found on a grid of about this long side
_DILATE = 2  # grid cells; bridges gaps of ~4 cells between arcs and glyphs
_MIN_DIAMETER = 0.07  # of the page's long side: a 4 cm seal on A4 is ~0.135, letterhead logos smaller
_BINS = 72  # directions around a candidate's centre


def seal_in_images(images: Iterable[bytes], max_pixels: int) -> bool:
    """True when any of the encoded images shows a red round seal. Each is decoded at reduced size
    (JPEG draft) after a header pixel check; undecodable or oversized images count as no seal."""
    return any(_seal_in_bytes(data, max_pixels) for data in images)


def find_seal(image: Image.Image) -> bool:
    """True when the page image shows a red round seal. Never raises: a page that cannot be analysed
    is a page without a detected seal."""
    try:
        if min(image.size) < 16:  # too small to show a seal's ring, star and text
            return False
        mask = _red_mask(_working_rgb(image))
        if mask.mean() > 0.5:  # red covers most of the image: a red page or photo, not a stamp on paper
            return False
        return any(_is_seal(ys, xs, mask) for ys, xs in _candidates(mask))
    except Exception:
        return False


def _seal_in_bytes(data: bytes, max_pixels: int) -> bool:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            image = Image.open(io.BytesIO(data))
            if image.width * image.height > max_pixels:
                return False
            if image.format == "JPEG" and jpeg_scans(data) > MAX_JPEG_SCANS:
                return False  # decoding it would cost a pass over the whole image per scan
            image.draft("RGB", (_WORK_SIDE, _WORK_SIDE))  # JPEG: let the decoder scale down
            image.load()
        except Exception:
            return False
        return find_seal(image)


def _working_rgb(image: Image.Image) -> np.ndarray:
    """A <= 1000 px RGB copy; transparent areas (electronic seal PNGs) become white paper."""
    if image.mode not in ("RGB", "RGBA", "L", "LA"):
        image = image.convert("RGBA")
    scale = max(image.size) / _WORK_SIDE
    if scale > 1:
        size = (max(1, round(image.width / scale)), max(1, round(image.height / scale)))
        image = image.resize(size, Image.Resampling.BOX)
    if image.mode in ("RGBA", "LA"):
        paper = Image.new("RGBA", image.size, (255, 255, 255, 255))
        image = Image.alpha_composite(paper, image.convert("RGBA"))
    return np.asarray(image.convert("RGB"), dtype=np.int16)


def _red_mask(rgb: np.ndarray) -> np.ndarray:
    """Red and pinkish (faint) ink: red clearly above green and blue, hue within ~30° of red."""
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    lift = r - np.maximum(g, b)
    spread = r - np.minimum(g, b)
    return (lift >= 18) & (r >= 70) & (lift * 100 >= 7 * r) & (2 * np.abs(g - b) <= spread)


def _candidates(mask: np.ndarray):
    """(ys, xs) of the red pixels of each large-enough grid component, in working-image coordinates."""
    k = max(1, math.ceil(max(mask.shape) / _GRID_SIDE))
    grid = _pool(mask, k)
    labels, _ = _label(_dilate(grid, _DILATE))
    labels[~grid] = 0  # dilation only joins pieces; membership stays with the real red cells
    rows, cols = np.nonzero(labels)
    order = np.argsort(labels[rows, cols], kind="stable")
    min_cells = _MIN_DIAMETER * max(mask.shape) / k - 2
    for group in np.split(order, np.flatnonzero(np.diff(labels[rows, cols][order])) + 1):
        r, c = rows[group], cols[group]
        if group.size == 0 or min(np.ptp(r), np.ptp(c)) + 1 < min_cells:
            continue
        y0, y1, x0, x1 = r.min(), r.max() + 1, c.min(), c.max() + 1
        cells = labels[y0:y1, x0:x1] == labels[r[0], c[0]]
        member = np.kron(cells, np.ones((k, k), dtype=bool))
        window = mask[y0 * k : y1 * k, x0 * k : x1 * k]
        ys, xs = np.nonzero(window & member[: window.shape[0], : window.shape[1]])
        yield ys + y0 * k, xs + x0 * k


def _is_seal(ys: np.ndarray, xs: np.ndarray, mask: np.ndarray) -> bool:
    """The component (ys, xs) must be a round ring; the disc it encloses (all red pixels, since star
    and text are often separate components) must hold some red but not be filled."""
    if xs.size < 50:
        return False
    w, h = xs.max() - xs.min() + 1, ys.max() - ys.min() + 1
    if min(w, h) < _MIN_DIAMETER * max(mask.shape) or max(w, h) > 1.3 * min(w, h):
        return False
    cx, cy, r = _fit_circle(xs, ys, (xs.min() + xs.max()) / 2, (ys.min() + ys.max()) / 2, (w + h) / 4)
    outer = _outermost(xs, ys, cx, cy, r)
    round_edge = np.mean(np.abs(outer - 1) <= 0.06)  # empty directions count as not round
    outside = np.mean(np.hypot(xs - cx, ys - cy) > 1.12 * r)
    d = _disc_distances(mask, cx, cy, r)
    inner_fill = np.sum(d < 0.7) / (math.pi * (0.7 * r) ** 2)
    disc_fill = d.size / (math.pi * r * r)
    return bool(round_edge >= 0.6 and outside <= 0.06 and 0.015 <= inner_fill <= 0.5 and disc_fill <= 0.6)


def _disc_distances(mask: np.ndarray, cx: float, cy: float, r: float) -> np.ndarray:
    """Distances (in units of r) from the centre of every red pixel within the circle."""
    y0, x0 = max(0, int(cy - r)), max(0, int(cx - r))
    ys, xs = np.nonzero(mask[y0 : int(cy + r) + 1, x0 : int(cx + r) + 1])
    d = np.hypot(xs + x0 - cx, ys + y0 - cy) / r
    return d[d <= 1.0]


def _outermost(xs, ys, cx: float, cy: float, r: float) -> np.ndarray:
    """Per direction, the farthest red pixel from the centre in units of r (0 where none)."""
    d = np.hypot(xs - cx, ys - cy) / r
    bins = ((np.arctan2(ys - cy, xs - cx) + math.pi) / (2 * math.pi) * _BINS).astype(int) % _BINS
    outer = np.zeros(_BINS)
    np.maximum.at(outer, bins, d)
    return outer


def _fit_circle(xs, ys, cx: float, cy: float, r: float) -> tuple[float, float, float]:
    """Refine centre and radius on the outer edge: least-squares (Kasa) circle through the farthest
    red point of each direction that lies near the median edge; keeps the guess if that fails."""
    outer = _outermost(xs, ys, cx, cy, r) * r
    edge = np.median(outer[outer > 0]) if np.any(outer > 0) else r
    keep = np.abs(outer - edge) <= 0.15 * edge
    if keep.sum() < _BINS // 3:
        return cx, cy, edge
    theta = (np.arange(_BINS) + 0.5) / _BINS * 2 * math.pi - math.pi
    px, py = cx + outer[keep] * np.cos(theta[keep]), cy + outer[keep] * np.sin(theta[keep])
    design = np.column_stack([px, py, np.ones_like(px)])
    (a, b, c), *_ = np.linalg.lstsq(design, px**2 + py**2, rcond=None)
    fx, fy = a / 2, b / 2
    fr = math.sqrt(max(c + fx * fx + fy * fy, 0.0))
    if abs(fr - edge) > 0.2 * edge or math.hypot(fx - cx, fy - cy) > 0.2 * edge:
        return cx, cy, edge
    return fx, fy, fr


def _pool(mask: np.ndarray, k: int) -> np.ndarray:
    """Max-pool by k so one-pixel rings survive the reduction."""
    h, w = mask.shape
    padded = np.zeros((math.ceil(h / k) * k, math.ceil(w / k) * k), dtype=bool)
    padded[:h, :w] = mask
    return padded.reshape(padded.shape[0] // k, k, padded.shape[1] // k, k).any(axis=(1, 3))


def _dilate(grid: np.ndarray, radius: int) -> np.ndarray:
    out = np.pad(grid, radius)
    for axis in (0, 1):
        shifted = [np.roll(out, s, axis=axis) for s in range(-radius, radius + 1)]
        out = np.logical_or.reduce(shifted)
    return out[radius:-radius, radius:-radius]


def _label(grid: np.ndarray) -> tuple[np.ndarray, int]:
    """8-connected component labels from row runs and union-find; 0 is background."""
    runs: list[tuple[int, int, int]] = []
    parent: list[int] = []

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    previous: list[int] = []
    for y, row in enumerate(grid):
        edges = np.flatnonzero(np.diff(np.concatenate(([0], row.astype(np.int8), [0]))))
        current = []
        for start, stop in zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True):
            runs.append((y, start, stop))
            parent.append(len(parent))
            current.append(len(runs) - 1)
        _join_touching(runs, previous, current, parent, root)
        previous = current
    return _paint(grid.shape, runs, [root(i) for i in range(len(runs))])


def _join_touching(runs, previous: list[int], current: list[int], parent: list[int], root) -> None:
    """Union runs of adjacent rows that touch, diagonals included (sweep over both sorted lists)."""
    i = j = 0
    while i < len(previous) and j < len(current):
        _, ps, pe = runs[previous[i]]
        _, cs, ce = runs[current[j]]
        if ps <= ce and cs <= pe:
            parent[root(current[j])] = root(previous[i])
        if pe < ce:
            i += 1
        else:
            j += 1


def _paint(shape, runs, roots: list[int]) -> tuple[np.ndarray, int]:
    labels = np.zeros(shape, dtype=np.int32)
    numbers: dict[int, int] = {}
    for (y, start, stop), top in zip(runs, roots, strict=True):
        labels[y, start:stop] = numbers.setdefault(top, len(numbers) + 1)
    return labels, len(numbers)
