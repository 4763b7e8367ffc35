"""Applying a Slack delivery once: redelivered events and second presses of one check-in message.

Slack redelivers an event when it thinks the first delivery failed (`X-Slack-Retry-Num`), and a person can
press a button twice before the message changes. The claim is a `ProcessedEvent` row inserted before the
work: the primary key lets exactly one claimant win, across replicas and restarts.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from bot.store.db import Database
from bot.store.models import ProcessedEvent

KEEP_FOR = timedelta(days=30)  # far longer than Slack's retries (minutes) or a reminder's life


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
    with db.session() as session:
        result = session.execute(delete(ProcessedEvent).where(ProcessedEvent.at < now - KEEP_FOR))
        return int(getattr(result, "rowcount", 0) or 0)


def press_key(team: str, channel: str, message_ts: str) -> str:
    """One answer per check-in message."""
    return f"press:{team}:{channel}:{message_ts}"
