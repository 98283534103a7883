"""What a killed parse leaves in the storage root is removed by the next run's sweep, and nothing in use is.

A SIGKILL between a cache entry's write and its rename leaves `cache/<kind>/.<sha256>.<pid>.tmp`; one during a
conversion leaves LibreOffice's work folder `convert/<pid>-<random>/` (and, where LibreOffice could not be given
a PID namespace, a soffice.bin still running in it). The pid in the name tells litter from work in flight.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

from mailintake.ingest.samples import clients, documents
from mailintake.store.litter import sweep_litter
from testkit.desk import MaildirDesk
from testkit.mail import MAILBOX

SHA = "ab" * 32
DAY = 24 * 3600


def dead_pid() -> int:
    """The number of a process that has ended and been reaped."""
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def leave(root: Path, pid: int, tag: str, written: float | None = None) -> tuple[Path, Path]:
    """A half-written OCR cache entry and a LibreOffice work folder as process `pid` leaves them when killed."""
    temp = root / "cache" / "ocr" / f".{SHA[:-len(tag)]}{tag}.{pid}.tmp"
    folder = root / "convert" / f"{pid}-{tag}"
    for path in (temp.parent, folder / "profile" / "user", folder / "out"):
        path.mkdir(parents=True, exist_ok=True)
    temp.write_text('{"key"', encoding="utf-8")
    (folder / "in.doc").write_bytes(b"\xd0\xcf\x11\xe0")
    if written is not None:
        for path in (temp, folder):
            os.utime(path, (written, written))
    return temp, folder


def test_leftovers_of_dead_processes_go_and_work_in_flight_stays(tmp_path):
    zombie = subprocess.Popen(["true"])  # ended, not yet reaped: a zombie still has its /proc entry
    while Path(f"/proc/{zombie.pid}/stat").read_bytes().rsplit(b")", 1)[1].split()[0] != b"Z":
        time.sleep(0.01)
    dead = leave(tmp_path, dead_pid(), "dd")
    undead = leave(tmp_path, zombie.pid, "ee")
    reused = leave(tmp_path, os.getpid(), "ff", time.time() - 30 * DAY)  # this pid's earlier owner, long gone
    live = leave(tmp_path, os.getpid(), "aa")  # this process is writing them right now
    cached = tmp_path / "cache" / "ocr" / f"{SHA}.json"
    cached.write_text("{}", encoding="utf-8")

    done = sweep_litter(tmp_path)
    zombie.wait()
    assert (done.cache_temps, done.convert_folders, done.processes) == (3, 3, 0)
    assert not any(path.exists() for path in (*dead, *undead, *reused))
    assert all(path.exists() for path in live) and cached.exists()
    assert sweep_litter(tmp_path).convert_folders == 0  # nothing left to do


def test_a_libreoffice_left_running_by_a_killed_parse_is_stopped_before_its_folder_goes(tmp_path):
    """A real soffice that never ends by itself (headless, nothing to convert: it waits for a client) in the
    work folder of a parse that is gone, as soffice.bin stays when only its launcher got the death signal."""
    _, folder = leave(tmp_path, dead_pid(), "bb")
    soffice = subprocess.Popen(["soffice", "--headless", "--norestore", "--nologo", "--nodefault",
                                f"-env:UserInstallation={(folder / 'profile').as_uri()}"],
                               stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               env={**os.environ, "HOME": str(folder)}, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while not soffice_bin(folder) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert soffice_bin(folder), "LibreOffice did not start"
        done = sweep_litter(tmp_path)
        assert done.processes >= 1 and done.convert_folders == 1 and not folder.exists()
        soffice.wait(timeout=30)
        deadline = time.monotonic() + 10
        while running_in(folder) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert running_in(folder) == {}
    finally:
        for pid in running_in(folder):
            os.kill(pid, 9)
        soffice.kill()


def soffice_bin(folder: Path) -> bool:
    return any(b"soffice.bin" in cmd for cmd in running_in(folder).values())


def running_in(folder: Path) -> dict[int, bytes]:
    """Live processes whose command line names `folder` (zombies have none)."""
    found = {}
    for proc in Path("/proc").iterdir():
        try:
            cmdline = (proc / "cmdline").read_bytes() if proc.name.isdigit() else b""
        except OSError:
            continue
        if os.fsencode(folder) in cmdline:
            found[int(proc.name)] = cmdline
    return found


def test_a_poll_sweeps_what_a_killed_parse_left_in_the_store(tmp_path):
    desk = MaildirDesk(tmp_path)
    root = desk.ctx.blobs.root
    dead = leave(root, dead_pid(), "cc")
    desk.deliver(clients.build_message(sender="ybkx@163.com", sender_name="渝北区科协", to=MAILBOX,
                                       subject="【渝北区】推荐材料", body="请查收。",
                                       attachments=[("附件1：林峰推荐表.docx", documents.form_docx("林峰", ""))]))
    assert [m["state"] for m in desk.poll()["messages"]] == ["processed"]
    assert not any(path.exists() for path in dead)
    assert list((root / "convert").iterdir()) == [] and list((root / "cache" / "ocr").iterdir()) == []
    desk.close()
