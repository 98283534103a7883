"""Legacy Office files (.doc, WPS's .wps and .et, old .xls) made readable: LibreOffice converts them to OOXML,
which the .docx/.xlsx readers of `parsers.documents` then read like any other.

Government offices still save in WPS Office's own formats and in Word 97; a legacy report that could not be
read used to skip the secrecy check without a word. LibreOffice headless runs in a sandbox: a fresh temporary
folder with its own profile (two runs never share one), the input written there under a fixed name
(`in.doc`, `in.xls`: never a name from mail), no network when the system lets us make it a network
namespace of its own (`unshare`), a time limit (the whole process tree is killed when it overruns), its
output read back as bytes and the folder removed. It dies with its parent (PR_SET_PDEATHSIG) and sits in the
parse worker's process group, so the worker's limits reach it too. Messages are parsed one at a time, so
conversions run one at a time.

LibreOffice reads .wps/.et but cannot write them; WPS files of that kind are Word/Excel binary files inside,
so they are converted as .doc/.xls.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

# problems (also the reason codes of the `legacy_format` finding)
MISSING, FAILED, TIME = "converter_missing", "convert_failed", "convert_time"

LEGACY_KINDS = frozenset({"doc", "wps", "et", "xls"})
MAX_OUTPUT_BYTES = 64 * 1024 * 1024  # a converted form or table is well under a megabyte
# detected kind -> (the input's fixed name, LibreOffice's export filter, what comes out)
_TARGETS = {
    "doc": ("in.doc", "docx:MS Word 2007 XML", "docx"),
    "wps": ("in.doc", "docx:MS Word 2007 XML", "docx"),
    "et": ("in.xls", "xlsx:Calc MS Excel 2007 XML", "xlsx"),
    "xls": ("in.xls", "xlsx:Calc MS Excel 2007 XML", "xlsx"),
}
_PR_SET_PDEATHSIG = 1


@dataclass(frozen=True)
class Converted:
    data: bytes | None  # the OOXML file, or None with a problem
    kind: str | None  # "docx" | "xlsx"
    problem: str | None = None  # MISSING | FAILED | TIME
    limit: float | None = None  # seconds, for TIME


def convert(data: bytes, kind: str, soffice: str | None, seconds: float) -> Converted:
    """`data` of detected `kind` (doc, wps, et, xls) as .docx/.xlsx bytes; never raises."""
    if kind not in _TARGETS:
        raise ValueError(f"not a legacy Office kind: {kind}")
    if soffice is None:
        return Converted(None, None, MISSING)
    name, export, target = _TARGETS[kind]
    with tempfile.TemporaryDirectory(prefix="mailintake-convert-") as folder:
        work = Path(folder)
        (work / name).write_bytes(data)
        command = [*isolation(), soffice, "--headless", "--norestore", "--nologo", "--nodefault", "--nolockcheck",
                   f"-env:UserInstallation={(work / 'profile').as_uri()}", "--convert-to", export,
                   "--outdir", str(work / "out"), str(work / name)]
        problem = _run(command, work, seconds)
        if problem is not None:
            return Converted(None, None, problem, seconds if problem == TIME else None)
        produced = work / "out" / f"{Path(name).stem}.{target}"
        if not produced.is_file() or not 0 < produced.stat().st_size <= MAX_OUTPUT_BYTES:
            return Converted(None, None, FAILED)
        return Converted(produced.read_bytes(), target)


def isolation() -> tuple[str, ...]:
    """The command prefix that gives LibreOffice a network namespace of its own (no network at all), when the
    system allows one (a root service, or unprivileged user namespaces); () where it does not. Probed each
    time (a few milliseconds beside a conversion's seconds), so nothing is remembered between calls."""
    unshare = shutil.which("unshare")
    if unshare is None:
        return ()
    for prefix in ((unshare, "--net"), (unshare, "--net", "--map-root-user")):
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            if subprocess.run([*prefix, "true"], capture_output=True, timeout=10).returncode == 0:
                return prefix
    return ()


def _run(command: list[str], work: Path, seconds: float) -> str | None:
    """Run LibreOffice with HOME inside the work folder; kill its whole tree when it overruns."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(work), "LANG": "C.UTF-8",
           "TMPDIR": str(work), "SAL_USE_VCLPLUGIN": "svp"}
    try:
        proc = subprocess.Popen(command, cwd=work, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, preexec_fn=_die_with_parent)
    except OSError:
        return MISSING
    deadline = time.monotonic() + seconds
    while proc.poll() is None:
        if time.monotonic() > deadline:
            _kill_tree(proc.pid)  # not yet reaped, so the number is still its own
            proc.wait()
            return TIME
        time.sleep(0.05)
    return None if proc.returncode == 0 else FAILED


def _die_with_parent() -> None:
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def _kill_tree(pid: int) -> None:
    """SIGKILL `pid` and every process descended from it (soffice starts soffice.bin as its child)."""
    for victim in [pid, *_descendants(pid)]:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(victim, signal.SIGKILL)


def _descendants(pid: int) -> list[int]:
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                parents[int(entry)] = int(f.read().rsplit(b")", 1)[1].split()[1])  # field 4: ppid
        except (OSError, IndexError, ValueError):
            continue
    found, frontier = [], [pid]
    while frontier:
        children = [child for child, parent in parents.items() if parent in frontier]
        found += children
        frontier = children
    return found
