"""A poll downloads the next messages while the parse worker reads the current one, and still processes
them in arrival order, exactly as a poll that fetched everything first (real Dovecot)."""

from __future__ import annotations

import datetime as dt
import threading
import time

from sqlalchemy import select

from mailintake.ingest.poll import poll
from mailintake.store.models import Message
from testkit.config import open_context
from testkit.mail import SHANGHAI, plain_mail

MORNING = dt.datetime(2021, 5, 20, 9, 0, tzinfo=SHANGHAI)


def test_the_first_message_is_processed_while_the_rest_are_still_downloading(dovecot, imap_config):
    for n in range(4):
        dovecot.append(imap_config.mailbox.folder, plain_mail(n), MORNING + dt.timedelta(minutes=n))
    first_processed = threading.Event()
    seen_while_fetching: list[bool] = []

    def progress(stage: str, done: int, total: int) -> None:
        if stage == "process":
            first_processed.set()
        elif stage == "fetch" and done == 1:  # hold the download of the rest until the first is processed
            seen_while_fetching.append(first_processed.wait(30))

    summary = poll(open_context(imap_config), progress)
    assert (summary.fetched, summary.processed, summary.failed) == (4, 4, [])
    assert seen_while_fetching == [True]


def test_messages_listed_out_of_arrival_order_are_processed_in_arrival_order(dovecot, imap_config):
    # UID order is not arrival order when mail is copied in from elsewhere: the third UID arrived first
    minutes = [30, 40, 0, 50, 10, 20]
    for n, minute in enumerate(minutes):
        dovecot.append(imap_config.mailbox.folder, plain_mail(n), MORNING + dt.timedelta(minutes=minute))

    def slow_download(stage: str, done: int, total: int) -> None:
        if stage == "fetch":
            time.sleep(0.3)  # the processing, running beside, gets every chance to run ahead

    ctx = open_context(imap_config)
    assert poll(ctx, slow_download).processed == len(minutes)
    with ctx.db.session() as s:
        rows = s.execute(select(Message.internaldate, Message.processed_at)).all()
    by_processing = [arrived for arrived, _ in sorted(rows, key=lambda r: r[1])]
    assert by_processing == sorted(arrived for arrived, _ in rows)
