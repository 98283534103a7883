"""`mailintake serve`: the service that runs the mailbox for the whole campaign.

APScheduler (3.11) runs four jobs, missed runs coalesced, never two of a kind at once. The poll
(`schedule.poll_seconds`) has a thread of its own, so a message that keeps the parse worker busy (up to its
limit) never holds back the other three, which share a second thread: the sender with the settle-window
closer (`send_seconds`), the morning digest (`report --send --daily` at `reports.time` in the campaign
timezone, when organisers are configured) and housekeeping (post-commit blob effects finished, old temp
files expired, free disk checked). SIGTERM/SIGINT set a stop flag that the pipeline asks between messages:
the message in hand is finished, connections closed, exit 0. An instance lock keeps a second `serve` off
the same database; cron polls and organiser commands beside it meet only the processing lock, which each
job takes per run. Every outbox sender (a poll's, `serve`'s, the digest's, `replies resend`) takes the
sender lock instead, so replies already decided go out while a poll holds the processing lock.

The poll keeps one logged-in IMAP connection from poll to poll, and a second connection waits in IMAP IDLE
(`ingest.idle`) to wake the poll within seconds of new mail; a provider that says it is busy is left alone
for `busy_backoff_minutes`, doubling.

An outage (mailbox, SMTP, database) is one log line when it starts and one when it ends, with back-off in
between; one that lasts `alert_after_minutes` is mailed to `schedule.operators` through the outbox (once),
and so is its end. Some trouble will not pass by itself and is mailed at once: the mailbox password refused
twice in a row, the storage disk nearly full, `failed_replies_alert` automatic replies in a row failed or
bounced.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import shutil
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import FrameType

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from mailintake.common.errors import (
    DiskNearlyFull,
    LoginRefused,
    MailboxBusy,
    MailintakeError,
    SourceError,
    StorageUnwritable,
)
from mailintake.ingest.context import Context
from mailintake.ingest.digest import DIGEST, make_report
from mailintake.ingest.idle import IdleWatch
from mailintake.ingest.poll import KeptMailbox, poll
from mailintake.ingest.replies.send import send_due
from mailintake.ingest.replies.settle import close_due
from mailintake.ingest.replies.stage import new_message_id
from mailintake.ingest.web import web_view
from mailintake.store.effects import sweep
from mailintake.store.lock import Busy, instance_lock, processing_lock
from mailintake.store.models import Outbox, ServiceState

log = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 1800
TEMP_MAX_AGE_SECONDS = 24 * 3600
POLL_LOCK_WAIT_SECONDS = 10
LOGIN_REFUSALS_ALERT = 2  # one refusal may be a provider's hiccup (QQ's message also covers throttling)
NOT_REPLIES = ("alert", DIGEST)


@dataclass
class Outage:
    """One kind of trouble (the mailbox, SMTP, the database): logged once when it starts and once when it
    ends, retried with back-off meanwhile, and mailed to the operator once it has lasted long enough."""

    what: str
    since: dt.datetime | None = None
    failures: int = 0
    retry_at: float = 0.0
    alerted: bool = False

    def may_try(self) -> bool:
        return time.monotonic() >= self.retry_at

    def failed(self, reason: str, now: dt.datetime, interval: float) -> None:
        """Count a failure; the next try waits `interval`, doubling with each failure in a row."""
        if self.since is None:
            self.since = now
            log.error("%s unavailable: %s (retrying with back-off; logged again when it recovers)", self.what, reason)
        self.failures += 1
        self.retry_at = time.monotonic() + min(interval * 2 ** (self.failures - 1), MAX_BACKOFF_SECONDS)

    def recovered(self, now: dt.datetime) -> dt.timedelta | None:
        """How long it lasted, when there was an outage."""
        if self.since is None:
            return None
        lasted = now - self.since
        log.warning("%s available again after %s", self.what, _duration(lasted))
        self.since, self.failures, self.retry_at = None, 0, 0.0
        return lasted


@dataclass
class Service:
    ctx: Context
    stop: threading.Event = field(default_factory=threading.Event)
    outages: dict[str, Outage] = field(default_factory=dict)
    kept: KeptMailbox | None = None
    _sent_at: float = 0.0  # when a poll cycle last let the sender run

    def __post_init__(self) -> None:
        if self.ctx.config.mailbox.source == "imap":
            self.kept = KeptMailbox(self.ctx)

    def run(self) -> int:
        with instance_lock(self.ctx.db):
            scheduler = self._scheduler()
            for sig in (signal.SIGTERM, signal.SIGINT):
                signal.signal(sig, self._on_signal)
            scheduler.start()
            log.info("serving %s: poll every %d s", self.ctx.config.mailbox.folder,
                     self.ctx.config.schedule.poll_seconds)
            self._start_idle(scheduler)
            with web_view(self.ctx):  # [web] enabled: the organisers' view in a thread, stopped before we return
                self.stop.wait()
            log.info("stopping: finishing the message in hand")
            scheduler.shutdown(wait=True)
            if self.kept is not None:
                self.kept.close()
        log.info("stopped")
        return 0

    def _start_idle(self, scheduler: BackgroundScheduler) -> None:
        mb = self.ctx.config.mailbox
        if self.kept is None or not mb.idle:
            return

        def wake() -> None:
            if not self.stop.is_set():
                scheduler.modify_job("poll", next_run_time=dt.datetime.now(self.ctx.config.campaign.tz))
        IdleWatch(mb, wake, self.stop, retry_seconds=self.ctx.config.schedule.poll_seconds).start()

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        self.stop.set()

    def _scheduler(self) -> BackgroundScheduler:
        cfg = self.ctx.config
        # the poll on a thread of its own: a message that keeps the parse worker busy (up to its limit) never
        # holds back the sender, the digest or housekeeping, which share the other thread
        scheduler = BackgroundScheduler(executors={"default": {"type": "threadpool", "max_workers": 1},
                                                   "mailbox": {"type": "threadpool", "max_workers": 1}},
                                        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
                                        timezone=cfg.campaign.tz)
        now = dt.datetime.now(cfg.campaign.tz)
        scheduler.add_job(self.guarded("mailbox", self.poll_once), "interval", seconds=cfg.schedule.poll_seconds,
                          next_run_time=now, id="poll", executor="mailbox")
        scheduler.add_job(self.guarded("smtp", self.send_once), "interval", seconds=cfg.schedule.send_seconds,
                          id="send")
        scheduler.add_job(self.guarded("housekeeping", self.housekeeping), "interval",
                          minutes=cfg.schedule.housekeeping_minutes, next_run_time=now, id="housekeeping")
        if cfg.reports.recipients:
            hour, minute = (int(x) for x in cfg.reports.time.split(":"))
            scheduler.add_job(self.guarded("digest", self.digest), CronTrigger(hour=hour, minute=minute,
                                                                                timezone=cfg.campaign.tz), id="digest")
        return scheduler

    def guarded(self, what: str, job: Callable[[], None]) -> Callable[[], None]:
        """A job that never raises into the scheduler: outages are tracked, everything else is logged."""
        def run() -> None:
            mine, database = (self.outages.setdefault(name, Outage(name)) for name in (what, "database"))
            if self.stop.is_set() or not (mine.may_try() and database.may_try()):
                return
            try:
                job()
            except Busy as exc:
                log.info("%s: %s", what, exc)
                return
            except OperationalError as exc:  # the database, whichever job met it: one outage, not one per job
                self._trouble(database, exc)
                return
            except (SourceError, OSError, MailintakeError) as exc:
                self._trouble(mine, exc)
                return
            except Exception:
                log.exception("%s job failed", what)
                return
            for outage in (mine, database):
                self._recovered(outage)
        return run

    def _recovered(self, outage: Outage) -> None:
        lasted = outage.recovered(self.ctx.clock())
        if lasted is not None and outage.alerted:
            outage.alerted = False
            self._alert(f"{outage.what} 已恢复", f"{outage.what} 在中断 {_duration(lasted)} 后已恢复正常。")

    def _trouble(self, outage: Outage, exc: BaseException) -> None:
        now, schedule, reason = self.ctx.clock(), self.ctx.config.schedule, _reason(exc)
        busy = isinstance(exc, MailboxBusy)
        outage.failed(reason, now, schedule.busy_backoff_minutes * 60 if busy else schedule.poll_seconds)
        self._note("last_error", f"{outage.what}: {reason}")
        if outage.alerted:
            return
        urgent = isinstance(exc, DiskNearlyFull | StorageUnwritable) or (
            isinstance(exc, LoginRefused) and outage.failures >= LOGIN_REFUSALS_ALERT)
        if urgent or now - (outage.since or now) >= dt.timedelta(minutes=schedule.alert_after_minutes):
            outage.alerted = self._alert(*_alert_text(outage, exc, reason))

    def poll_once(self) -> None:
        self._sent_at = time.monotonic()
        # wait a little: serve's own sender and housekeeping take the processing lock briefly, and a poll
        # skipped for that would wait a whole interval (not long: a SIGTERM waits for this job)
        summary = poll(self.ctx, progress=self._between_messages, stop=self.stop.is_set, kept=self.kept,
                       wait_seconds=POLL_LOCK_WAIT_SECONDS)
        self._note("poll_ok", f"fetched {summary.fetched}, processed {summary.processed}, "
                              f"failed {len(summary.failed)}")
        for line in summary.decisions:
            log.info("decisions: %s", line)
        self.watch_replies()

    def _between_messages(self, stage: str, done: int, total: int) -> None:
        """A long backlog holds the one worker thread (and the processing lock) for a while: replies decided
        meanwhile go out on the sender's own rhythm instead of waiting for the last message."""
        if stage == "process" and time.monotonic() - self._sent_at >= self.ctx.config.schedule.send_seconds:
            self._sent_at = time.monotonic()
            send_due(self.ctx)  # the cycle holds the processing lock: the sender's usual condition

    def send_once(self) -> None:
        # a poll in progress closes the due bursts itself, message by message
        with contextlib.suppress(Busy), processing_lock(self.ctx.db):
            close_due(self.ctx, as_of=self.ctx.clock())
        sent = send_due(self.ctx)  # under the sender's own lock: runs while a poll is busy
        self.watch_replies()
        if sent.deferred and not sent.sent:
            raise SourceError(f"outbox rows {sent.deferred} deferred: the SMTP server is not accepting mail")

    def watch_replies(self) -> None:
        """Replies failing or bouncing in a row mean the sending account is blocked or blacklisted, which
        the SMTP outage (the server not accepting at all) does not see: tell the operator once, and once
        when a reply gets through again."""
        n = self.ctx.config.schedule.failed_replies_alert
        with self.ctx.db.session() as s:
            latest = list(s.scalars(select(Outbox.state).where(Outbox.kind.not_in(NOT_REPLIES))
                                    .where(Outbox.state.in_(("sent", "failed", "bounced")))
                                    .order_by(Outbox.id.desc()).limit(n)))
        outage = self.outages.setdefault("replies", Outage("replies"))
        if len(latest) == n and "sent" not in latest and outage.since is None:
            outage.since = self.ctx.clock()
            log.error("the last %d automatic replies all failed or bounced (see `mailintake replies list`)", n)
            outage.alerted = self._alert("回执连续发送失败", f"最近 {n} 封自动回复全部发送失败或被退回，"
                                         "发信账户可能被限制或列入黑名单。请用 `mailintake replies list` 查看原因。")
        elif latest and latest[0] == "sent":
            self._recovered(outage)

    def digest(self) -> None:
        day = self.ctx.clock().astimezone(self.ctx.config.campaign.tz).date()
        result = make_report(self.ctx, day, send=True, daily=True)
        self._note("digest", f"{day}: {'already sent' if result.already_sent else f'{len(result.queued)} queued'}")

    def housekeeping(self) -> None:
        expire_temp(self.ctx)
        with contextlib.suppress(Busy), processing_lock(self.ctx.db):  # else the busy poll sweeps first itself
            sweep(self.ctx.db, self.ctx.blobs)
        free = shutil.disk_usage(self.ctx.blobs.root).free
        if free < self.ctx.config.schedule.min_free_mb * 1024 * 1024:
            raise DiskNearlyFull(f"the storage disk of {self.ctx.blobs.root} has only {free // (1024 * 1024)} MB "
                                 f"free (below schedule.min_free_mb = {self.ctx.config.schedule.min_free_mb})")

    def _note(self, name: str, detail: str) -> None:
        try:
            with self.ctx.db.session() as s:
                s.merge(ServiceState(name=name, at=self.ctx.clock(), detail=detail[:2000]))
        except OperationalError:
            log.warning("could not record %s in the database", name)

    def _alert(self, subject: str, text: str) -> bool:
        """Queue one e-mail to each operator; False when there is no one to tell or the database is down."""
        operators = self.ctx.config.schedule.operators
        if not operators:
            return False
        try:
            with self.ctx.db.session() as s:
                for to in operators:
                    s.add(Outbox(rfc822_message_id=new_message_id(self.ctx.config), kind="alert", state="pending",
                                 to_address=to, subject=f"mailintake：{subject}", text_body=text + "\n",
                                 html_body=f"<p>{_escape(text)}</p>", snapshot={}, attempts=0,
                                 created_at=self.ctx.clock()))
        except OperationalError:
            return False
        return True


