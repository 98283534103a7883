"""Benchmark: how close does `mailintake poll` get to simply downloading the bytes? (issue #15)

    .venv/bin/python bench/throughput.py                  # 60 submissions of 15-45 MB, 3 runs each (~25 min)
    .venv/bin/python bench/throughput.py --messages 2 --runs 1 --small --idle 50   # the test suite's smoke run

1. Starts a throwaway Dovecot on loopback (tests/servers/dovecot.sh) after checking the disk, and APPENDs N
   realistic submissions: per unit a sealed report and the summary table, per candidate the 推荐表, an ID photo
   and 3-5 life photos (JPEGs over 2 MiB, from a seeded pool cached in ~/.cache/mailintake-bench, each copy
   made distinct by a JPEG comment), one or two candidates a mail, every fourth mail's photos zipped, every fifth
   unit sending in two mails. `--small` uses 300 KB photos (and the config lowers the size rule).
2. The raw fetch: a bare imapclient loop (debug logging off) downloading every body and dropping it, over
   plain IMAP and over TLS - the limit.
3. The pipeline: `mailintake poll` from an empty database over TLS (fetch, store, parse, classify, validate,
   record, replies decided), with `MAILINTAKE_TIMINGS` for the time per stage and the parse split into
   MIME / images / documents by profiling a few of the same messages in-process.
4. An idle poll (no new mail) on a mailbox whose `--idle` messages are all recorded, timed inside the
   process on a kept connection and with a fresh login; and the workbook for 500 units (workbook_build.py).
Peak RSS is sampled from /proc every 20 ms over the whole session (the poll and its parse worker together).
Each measurement runs `--runs` times; medians are printed. Ratios from one run are what to quote.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import io
import json
import os
import pstats
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

from imapclient import IMAPClient

ROOT = Path(__file__).resolve().parents[1]
CACHE = Path.home() / ".cache" / "mailintake-bench"
MB = 1_000_000
ARRIVED = dt.datetime(2021, 5, 25, 10, 0, tzinfo=dt.UTC)
DISTRICTS = ["渝中区", "大渡口区", "江北区", "沙坪坝区", "九龙坡区", "南岸区", "北碚区", "渝北区", "巴南区", "万州区",
             "涪陵区", "黔江区", "长寿区", "江津区", "合川区", "永川区", "南川区", "綦江区", "大足区", "璧山区",
             "铜梁区", "潼南区", "荣昌区", "开州区", "梁平区", "武隆区", "城口县", "丰都县", "垫江县", "忠县"]
SURNAMES, GIVEN = "张王李赵刘陈杨黄周吴", "伟芳娜敏静磊洋勇艳杰"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- the backlog -----------------------------------------------------------------------------------------


def photo_pool(small: bool, size: int = 16) -> list[bytes]:
    """Seeded photos, made once and cached: generating a 3000 px JPEG takes about a second."""
    from mailintake.ingest.samples import images

    folder = CACHE / ("small" if small else "large")
    folder.mkdir(parents=True, exist_ok=True)
    pool = []
    for seed in range(size):
        path = folder / f"{seed}.jpg"
        if not path.exists():
            make = images.id_photo_jpeg if seed % 4 == 0 else images.life_photo_jpeg
            width = 900 if small else 2600 + 200 * (seed % 3)
            data = make(seed, width=width, height=width * 4 // 3 if seed % 4 == 0 else width * 2 // 3,
                        min_bytes=300_000 if small else 2_200_000)
            path.write_bytes(data)
        pool.append(path.read_bytes())
    return pool


def distinct(jpeg: bytes, tag: str) -> bytes:
    """The same picture with a JPEG comment segment after SOI: another file (sha256), still a valid JPEG."""
    text = tag.encode()
    return jpeg[:2] + b"\xff\xfe" + (len(text) + 2).to_bytes(2, "big") + text + jpeg[2:]


def backlog(n: int, small: bool) -> list[bytes]:
    from mailintake.ingest.samples import clients, documents
    from mailintake.ingest.samples.mailbox import person, sealed_report, summary

    pool = photo_pool(small)
    mails, unit_no, take = [], 0, 0
    while len(mails) < n:
        district = DISTRICTS[unit_no % len(DISTRICTS)]
        unit = f"{district}科协" if unit_no < len(DISTRICTS) else f"{district}科协{unit_no // len(DISTRICTS)}"
        people = [SURNAMES[(unit_no + k) % 10] + GIVEN[(unit_no * 3 + k) % 10] + "一二三"[k] for k in
                  range(1 + unit_no % 2)]  # one or two candidates: 15-45 MB, under QQ Mail's 50 MB
        files = [sealed_report(unit, unit_no), summary(unit, [person(p, "女", "1980.05", "研究员") for p in people])]
        photos: list[tuple[str, bytes]] = []
        for k, name in enumerate(people):
            files.append((f"附件1：{name}推荐表.docx", documents.form_docx(name, "", None, None)))
            for seq in range(1, 2 + 3 + (unit_no + k) % 3):
                photos.append((f"{name}{seq}.jpg", distinct(pool[take % len(pool)], f"{unit_no}-{k}-{seq}")))
                take += 1
        if unit_no % 4 == 3:
            photos = [("照片.zip", _zipped(photos))]
        parts = [files + photos] if unit_no % 5 else [files, photos]
        for part_no, attachments in enumerate(parts, 1):
            subject = f"【{district}】推荐材料" + (f"（{part_no}/{len(parts)}）" if len(parts) > 1 else "")
            mails.append(clients.build_message(
                sender=f"unit{unit_no}@163.com", sender_name=unit, to="834396688@qq.com", subject=subject,
                body="请查收。", attachments=attachments, message_id=f"<bench-{unit_no}-{part_no}@163.com>"))
        unit_no += 1
    return mails[:n]


def _zipped(files: list[tuple[str, bytes]]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:  # JPEGs do not deflate; Windows' zip stores them
        for name, data in files:
            z.writestr(zipfile.ZipInfo(name, date_time=(2021, 5, 20, 9, 0, 0)), data)
    return buf.getvalue()


# --- measuring -------------------------------------------------------------------------------------------


class PeakRss:
    """The largest total resident memory of every process in a session (a poll and its parse worker), which
    process held how much of it at that moment, and the CPU seconds the session's processes used."""

    def __init__(self, sid: int):
        self.sid, self.peak, self._stop = sid, 0, threading.Event()
        self.split: dict[str, int] = {}
        self._cpu: dict[int, tuple[str, int]] = {}  # pid -> (poll | worker | other, utime + stime in ticks)
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._stop.wait(0.02):
            now = dict(self._members())
            total = sum(rss for _, rss in now.values())
            if total > self.peak:
                self.peak, self.split = total, {name: rss for name, rss in now.values()}

    def _members(self):
        page = os.sysconf("SC_PAGE_SIZE")
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    fields = Path(f"/proc/{entry}/stat").read_bytes().rsplit(b")", 1)[1].split()
                    cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
                except OSError:
                    continue
                if int(fields[3]) == self.sid:  # field 6: the session
                    pid = int(entry)
                    name = "poll" if pid == self.sid else "worker" if b"ingest.worker" in cmdline else "other"
                    if name == "other" and pid in self._cpu:  # an exited worker's cmdline reads empty
                        name = self._cpu[pid][0]
                    self._cpu[pid] = name, int(fields[11]) + int(fields[12])  # fields 14, 15: utime, stime
                    yield pid, (f"{name} {pid}", int(fields[21]) * page)

    def cpu_seconds(self) -> dict[str, float]:
        """CPU seconds by kind of process: the poll itself, its parse workers, any other (their helpers)."""
        split: dict[str, float] = {}
        for name, ticks in self._cpu.values():
            split[name] = split.get(name, 0.0) + ticks / os.sysconf("SC_CLK_TCK")
        return split

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return self.peak


