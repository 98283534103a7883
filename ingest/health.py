"""`mailintake health`: is the service doing its job? For a systemd watchdog timer or a monitoring check."""

from __future__ import annotations

import datetime as dt

from mailintake.ingest.context import Context
from mailintake.store.models import ServiceState


def health(ctx: Context, max_age_minutes: float | None = None) -> tuple[bool, str]:
    """(healthy, one line): healthy when the last successful poll is younger than the threshold."""
    sched = ctx.config.schedule
    limit = dt.timedelta(minutes=max_age_minutes or sched.health_max_age_minutes or 3 * sched.poll_seconds / 60)
    with ctx.db.session() as s:
        ok, error = s.get(ServiceState, "poll_ok"), s.get(ServiceState, "last_error")
        last_ok = (ok.at, ok.detail) if ok else None
        last_error = (error.at, error.detail) if error else None
    if last_ok is None:
        return False, "unhealthy: no successful poll recorded yet (is `mailintake serve` running?)"
    age = ctx.clock() - last_ok[0]
    said = f"last successful poll {int(age.total_seconds() // 60)} min ago ({last_ok[1]})"
    if last_error and last_error[0] > last_ok[0]:
        said += f"; since then: {last_error[1]}"
    return (True, f"ok: {said}") if age <= limit else (False, f"unhealthy: {said}, limit {limit}")
