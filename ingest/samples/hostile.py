"""Small files that cost a great deal to read: the hostile inputs the bounded parse must contain.

Each is made here, in milliseconds, from a few lines of bytes (no fixture files): a PDF whose pages all
draw one large text stream, and an image whose pixel count is under the configured cap but whose
decoded size is hundreds of megabytes.
"""

from __future__ import annotations

import io
import zlib


def heavy_text_pdf(pages: int = 50, text_bytes: int = 1024 * 1024, line_words: int = 7) -> bytes:
    """Every page shows the same ~1 MiB content stream of text lines: a few KB of PDF whose text layer
    costs pdfium about half a second per page to build (measured on a 2-core machine). Longer lines
    (`line_words`) mean fewer page objects for the same cost."""
    line = b"(" + b"AB CD EF GH IJ KL MN "[: 3 * line_words] * max(1, line_words // 7) + b") Tj T* "
    body = b"BT /F1 1 Tf 12 TL 10 800 Td " + line * (text_bytes // len(line)) + b"ET"
    stream = zlib.compress(body, 9)
    content = 4 + pages
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [" + b" ".join(b"%d 0 R" % (4 + i) for i in range(pages)) + b"] /Count %d >>" % pages,
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        *[b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >>"
          b" /Contents %d 0 R >>" % content] * pages,
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    return _pdf(objects)


def _pdf(objects: list[bytes]) -> bytes:
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for n, body in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % n + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    out.write(b"".join(b"%010d 00000 n \n" % off for off in offsets))
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


def large_flat_png(width: int = 10_000, height: int = 10_000) -> bytes:
    """One colour, 100 Mpx (under a 120 Mpx cap): ~300 KB of PNG that decodes to ~300 MB of RGB. Written
    scanline by scanline, so making it costs no more memory than one row."""
    row = b"\x00" + b"\xc8\x1e\x28" * width
    packer = zlib.compressobj(9)
    idat = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    header = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([8, 2, 0, 0, 0])
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")


def _chunk(kind: bytes, data: bytes) -> bytes:
    return len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")


def many_scan_jpeg(scans: int = 3000, width: int = 3000, height: int = 2000) -> bytes:
    """A progressive JPEG whose last scan is repeated `scans` times: each extra scan is a few hundred
    bytes, and each makes libjpeg walk the whole image again (the hostile shape seen in the wild)."""
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), (120, 80, 40)).save(out, "JPEG", progressive=True, quality=90)
    data = out.getvalue()
    last_scan, end = data.rindex(b"\xff\xda"), data.rindex(b"\xff\xd9")
    return data[:end] + data[last_scan:end] * scans + data[end:]
