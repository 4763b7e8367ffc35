"""Shared fixtures: a simulated clock, a fresh SQLite database, the engine and a console chat."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from adapters.console.channel import ConsoleChat, ConsoleOutbound
from bot.app import Core, build_core
from bot.clock import SimulatedClock
from bot.config import Settings
from bot.scheduler import DeliveryScheduler
from bot.store import models

NEW_YORK = "America/New_York"
# Monday 23 November 2026, 08:00 in New York: a working morning.
START = datetime(2026, 11, 23, 8, 0, tzinfo=ZoneInfo(NEW_YORK))


@pytest.fixture
def clock() -> SimulatedClock:
    return SimulatedClock(START)


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'mend.db'}"


@pytest.fixture
def core(db_url: str, clock: SimulatedClock) -> Iterator[Core]:
    core = build_core(Settings(database_url=db_url, timezone=NEW_YORK), clock)
    yield core
    core.db.dispose()


@pytest.fixture
def chat(core: Core) -> ConsoleChat:
    """A channel, #renewals, where dana (New York), sam (New York) and lee (Chicago) type commands."""
    return ConsoleChat(core.engine, channel="#renewals", speaker="dana",
                       zones={"dana": NEW_YORK, "sam": NEW_YORK, "lee": "America/Chicago"})


@pytest.fixture
def outbound() -> ConsoleOutbound:
    return ConsoleOutbound(channel="#renewals")


@pytest.fixture
def scheduler(core: Core, outbound: ConsoleOutbound, clock: SimulatedClock) -> DeliveryScheduler:
    return DeliveryScheduler(core.db, core.engine, {"console": outbound}, clock, worker_id="test-worker")


def row_counts(core: Core) -> dict[str, int]:
    """How many rows each table holds: a rejected command must leave every count unchanged."""
    with core.db.session() as session:
        return {
            table.name: session.scalar(select(func.count()).select_from(table)) or 0
            for table in models.Base.metadata.sorted_tables
        }


def snapshot(core: Core) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table, for a strict before/after comparison."""
    with core.db.session() as session:
        return {
            table.name: [tuple(row) for row in session.execute(select(table).order_by(*table.primary_key.columns))]
            for table in models.Base.metadata.sorted_tables
        }


def open_recovery(chat: ConsoleChat) -> str:
    return chat.say("/mend miss prior-auth renewals for 14 patients were due 2026-11-20")
