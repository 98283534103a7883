"""Render one receipt and one deficiency reply of `mailintake demo` to PNG with headless Chromium.

Run through `bash scripts/reply_pictures.sh` (it makes sure Chromium and a CJK font are installed).
The demo runs in a fresh temp dir; for each kind the fullest reply (most listed points, then longest
HTML) is picked from the demo database's outbox, its .eml is parsed, and its HTML part is shown below
the mail's header lines.
"""

from __future__ import annotations

import email
import html
import re
import sqlite3
import subprocess
import sys
import tempfile
from email import policy
from pathlib import Path

from PIL import Image, ImageChops

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "img"
WIDTH, TALL = 900, 4000  # render tall, then crop trailing white space
PICTURES = {"receipt": "reply-receipt.png", "deficiency": "reply-deficiency.png"}

PAGE = """<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><style>
html, body {{ margin: 0; background: #fff; }}
.mail {{ margin: 16px; border: 1px solid #ccc; border-radius: 6px; overflow: hidden; }}
.head {{ background: #f3f4f6; border-bottom: 1px solid #ccc; padding: 10px 16px;
         font: 14px/1.7 sans-serif; color: #333; }}
.head b {{ display: inline-block; width: 5em; color: #666; font-weight: normal; }}
.head .subject {{ font-size: 16px; font-weight: bold; color: #111; }}
.head .subject b {{ font-size: 14px; }}
.body {{ padding: 4px 16px 8px; }}
.body table {{ font-size: 13px; }}
</style></head><body><div class="mail"><div class="head">{head}</div>
<div class="body"{attrs}>{body}</div></div></body></html>"""


def page(msg: email.message.EmailMessage) -> str:
    rows = [f'<div{" class=subject" if k == "Subject" else ""}><b>{k}</b>{html.escape(str(msg[k] or ""))}</div>'
            for k in ("From", "To", "Subject", "Date")]
    doc = msg.get_body(("html",)).get_content()
    m = re.search(r"<body([^>]*)>(.*)</body>", doc, re.S | re.I)
    return PAGE.format(head="".join(rows), attrs=m.group(1), body=m.group(2))


def render(html_file: Path, out: Path, tmp: Path) -> None:
    shot = tmp / "shot.png"
    subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                    f"--user-data-dir={tmp / 'profile'}", f"--screenshot={shot}",
                    f"--window-size={WIDTH},{TALL}", html_file.as_uri()],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    img = Image.open(shot).convert("RGB")
    box = ImageChops.difference(img, Image.new("RGB", img.size, "white")).getbbox()
    if box[3] >= TALL - 1:
        print(f"warning: {out.name} may be cut off at {TALL}px", file=sys.stderr)
    img = img.crop((0, 0, WIDTH, min(TALL, box[3] + 16)))
    img.quantize(colors=64, method=Image.Quantize.MEDIANCUT).save(out, optimize=True)


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="reply-pictures-") as t:
        tmp = Path(t)
        demo = subprocess.run([str(ROOT / ".venv/bin/mailintake"), "demo", "--dir", str(tmp / "demo")],
                              capture_output=True, text=True)
        if demo.returncode:
            print(demo.stdout, demo.stderr, sep="\n", file=sys.stderr)
            return demo.returncode
        db = sqlite3.connect(tmp / "demo" / "mailintake.db")
        print("demo replies by kind:", dict(db.execute("SELECT kind, count(*) FROM outbox GROUP BY kind")))
        OUT.mkdir(parents=True, exist_ok=True)
        for kind, name in PICTURES.items():
            rows = db.execute("SELECT id, html_body FROM outbox WHERE kind = ? ORDER BY id", (kind,)).fetchall()
            if not rows:
                print(f"warning: the demo made no {kind} reply; {name} not written", file=sys.stderr)
                continue
            row = max(rows, key=lambda r: (r[1].count("<li>"), len(r[1])))  # most points listed, then longest
            eml = tmp / "demo" / "replies" / f"outbox-{row[0]:06d}.eml"
            msg = email.message_from_bytes(eml.read_bytes(), policy=policy.default)
            html_file = tmp / f"{kind}.html"
            html_file.write_text(page(msg), encoding="utf-8")
            out = OUT / name
            render(html_file, out, tmp)
            print(f"wrote {out.relative_to(ROOT)} ({out.stat().st_size // 1024} KB): {eml.name}, {msg['Subject']}")
        db.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
