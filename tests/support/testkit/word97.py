"""Word 97 files as WPS and old Word users send them, made by LibreOffice itself from python-docx's .docx.

LibreOffice reads .wps but cannot write it; a real .wps of that kind is a Word binary inside, so a .doc renamed
.wps is what a WPS user sends.
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path


def word97(folder: Path, docx: dict[str, bytes]) -> dict[str, bytes]:
    """The .docx files saved as Word 97 .doc by LibreOffice (one run, its own profile in `folder`)."""
    for name, data in docx.items():
        (folder / f"{name}.docx").write_bytes(data)
    subprocess.run(["soffice", "--headless", f"-env:UserInstallation={(folder / 'profile').as_uri()}",
                    "--convert-to", "doc", "--outdir", str(folder / "doc"), *[str(folder / f"{n}.docx") for n in docx]],
                   check=True, capture_output=True, timeout=300)
    return {name: (folder / "doc" / f"{name}.doc").read_bytes() for name in docx}


def word97_bytes(docx: dict[str, bytes]) -> dict[str, bytes]:
    """`word97` in a temporary folder of its own, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="word97-") as folder:
        return word97(Path(folder), docx)
