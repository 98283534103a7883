"""`mailintake` command line. Errors an operator can fix come out as one line each, never a traceback."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.exc import OperationalError

from mailintake.common.errors import MailintakeError
from mailintake.ingest import config as config_mod
from mailintake.ingest import logs
from mailintake.ingest.context import Context

log = logging.getLogger("mailintake")

EXIT_OK, EXIT_FAILED, EXIT_CONFIG = 0, 1, 2


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logs.setup(args.verbose, args.log_format)
    try:
        return args.func(args)
    except MailintakeError as exc:  # the project's own errors: one line each, never a traceback
        for line in exc.lines:
            print(f"{exc.prefix}: {line}", file=sys.stderr)
        return exc.exit_code
    except OperationalError as exc:  # the database locked, gone or on a full disk: the operator's problem
        print(f"error: the database cannot be used: {' '.join(str(exc.orig or exc).split())[:300]}", file=sys.stderr)
        return EXIT_FAILED
    except BrokenPipeError:  # `mailintake status | head`: the reader left, as Unix tools expect
        _silence_stdout()
        return EXIT_OK
    except KeyboardInterrupt:
        return 130


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush cannot raise a second BrokenPipeError."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="mailintake", description=__doc__)
    p.add_argument("-c", "--config", default=os.environ.get("MAILINTAKE_CONFIG", "mailintake.toml"),
                   help="config file (default: $MAILINTAKE_CONFIG or ./mailintake.toml)")
    p.add_argument("-v", "--verbose", action="store_true")
    p.add_argument("--log-format", choices=["plain", "json"], default="plain", help="log lines on stderr")
    sub = p.add_subparsers(required=True, metavar="COMMAND")

    def cmd(name: str, func: Callable[[argparse.Namespace], int], help: str) -> argparse.ArgumentParser:
        sp = sub.add_parser(name, help=help, description=help)
        sp.set_defaults(func=func)
        return sp

    d = cmd("demo", _demo, "generate a sample mailbox, ingest it with SQLite and show what was found")
    d.add_argument("--dir", default="mailintake-demo")
    d.add_argument("--seed", type=int, default=2021)
    cmd("check", _check, "validate the config and try the mailbox, SMTP server and database")
    cmd("poll", _poll, "fetch new mail once and process it")
    db = cmd("db", _db, "database maintenance")
    db.add_argument("action", choices=["upgrade"])
    st = cmd("status", _status, "show messages and units")
    st.add_argument("--json", action="store_true", help="machine-readable (the documented contract)")
    rp = cmd("reprocess", _reprocess, "re-run parsing and rules from the stored raw messages")
    rp.add_argument("messages", nargs="*", metavar="MESSAGE", help="key or reference number")
    rp.add_argument("--all", action="store_true")
    rp.add_argument("--dry-run", action="store_true", help="print what would change, write nothing")
    a = cmd("assign", _assign, "place a message with a recommending unit (an organiser decision)")
    a.add_argument("message", metavar="MESSAGE")
    a.add_argument("unit", metavar="UNIT")
    rs = cmd("replies", _replies, "the outbox: list every reply, or resend one an organiser names")
    rs.add_argument("action", choices=["list", "resend"])
    rs.add_argument("ref", nargs="?", metavar="REF", help="resend: outbox number (as `replies list` shows it)")
    for verb, kind in (("accept-late", "accept_late"), ("reject-late", "reject_late")):
        lp = cmd(verb, _late_decision(kind), f"{verb.replace('-', ' ')} material of a message")
        lp.add_argument("message", metavar="MESSAGE")
    rep = cmd("report", _report, "write the day's intake workbook and decisions form; --send mails the digest")
    rep.add_argument("--date", metavar="YYYY-MM-DD", help="as of the end of this day (default: today)")
    rep.add_argument("--out", metavar="FILE", help="the workbook's path (default: in reports.dir)")
    rep.add_argument("--send", action="store_true", help="mail the digest to reports.recipients")
    rep.add_argument("--daily", action="store_true", help="with --send: at most once per date")
    ex = cmd("export", _export, "export the current materials per unit and candidate for the expert panel")
    ex.add_argument("--out", required=True, metavar="DIR")
    ex.add_argument("--zip", action="store_true", help="also write DIR.zip (UTF-8 names, for Windows)")
    cmd("serve", _serve, "run the service: poll, send, the morning digest, housekeeping (until SIGTERM)")
    w = cmd("web", _web, "the organisers' read-only web view: serve it alone (until SIGTERM), or manage its users")
    w.add_argument("action", nargs="?", default="serve", choices=["serve", "add-user", "disable-user", "users"],
                   help="default: serve; add-user reads the password from standard input")
    w.add_argument("name", nargs="?", metavar="NAME", help="add-user / disable-user: the organiser's user name")
    w.add_argument("--listen", metavar="HOST:PORT", help="serve: where to listen (default: [web] listen)")
    h = cmd("health", _health, "exit non-zero when the last successful poll is too old (for a watchdog)")
    h.add_argument("--max-age-minutes", type=float, metavar="N", help="default: schedule.health_max_age_minutes")
    pg = cmd("purge", _purge, "after the campaign: remove materials and personal data, keep the counts")
    pg.add_argument("--before", required=True, metavar="YYYY-MM-DD", help="messages that arrived before this day")
    pg.add_argument("--dry-run", action="store_true", help="say what would go, change nothing")
    pr = cmd("paper-received", _paper, "record that a unit's paper copy arrived (an organiser decision)")
    pr.add_argument("unit", metavar="UNIT")
    pr.add_argument("date", nargs="?", metavar="DATE", help="YYYY-MM-DD (default: today); \"no\": not received")
    return p


def _load(args: argparse.Namespace) -> config_mod.Config:
    return config_mod.load(args.config)


def _context(args: argparse.Namespace) -> Context:
    return Context.open(_load(args))


def _demo(args: argparse.Namespace) -> int:
    from mailintake.ingest.demo import run_demo

    return run_demo(Path(args.dir), args.seed)


def _check(args: argparse.Namespace) -> int:
    from mailintake.ingest.check import run_checks

    cfg = _load(args)
    print(f"config: ok ({cfg.path})")
    ok = True
    for name, problem in run_checks(cfg):
        print(f"{name}: {'ok' if problem is None else problem}")
        ok = ok and problem is None
    if cfg.replies.mode != "smtp":
        print(f"smtp: not checked (replies.mode = {cfg.replies.mode!r})")
    return EXIT_OK if ok else EXIT_FAILED


def _poll(args: argparse.Namespace) -> int:
    from mailintake.ingest.poll import poll
    from mailintake.ingest.progress import reporter

    with _context(args) as ctx, reporter() as progress:
        summary = poll(ctx, progress)
    log.info("poll done: %d new, %d matched after UIDVALIDITY change, %d processed, %d failed",
             summary.fetched, summary.rematched, summary.processed, len(summary.failed))
    for key in summary.failed:
        log.error("message %s could not be processed (see `mailintake status`)", key)
    return EXIT_OK


def _db(args: argparse.Namespace) -> int:
    from mailintake.store.db import make_engine, upgrade

    cfg = _load(args)
    engine = make_engine(cfg.database_url())
    print(f"database at revision {upgrade(engine)}")
    engine.dispose()
    return EXIT_OK


def _status(args: argparse.Namespace) -> int:
    from mailintake.reports.status import build_status, format_text

    with _context(args) as ctx, ctx.db.session() as s:
        data = build_status(s, ctx.scope)
    if args.json:
        json.dump(data, sys.stdout, ensure_ascii=False, indent=2)
        print()
    else:
        print(format_text(data))
    return EXIT_OK


def _reprocess(args: argparse.Namespace) -> int:
    from mailintake.ingest.reprocess import reprocess

    if not args.all and not args.messages:
        print("error: name messages (key or reference number) or use --all", file=sys.stderr)
        return EXIT_CONFIG
    with _context(args) as ctx:
        for line in reprocess(ctx, None if args.all else args.messages, dry_run=args.dry_run):
            print(line)
    return EXIT_OK


def _assign(args: argparse.Namespace) -> int:
    from mailintake.ingest.decisions import record_decision

    with _context(args) as ctx:
        print(record_decision(ctx, "assign", args.message, args.unit))
    return EXIT_OK


def _replies(args: argparse.Namespace) -> int:
    from mailintake.ingest.replies.outbox import outbox_lines, resend

    with _context(args) as ctx:
        if args.action == "list":
            for line in outbox_lines(ctx):
                print(line)
            return EXIT_OK
        if not args.ref:
            print("error: replies resend needs REF (an outbox number from `replies list`)", file=sys.stderr)
            return EXIT_CONFIG
        print(resend(ctx, args.ref))
    return EXIT_OK


def _serve(args: argparse.Namespace) -> int:
    from mailintake.ingest.serve import serve

    with _context(args) as ctx:
        return serve(ctx)


def _web(args: argparse.Namespace) -> int:
    from mailintake.ingest.web import run

    with _context(args) as ctx:
        return run(ctx, args.action, args.name, args.listen)


def _health(args: argparse.Namespace) -> int:
    from mailintake.ingest.health import health

    with _context(args) as ctx:
        ok, line = health(ctx, args.max_age_minutes)
    print(line, file=sys.stdout if ok else sys.stderr)
    return EXIT_OK if ok else 1


def _purge(args: argparse.Namespace) -> int:
    import datetime as dt

    from mailintake.ingest.purge import purge

    try:
        before = dt.date.fromisoformat(args.before)
    except ValueError:
        print(f"error: {args.before!r} is not a date (YYYY-MM-DD)", file=sys.stderr)
        return EXIT_CONFIG
    with _context(args) as ctx:
        for line in purge(ctx, before, args.dry_run).lines():
            print(line)
    return EXIT_OK


def _report(args: argparse.Namespace) -> int:
    import datetime as dt

    from mailintake.ingest.digest import make_report

    with _context(args) as ctx:
        try:
            day = dt.date.fromisoformat(args.date) if args.date else ctx.clock().astimezone(
                ctx.config.campaign.tz).date()
        except ValueError:
            print(f"error: {args.date!r} is not a date (YYYY-MM-DD)", file=sys.stderr)
            return EXIT_CONFIG
        result = make_report(ctx, day, Path(args.out) if args.out else None, args.send, args.daily)
        print(f"workbook: {result.workbook}\ndecisions form: {result.decisions}")
        if args.send:
            print(f"digest for {day}: already sent, nothing new queued" if result.already_sent else
                  f"digest for {day}: {len(result.queued)} queued, {len(result.sent)} sent")
    return EXIT_OK


def _export(args: argparse.Namespace) -> int:
    from mailintake.reports.export import export

    with _context(args) as ctx, ctx.db.session() as s:
        done = export(s, ctx.blobs, ctx.scope, Path(args.out), make_zip=args.zip)
    print(f"export: {done.units} units, {done.candidates} candidates, {done.files} files "
          f"({done.bytes / 1e6:.1f} MB) in {done.out}; index {done.index}"
          + (f"; zip {done.zip}" if done.zip else "")
          + (f"; {done.skipped_quarantined} quarantined unit(s) not exported" if done.skipped_quarantined else ""))
    return EXIT_OK


def _paper(args: argparse.Namespace) -> int:
    import datetime as dt

    from mailintake.ingest.decisions import record_paper

    with _context(args) as ctx:
        if args.date == "no":
            received = None
        else:
            try:
                received = dt.date.fromisoformat(args.date) if args.date else ctx.clock().astimezone(
                    ctx.config.campaign.tz).date()
            except ValueError:
                print(f"error: {args.date!r} is not a date (YYYY-MM-DD)", file=sys.stderr)
                return EXIT_CONFIG
        print(record_paper(ctx, args.unit, received))
    return EXIT_OK


def _late_decision(kind: str) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        from mailintake.ingest.decisions import record_decision

        with _context(args) as ctx:
            print(record_decision(ctx, kind, args.message, None))
        return EXIT_OK

    return run


if __name__ == "__main__":
    sys.exit(main())
