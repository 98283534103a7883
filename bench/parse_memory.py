"""Benchmark: peak memory and wall time of `parse_message` on one ~60 MB submission.

Run on purpose, never in the test suite:

    .venv/bin/python bench/parse_memory.py            # build the message, measure, print PASS/FAIL
    .venv/bin/python bench/parse_memory.py --trace    # also show where the Python heap peaks (tracemalloc)

The message holds ~45 MB of real JPEGs (2-3 MB each, base64) plus a docx form and an xlsx summary, as
`ingest.samples.clients.build_message` writes them. Each measurement runs in a fresh child process under
`/usr/bin/time -v`, so neither the generator's memory nor the parent's counts. Budget (from the issue):
peak RSS < 4 x message size + 150 MB.
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

MB = 1_000_000
MiB = 1024 * 1024
PHOTO_BYTES = 45 * MB
BUDGET_FACTOR, BUDGET_FIXED = 4, 150 * MiB


# ---- parent: build the message, run the children, judge ------------------------------------------------


def build(path: Path) -> tuple[int, int]:
    """Write the message; return (photo count, decoded attachment bytes)."""
    from mailintake.ingest.samples import documents, images
    from mailintake.ingest.samples.clients import build_message
    from mailintake.ingest.samples.mailbox import person

    attachments, total, seed = [], 0, 0
    while total < PHOTO_BYTES:
        width = 3000 if seed % 2 else 2600  # alternate sizes so photos land between ~2 and ~3 MB
        data = images.life_photo_jpeg(seed, width=width, height=width * 2 // 3, min_bytes=2 * MB)
        attachments.append((f"张伟{seed + 2}.jpg", data))
        total, seed = total + len(data), seed + 1
    attachments.append(("附件1：张伟推荐表.docx", documents.form_docx("张伟", "沙坪坝区科协")))
    attachments.append(("附件2：推荐人选汇总表.xlsx", documents.summary_xlsx(
        "沙坪坝区科协", [person("张伟", "男", "1978.05", "重庆大学教授")])))
    raw = build_message(sender="spbkx@163.com", sender_name="沙坪坝区科协", to="834396688@qq.com",
                        subject="【沙坪坝区】2021年重庆市最美科技工作者推荐材料", body="您好！附件为推荐材料。",
                        attachments=attachments, client="qqmail")
    path.write_bytes(raw)
    return seed, sum(len(d) for _, d in attachments)


def run_child(path: Path, trace: bool) -> tuple[dict, int]:
    """One measurement in a fresh process: its own report and /usr/bin/time's peak RSS (KiB)."""
    cmd = ["/usr/bin/time", "-v", sys.executable, str(Path(__file__).resolve()), "--child", str(path)]
    cmd += ["--trace"] if trace else []
    print("command:", " ".join(cmd))
    run = subprocess.run(cmd, capture_output=True, text=True)
    if run.returncode:
        sys.exit(f"child failed ({run.returncode}):\n{run.stderr[-3000:]}")
    found = re.search(r"Maximum resident set size \(kbytes\): (\d+)", run.stderr)
    return json.loads(run.stdout.strip().splitlines()[-1]), int(found[1]) if found else 0


def judge(size: int, child: dict, time_kib: int) -> bool:
    peak = child["maxrss_kib"] * 1024
    base = child["rss_after_imports"]
    budget = BUDGET_FACTOR * size + BUDGET_FIXED
    print(f"message size:            {size / MiB:8.1f} MiB ({size / MB:.1f} MB)")
    print(f"RSS after imports:       {base / MiB:8.1f} MiB")
    print(f"RSS after reading raw:   {child['rss_after_read'] / MiB:8.1f} MiB")
    print(f"peak RSS (ru_maxrss):    {peak / MiB:8.1f} MiB   (VmHWM {child['vm_hwm'] / MiB:.1f} MiB)")
    print(f"peak RSS (/usr/bin/time):{time_kib / 1024:8.1f} MiB")
    print(f"RSS after parse:         {child['rss_after_parse'] / MiB:8.1f} MiB (result still alive)")
    print(f"parse wall time:         {child['wall_s']:8.2f} s ({size / MB / child['wall_s']:.1f} MB/s)")
    print(f"files in result:         {child['files']}, findings: {child['findings']}")
    print(f"(peak - after imports) / size = {(peak - base) / size:.2f}")
    print(f"peak / size = {peak / size:.2f}")
    ok = max(peak, time_kib * 1024) < budget
    verdict = "PASS" if ok else "FAIL"
    print(f"{verdict}: peak RSS {peak / MiB:.0f} MiB vs budget 4 x {size / MiB:.1f} + 150 = {budget / MiB:.0f} MiB")
    return ok


