"""`mailintake demo`: a generated sample mailbox, ingested with SQLite into one folder, then shown.

The folder keeps its config (`mailintake.toml`), so every other command can explore the result.
A re-run replaces a folder the demo made earlier and refuses to touch any other folder.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from mailintake.ingest import config as config_mod
from mailintake.ingest.context import Context
from mailintake.ingest.digest import make_report
from mailintake.ingest.poll import poll
from mailintake.ingest.progress import reporter
from mailintake.ingest.samples.mailbox import demo_mailbox
from mailintake.reports.export import export
from mailintake.reports.queries import messages
from mailintake.reports.status import build_status, format_text
from mailintake.store.db import make_engine, upgrade

MARKER = ".mailintake-demo"
CONFIG = """\
# Written by `mailintake demo`. Explore with: mailintake -c {path} status --json
[mailbox]
source = "maildir"
path = "mailbox"

[database]
url = "sqlite:///mailintake.db"

[storage]
root = "store"

[replies]
mode = "files"
dir = "replies"

[reports]
dir = "reports"
"""


def run_demo(target: Path, seed: int) -> int:
    target = target.resolve()
    if target.exists() and any(target.iterdir()) and not (target / MARKER).exists():
        print(f"error: {target} exists and was not made by `mailintake demo`; choose another --dir", file=sys.stderr)
        return 1
    shutil.rmtree(target, ignore_errors=True)
    (target / "mailbox").mkdir(parents=True)
    (target / MARKER).write_text("made by mailintake demo\n", encoding="utf-8")
    print(f"generating the sample mailbox (seed {seed}) ...", flush=True)
    stories = write_maildir(target / "mailbox", seed)
    conf = target / "mailintake.toml"
    conf.write_text(CONFIG.format(path=conf), encoding="utf-8")
    cfg = config_mod.load(conf)
    engine = make_engine(cfg.database_url())
    upgrade(engine)
    engine.dispose()
    with Context.open(cfg) as ctx:
        with reporter() as progress:
            poll(ctx, progress)
        with ctx.db.session() as s:
            data = build_status(s, ctx.scope)
            last = max(m.internaldate for m in messages(s)).astimezone(cfg.campaign.tz).date()
        report = make_report(ctx, last)
        with ctx.db.session() as s:
            exported = export(s, ctx.blobs, ctx.scope, target / "export", make_zip=True)
    print(render(data, stories, conf))
    replies = cfg.resolve(cfg.replies.dir)
    print(f"Replies (replies.mode = \"files\"): {len(list(replies.glob('*.eml')))} .eml files in {replies}")
    print(f"Intake workbook as of {last}: {report.workbook}  (decisions form: {report.decisions})")
    print(f"Expert-panel export: {exported.out} ({exported.units} units, {exported.files} files; zip {exported.zip})")
    print(web_hint(cfg, conf))
    return 0


def web_hint(cfg: config_mod.Config, conf: Path) -> str:
    """How to open the organisers' web view on the demo (nothing is started here)."""
    host, port = cfg.web.address
    return (f"Web view: add an organiser (the password is asked twice): mailintake -c {conf} web add-user organiser\n"
            f"          then run: mailintake -c {conf} web   and open http://{host}:{port}/")


def write_maildir(folder: Path, seed: int) -> dict[str, str]:
    """Deliver the sample mails as a Maildir; file names carry the delivery time. Returns key stories."""
    for sub in ("new", "cur", "tmp"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    stories = {}
    for n, mail in enumerate(demo_mailbox(seed)):
        name = f"{int(mail.arrival.timestamp())}.M{n}P{seed}.demo"
        (folder / "new" / name).write_bytes(mail.raw)
        stories[name] = mail.name
    return stories


def render(data: dict, stories: dict[str, str], conf: Path) -> str:
    lines = ["", "示例邮箱中的情形：", *[f"  - {story}" for story in stories.values()], "", format_text(data), "",
             f"Explore: mailintake -c {conf} status --json"]
    return "\n".join(lines)
