"""The parser fuzz properties of `tests/test_fuzz_parsers.py` with a large budget; prints what ran and what failed.

    .venv/bin/python bench/fuzz_long.py                      # 20x each property's test budget, random seed
    .venv/bin/python bench/fuzz_long.py --factor 50 --minutes 30
    .venv/bin/python bench/fuzz_long.py --examples 5000 --only zip --seed 1234
    .venv/bin/python bench/fuzz_long.py --atheris 60         # + coverage-guided atheris, 60 s per target

Every property is the test's own check and strategies (kept on each test as `.fuzz`), re-run under
`hypothesis.given` with `max_examples` = its test budget x `--factor` (or `--examples N` for all), a random
seed unless `--seed` is given (the test run is derandomized, so this explores beyond it), and no example
database. `--minutes` shares a wall-clock budget over the properties (what a property leaves unused goes to
the ones after it): a property whose share runs out stops early and says so. A failure is printed with
hypothesis's shrunk falsifying example; the run goes on with the next property, and the exit status is 1
when anything failed.

`--atheris S` then runs libFuzzer (atheris, when installed in the venv) for S seconds on each raw-bytes
entry point, instrumenting `mailintake`, each target in a child process started from the same seeds as
the properties, with the same checks (typed results, nothing written, bounded memory). Its crash
inputs go to a temporary folder that is printed.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEST_FILE = ROOT / "tests" / "test_fuzz_parsers.py"


def load_properties():
    """The test module, imported by path as pytest does (`tests/support` on the path for testkit)."""
    sys.path.insert(0, str(ROOT / "tests" / "support"))
    spec = importlib.util.spec_from_file_location("test_fuzz_parsers", TEST_FILE)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module


class _TimeUp(BaseException):
    """Raised from inside an example when the property's wall-clock share is spent; hypothesis lets a
    BaseException through, so the run stops there."""


@contextlib.contextmanager
def _native_stderr_silenced():
    """libarchive prints a line to fd 2 for each damaged archive it tastes ("Missing type keyword in mtree
    specification"), thousands per run; results and failures are printed to stdout."""
    sys.stderr.flush()
    saved = os.dup(2)
    with open(os.devnull, "w") as null:
        os.dup2(null.fileno(), 2)
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)


def run_property(name: str, test, factor: float, examples: int | None, seed: int, seconds: float | None) -> dict:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import seed as with_seed

    check, strategies, budget = test.fuzz
    wanted = examples if examples is not None else max(1, round(budget * factor))
    calls = {"n": 0}
    deadline = time.monotonic() + seconds if seconds else None

    @functools.wraps(check)
    def counted(**kwargs):
        if deadline is not None and time.monotonic() > deadline:
            raise _TimeUp
        calls["n"] += 1
        return check(**kwargs)

    long = settings(max_examples=wanted, deadline=None, derandomize=False, database=None, print_blob=True,
                    suppress_health_check=list(HealthCheck))
    runner = with_seed(seed)(long(given(**strategies)(counted)))
    started = time.monotonic()
    outcome, detail = "passed", ""
    try:
        with _native_stderr_silenced():
            runner()
    except _TimeUp:
        outcome = "time share spent"
    except BaseException as failure:  # noqa: B036 - a failing property is reported, not raised
        if isinstance(failure, KeyboardInterrupt):
            raise
        outcome = "FAILED"
        detail = "".join(traceback.format_exception(failure)[-40:])
    return {"name": name, "wanted": wanted, "ran": calls["n"], "seconds": time.monotonic() - started,
            "outcome": outcome, "detail": detail}


# --- atheris ---------------------------------------------------------------------------------------------

ATHERIS_TARGETS = {  # name -> (the check on raw bytes, the seeds it starts from), all in the test module
    "message": ("parsed", "message_seeds"),
    "bounce": ("bounce_read", "bounce_seeds"),
    "zip": ("expand_zip", "zip_seeds"),
    "image": ("inspected", "image_seeds"),
    "pdf": ("read_pdf", "pdf_seeds"),
    "xlsx": ("read_xlsx", "xlsx_seeds"),
    "decisions": ("decisions_read", "decision_seeds"),
}

_CHILD = r"""
import sys
import tempfile
tempfile.tempdir = {tmp!r}  # libFuzzer exits without atexit: the test module's sandbox goes in the work folder
import atheris
sys.path.insert(0, {support!r})
with atheris.instrument_imports(include=["mailintake"]):
    import importlib.util
    spec = importlib.util.spec_from_file_location("test_fuzz_parsers", {test_file!r})
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
extra = {{
    "expand_zip": lambda data: module.expanded(data, "zip"),
    "read_pdf": lambda data: module.read_doc(data, "pdf"),
    "read_xlsx": lambda data: module.read_doc(data, "xlsx"),
    "zip_seeds": lambda: [s for k, s in module.archive_seeds() if k == "zip"],
    "xlsx_seeds": lambda: [module.attachments()["附件2：推荐人选汇总表.xlsx"]],
}}
check = extra.get({check!r}) or getattr(module, {check!r})
seeds = (extra.get({seeds!r}) or getattr(module, {seeds!r}))()
import os
for i, seed in enumerate(seeds):
    with open(os.path.join({corpus!r}, f"seed{{i}}"), "wb") as f:
        f.write(seed)
atheris.Setup(sys.argv, check)
atheris.Fuzz()
"""


