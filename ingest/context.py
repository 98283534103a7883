"""The one context a command runs in: config, database, blob store, unit registry and clock.

Built once at start-up (`Context.open`) and passed whole to every stage, so no function takes a loose
`(cfg, db, blobs)` triple and nothing is rebuilt per message. Parser settings are derived from the
config here, once: the config is their only source.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from mailintake.ingest.config import Config
from mailintake.ingest.faults import Faults
from mailintake.ingest.parse_pool import ParsePool
from mailintake.ingest.registry import Registry, district_names
from mailintake.ingest.timings import StageTimes
from mailintake.ingest.worker import WorkerLimits
from mailintake.parsers.facts import ParserSettings
from mailintake.reports.queries import ReportScope
from mailintake.store.blobs import BlobStore
from mailintake.store.db import Database, require_current

Clock = Callable[[], dt.datetime]


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class Context:
    config: Config
    db: Database
    blobs: BlobStore
    registry: Registry
    settings: ParserSettings
    parser: ParsePool
    clock: Clock = field(default=utc_now)
    faults: Faults = field(default_factory=Faults)  # test-only crash points (ingest/faults.py)
    times: StageTimes = field(default_factory=StageTimes)  # per-stage seconds, for the benchmark

    @classmethod
    def open(cls, config: Config, clock: Clock = utc_now, migrated: bool = True) -> Context:
        """Connect and prepare the store; refuses a database whose schema is not current (unless told)."""
        db = Database(config.database_url())
        if migrated:
            require_current(db.engine)
        blobs = BlobStore(config.resolve(config.storage.root)).open()
        settings = config.parser_settings()
        limits = WorkerLimits(config.limits.parse_seconds, config.limits.parse_memory_mb * 1024 * 1024,
                              config.limits.photo_threads)
        parser = ParsePool(settings, limits, blobs, config.limits.parse_workers)
        return cls(config, db, blobs, Registry(config), settings, parser, clock,
                   Faults.from_env(), StageTimes.from_env())

    def close(self) -> None:
        self.parser.close()
        self.db.dispose()

    def __enter__(self) -> Context:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def scope(self) -> ReportScope:
        """What the reports need besides the store."""
        return ReportScope(self.config.campaign, tuple(district_names(self.config)))
