"""`mailintake purge --before DATE [--dry-run]`: after the campaign, erase what is no longer needed.

The rules are in `store/purge.py`. This is the order, under the processing lock so no poll or organiser
command runs in between: the record file first (durable, in `reports.dir`), then the database in one
commit, then the blobs and reply files nothing references any more. A crash after the commit leaves orphan
files that the next run removes; a crash before it leaves the database untouched. The dry run does the
same in a transaction that is rolled back and counts the files instead of removing them.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
from pathlib import Path

from mailintake.common.errors import MailintakeError
from mailintake.ingest.context import Context
from mailintake.store.lock import processing_lock
from mailintake.store.purge import PurgeSummary, cutoff, orphan_blobs, prune_caches, purge_rows, remove_blobs


class TooEarly(MailintakeError):
    """A cut-off before the deadline would erase dossiers the campaign is still judging."""

    exit_code = 2


def record_path(ctx: Context, before: dt.date) -> Path:
    return ctx.config.resolve(ctx.config.reports.dir) / f"purge-record-{before:%Y%m%d}.json"


def purge(ctx: Context, before: dt.date, dry_run: bool = False) -> PurgeSummary:
    """Purge mail that arrived strictly before 00:00 of `before` in the campaign timezone (see store.purge)."""
    tz, deadline = ctx.config.campaign.tz, ctx.config.campaign.deadline
    if cutoff(before, tz) <= deadline:
        raise TooEarly(f"purge is for after the campaign: --before must be a day after the deadline "
                       f"({deadline.astimezone(tz):%Y-%m-%d %H:%M}); nothing was purged")
    target = record_path(ctx, before)
    with processing_lock(ctx.db, ctx.config.schedule.lock_wait_seconds):
        if dry_run:
            with ctx.db.rolled_back() as s:
                summary = purge_rows(s, before, tz, dry_run=True)
                orphans = orphan_blobs(s, ctx.blobs)
            summary.blobs = {area: len(shas) for area, shas in orphans.items()}
            summary.blobs["cache"] = prune_caches(ctx.blobs, ctx.blobs.listing("files") - orphans["files"], True)
            summary.reply_files = len(_reply_files(ctx, summary.outbox_ids))
            return summary
        with ctx.db.session() as s:
            summary = purge_rows(s, before, tz)
            summary.record["generated_at"] = ctx.clock().astimezone(tz).isoformat(timespec="seconds")
            if summary.changed or not target.exists():  # never erase without the record on disk first
                summary.record_path = _write_json(target, summary.record)
        with ctx.db.session() as s:  # from the committed rows: also finishes a run a crash cut short
            orphans = orphan_blobs(s, ctx.blobs)
        remove_blobs(ctx.blobs, orphans)
        summary.blobs = {area: len(shas) for area, shas in orphans.items()}
        summary.blobs["cache"] = prune_caches(ctx.blobs, ctx.blobs.listing("files"))
        files = _reply_files(ctx, summary.outbox_ids)
        for path in files:
            path.unlink(missing_ok=True)
        summary.reply_files = len(files)
    return summary


def _reply_files(ctx: Context, outbox_ids: list[int]) -> list[Path]:
    """The `outbox-NNNNNN.eml` copies that `replies.mode = "files"` wrote for the blanked rows."""
    folder = ctx.config.resolve(ctx.config.replies.dir)
    return [p for i in outbox_ids if (p := folder / f"outbox-{i:06d}.eml").exists()]


def _write_json(path: Path, data: dict) -> Path:
    """Temp file, fsync, rename: the record is whole on disk before the commit that erases."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, ensure_ascii=False, indent=2)
            fh.write("\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
