"""Benchmark: `mailintake poll` on a backlog of realistic submissions in a real Dovecot on loopback.

Run on purpose, never in the test suite:

    .venv/bin/python bench/poll_backlog.py --messages 100
    # memory: the poll runs as a child process under /usr/bin/time -v; its peak RSS is printed

It starts a throwaway Dovecot (tests/servers/dovecot.sh), APPENDs N messages built by the demo's
sample generator (real JPEGs over 2 MiB, xlsx, docx, PDF with a seal, zips), each made distinct by
its Message-ID, then runs `mailintake poll` (fetch + parse + rules) once over verified TLS and prints
wall time, throughput and peak RSS. Quote ratios measured in one run; absolute times on shared
machines are noise.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from imapclient import IMAPClient

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mailintake.ingest.samples.mailbox import demo_mailbox  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def backlog(n: int) -> list[bytes]:
    """n submissions cycling through the sample mailbox's mails with attachments, made distinct."""
    pool = [m.raw for m in demo_mailbox(2021) if b"Content-Disposition: attachment" in m.raw
            or b"filename" in m.raw]
    out = []
    for i in range(n):
        raw = pool[i % len(pool)]
        out.append(re.sub(rb"Message-I[dD]: <", f"Message-ID: <bench{i}.".encode(), raw, count=1))
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=100)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="mailintake-bench-"))
    os.chmod(work, 0o755)
    port, tls_port = free_port(), free_port()
    env = dict(os.environ, IMAP_PORT=str(port), IMAPS_PORT=str(tls_port))
    try:  # stop and clean up even when the start half-succeeded (master up, ports not answering)
        up = subprocess.run([ROOT / "tests/servers/dovecot.sh", "start", work / "dovecot"],
                            capture_output=True, text=True, env=env, timeout=300)
        if up.returncode:
            print(f"dovecot did not start:\n{up.stderr[-3000:]}")
            return 1
        mails = backlog(args.messages)
        total = sum(len(m) for m in mails)
        t0 = time.perf_counter()
        with IMAPClient("127.0.0.1", port=port, ssl=False) as c:
            c._imap.debug = 0
            c.login("alice", "alicepass")
            for raw in mails:
                c.append("INBOX", raw, msg_time=dt.datetime(2021, 5, 25, 10, 0, tzinfo=dt.UTC))
        print(f"backlog: {len(mails)} messages, {total / 1e6:.1f} MB (APPEND took {time.perf_counter() - t0:.1f} s)")
        conf = work / "bench.toml"
        conf.write_text(
            f'[mailbox]\nhost = "127.0.0.1"\nport = {tls_port}\nsecurity = "tls"\n'
            f'ca_file = "{work}/dovecot/cert.pem"\nusername = "alice"\npassword_env = "BENCH_IMAP_PW"\n'
            f'[database]\nurl = "sqlite:///{work}/bench.db"\n[storage]\nroot = "{work}/store"\n', encoding="utf-8")
        cli = [str(ROOT / ".venv/bin/mailintake"), "-c", str(conf)]
        subprocess.run([*cli, "db", "upgrade"], check=True, capture_output=True)
        cmd = ["/usr/bin/time", "-v", *cli, "poll"]
        print("command:", " ".join(cmd))
        t0 = time.perf_counter()
        run = subprocess.run(cmd, capture_output=True, text=True, env=dict(env, BENCH_IMAP_PW="alicepass"))
        wall = time.perf_counter() - t0
        if run.returncode:
            print(run.stderr[-3000:])
            return 1
        rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", run.stderr).group(1))
        largest = max(len(m) for m in mails)
        print(f"poll wall time: {wall:.1f} s ({total / 1e6 / wall:.1f} MB/s, {len(mails) / wall:.2f} messages/s)")
        print(f"peak RSS: {rss / 1024:.0f} MiB (largest message {largest / 1e6:.1f} MB)")
        cpu = sum(float(re.search(rf"{kind} time \(seconds\): ([\d.]+)", run.stderr)[1]) for kind in ("User", "System"))
        print(f"poll CPU (user+sys, mailintake only): {cpu:.1f} s ({cpu / len(mails) * 1000:.0f} ms/message)")
        print(next((line for line in run.stderr.splitlines() if "poll done" in line), ""))
        return 0
    finally:
        subprocess.run([ROOT / "tests/servers/dovecot.sh", "stop", work / "dovecot"], capture_output=True, env=env)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
