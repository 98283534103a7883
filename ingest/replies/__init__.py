"""Replies to submitters: decide (pure), compose the content, store it on the outbox, send it."""