def expire_temp(ctx: Context) -> int:
    """Temp files a crashed write left in the store's tmp/ (older than a day: none is in flight)."""
    cutoff, removed = time.time() - TEMP_MAX_AGE_SECONDS, 0
    for leftover in (ctx.blobs.root / "tmp").iterdir():
        if leftover.is_file() and leftover.stat().st_mtime < cutoff:
            leftover.unlink(missing_ok=True)
            removed += 1
    return removed


def _alert_text(outage: Outage, exc: BaseException, reason: str) -> tuple[str, str]:
    since = f"自 {outage.since:%Y-%m-%d %H:%M} UTC 起，"
    if isinstance(exc, LoginRefused):
        return "邮箱登录被拒绝", (f"{since}邮箱登录连续被拒绝：{reason}。请检查用户名和授权码（QQ 邮箱需在“设置—账户”"
                               "中生成授权码），并更新 password_env 或 password_file 所指的值。在此之前收不到新邮件；"
                               "已收到的邮件不受影响，邮件仍留在邮箱中。")
    if isinstance(exc, DiskNearlyFull | StorageUnwritable):
        return "存储磁盘空间不足", (f"{reason}。请清理或扩容。空间耗尽后新邮件将无法保存（邮件仍留在邮箱中，"
                                  "不会丢失，空间恢复后自动补收）。")
    return f"{outage.what} 中断", f"{since}{outage.what} 一直失败：{reason}"


def serve(ctx: Context) -> int:
    return Service(ctx).run()


def _reason(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:300] or type(exc).__name__


def _duration(td: dt.timedelta) -> str:
    minutes = int(td.total_seconds() // 60)
    return f"{minutes // 60} h {minutes % 60} min" if minutes >= 60 else f"{minutes} min"


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
