"""The composition root: settings, database, engine. Adapters and the server are wired on top of this."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.engine import Engine
from bot.store.db import Database


@dataclass
class Core:
    settings: Settings
    db: Database
    engine: Engine
    clock: Clock


def build_core(settings: Settings, clock: Clock | None = None, *, migrate: bool = True) -> Core:
    clock = clock or SystemClock()
    db = Database(settings.database_url)
    if migrate:
        db.upgrade()
    engine = Engine(db, clock, playbook_path=settings.playbook, default_tz=settings.timezone)
    return Core(settings=settings, db=db, engine=engine, clock=clock)


class SecretFilter(logging.Filter):
    """Last line of defence: scrub anything that looks like a Slack token or a bearer token from logs."""

    import re as _re

    _pattern = _re.compile(r"(xox[abposr]-[A-Za-z0-9-]+|xapp-[A-Za-z0-9-]+|Bearer\s+[A-Za-z0-9._\-]+)")

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if self._pattern.search(message):
            record.msg = self._pattern.sub("[secret]", message)
            record.args = None
        return True


def configure_logging(level: int = logging.INFO) -> None:
    """Called by the CLI only (never at import time)."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(SecretFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("apscheduler", "aiohttp.access", "alembic.runtime.migration"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
