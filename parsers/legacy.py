"""Legacy Office files (.doc, WPS's .wps and .et, old .xls) made readable: LibreOffice converts them to OOXML,
which the .docx/.xlsx readers of `parsers.documents` then read like any other.

Government offices still save in WPS Office's own formats and in Word 97; a legacy report that could not be
read used to skip the secrecy check without a word. LibreOffice headless runs in a sandbox: a fresh work
folder with its own profile (two runs never share one), the input written there under a fixed name
(`in.doc`, `in.xls`: never a name from mail), no network when the system lets us make it a network
namespace of its own (`unshare`), a time limit (the whole process tree is killed when it overruns), its
output read back as bytes and the folder removed. It dies with its parent (PR_SET_PDEATHSIG) and sits in the
parse worker's process group, so the worker's limits reach it too. Each worker parses one message at a time,
so it runs one conversion at a time (with a read-ahead, two workers may each run one).

A kill of the service must not leave LibreOffice behind: the death signal reaches the launcher only, and the
launcher (oosplash) starts soffice.bin as a child of its own, which outlived a SIGKILLed service (measured:
it finished its conversion alone a second later; a hung one would have run on). So where the system allows a
PID namespace, `unshare --pid --fork --kill-child` runs LibreOffice as the namespace's first process: when
the launcher dies, the kernel kills everything in the namespace. The work folder is
`<work_dir>/<pid>-<random>` (`<storage root>/convert/`, or `mailintake-convert-<pid>-…` in the system temp
dir without one): the pid of the process that made it, so the store's sweep (`store/litter.py`) can tell a
folder a killed parse left behind from one in use.

Conversions are cached by the input's sha256 (`ConversionCache`, `<storage root>/cache/legacy/`), so
`reprocess` never converts a file twice, even once LibreOffice is gone. The caller stores an entry only when
neither the file's name nor its text carries a secrecy marking: classified material is kept nowhere it need
not be.

LibreOffice reads .wps/.et but cannot write them; WPS files of that kind are Word/Excel binary files inside,
so they are converted as .doc/.xls.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import zipfile
from collections.abc import Iterator
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
_FORMAT = 1  # of the cached conversions (filters, targets): bump when `_TARGETS` or the export changes
_HEX = re.compile(r"[0-9a-f]{64}")
SYSTEM_TEMP_PREFIX = "mailintake-convert-"  # work folders in the system temp dir, when there is no storage root


@dataclass(frozen=True)
class Converted:
    data: bytes | None  # the OOXML file, or None with a problem
    kind: str | None  # "docx" | "xlsx"
    problem: str | None = None  # MISSING | FAILED | TIME
    limit: float | None = None  # seconds, for TIME
    cached: bool = False  # read from the cache, not converted now (so not to be stored again)


class ConversionCache:
    """LibreOffice's output by the input's sha256: `<folder>/<sha256>.v<format>.<docx|xlsx>`, written to a temp
    name (`.<sha256>.<pid>.tmp`: the writer's pid, for the sweep) and renamed into place. The name is a digest,
    never mail content. No converter version in the key: what is read from the output is the document's text,
    which a LibreOffice upgrade does not change, and a cache that needed LibreOffice to be read would not
    spare a `reprocess` on a machine that has lost it."""

    def __init__(self, folder: str | None):
        self.folder = Path(folder) if folder else None

    def path(self, sha256: str, target: str) -> Path | None:
        if self.folder is None or not _HEX.fullmatch(sha256):
            return None
        return self.folder / f"{sha256}.v{_FORMAT}.{target}"

    def get(self, sha256: str, kind: str) -> Converted | None:
        """The cached conversion of a file of detected `kind`, or None (none kept, or a damaged entry)."""
        target = _TARGETS[kind][2]
        path = self.path(sha256, target)
        try:
            if path is None or not path.is_file() or not 0 < path.stat().st_size <= MAX_OUTPUT_BYTES:
                return None
            with zipfile.ZipFile(path) as archive:  # OOXML is a zip: a torn entry fails its CRC here
                if archive.testzip() is not None:
                    return None
            return Converted(path.read_bytes(), target, cached=True)
        except (OSError, zipfile.BadZipFile, ValueError, EOFError):
            return None  # converted again and rewritten

    def put(self, sha256: str, converted: Converted) -> None:
        """Keep a fresh conversion; one that cannot be written costs a second conversion, nothing else."""
        if converted.data is None or converted.kind is None or converted.cached:
            return
        path = self.path(sha256, converted.kind)
        if path is None:
            return
        temp = path.with_name(f".{sha256}.{os.getpid()}.tmp")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            temp.write_bytes(converted.data)
            os.replace(temp, path)
            for older in path.parent.glob(f"{sha256}.v*.{converted.kind}"):  # an earlier format's entry
                if older != path:
                    older.unlink(missing_ok=True)
        except OSError:
            with contextlib.suppress(OSError):
                temp.unlink()


def convert(data: bytes, kind: str, soffice: str | None, seconds: float, work_dir: str | None = None) -> Converted:
    """`data` of detected `kind` (doc, wps, et, xls) as .docx/.xlsx bytes; never raises. The work folder is made
    under `work_dir` (None: the system temp dir) and named by this process's pid."""
    if kind not in _TARGETS:
        raise ValueError(f"not a legacy Office kind: {kind}")
    if soffice is None:
        return Converted(None, None, MISSING)
    name, export, target = _TARGETS[kind]
    try:
        with _work_folder(work_dir) as work:
            return _convert_in(work, data, soffice, seconds, name, export, target)
    except OSError:  # the work folder could not be made or written (a full disk): not converted
        return Converted(None, None, FAILED)


def _convert_in(work: Path, data: bytes, soffice: str, seconds: float, name: str, export: str,
                target: str) -> Converted:
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


@contextlib.contextmanager
def _work_folder(work_dir: str | None) -> Iterator[Path]:
    """A fresh private folder `<pid>-<random>` under `work_dir` (made 0700 when missing), or
    `mailintake-convert-<pid>-<random>` in the system temp dir; removed afterwards."""
    pid = os.getpid()
    if work_dir:
        os.makedirs(work_dir, mode=0o700, exist_ok=True)
        folder = tempfile.mkdtemp(prefix=f"{pid}-", dir=work_dir)
    else:
        folder = tempfile.mkdtemp(prefix=f"{SYSTEM_TEMP_PREFIX}{pid}-")
    try:
        yield Path(folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def isolation() -> tuple[str, ...]:
    """The command prefix that runs LibreOffice in namespaces of its own, the best the system allows (a root
    service, or unprivileged user namespaces): a PID namespace (its whole tree dies with the launcher, see the
    module's docstring) and a network namespace (no network at all); the network alone; or () where neither is
    allowed. Probed each time (a few milliseconds beside a conversion's seconds), so nothing is remembered
    between calls."""
    unshare = shutil.which("unshare")
    if unshare is None:
        return ()
    tree = ("--pid", "--fork", "--kill-child")
    for prefix in ((unshare, "--net", *tree), (unshare, "--net", "--map-root-user", *tree),
                   (unshare, "--net"), (unshare, "--net", "--map-root-user")):
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
