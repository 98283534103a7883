"""What a file really is, from its bytes: submitters rename photos, save .xls as .xlsx, and so on.

The extension only breaks ties the content cannot settle: WPS Office's .wps/.et files are OLE2
containers with the same streams as Word's .doc and Excel's .xls (WordDocument, Workbook), so an OLE2
file named *.wps or *.et is reported as wps/et and otherwise as doc/xls.
"""

from __future__ import annotations

import codecs
import io
import posixpath
import zipfile

import olefile

ARCHIVES = frozenset({"zip", "rar", "7z"})
IMAGES = frozenset({"jpeg", "png", "heic", "gif", "bmp", "webp", "tiff"})

_MAGIC = (
    (b"\xff\xd8\xff", "jpeg"),
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
    (b"II*\x00", "tiff"),
    (b"MM\x00*", "tiff"),
    (b"Rar!\x1a\x07", "rar"),
    (b"7z\xbc\xaf\x27\x1c", "7z"),
)
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_HEIC_BRANDS = frozenset({b"heic", b"heix", b"mif1", b"heim", b"heis", b"hevc"})
_AVIF_BRANDS = frozenset({b"avif", b"avis"})  # AVIF also lists mif1: not HEIC
_BMP_HEADER_SIZES = frozenset({12, 40, 52, 56, 64, 108, 124})
_OOXML_PARTS = (("word/", "docx"), ("xl/", "xlsx"), ("ppt/", "pptx"))
# part names long enough not to turn up in compressed data by chance
_OOXML_MAIN_PARTS = ((b"word/document.xml", "docx"), (b"xl/workbook.xml", "xlsx"), (b"xl/worksheets/", "xlsx"),
                     (b"ppt/presentation.xml", "pptx"))
_TEXT_SAMPLE = 64 * 1024
_TEXT_CONTROLS_OK = frozenset("\t\n\r\f\v\x1a\x1b")


def detect_type(data: bytes, name: str | None = None) -> str:
    """jpeg png heic gif bmp webp tiff pdf docx doc xlsx xls wps et pptx ppt zip rar 7z text or unknown."""
    try:
        return _detect(data, _extension(name))
    except Exception:  # hostile bytes must never break classification
        return "unknown"


def is_archive(kind: str) -> bool:
    return kind in ARCHIVES


def is_image(kind: str) -> bool:
    return kind in IMAGES


def _detect(data: bytes, ext: str) -> str:
    for magic, kind in _MAGIC:
        if data.startswith(magic):
            return kind
    if data.startswith(_ZIP_MAGIC):
        return _zip_kind(data, ext)
    if data.startswith(_OLE_MAGIC):
        return _ole_kind(data, ext)
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if b"%PDF-" in data[:1024]:  # readers accept junk before the header, so do we
        return "pdf"
    if _is_heic(data):
        return "heic"
    if _is_bmp(data):
        return "bmp"
    return "text" if _is_text(data) else "unknown"


def _extension(name: str | None) -> str:
    return posixpath.splitext((name or "").replace("\\", "/"))[1].lower()


def _zip_kind(data: bytes, ext: str) -> str:
    """OOXML is a zip with [Content_Types].xml and a word/, xl/ or ppt/ tree; only the directory is read."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = zf.namelist()
    except Exception:  # damaged: a truncated .xlsx is still a spreadsheet to the sender, not an archive
        return _damaged_zip_kind(data, ext)
    if "[Content_Types].xml" in names:
        for prefix, kind in _OOXML_PARTS:
            if any(n.startswith(prefix) for n in names):
                return kind
    return "zip"


def _damaged_zip_kind(data: bytes, ext: str) -> str:
    """Without a central directory, the local headers still name the parts (OOXML stores them first)."""
    head = data[: 4 * 1024 * 1024]
    for marker, kind in _OOXML_MAIN_PARTS:
        if marker in head:
            return kind
    return {".docx": "docx", ".xlsx": "xlsx", ".pptx": "pptx"}.get(ext, "zip")


def _ole_kind(data: bytes, ext: str) -> str:
    try:
        with olefile.OleFileIO(io.BytesIO(data)) as ole:  # BytesIO: olefile treats short bytes as a path
            has = ole.exists
            if has("WordDocument"):
                return "wps" if ext == ".wps" else "doc"
            if has("Workbook") or has("Book"):
                return "et" if ext == ".et" else "xls"
            if has("PowerPoint Document"):
                return "ppt"
    except Exception:
        return "unknown"
    # Unfamiliar streams (older WPS formats, password-protected OOXML): only the extension can say.
    return {".wps": "wps", ".et": "et"}.get(ext, "unknown")


def _is_heic(data: bytes) -> bool:
    """ISO-BMFF: a leading `ftyp` box whose major or compatible brands name HEIF/HEVC."""
    if data[4:8] != b"ftyp":
        return False
    major = data[8:12]
    if major in _AVIF_BRANDS:
        return False
    end = min(int.from_bytes(data[:4], "big"), len(data), 4096)
    compatible = {data[i : i + 4] for i in range(16, end - 3, 4)}
    return major in _HEIC_BRANDS or bool(compatible & _HEIC_BRANDS)


def _is_bmp(data: bytes) -> bool:
    """"BM" alone also starts ordinary text, so the DIB header size must be a known one."""
    return data[:2] == b"BM" and int.from_bytes(data[14:18], "little") in _BMP_HEADER_SIZES


def _is_text(data: bytes) -> bool:
    sample = data[:_TEXT_SAMPLE]
    if not sample or b"\x00" in sample:
        return False
    final = len(data) <= _TEXT_SAMPLE  # a cut sample may end inside a character
    for codec in ("utf-8-sig", "gb18030"):
        try:
            text = codecs.getincrementaldecoder(codec)().decode(sample, final=final)
        except UnicodeDecodeError:
            continue
        return all(ch >= " " or ch in _TEXT_CONTROLS_OK for ch in text)
    return False
