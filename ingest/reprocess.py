"""`mailintake reprocess`: re-run parsing and rules from the stored raw messages (never sends replies).

`--dry-run` runs the same stages inside a transaction that is rolled back, with a blob store that
writes nothing, and prints what would change.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from mailintake.common.vocab import MessageState
from mailintake.ingest.context import Context
from mailintake.ingest.decisions import find_message
from mailintake.ingest.pipeline import process_one, run_stages
from mailintake.reports.status import build_status
from mailintake.store.effects import sweep
from mailintake.store.lock import processing_lock
from mailintake.store.models import Message


def reprocess(ctx: Context, refs: list[str] | None, dry_run: bool = False) -> Iterator[str]:
    with ctx.db.session() as s:
        ids, purged = _targets(s, refs)
        if not dry_run:  # an operator asking again gets fresh attempts, even for a message set aside
            s.execute(update(Message).where(Message.id.in_(ids)).values(attempts=0))
    for key in purged:  # `purge` removed its raw bytes: there is nothing left to re-read
        yield f"message {key}: purged, not reprocessed"
    if not dry_run:
        with processing_lock(ctx.db, ctx.config.schedule.lock_wait_seconds):
            sweep(ctx.db, ctx.blobs)
            failed = [key for msg_id in ids if (key := process_one(ctx, msg_id))]
        yield f"reprocessed {len(ids) - len(failed)} message(s)" + (f"; failed: {', '.join(failed)}" if failed else "")
        return
    dry = dataclasses.replace(ctx, blobs=ctx.blobs.read_only())
    with ctx.db.rolled_back() as s:
        before = build_status(s, ctx.scope)
        for msg_id in ids:
            run_stages(s, dry, s.get(Message, msg_id))
        s.flush()
        after = build_status(s, ctx.scope)
    yield from diff(before, after)


def _targets(s: Session, refs: list[str] | None) -> tuple[list[int], list[str]]:
    """The messages to re-run in arrival order, and the keys of named ones that were purged (skipped)."""
    if refs is None:
        return list(s.scalars(select(Message.id).where(Message.state != MessageState.PURGED)
                              .order_by(Message.internaldate, Message.id))), []
    named = {(m := find_message(s, ref)).id: m for ref in refs}
    chosen = {i: m.internaldate for i, m in named.items() if m.state != MessageState.PURGED}
    purged = sorted(m.key for m in named.values() if m.state == MessageState.PURGED)
    return sorted(chosen, key=lambda i: (chosen[i], i)), purged


def diff(before: dict, after: dict) -> Iterator[str]:
    """Per message and per unit: findings added and removed, kind/unit/status changes."""
    changed = False
    old = {m["key"]: m for m in before["messages"]}
    for m in after["messages"]:
        lines = list(_changes(old.get(m["key"], {}), m, ("kind", "unit", "late", "duplicate_of")))
        if lines:
            changed = True
            yield f"message #{m['reference']} {m['key']}:"
            yield from lines
    old_units = {u["name"]: u for u in before["units"]}
    for u in after["units"]:
        lines = list(_changes(old_units.get(u["name"], {}), u, ("status", "late", "category")))
        if lines:
            changed = True
            yield f"unit {u['name']}:"
            yield from lines
    for name in old_units.keys() - {u["name"] for u in after["units"]}:
        changed = True
        yield f"unit {name}: would no longer have a dossier"
    if not changed:
        yield "no changes"


def _changes(old: dict, new: dict, fields: tuple[str, ...]) -> Iterator[str]:
    for field in fields:
        if old.get(field) != new.get(field):
            yield f"  {field}: {old.get(field)!r} -> {new.get(field)!r}"
    was = {(f["code"], f["subject"]) for f in old.get("findings", [])}
    now = {(f["code"], f["subject"]) for f in new.get("findings", [])}
    for code, subject in sorted(now - was, key=str):
        yield f"  + {code}" + (f" ({subject})" if subject else "")
    for code, subject in sorted(was - now, key=str):
        yield f"  - {code}" + (f" ({subject})" if subject else "")
