"""Time and peak memory of each hostile input class, without the guard and with it.

    .venv/bin/python bench/hostile_inputs.py            # about 2 minutes
    .venv/bin/python bench/hostile_inputs.py --cap 120  # seconds allowed to an unguarded run (default 60)

Every measurement runs in a fresh child process (peak RSS from getrusage of that child, wall time around
it). "unguarded" calls the library the way the parsers did before the counted limits (every PDF page's
text layer, a full JPEG decode, a docx's header parts parsed whole, every archive unpacked); "guarded"
runs `parse_message` on a mail holding the same file, with the shipped config's settings. An unguarded
run that passes `--cap` seconds is killed and shown as "> cap".
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

CLASSES = {
    "pdf text layer (50 pages x 1 MiB stream)": ("pdf", "heavy_text_pdf()"),
    "progressive JPEG, 3,000 scans (3000x2000)": ("jpeg", "many_scan_jpeg(3000)"),
    "docx with 24 header parts of 60 MB": ("docx", "bomb_docx()"),
    "10 zips of 80 x 1 MiB (50:1), 800 MiB": ("zips", "None"),
}

SETUP = """
import io, random, zipfile, json, time, resource, sys
from mailintake.ingest.samples import hostile, clients

def bomb_docx():
    out = io.BytesIO()
    header = b"<w:hdr xmlns:w='http://schemas.openxmlformats.org/wordprocessingml/2006/main'><w:p><w:r><w:t>"
    header += b"x" * (60 * 1024 * 1024) + b"</w:t></w:r></w:p></w:hdr>"
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document xmlns:w='http://schemas.openxmlformats.org/wordprocessingml/2006/main'/>")
        for n in range(24):
            z.writestr(f"word/header{n + 1}.xml", header)
    return out.getvalue()

def zips():
    found = []
    for tag in range(10):
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
            for n in range(80):
                block = random.Random(tag * 1000 + n).randbytes(20 * 1024)
                z.writestr(f"m{tag}/f{n}.dat", (block * 52)[: 1024 * 1024])
        found.append((f"材料{tag}.zip", out.getvalue()))
    return found
"""

UNGUARDED = {
    "pdf": """
import pypdfium2 as pdfium
data = hostile.heavy_text_pdf(); T0 = time.perf_counter()
doc = pdfium.PdfDocument(data)
for i in range(len(doc)):
    doc[i].get_textpage().get_text_range()
""",
    "jpeg": """
from PIL import Image
data = hostile.many_scan_jpeg(3000); T0 = time.perf_counter()
image = Image.open(io.BytesIO(data))
image.draft("RGB", (image.width // 8, image.height // 8))
image.load()
""",
    "docx": """
from xml.etree import ElementTree
data = bomb_docx(); T0 = time.perf_counter()
with zipfile.ZipFile(io.BytesIO(data)) as z:
    trees = [ElementTree.fromstring(z.read(n)) for n in z.namelist() if n.startswith("word/header")]
""",
    "zips": """
contents = []
found = zips(); T0 = time.perf_counter()
for _, data in found:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        contents += [z.read(n) for n in z.namelist()]
""",
}

GUARDED = """
from mailintake.ingest.config import from_dict
from mailintake.parsers.message import parse_message
settings = from_dict({"mailbox": {"host": "h"}}).parser_settings()
what = sys.argv[1]
files = {"pdf": lambda: [("推荐工作情况报告.pdf", hostile.heavy_text_pdf())],
         "jpeg": lambda: [("张三2.jpg", hostile.many_scan_jpeg(3000))],
         "docx": lambda: [("附件1：张三推荐表.docx", bomb_docx())],
         "zips": zips}[what]()
raw = clients.build_message(sender="u@qq.com", sender_name="x", to="834396688@qq.com", subject="【江北区】推荐材料",
                            body="见附件", attachments=files)
T0 = time.perf_counter()
facts = parse_message(raw, settings)
print("FINDINGS", json.dumps(sorted({x.code for f in facts.files for x in f.findings})))
"""


PEAK = ('\nprint("SECONDS", time.perf_counter() - T0)'
        '\nprint("PEAK", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n')


def run(code: str, arg: str, cap: float) -> tuple[float, float | None, str]:
    """(seconds, the child's own peak RSS in MiB or None when it was killed at the cap, findings line)."""
    started = time.perf_counter()
    try:
        done = subprocess.run([sys.executable, "-c", SETUP + code + PEAK, arg], capture_output=True, text=True,
                              timeout=cap)
    except subprocess.TimeoutExpired:
        return cap, None, ""
    lines = done.stdout.splitlines()
    seconds = next((float(line.split()[1]) for line in lines if line.startswith("SECONDS ")),
                   time.perf_counter() - started)
    peak = next((int(line.split()[1]) / 1024 for line in lines if line.startswith("PEAK ")), None)
    said = next((line[9:] for line in lines if line.startswith("FINDINGS ")), done.stderr.strip()[-200:])
    return seconds, peak, said


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cap", type=float, default=60.0)
    args = parser.parse_args()
    print(f"{'class':44} {'unguarded':>22} {'guarded':>22}  findings (guarded)")
    for label, (key, _) in CLASSES.items():
        u_time, u_peak, _ = run(UNGUARDED[key], key, args.cap)
        g_time, g_peak, findings = run(GUARDED, key, args.cap)
        unguarded = f"> {args.cap:.0f} s" if u_peak is None else f"{u_time:6.1f} s {u_peak:7.0f} MiB"
        print(f"{label:44} {unguarded:>22} {g_time:6.1f} s {g_peak or 0:7.0f} MiB   {findings}", flush=True)
    print("(time: the operation alone, not imports or making the input; peak: the child's own ru_maxrss,"
          " input included)")


if __name__ == "__main__":
    main()