@dataclass
class Run:
    seconds: float
    peak_rss: int
    stages: dict[str, float]
    rss_split: dict[str, int]  # process -> resident bytes at the moment of the peak
    cpu_split: dict[str, float]  # CPU seconds of the session's processes by kind (the IMAP server's not counted)

    @property
    def cpu_seconds(self) -> float:
        return sum(self.cpu_split.values())


def timed_child(cmd: list[str], env: dict) -> Run:
    timings = Path(tempfile.mktemp(prefix="mailintake-timings-", suffix=".json"))
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, env=dict(env, MAILINTAKE_TIMINGS=str(timings)), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    rss = PeakRss(proc.pid)
    out, err = proc.communicate()
    seconds, peak = time.perf_counter() - started, rss.stop()
    if proc.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{err[-3000:]}")
    stages = json.loads(timings.read_text()) if timings.exists() else {}
    timings.unlink(missing_ok=True)
    return Run(seconds, peak, stages, rss.split, rss.cpu_seconds())


RAW_FETCH = """
import ssl, sys, time
from imapclient import IMAPClient
port, tls, ca = int(sys.argv[1]), sys.argv[2] == "tls", sys.argv[3]
ctx = ssl.create_default_context(cafile=ca) if tls else None
c = IMAPClient("127.0.0.1", port=port, ssl=tls, ssl_context=ctx)
c._imap.debug = 0
c.login("alice", "alicepass")
c.select_folder(sys.argv[4], readonly=True)
for uid in c.search(["ALL"]):
    c.fetch([uid], ["BODY.PEEK[]"])
c.logout()
"""


