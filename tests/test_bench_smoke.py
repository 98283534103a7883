"""The throughput benchmark (bench/throughput.py) still runs from a clean clone: two small submissions,
one run, every row of its table printed. Its numbers are not judged here (benchmarks are run on purpose)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_throughput_benchmark_runs_end_to_end_on_two_messages():
    done = subprocess.run([sys.executable, str(ROOT / "bench/throughput.py"), "--messages", "2", "--runs", "1",
                           "--small", "--idle", "20", "--no-workbook"], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    out = done.stdout
    for row in ("raw fetch, plain IMAP", "raw fetch, TLS", "mailintake poll, TLS", "pipeline / raw TLS:",
                "decoding every JPEG once", "peak RSS of poll:", "time per stage of the poll",
                "idle poll on 20 recorded messages"):
        assert row in out, out
