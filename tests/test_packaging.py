"""The wheel, installed where the repository is out of reach, is the whole program under `mailintake.*`."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = ("ingest", "parsers", "store", "reports", "common")  # each installs as mailintake.<folder>
NOT_SOURCE = shutil.ignore_patterns(".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", "*.pyc",
                                    ".pytest_cache", ".ruff_cache", ".hypothesis", "mailintake-demo", "bench-out")


def sh(*cmd: str | Path, cwd: Path, env: dict | None = None, timeout: int = 300) -> subprocess.CompletedProcess:
    done = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{cmd}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


def test_the_wheel_installs_alone_and_runs_the_demo(tmp_path):
    """Build the wheel, install it into a brand-new virtualenv, run the demo from there.

    The wheel is built from a clean copy of the repository (found from this file's path): setuptools
    builds in the source tree, leaves `build/` and `*.egg-info` there, and re-packs whatever an earlier
    build left in `build/lib`, so a stale top-level `ingest/` could land in the wheel, or hide a missing
    file. The fresh venv is made without pip, and the main venv's pip installs into it (`--python`):
    first the pinned `requirements.lock` (pip's cache and the machine's wheel dirs make it roughly
    40-50 s), then the wheel with `--no-deps`. Nothing from the main venv is put on its path, so its
    editable finder for mailintake cannot leak in. Every command runs in tmp_path with PYTHONPATH
    cleared, so the repository's own folders cannot be imported by accident.
    """
    src = tmp_path / "src"
    shutil.copytree(ROOT, src, ignore=NOT_SOURCE)
    dist = tmp_path / "dist"
    sh(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", dist, src, cwd=tmp_path)
    [wheel] = dist.glob("mailintake-*.whl")

    names = set(zipfile.ZipFile(wheel).namelist())
    stray = sorted(n for n in names if not n.startswith("mailintake/") and ".dist-info/" not in n)
    assert not stray, f"outside mailintake/: {stray}"
    assert not {n.split("/")[0] for n in names} & set(FOLDERS)
    for needed in ("store/migrations/env.py", "store/migrations/script.py.mako",
                   "store/migrations/versions/0001_initial_schema.py", "ingest/data/chongqing_units.toml"):
        assert f"mailintake/{needed}" in names
    # every file of the five folders ships (a new subpackage or data file not in pyproject.toml fails here)
    sources = {f"mailintake/{p.relative_to(src).as_posix()}" for folder in FOLDERS for p in (src / folder).rglob("*")
               if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"}
    assert not sources - names, f"missing from the wheel: {sorted(sources - names)}"

    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=False)
    python, script = env_dir / "bin" / "python", env_dir / "bin" / "mailintake"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    pip = (sys.executable, "-m", "pip", "--python", python, "install", "-q", "--no-compile")
    sh(*pip, "-r", ROOT / "requirements.lock", cwd=tmp_path, env=env, timeout=600)
    sh(*pip, "--no-deps", wheel, cwd=tmp_path, env=env)
    sh(sys.executable, "-m", "pip", "--python", python, "check", cwd=tmp_path, env=env)  # the wheel's deps are met

    demo = sh(script, "demo", "--dir", tmp_path / "demo", cwd=tmp_path, env=env, timeout=600)
    assert "收到邮件 10 封" in demo.stdout

    site = sh(python, "-c", "import mailintake.store.db as m; print(m.__file__)", cwd=tmp_path, env=env).stdout
    assert Path(site.strip()).is_relative_to(env_dir), site
    for bare in ("ingest", "store"):
        gone = subprocess.run([python, "-c", f"import {bare}"], cwd=tmp_path, env=env, capture_output=True,
                              text=True, timeout=60)
        assert gone.returncode != 0 and "ModuleNotFoundError" in gone.stderr, (bare, gone.stderr)
