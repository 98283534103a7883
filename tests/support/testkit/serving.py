"""`mailintake serve` as a separate process, the way the operator's systemd runs it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path


def start_serve(conf: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "mailintake.ingest.cli", *extra, "-c", str(conf), "serve"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ.copy(),
                            start_new_session=True)


def wait_for(check, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.5)


def stop(proc: subprocess.Popen, timeout: float = 30) -> tuple[int, str]:
    """SIGTERM, as systemd stops it; the exit code and everything it logged."""
    proc.send_signal(signal.SIGTERM)
    try:
        _, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        _, err = proc.communicate()
        raise
    return proc.returncode, err
