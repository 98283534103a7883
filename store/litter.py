"""What a killed parse leaves in the storage root, found and removed: cache entries half written and
LibreOffice's work folders.

A parse writes outside the blob store's own tmp/ in two places (`parsers/ocr.py`, `parsers/legacy.py`):
- a cache entry under `<root>/cache/<kind>/` is written as `.<sha256>.<pid>.tmp` and renamed into place;
- a conversion works in `<root>/convert/<pid>-<random>/` (the input, LibreOffice's profile, its output).
A SIGKILL between the write and the rename, or during a conversion, leaves them behind. Both names carry the pid
of the process that made them, so the sweep can tell litter from work in flight without any lock of the
parser's: a leftover is litter when that process is gone (no /proc entry, or a zombie), or when the pid now
belongs to a process that started after the leftover was last written (the number was reused). A live owner's
files are left alone, whoever holds the processing lock (a `reprocess --dry-run` parses without it).

A LibreOffice that outlived its owner (where no PID namespace could be made for it, its soffice.bin is not
killed with the launcher) is killed first: a process whose command line names a litter folder is ours, and
would otherwise go on running a conversion nobody reads, outside every limit.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import signal
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

CONVERT = "convert"  # <root>/convert/<pid>-<random>: LibreOffice's work folders
CACHE = "cache"  # <root>/cache/<kind>/.<sha256>.<pid>.tmp: cache entries being written
_CACHE_TEMP = re.compile(r"\.[0-9a-f]{64}\.(\d+)\.tmp")
_WORK_FOLDER = re.compile(r"(\d+)-[^/]+")
_SLACK_SECONDS = 1.0  # clock ticks and file times are not to the same grain


@dataclass
class Litter:
    cache_temps: int = 0
    convert_folders: int = 0
    processes: int = 0  # LibreOffice processes that outlived their owner, killed


def sweep_litter(root: Path) -> Litter:
    """Remove the leftovers of dead processes under `root`; what is in use stays."""
    done = Litter()
    cache = root / CACHE
    if cache.is_dir():
        for kind in cache.iterdir():
            if not kind.is_dir():
                continue
            for temp in kind.iterdir():
                match = _CACHE_TEMP.fullmatch(temp.name)
                if match and temp.is_file() and _left_behind(int(match[1]), temp):
                    temp.unlink(missing_ok=True)
                    done.cache_temps += 1
    work = root / CONVERT
    if work.is_dir():
        folders = [f for f in work.iterdir() if (m := _WORK_FOLDER.fullmatch(f.name)) and f.is_dir()
                   and _left_behind(int(m[1]), f)]
        if folders:
            done.processes = _kill_users(folders)
        for folder in folders:
            shutil.rmtree(folder, ignore_errors=True)
            done.convert_folders += 1
    if done.cache_temps or done.convert_folders:
        log.info("removed what killed parses left: %d half-written cache entries, %d LibreOffice work folders "
                 "(%d LibreOffice processes still running killed)", done.cache_temps, done.convert_folders,
                 done.processes)
    return done


def _left_behind(pid: int, leftover: Path) -> bool:
    """Whether the process that wrote `leftover` is gone."""
    try:
        written = leftover.stat().st_mtime
    except FileNotFoundError:
        return False  # renamed or removed by its owner a moment ago
    started = _start_time(pid)
    return started is None or started > written + _SLACK_SECONDS


def _start_time(pid: int) -> float | None:
    """When a live process started (seconds since the epoch), or None when there is none (or a zombie)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
    except (OSError, IndexError):
        return None
    if fields[0] in (b"Z", b"X"):  # state: dead, only waiting to be reaped
        return None
    return _boot_time() + int(fields[19]) / os.sysconf("SC_CLK_TCK")  # field 22: starttime, in ticks since boot


def _boot_time() -> float:
    with open("/proc/stat", "rb") as f:
        for line in f:
            if line.startswith(b"btime "):
                return float(line.split()[1])
    return 0.0


def _kill_users(folders: list[Path]) -> int:
    """SIGKILL every process whose command line names one of `folders` (a LibreOffice left running)."""
    names = [os.fsencode(folder) for folder in folders]
    killed = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmdline = f.read()
        except OSError:
            continue
        if any(name + b"/" in cmdline or cmdline.endswith(name) for name in names):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(int(entry), signal.SIGKILL)
                killed += 1
    return killed
