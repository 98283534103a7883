"""Text from scans: the pages of an image PDF, a photographed page or a TIFF, read by OCR in a bounded child.

The report must carry the unit's seal, so it is printed, stamped and scanned: the document that matters most
arrives as a picture. RapidOCR (`rapidocr-onnxruntime`, PP-OCRv4 Chinese models inside the wheel, nothing
downloaded at run time) reads it. Measured on scans drawn with a CJK font (bench/ocr_share.py, the tests in
tests/test_scans.py) it reads "机密★1年", the signing unit and the date; Tesseract's chi_sim read the star as
"女]" here, which a secrecy mark cannot afford.

Bounded like every reader of strangers' files:
- at most `ocr_max_pages` pages: the first ones and the last (a marking heads the first page, the unit signs
  the last), rendered at RENDER_DPI and at most MAX_SIDE pixels a side;
- the page is turned upright first (0/90/180/270: text lines that stand on end are a page on its side, lines
  the orientation model reads as upside down a page on its head) and small skew is taken out of the geometry
  that orders cells into lines;
- in a child process (`python -m mailintake.parsers.ocr`) with an address-space limit, killed when a page takes
  longer than `ocr_page_seconds`; it dies with its parent (PR_SET_PDEATHSIG) and stays in the parse worker's
  process group, which the worker kills whole on overrun. A timeout, a crash or a missing engine is a
  `problem` of the result, never an exception or a hang. One child serves a message's pages (the models load
  once per message), started only when a page needs reading.

Results are cached by the file's sha256 in `ocr_cache_dir` (a temp file renamed into place; the name is the
digest, never mail content), so reprocessing never reads a scan twice. Text carrying a secrecy marking is not
written there: classified material is kept nowhere it need not be.
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib.metadata
import importlib.util
import io
import json
import math
import os
import re
import resource
import select
import signal
import struct
import subprocess
import sys
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import pypdfium2 as pdfium
from PIL import Image, ImageOps

from mailintake.parsers.facts import DocumentSettings
from mailintake.parsers.photos import MAX_JPEG_SCANS, jpeg_scans
from mailintake.parsers.secrecy import find_secrecy_marking

# problems (the OCR_FAILURES are also the reason codes of the `ocr_failed` finding)
TIME, MEMORY, DIED, UNAVAILABLE = "ocr_time", "ocr_memory", "ocr_died", "ocr_unavailable"
UNREADABLE = "unreadable"  # the child could not open the file: its own reader reports the damage
OCR_FAILURES = frozenset({TIME, MEMORY, DIED, UNAVAILABLE})

ENGINE_PACKAGE = "rapidocr-onnxruntime"
RENDER_DPI = 150  # scans are 150-300 dpi; 150 keeps 10.5 pt text above the recogniser's needs
MAX_SIDE = 2400  # pixels: an A3 page at 150 dpi; larger pages and photos are scaled down
DET_SIDE = 1280  # text is found on a copy this long; the lines are then cut from the full page
MIN_SCORE = 0.5  # a recognised line below this confidence is noise
MIN_CHARS = 4  # fewer letters in all: no usable text (a blank page, a photo of something else)
FIRST_LINES = 4  # when none of a page's first lines reads as text, the rest is not read either
LOAD_SECONDS = 120  # starting Python and loading the models (about two seconds on an idle machine)
_FORMAT = 1  # of the cached result and of the text assembly: bump when either changes
_MAX_FRAME = 64 * 1024 * 1024
_PR_SET_PDEATHSIG = 1
_HEX = re.compile(r"[0-9a-f]{64}")
_LETTER = re.compile(r"[\w\u3400-\u9fff]")


@dataclass(frozen=True)
class OcrCell:
    """One recognised run of text: a table cell or a line. Positions are pixels across the upright page."""

    text: str
    left: float
    right: float


@dataclass(frozen=True)
class OcrLine:
    cells: tuple[OcrCell, ...]

    @property
    def text(self) -> str:
        return " ".join(cell.text for cell in self.cells)


@dataclass(frozen=True)
class OcrPage:
    number: int  # 0-based: the PDF page or TIFF frame
    turned: int  # degrees clockwise the page was turned to read it: 0, 90, 180 or 270
    skew: float  # degrees the text lines slope after turning (taken out of the line order)
    lines: tuple[OcrLine, ...]


@dataclass(frozen=True)
class OcrResult:
    pages: tuple[OcrPage, ...] = ()
    problem: str | None = None  # TIME | MEMORY | DIED | UNAVAILABLE | UNREADABLE | None
    limit: float | None = None  # the limit a TIME or MEMORY problem passed: seconds or bytes

    @property
    def lines(self) -> list[OcrLine]:
        return [line for page in self.pages for line in page.lines]

    @property
    def text(self) -> str | None:
        """The lines in reading order, or None when too little was read to count as text."""
        text = "\n".join(line.text for line in self.lines)
        return text if len(_LETTER.findall(text)) >= MIN_CHARS else None


def chosen_pages(count: int, max_pages: int) -> list[int]:
    """The first pages and the last, at most `max_pages`: a marking heads the first page, the signature ends
    the last."""
    if count <= max_pages:
        return list(range(count))
    if max_pages <= 0:
        return []
    return [*range(max(1, max_pages - 1)), *([count - 1] if max_pages >= 2 else [])]


class OcrReader:
    """One message's scans: the cache first, then one child process for all the pages that need reading."""

    def __init__(self, settings: DocumentSettings, max_pixels: int):
        self.settings, self.max_pixels = settings, max_pixels
        self._child: _Child | None = None
        self._broken: OcrResult | None = None  # the child could not start: not tried again for this message
        self._engine = _engine_version()

    def __enter__(self) -> OcrReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._child is not None:
            self._child.stop()
            self._child = None

    def read(self, data: bytes, kind: str, sha256: str) -> OcrResult:
        """The text of a scan (`kind` "pdf" or an image kind); nothing read when OCR is switched off."""
        if self.settings.ocr_max_pages <= 0:
            return OcrResult()
        if self._engine is None:
            return OcrResult(problem=UNAVAILABLE)
        cached = self._cached(sha256)
        if cached is not None:
            return cached
        result = self._ask(kind, data)
        if result.problem in (None, UNREADABLE):
            self._remember(sha256, result)
        return result

    def _ask(self, kind: str, data: bytes) -> OcrResult:
        child = self._started()
        if isinstance(child, OcrResult):
            return child
        seconds = self.settings.ocr_page_seconds
        try:
            child.send({"kind": kind, "pages": self.settings.ocr_max_pages, "max_pixels": self.max_pixels}, data)
            deadline = time.monotonic() + seconds
            while True:
                said = child.receive(deadline)
                if said is None:
                    return self._lost(OcrResult(problem=TIME, limit=seconds))
                if "page" in said:
                    deadline = time.monotonic() + seconds
                elif "done" in said:
                    return OcrResult(tuple(_page(p) for p in said["done"]))
                elif said.get("failed") == UNREADABLE:
                    return OcrResult(problem=UNREADABLE)
                else:
                    return self._lost(self._failure(said.get("failed")))
        except (OSError, EOFError, ValueError, KeyError, TypeError):  # gone, or said something malformed
            return self._lost(OcrResult(problem=DIED))

    def _started(self) -> _Child | OcrResult:
        if self._broken is not None:
            return self._broken
        if self._child is not None and self._child.alive():
            return self._child
        self.close()
        try:
            child = _Child.start(self.settings.ocr_memory_bytes)
        except OSError:
            self._broken = OcrResult(problem=UNAVAILABLE)
            return self._broken
        try:
            said = child.receive(time.monotonic() + LOAD_SECONDS)
        except (OSError, EOFError, ValueError):
            said = {"failed": DIED}
        if said is None or "ready" not in said:
            child.stop()
            self._broken = OcrResult(problem=TIME, limit=LOAD_SECONDS) if said is None else self._failure(
                said.get("failed"))
            return self._broken
        self._child = child
        return child

    def _failure(self, what: object) -> OcrResult:
        if what == MEMORY:
            return OcrResult(problem=MEMORY, limit=self.settings.ocr_memory_bytes)
        return OcrResult(problem=UNAVAILABLE if what == UNAVAILABLE else DIED)

    def _lost(self, result: OcrResult) -> OcrResult:
        self.close()  # a child that overran or misbehaved is not asked again; the next scan gets a new one
        return result

    def _cache_path(self, sha256: str) -> Path | None:
        folder = self.settings.ocr_cache_dir
        return Path(folder) / f"{sha256}.json" if folder and _HEX.fullmatch(sha256) else None

    def _key(self) -> dict[str, Any]:
        return {"format": _FORMAT, "engine": self._engine, "pages": self.settings.ocr_max_pages, "dpi": RENDER_DPI}

    def _cached(self, sha256: str) -> OcrResult | None:
        path = self._cache_path(sha256)
        try:
            if path is None or not path.is_file():
                return None
            stored = json.loads(path.read_text(encoding="utf-8"))
            if stored.get("key") != self._key() or stored.get("problem") not in (None, UNREADABLE):
                return None
            return OcrResult(tuple(_page(p) for p in stored["pages"]), stored.get("problem"))
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None  # a damaged cache entry is read again and rewritten

    def _remember(self, sha256: str, result: OcrResult) -> None:
        path = self._cache_path(sha256)
        if path is None or find_secrecy_marking(result.text or ""):
            return
        stored = {"key": self._key(), "problem": result.problem, "pages": [_page_json(p) for p in result.pages]}
        temp = path.with_name(f".{sha256}.{os.getpid()}.tmp")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            temp.write_text(json.dumps(stored, ensure_ascii=False), encoding="utf-8")
            os.replace(temp, path)
        except OSError:  # a cache that cannot be written costs a second reading, nothing else
            with contextlib.suppress(OSError):
                temp.unlink()


