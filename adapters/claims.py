"""Applying something once: a claim is a `ProcessedEvent` row inserted before the work it guards.

The primary key lets exactly one claimant win, across replicas and restarts. Slack uses it for redelivered
events and for second presses of a check-in message; Teams for redelivered activities and for second presses
of a check-in card.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from bot.store.db import Database
from bot.store.models import ProcessedEvent

KEEP_FOR = timedelta(days=30)  # far longer than a platform's retries (minutes) or a reminder's life
ALREADY_ANSWERED = "This check-in was already answered, so I did not record it twice. `status` shows the latest."


def claim(db: Database, key: str, scope: str, now: datetime) -> bool:
    """True when this is the first claim of `key`; False when it was claimed before."""
    try:
        with db.session() as session:
            session.add(ProcessedEvent(event_id=key[:200], scope=scope, at=now))
    except IntegrityError:
        return False
    return True


def release(db: Database, key: str) -> None:
    """Give a claim back (the work it guarded did not happen), so a later attempt may run."""
    with db.session() as session:
        session.execute(delete(ProcessedEvent).where(ProcessedEvent.event_id == key[:200]))


def forget_old(db: Database, now: datetime) -> int:
    """Drop claims older than `KEEP_FOR`, whichever adapter made them."""
    with db.session() as session:
        result = session.execute(delete(ProcessedEvent).where(ProcessedEvent.at < now - KEEP_FOR))
        return int(getattr(result, "rowcount", 0) or 0)
