"""Zip archives the way Chinese Windows makes them: member names in GBK, UTF-8 flag unset.

Python's zipfile always flags non-ASCII names as UTF-8, so the name bytes are supplied directly.
"""

from __future__ import annotations

import io
import zipfile


class _GbkInfo(zipfile.ZipInfo):
    def _encodeFilenameFlags(self):  # noqa: N802 - zipfile's own hook
        return self.filename.encode("gbk"), self.flag_bits & ~0x800


def gbk_zip(members: list[tuple[str, bytes]]) -> bytes:
    """A deflated zip whose member names are raw GBK bytes without the UTF-8 flag."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members:
            info = _GbkInfo(name, date_time=(2021, 5, 20, 10, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, data)
    return buf.getvalue()