def engine_check(settings: DocumentSettings) -> tuple[str | None, float]:
    """Whether the OCR child starts and loads its models within the limits (for `mailintake check`):
    (problem or None, seconds it took)."""
    started = time.monotonic()
    if _engine_version() is None:
        return f"{ENGINE_PACKAGE} is not installed", 0.0
    with OcrReader(settings, 1) as reader:
        child = reader._started()
    if isinstance(child, OcrResult):
        return f"the OCR engine did not start ({child.problem})", time.monotonic() - started
    return None, time.monotonic() - started


def _engine_version() -> str | None:
    try:
        version = importlib.metadata.version(ENGINE_PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        return None
    return f"{ENGINE_PACKAGE} {version}" if importlib.util.find_spec("rapidocr_onnxruntime") else None


def _page(data: dict) -> OcrPage:
    lines = tuple(OcrLine(tuple(OcrCell(str(t), float(a), float(b)) for t, a, b in cells)) for cells in data["lines"])
    return OcrPage(int(data["number"]), int(data["turned"]), float(data["skew"]), lines)


def _page_json(page: OcrPage) -> dict:
    return {"number": page.number, "turned": page.turned, "skew": page.skew,
            "lines": [[[c.text, c.left, c.right] for c in line.cells] for line in page.lines]}


# --- the child process, seen from the parent ---------------------------------------------------------------


class _Child:
    """The OCR process: length-prefixed frames over its stdin/stdout (JSON from it, a JSON header and the file's
    bytes to it), so nothing it says is ever unpickled."""

    def __init__(self, proc: subprocess.Popen):
        self.proc = proc
        self._buffer = b""

    @classmethod
    def start(cls, memory_bytes: int) -> _Child:
        command = [sys.executable, "-I", "-m", "mailintake.parsers.ocr", str(os.getpid()), str(memory_bytes)]
        return cls(subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                    stderr=subprocess.DEVNULL, close_fds=True))

    def alive(self) -> bool:
        return self.proc.poll() is None

    def send(self, header: dict, data: bytes) -> None:
        stream = self.proc.stdin
        _write_frame(stream, json.dumps(header).encode())
        _write_frame(stream, data)
        stream.flush()

    def receive(self, deadline: float) -> dict | None:
        """The child's next message, or None when the deadline passes first; EOFError when it is gone."""
        while True:
            if len(self._buffer) >= 4:
                size = struct.unpack(">I", self._buffer[:4])[0]
                if size > _MAX_FRAME:
                    raise ValueError("frame too large")
                if len(self._buffer) >= 4 + size:
                    frame, self._buffer = self._buffer[4:4 + size], self._buffer[4 + size:]
                    said = json.loads(frame)
                    if not isinstance(said, dict):
                        raise ValueError("not a message")
                    return said
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            fd = self.proc.stdout.fileno()
            if not select.select([fd], [], [], left)[0]:
                return None
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                raise EOFError("the OCR process ended")
            self._buffer += chunk

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            self.proc.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(10)
        for stream in (self.proc.stdin, self.proc.stdout):
            with contextlib.suppress(OSError):
                stream.close()


