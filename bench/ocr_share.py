"""Benchmark: the share of parse time that OCR (scans) and LibreOffice (legacy files) take on a small mailbox.

Run on purpose, never in the test suite:

    .venv/bin/python bench/ocr_share.py               # 6 submissions, a third of the reports scanned; ~2-4 min
    .venv/bin/python bench/ocr_share.py --units 9

Each submission is what a unit sends: the 推荐工作情况报告, the 汇总表 (.xlsx), and per candidate a 推荐表 and an ID
photo and two life photos (2 MB JPEGs, most of the bytes). A third of the reports are scans (an image-only PDF
and a phone's JPEG in turn, drawn with real Chinese text, sealed, the JPEG turned a quarter), the rest typed
PDFs; a third of the units send their 推荐表 as Word 97 .doc or WPS .wps (written by LibreOffice here).

Every message is parsed (`parsers.message.parse_message`, in this process) four times over:
  full     OCR and conversion, empty OCR and conversion caches
  no-ocr   conversion only (a cache of its own)  -> OCR's share     = (full - no-ocr) / full
  neither  neither                               -> conversion's share = (no-ocr - neither) / full
  cached   full again, both caches now warm (what `reprocess` costs)
Wall times on a shared machine are noise (see bench/README.md): quote the shares from one run.
"""

from __future__ import annotations

import argparse
import dataclasses
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "support"))

from mailintake.ingest.config import from_dict  # noqa: E402 - after the path set-up, like the tests' testkit
from mailintake.ingest.samples import clients, documents, images  # noqa: E402
from mailintake.ingest.samples.mailbox import person  # noqa: E402
from mailintake.parsers.facts import ParserSettings  # noqa: E402
from mailintake.parsers.message import parse_message  # noqa: E402
from testkit import scans  # noqa: E402

DISTRICTS = ["渝中区", "江北区", "南岸区", "九龙坡区", "沙坪坝区", "大渡口区", "渝北区", "巴南区", "北碚区",
             "万州区", "涪陵区", "黔江区"]
PEOPLE = [["张伟", "李娜"], ["王芳"], ["刘洋", "陈静"]]


def word97(folder: Path, docx: bytes) -> bytes:
    """A .docx saved as Word 97 .doc by LibreOffice (a WPS .wps of the usual kind is the same inside)."""
    (folder / "form.docx").write_bytes(docx)
    subprocess.run(["soffice", "--headless", f"-env:UserInstallation={(folder / 'profile').as_uri()}",
                    "--convert-to", "doc", "--outdir", str(folder), str(folder / "form.docx")],
                   check=True, capture_output=True, timeout=300)
    return (folder / "form.doc").read_bytes()


def mailbox(units: int, work: Path) -> list[tuple[str, bytes]]:
    """(what it holds, raw message) per unit."""
    mails = []
    for n in range(units):
        district = DISTRICTS[n % len(DISTRICTS)]
        unit, people = f"{district}科协", PEOPLE[0] if n % 3 == 1 else PEOPLE[n % len(PEOPLE)]  # .doc and .wps
        files, kinds = [], []
        if n % 3 == 0:
            page = scans.report_page(f"重庆市{district}科学技术协会")
            files.append(("推荐工作情况报告.pdf", scans.image_pdf([page])) if n % 2 == 0 else
                         ("推荐工作情况报告.jpg", scans.jpeg(scans.turned(page, 90))))
            kinds.append("scanned report")
        else:
            files.append(("推荐工作情况报告.pdf", documents.report_pdf(unit, images.seal_png(n), True, None)))
        files.append(("附件2：推荐人选汇总表.xlsx", documents.summary_xlsx(unit, [person(p, "女", "1980.05", "研究员")
                                                                           for p in people])))
        for k, name in enumerate(people):
            form = documents.form_docx(name, unit)
            if n % 3 == 1:
                ext = ".doc" if k % 2 == 0 else ".wps"
                files.append((f"附件1：{name}推荐表{ext}", word97(Path(tempfile.mkdtemp(dir=work)), form)))
                kinds.append(f"legacy {ext}")
            else:
                files.append((f"附件1：{name}推荐表.docx", form))
            seed = 10 * n + k
            files.append((f"{name}1.jpg", images.id_photo_jpeg(seed)))
            files += [(f"{name}{i}.jpg", images.life_photo_jpeg(seed * 10 + i)) for i in (2, 3)]
        raw = clients.build_message(sender=f"unit{n}@qq.com", sender_name=unit, to="834396688@qq.com",
                                    subject=f"【{district}】推荐材料", body="请查收。", attachments=files)
        mails.append((", ".join(kinds) or "typed only", raw))
    return mails


def variant(cache: Path, ocr: bool, convert: bool) -> ParserSettings:
    """The shipped settings with OCR and conversion on or off, their caches (and LibreOffice's work folders)
    under `cache`, as under a storage root."""
    base = from_dict({"mailbox": {"host": "h"}}).parser_settings()
    documents_ = dataclasses.replace(base.documents, ocr_cache_dir=str(cache / "ocr"),
                                     convert_cache_dir=str(cache / "legacy"), convert_work_dir=str(cache / "convert"),
                                     ocr_max_pages=base.documents.ocr_max_pages if ocr else 0,
                                     soffice=base.documents.soffice if convert else None)
    return dataclasses.replace(base, documents=documents_)


def timed(mails: list[tuple[str, bytes]], settings: ParserSettings) -> list[float]:
    times = []
    for _, raw in mails:
        started = time.monotonic()
        parse_message(raw, settings)
        times.append(time.monotonic() - started)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=6)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mailintake-bench-ocr-") as folder:
        work = Path(folder)
        started = time.monotonic()
        mails = mailbox(args.units, work)
        print(f"built {len(mails)} submissions ({sum(len(r) for _, r in mails) / 1e6:.1f} MB) "
              f"in {time.monotonic() - started:.0f} s")
        cache = work / "cache"
        runs = {"full": timed(mails, variant(cache, True, True)),
                "no-ocr": timed(mails, variant(work / "no-ocr", False, True)),
                "neither": timed(mails, variant(work / "neither", False, False)),
                "cached": timed(mails, variant(cache, True, True))}
    print(f"{'message':<34}" + "".join(f"{name:>10}" for name in runs))
    for i, (what, _) in enumerate(mails):
        print(f"{i + 1:>2} {what:<31}" + "".join(f"{runs[name][i]:>9.1f}s" for name in runs))
    total = {name: sum(t) for name, t in runs.items()}
    print(f"{'total':<34}" + "".join(f"{total[name]:>9.1f}s" for name in runs))
    full = total["full"]
    print(f"OCR: {(full - total['no-ocr']) / full:.0%} of parse time; conversion: "
          f"{(total['no-ocr'] - total['neither']) / full:.0%}; "
          f"reprocessing with the caches warm costs {total['cached'] / full:.0%} of the first parse")


if __name__ == "__main__":
    main()