def raw_fetch(port: int, tls: bool, ca: Path, folder: str) -> Run:
    return timed_child([sys.executable, "-c", RAW_FETCH, str(port), "tls" if tls else "plain", str(ca), folder],
                       dict(os.environ))


def parse_split(mails: list[bytes], settings, sample: int = 4) -> dict[str, float]:
    """Fractions of in-process parse time spent in MIME, images and documents, over a few of the mails."""
    from mailintake.parsers.message import parse_message

    prof = cProfile.Profile()
    for raw in mails[:sample]:
        prof.runcall(parse_message, raw, settings)
    stats = pstats.Stats(prof).stats
    total = sum(t[3] for k, t in stats.items() if k[2] == "parse_message")

    def cumulative(module: str, *names: str) -> float:
        return sum(t[3] for k, t in stats.items() if k[0].endswith(module) and k[2] in names)

    return {"mime": cumulative("parsers/mime.py", "parse_mime") / total,
            "images": cumulative("parsers/photos.py", "inspect_photo") / total
            + cumulative("parsers/seal.py", "seal_in_images") / total,
            "documents": cumulative("parsers/documents.py", "read_document") / total
            + cumulative("parsers/summary.py", "read_summary") / total}



def decode_floor(mails: list[bytes], threads: int = 2) -> float:
    """MB/s of wire if the only work were decoding every JPEG once at the coarsest DCT scale (1/8), on
    `threads` threads, nothing else running: the bound on any pipeline that proves each photo whole by
    decoding it, as the campaign's checks need (faces, hash, integrity)."""
    from concurrent.futures import ThreadPoolExecutor

    from PIL import Image

    from mailintake.parsers.mime import parse_mime

    def decode(data: bytes) -> None:
        with Image.open(io.BytesIO(data)) as image:
            image.draft("RGB", (max(1, image.width // 8), max(1, image.height // 8)))
            image.load()

    seconds = 0.0
    with ThreadPoolExecutor(threads) as pool:
        for raw in mails:  # one mail's pictures in memory at a time
            contents = [part.content for part in parse_mime(raw).parts]
            for archive in [c for c in contents if c[:2] == b"PK"]:
                with zipfile.ZipFile(io.BytesIO(archive)) as z:
                    contents += [z.read(name) for name in z.namelist()]
            jpegs = [c for c in contents if c[:3] == b"\xff\xd8\xff"]
            start = time.perf_counter()
            list(pool.map(decode, jpegs))
            seconds += time.perf_counter() - start
    return sum(map(len, mails)) / MB / seconds if seconds else float("inf")

# --- the run ---------------------------------------------------------------------------------------------


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--messages", type=int, default=60)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--small", action="store_true", help="300 KB photos: a quick smoke run")
    ap.add_argument("--idle", type=int, default=1000, help="recorded messages for the idle poll")
    ap.add_argument("--no-workbook", action="store_true")
    ap.add_argument("--workers", type=int, default=1, help="limits.parse_workers for the poll")
    ap.add_argument("--limits", default="", help='extra [limits] settings for the poll, e.g. "photo_threads = 1"')
    ap.add_argument("--mailbox", default="", help='extra [mailbox] settings for the poll, e.g. "chunk_bytes = 4194304"')
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT))
    print(f"building {args.messages} submissions ({'small' if args.small else 'realistic'} photos) ...", flush=True)
    mails = backlog(args.messages, args.small)
    total, largest = sum(map(len, mails)), max(map(len, mails))
    work = Path(tempfile.mkdtemp(prefix="mailintake-throughput-"))
    need = total * 4 + 200 * MB  # Dovecot's copy, the store's raw copy and files, the database, slack
    if shutil.disk_usage(work).free < need:
        print(f"not enough disk in {work}: need {need / 1e9:.1f} GB")
        return 1
    os.chmod(work, 0o755)
    port, tls_port = free_port(), free_port()
    env = dict(os.environ, IMAP_PORT=str(port), IMAPS_PORT=str(tls_port), BENCH_IMAP_PW="alicepass")
    try:
        up = subprocess.run([ROOT / "tests/servers/dovecot.sh", "start", work / "dovecot"], capture_output=True,
                            text=True, env=env, timeout=300)
        if up.returncode:
            print(f"dovecot did not start:\n{up.stderr[-3000:]}")
            return 1
        return measure(args, mails, total, largest, work, port, tls_port, env)
    finally:
        subprocess.run([ROOT / "tests/servers/dovecot.sh", "stop", work / "dovecot"], capture_output=True, env=env)
        shutil.rmtree(work, ignore_errors=True)