def _write_frame(stream: BinaryIO, data: bytes) -> None:
    stream.write(struct.pack(">I", len(data)))
    stream.write(data)


def _read_frame(stream: BinaryIO) -> bytes | None:
    head = stream.read(4)
    if len(head) < 4:
        return None
    size = struct.unpack(">I", head)[0]
    data = stream.read(size)
    return data if len(data) == size else None


# --- the child process itself ------------------------------------------------------------------------------


def _serve(parent: int, memory_bytes: int) -> None:
    """Dies with its parent, bounded in address space; protocol on a private copy of stdout, so nothing a
    library prints can break a frame."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before the death signal was armed
        os._exit(1)
    _, hard = resource.getrlimit(resource.RLIMIT_AS)  # the parse worker's own cap may already be lower
    cap = memory_bytes if hard == resource.RLIM_INFINITY else min(memory_bytes, hard)
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    out = os.fdopen(os.dup(1), "wb", buffering=0)
    os.dup2(2, 1)
    inp = sys.stdin.buffer

    def tell(message: dict) -> None:
        _write_frame(out, json.dumps(message, ensure_ascii=False).encode())

    try:
        engine = _load_engine()
    except ImportError:
        tell({"failed": UNAVAILABLE})
        return
    except MemoryError:
        tell({"failed": MEMORY})
        return
    except Exception as exc:
        tell({"failed": _failure_of(exc)})
        return
    tell({"ready": True})
    while (header := _read_frame(inp)) is not None and (data := _read_frame(inp)) is not None:
        job = json.loads(header)
        try:
            pages = list(_read_file(engine, job["kind"], data, int(job["pages"]), int(job["max_pixels"]), tell))
        except _Unreadable:
            tell({"failed": UNREADABLE})
            continue
        except MemoryError:
            tell({"failed": MEMORY})
            return
        except Exception as exc:
            tell({"failed": _failure_of(exc)})
            return
        tell({"done": pages})


class _Unreadable(Exception):
    """The file is not a picture or PDF the child can open (its own reader reports the damage)."""


def _failure_of(exc: Exception) -> str:
    """onnxruntime reports an allocation the address-space limit refused as a RuntimeError."""
    return MEMORY if "alloc" in str(exc).lower() else DIED


def _load_engine() -> Any:
    from rapidocr_onnxruntime import RapidOCR

    return RapidOCR()


def _read_file(engine: Any, kind: str, data: bytes, max_pages: int, max_pixels: int,
               tell: Callable[[dict], None]) -> Iterator[dict]:
    """Each chosen page, upright and read; `tell` hears of each page before it is rendered (the parent's
    clock for that page starts there)."""
    document = _Document(kind, data, max_pixels)
    try:
        for number in chosen_pages(document.count, max_pages):
            tell({"page": number, "of": document.count})
            yield _read_page(engine, number, document.page(number))
    finally:
        document.close()


_DAMAGE = (pdfium.PdfiumError, OSError, ValueError, EOFError, SyntaxError, Image.DecompressionBombError)


class _Document:
    """A PDF or an image file, opened once; anything its bytes make go wrong is `_Unreadable`."""

    def __init__(self, kind: str, data: bytes, max_pixels: int):
        self.pdf: pdfium.PdfDocument | None = None
        self.image: Image.Image | None = None
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                if kind == "pdf":
                    self.pdf = pdfium.PdfDocument(data)
                    self.count = len(self.pdf)
                    return
                self.image = Image.open(io.BytesIO(data))
                costly = self.image.format == "JPEG" and jpeg_scans(data) > MAX_JPEG_SCANS
                if self.image.width * self.image.height > max_pixels or costly:
                    raise _Unreadable
                self.count = getattr(self.image, "n_frames", 1)
        except _DAMAGE as exc:
            self.close()
            raise _Unreadable from exc

    def page(self, number: int) -> np.ndarray:
        """BGR pixels of a page: a PDF page rendered, an image frame upright (EXIF) and bounded."""
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return _bgr(_rendered(self.pdf, number) if self.pdf is not None else _frame(self.image, number))
        except _DAMAGE as exc:
            raise _Unreadable from exc

    def close(self) -> None:
        if self.pdf is not None:
            self.pdf.close()
        if self.image is not None:
            self.image.close()


def _frame(image: Image.Image, number: int) -> Image.Image:
    """A frame of an image file upright (EXIF orientation) and at most MAX_SIDE a side."""
    image.seek(number)
    if image.format == "JPEG":
        image.draft("RGB", (MAX_SIDE, MAX_SIDE))  # a phone's 4000 px photo decodes at a fraction of the cost
    frame = ImageOps.exif_transpose(image.convert("RGB"))
    frame.thumbnail((MAX_SIDE, MAX_SIDE))
    return frame


def _rendered(pdf: pdfium.PdfDocument, number: int) -> Image.Image:
    page = pdf[number]
    try:
        width, height = page.get_size()
        scale = min(RENDER_DPI / 72, MAX_SIDE / max(width, height, 1))
        return page.render(scale=scale).to_pil().convert("RGB")
    finally:
        page.close()


def _bgr(image: Image.Image) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(image.convert("RGB"))[:, :, ::-1])


def _read_page(engine: Any, number: int, image: np.ndarray) -> dict:
    """Turn the page upright (quarter turns by the shape of its text lines, half turns by the orientation
    model's verdict on them), then recognise each line."""
    import cv2

    turned = 0
    boxes = _detect(engine, image)
    if _on_its_side(boxes):
        image, turned = cv2.rotate(image, cv2.ROTATE_90_CLOCKWISE), 90
        boxes = _detect(engine, image)
    if not len(boxes):
        return {"number": number, "turned": turned, "skew": 0.0, "lines": []}
    crops, verdicts, _ = engine.text_cls(engine.get_crop_img_list(image, list(boxes)))
    if _upside_down(verdicts):
        height, width = image.shape[:2]
        image, turned = cv2.rotate(image, cv2.ROTATE_180), (turned + 180) % 360
        corner = np.array([width - 1, height - 1], np.float32)
        boxes = _top_down(np.stack([corner - box[[2, 3, 0, 1]] for box in boxes]))
        crops, _, _ = engine.text_cls(engine.get_crop_img_list(image, list(boxes)))
    skew, lines = assemble(boxes, _recognised(engine, crops))
    return {"number": number, "turned": turned, "skew": skew,
            "lines": [[[c.text, c.left, c.right] for c in line.cells] for line in lines]}


def _recognised(engine: Any, crops: list[np.ndarray]) -> list[tuple[str, float]]:
    """(text, confidence) of each line. Recognition is most of the cost, so the narrowest few of the page's
    first lines are read first: when all of them are noise (strokes, a picture, a seal's ring) the page is
    given up there; otherwise the rest is read in one call (the engine batches lines of like width)."""
    head = sorted(range(min(len(crops), 2 * FIRST_LINES)), key=lambda i: crops[i].shape[1] / crops[i].shape[0])
    probe = head[:FIRST_LINES]
    found: list[tuple[str, float]] = [("", 0.0)] * len(crops)
    for i, r in zip(probe, engine.text_rec([crops[i] for i in probe])[0], strict=True):
        found[i] = (str(r[0]), float(r[1]))
    rest = [i for i in range(len(crops)) if i not in set(probe)]
    if rest and any(score >= MIN_SCORE for _, score in found):
        for i, r in zip(rest, engine.text_rec([crops[i] for i in rest])[0], strict=True):
            found[i] = (str(r[0]), float(r[1]))
    return found


def _detect(engine: Any, image: np.ndarray) -> np.ndarray:
    """Text boxes (N x 4 corners, clockwise from top left) in page pixels, found on a reduced copy."""
    import cv2

    height, width = image.shape[:2]
    scale = min(1.0, DET_SIDE / max(height, width))
    small = image if scale == 1 else cv2.resize(image, (max(1, round(width * scale)), max(1, round(height * scale))),
                                                interpolation=cv2.INTER_AREA)
    boxes, _ = engine.text_det(small)
    if boxes is None or len(boxes) == 0:
        return np.zeros((0, 4, 2), np.float32)
    return _top_down(np.asarray(boxes, np.float32) / scale)


def _top_down(boxes: np.ndarray) -> np.ndarray:
    """Boxes in reading order, roughly: by their top edge, then from the left."""
    order = sorted(range(len(boxes)), key=lambda i: (float(boxes[i][:, 1].min()), float(boxes[i][:, 0].min())))
    return boxes[order].astype(np.float32)


def _sides(box: np.ndarray) -> tuple[float, float]:
    return float(np.linalg.norm(box[1] - box[0])), float(np.linalg.norm(box[3] - box[0]))


def _on_its_side(boxes: np.ndarray) -> bool:
    """Lines of text are long and low; on a page turned a quarter they stand on end."""
    shapes = [_sides(box) for box in boxes]
    tall = sum(h > 2 * w for w, h in shapes)
    wide = sum(w > 2 * h for w, h in shapes)
    return tall >= 2 and tall > wide


def _upside_down(verdicts: Sequence[Sequence[Any]]) -> bool:
    """Most lines the orientation model is sure of read as turned by 180 degrees."""
    sure = [str(label) for label, score in verdicts if float(score) > 0.9]
    return sum(label == "180" for label in sure) * 2 > len(sure) > 0


def assemble(boxes: Sequence[np.ndarray], found: Sequence[tuple[str, float]]) -> tuple[float, list[OcrLine]]:
    """Recognised runs into lines in reading order: the page's skew (the median slope of its long lines) is
    taken out of the positions, runs whose centres lie within half a line height are one line, left to right.
    Returns the skew in degrees and the lines."""
    kept = [(np.asarray(box, np.float64), text.strip()) for box, (text, score) in zip(boxes, found, strict=True)
            if text.strip() and score >= MIN_SCORE]
    slopes = [math.atan2(box[1][1] - box[0][1], box[1][0] - box[0][0]) for box, _ in kept
              if _sides(box)[0] > 3 * max(_sides(box)[1], 1)]
    skew = float(np.median(slopes)) if slopes else 0.0
    cos, sin = math.cos(skew), math.sin(skew)
    runs = []
    for box, text in kept:
        xs = box[:, 0] * cos + box[:, 1] * sin
        ys = -box[:, 0] * sin + box[:, 1] * cos
        runs.append((float(ys.mean()), max(float(ys.max() - ys.min()), 1.0), float(xs.min()), float(xs.max()), text))
    lines: list[list[tuple[float, float, float, float, str]]] = []
    for run in sorted(runs):
        if lines and abs(run[0] - _mean(lines[-1])) <= 0.5 * min(run[1], min(r[1] for r in lines[-1])):
            lines[-1].append(run)
        else:
            lines.append([run])
    return round(math.degrees(skew), 2), [
        OcrLine(tuple(OcrCell(r[4], round(r[2], 1), round(r[3], 1)) for r in sorted(line, key=lambda r: r[2])))
        for line in lines]


def _mean(line: list[tuple[float, ...]]) -> float:
    return sum(r[0] for r in line) / len(line)


if __name__ == "__main__":
    _serve(int(sys.argv[1]), int(sys.argv[2]))