def print_trace(child: dict) -> None:
    print(f"tracemalloc: traced peak {child['traced_peak'] / MiB:.1f} MiB "
          f"(parse_mime alone: peak {child['mime_peak'] / MiB:.1f} MiB, "
          f"holds {child['mime_held'] / MiB:.1f} MiB after it returns)")
    print(f"largest traced heap seen during parse_message ({child['sampled_peak'] / MiB:.1f} MiB), by line:")
    for line in child["top"]:
        print("   ", line)


def parent(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="mailintake-parse-mem-") as tmp:
        path = Path(tmp) / "big.eml"
        t0 = time.perf_counter()
        photos, decoded = build(path)
        size = path.stat().st_size
        print(f"built {path.name}: {size / MB:.1f} MB, {photos} JPEGs + docx + xlsx, "
              f"{decoded / MB:.1f} MB decoded ({time.perf_counter() - t0:.0f} s)")
        child, time_kib = run_child(path, trace=False)
        ok = judge(size, child, time_kib)
        if args.trace or not ok:
            print_trace(run_child(path, trace=True)[0])
    return 0 if ok else 1


# ---- child: measure one parse in this process ------------------------------------------------------------


def status(field: str) -> int:
    """A /proc/self/status memory line in bytes (VmRSS: now; VmHWM: this process image's peak)."""
    text = Path("/proc/self/status").read_text()
    return int(re.search(rf"^{field}:\s+(\d+) kB", text, re.MULTILINE)[1]) * 1024


def child(path: Path, trace: bool) -> None:
    from mailintake.ingest.config import from_dict
    from mailintake.parsers.message import parse_message

    report = {"rss_after_imports": status("VmRSS")}
    raw = path.read_bytes()
    report["rss_after_read"] = status("VmRSS")
    if trace:
        report |= traced(raw)
    t0 = time.perf_counter()
    facts = parse_message(raw, from_dict({"mailbox": {"host": "h"}}).parser_settings())
    report["wall_s"] = time.perf_counter() - t0
    report |= {"rss_after_parse": status("VmRSS"), "vm_hwm": status("VmHWM"), "files": len(facts.files),
               "findings": sum(len(f.findings) for f in facts.files) + len(facts.findings),
               "maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}
    print(json.dumps(report))


def traced(raw: bytes) -> dict:
    """Where the Python heap goes: parse_mime alone, then parse_message with a sampler that snapshots
    the heap each time it reaches a new high (tracemalloc slows the parse; its timings are not used)."""
    import threading
    import tracemalloc

    from mailintake.ingest.config import from_dict
    from mailintake.parsers.message import parse_message
    from mailintake.parsers.mime import parse_mime

    tracemalloc.start(8)
    mime = parse_mime(raw)
    held, mime_peak = tracemalloc.get_traced_memory()
    del mime
    tracemalloc.reset_peak()
    best: dict = {"size": 0, "snap": None}
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.002):
            now = tracemalloc.get_traced_memory()[0]
            if now > best["size"] * 1.02:
                best["size"], best["snap"] = now, tracemalloc.take_snapshot()

    sampler = threading.Thread(target=sample)
    sampler.start()
    parse_message(raw, from_dict({"mailbox": {"host": "h"}}).parser_settings())
    done.set()
    sampler.join()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    top = [f"{s.size / MiB:7.1f} MiB {s.count:6d} blocks  {s.traceback.format()[0].strip()}"
           for s in best["snap"].statistics("lineno")[:12]] if best["snap"] else []
    return {"mime_peak": mime_peak, "mime_held": held, "traced_peak": peak, "sampled_peak": best["size"], "top": top}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trace", action="store_true", help="also run a tracemalloc child and show the heap at peak")
    ap.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child, args.trace)
        return 0
    return parent(args)


if __name__ == "__main__":
    sys.exit(main())