def measure(args, mails: list[bytes], total: int, largest: int, work: Path, port: int, tls_port: int,
            env: dict) -> int:
    ca = work / "dovecot" / "cert.pem"
    with IMAPClient("127.0.0.1", port=port, ssl=False) as c:
        c._imap.debug = 0
        c.login("alice", "alicepass")
        c.create_folder("Backlog")
        for raw in mails:
            c.append("Backlog", raw, msg_time=ARRIVED)
    print(f"backlog: {len(mails)} messages, {total / MB:.0f} MB on the wire, largest {largest / MB:.1f} MB")
    plain = [raw_fetch(port, False, ca, "Backlog") for _ in range(args.runs)]
    tls = [raw_fetch(tls_port, True, ca, "Backlog") for _ in range(args.runs)]
    polls = [pipeline(work / f"run{n}", tls_port, ca, "Backlog", env, args.small, args.workers,
                      (args.mailbox, args.limits))
             for n in range(args.runs)]
    split = parse_split(mails, config(work / "split", tls_port, ca, "Backlog", args.small).parser_settings())
    floor = decode_floor(mails)
    idle_ms = idle(work, port, tls_port, ca, env, args.idle)
    workbook = None if args.no_workbook else run_workbook()
    report(mails, total, largest, plain, tls, polls, split, floor, (args.idle, idle_ms), workbook)
    return 0