def run_atheris(name: str, check: str, seeds: str, seconds: int, work: Path) -> dict:
    corpus, crashes, tmp = work / f"{name}-corpus", work / f"{name}-crashes", work / f"{name}-tmp"
    for folder in (corpus, crashes, tmp):
        folder.mkdir()
    source = _CHILD.format(support=str(ROOT / "tests" / "support"), test_file=str(TEST_FILE), check=check,
                           seeds=seeds, corpus=str(corpus), tmp=str(tmp))
    command = [sys.executable, "-c", source, str(corpus), f"-max_total_time={seconds}", "-rss_limit_mb=3072",
               "-timeout=60", f"-artifact_prefix={crashes}/", "-print_final_stats=1"]
    started = time.monotonic()
    proc = subprocess.run(command, capture_output=True, text=True, errors="replace", timeout=seconds + 300,
                          cwd=work)
    output = proc.stdout + proc.stderr
    runs = next((line.split()[1] for line in output.splitlines() if line.startswith("Done ")), None)
    if runs is None:  # libFuzzer's final stats line
        runs = next((line.split()[-1] for line in output.splitlines() if "stat::number_of_executed_units" in line),
                    "?")
    found = sorted(p.name for p in crashes.iterdir())
    outcome = "passed" if proc.returncode == 0 and not found else "FAILED"
    tail = "\n".join(output.splitlines()[-40:]) if outcome == "FAILED" else ""
    return {"name": f"atheris:{name}", "wanted": f"{seconds}s", "ran": runs, "seconds": time.monotonic() - started,
            "outcome": outcome, "detail": (f"crash inputs in {crashes}: {found}\n" if found else "") + tail}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--factor", type=float, default=20, help="examples = the test budget x this (default 20)")
    parser.add_argument("--examples", type=int, help="examples per property, instead of --factor")
    parser.add_argument("--minutes", type=float, help="wall-clock budget for all hypothesis properties")
    parser.add_argument("--seed", type=int, help="hypothesis seed (default: random, printed)")
    parser.add_argument("--only", action="append", default=[], help="run properties whose name contains this")
    parser.add_argument("--atheris", type=int, default=0, metavar="SECONDS", help="atheris seconds per target")
    args = parser.parse_args()

    module = load_properties()
    tests = {name: test for name, test in vars(module).items() if name.startswith("test_") and hasattr(test, "fuzz")
             and (not args.only or any(o in name for o in args.only))}
    seed = args.seed if args.seed is not None else int.from_bytes(os.urandom(4), "big")
    finish = time.monotonic() + args.minutes * 60 if args.minutes else None
    print(f"seed {seed}; {len(tests)} properties; "
          + (f"{args.minutes:g} min over all, shared evenly" if finish else "no time limit"), flush=True)
    results = []
    for done, (name, test) in enumerate(tests.items()):
        share = max(1.0, (finish - time.monotonic()) / (len(tests) - done)) if finish else None  # unused time passes on
        result = run_property(name, test, args.factor, args.examples, seed, share)
        results.append(result)
        print(f"{result['outcome']:>16}  {result['ran']:>6} of {result['wanted']:>6} examples  "
              f"{result['seconds']:7.1f} s  {name}", flush=True)
        if result["detail"]:
            print(result["detail"], flush=True)

    if args.atheris:
        try:
            import atheris  # noqa: F401 - only whether it is installed
        except ImportError:
            print("atheris is not installed in this venv (pip install atheris): skipped")
        else:
            work = Path(tempfile.mkdtemp(prefix="mailintake-atheris-"))
            print(f"atheris work folder: {work}", flush=True)
            for name, (check, seeds) in ATHERIS_TARGETS.items():
                if args.only and not any(o in name for o in args.only):
                    continue
                result = run_atheris(name, check, seeds, args.atheris, work)
                results.append(result)
                print(f"{result['outcome']:>16}  {result['ran']:>6} runs in {result['wanted']:>6}  "
                      f"{result['seconds']:7.1f} s  {result['name']}", flush=True)
                if result["detail"]:
                    print(result["detail"], flush=True)
            if all(r["outcome"] != "FAILED" for r in results if r["name"].startswith("atheris:")):
                shutil.rmtree(work, ignore_errors=True)

    failed = [r for r in results if r["outcome"] == "FAILED"]
    total = sum(r["ran"] for r in results if isinstance(r["ran"], int))
    print(f"\n{len(results)} runs, {total} hypothesis examples, {len(failed)} failed"
          + (": " + ", ".join(r["name"] for r in failed) if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