def config_text(folder: Path, tls_port: int, ca: Path, mailbox: str, small: bool, workers: int = 1,
                extra: tuple[str, str] = ("", "")) -> str:
    """`extra`: lines added to [mailbox] and to [limits]."""
    photos = "[campaign.photos]\nmin_bytes = 200000\n" if small else ""
    return (f'[mailbox]\nhost = "127.0.0.1"\nport = {tls_port}\nsecurity = "tls"\nca_file = "{ca}"\n'
            f'username = "alice"\npassword_env = "BENCH_IMAP_PW"\nfolder = "{mailbox}"\nmark_keyword = ""\n{extra[0]}\n'
            f'[database]\nurl = "sqlite:///{folder}/bench.db"\n[storage]\nroot = "{folder}/store"\n'
            f'[replies]\nmode = "files"\ndir = "{folder}/replies"\n'
            f'[limits]\nparse_workers = {workers}\n{extra[1]}\n{photos}')


def config(folder: Path, tls_port: int, ca: Path, mailbox: str, small: bool, workers: int = 1,
           extra: tuple[str, str] = ("", "")):
    from mailintake.ingest.config import load

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "bench.toml"
    path.write_text(config_text(folder, tls_port, ca, mailbox, small, workers, extra), encoding="utf-8")
    return load(path)


def pipeline(folder: Path, tls_port: int, ca: Path, mailbox: str, env: dict, small: bool, workers: int,
             extra: tuple[str, str]) -> Run:
    """`mailintake poll` from an empty database, as the operator's first poll after an outage."""
    config(folder, tls_port, ca, mailbox, small, workers, extra)
    cli = [str(ROOT / ".venv/bin/mailintake"), "-c", str(folder / "bench.toml")]
    subprocess.run([*cli, "db", "upgrade"], check=True, capture_output=True)
    run = timed_child([*cli, "poll"], env)
    shutil.rmtree(folder / "store", ignore_errors=True)  # the next run starts empty; keep the disk free
    return run


def idle(work: Path, port: int, tls_port: int, ca: Path, env: dict, count: int) -> dict[str, float]:
    """Milliseconds of a poll that finds nothing new, on a mailbox of `count` recorded messages."""
    from mailintake.ingest.context import Context
    from mailintake.ingest.poll import KeptMailbox, poll

    with IMAPClient("127.0.0.1", port=port, ssl=False) as c:
        c._imap.debug = 0
        c.login("alice", "alicepass")
        c.create_folder("Idle")
        for n in range(count):
            c.append("Idle", f"From: u{n}@example.cn\r\nSubject: n{n}\r\nMessage-ID: <idle{n}@x>\r\n\r\nhi\r\n"
                     .encode(), msg_time=ARRIVED)
    folder = work / "idle"
    config(folder, tls_port, ca, "Idle", small=True)
    cli = [str(ROOT / ".venv/bin/mailintake"), "-c", str(folder / "bench.toml")]
    subprocess.run([*cli, "db", "upgrade"], check=True, capture_output=True)
    subprocess.run([*cli, "poll"], check=True, capture_output=True, env=env)
    os.environ["BENCH_IMAP_PW"] = "alicepass"
    ctx = Context.open(config(folder, tls_port, ca, "Idle", small=True))
    kept = KeptMailbox(ctx)
    try:
        poll(ctx, kept=kept)  # logs in once; the timed polls reuse the connection, as `serve` does
        reused = [_ms(lambda: poll(ctx, kept=kept)) for _ in range(7)]
        fresh = [_ms(lambda: poll(ctx)) for _ in range(3)]
    finally:
        kept.close()
        ctx.close()
    return {"kept connection": statistics.median(reused), "fresh login": statistics.median(fresh)}


def _ms(job) -> float:
    started = time.perf_counter()
    job()
    return (time.perf_counter() - started) * 1000


def run_workbook() -> str:
    done = subprocess.run([sys.executable, str(ROOT / "bench/workbook_build.py"), "--runs", "1"],
                          capture_output=True, text=True)
    return next((line for line in done.stdout.splitlines() if line.startswith("build_workbook")), done.stderr[-300:])


def report(mails, total, largest, plain, tls, polls, split, floor, idle_ms, workbook) -> None:
    def rate(runs: list[Run]) -> float:
        return total / MB / statistics.median(r.seconds for r in runs)

    def rss(runs: list[Run]) -> float:
        return max(r.peak_rss for r in runs) / 2 ** 20

    stages = {k: statistics.median(r.stages.get(k, 0.0) for r in polls) for k in ("fetch", "store", "process", "parse")}
    budget = 4 * largest / 2 ** 20 + 150
    print(f"\n{'what':<34}{'MB/s':>8}{'peak RSS MiB':>14}   (medians of {len(polls)} runs)")
    print(f"{'raw fetch, plain IMAP':<34}{rate(plain):>8.1f}{rss(plain):>14.0f}")
    print(f"{'raw fetch, TLS':<34}{rate(tls):>8.1f}{rss(tls):>14.0f}")
    print(f"{'mailintake poll, TLS':<34}{rate(polls):>8.1f}{rss(polls):>14.0f}")
    print(f"\nmessages {len(mails)}, {total / MB:.0f} MB, largest {largest / MB:.1f} MB")
    print(f"pipeline / raw TLS: {rate(polls) / rate(tls):.0%}   (target >= 50 %, aim 80 %)")
    print(f"decoding every JPEG once at 1/8 scale on 2 threads, nothing else: {floor:.1f} MB/s of wire ="
          f" {floor / rate(tls):.0%} of raw TLS (no pipeline that decodes each photo gets past it);"
          f" the poll reaches {rate(polls) / floor:.0%} of it")
    print(f"peak RSS of poll: {rss(polls):.0f} MiB, budget 4 x largest + 150 = {budget:.0f} MiB "
          f"({'within' if rss(polls) <= budget else 'OVER'})")
    top = max(polls, key=lambda r: r.peak_rss)
    print("  at the peak: " + ", ".join(f"{k} {v / 2 ** 20:.0f} MiB" for k, v in sorted(top.rss_split.items())))
    cpu = statistics.median(r.cpu_seconds for r in polls)
    raw_cpu = statistics.median(r.cpu_seconds for r in tls)
    by_process = min(polls, key=lambda r: abs(r.cpu_seconds - cpu)).cpu_split
    each = ", ".join(f"{k} {v:.1f}" for k, v in sorted(by_process.items()))
    print(f"CPU seconds of poll + worker: {cpu:.1f} ({each};"
          f" raw TLS fetch {raw_cpu:.1f}); on {os.cpu_count()} cores that alone is at least"
          f" {cpu / os.cpu_count():.1f} s of wall")
    wall = statistics.median(r.seconds for r in polls)
    rules_db = stages["process"] - stages["parse"]
    print(f"\ntime per stage of the poll (median, s; wall {wall:.1f}); the two threads run side by side:")
    print(f"  fetching thread: fetch {stages['fetch']:.1f} + store {stages['store']:.1f}")
    print(f"  processing thread: parse {stages['parse']:.1f} "
          f"(mime {split['mime']:.0%}, images {split['images']:.0%}, documents {split['documents']:.0%} of it)"
          f" + rules, database, replies {rules_db:.1f}")
    busiest = max(stages["fetch"] + stages["store"], stages["process"])
    print(f"  outside the busier thread (start-up, logins, the first fetch, waiting) {wall - busiest:.1f}")
    count, times = idle_ms
    print(f"\nidle poll on {count} recorded messages (nothing new): "
          + ", ".join(f"{k} {v:.0f} ms" for k, v in times.items()) + "   (target < 50 ms)")
    if workbook:
        print(f"workbook for 500 units / 1,500 candidates: {workbook}")


if __name__ == "__main__":
    sys.exit(main())
