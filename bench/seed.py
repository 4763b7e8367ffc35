"""Seeding many due deliveries the way users create them: through the engine, then moved in time.

The engine writes the rows exactly as `/mend action … checkin …` and `/mend standup …` do; only `due_at`
is then moved to the moment a test or benchmark wants them all due (servers use the system clock).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update

from bot.engine import Engine
from bot.messages import Command, Mention
from bot.store.models import Delivery

LEAD = "U0LEAD"
PER_RECOVERY = 50  # actions per recovery (and channel): the engine re-reads a recovery's actions per command


def channel_id(index: int) -> str:
    return f"C{index:05d}"


def _command(text: str, *, tenant: str, platform: str, channel: str, user: str = LEAD,
             mentions: tuple[Mention, ...] = ()) -> Command:
    return Command(platform=platform, tenant=tenant, channel=channel, user=user, text=text, user_name="dana",
                   user_tz="America/New_York", mentions=mentions, channel_name=f"renewals-{channel}")


def owner_id(index: int) -> str:
    return f"U{index:05d}"


def seed_checkins(engine: Engine, count: int, *, tenant: str = "T1", platform: str = "slack",
                  standup: bool = True) -> None:
    """`count` actions with daily check-ins, one owner each, in recoveries of PER_RECOVERY actions (one
    channel each), and a daily standup in the first channel."""
    for i in range(count):
        channel = channel_id(i // PER_RECOVERY)
        if i % PER_RECOVERY == 0:
            _ok(engine, _command("miss prior-auth renewals for 14 patients were due 2026-11-20",
                                 tenant=tenant, platform=platform, channel=channel))
        owner = Mention(owner_id(i), f"owner{i}", "America/New_York")
        text = f"action Call back family {i} <@{owner.user_id}|{owner.name}> due in 3 days checkin daily at 09:00"
        _ok(engine, _command(text, tenant=tenant, platform=platform, channel=channel, mentions=(owner,)))
    if standup:
        _ok(engine, _command("standup daily at 09:00", tenant=tenant, platform=platform, channel=channel_id(0)))


def _ok(engine: Engine, command: Command) -> None:
    [answer, *_] = engine.handle(command)
    assert answer.kind != "error", answer.text


def make_all_due(engine: Engine, when: datetime) -> int:
    """Move every pending delivery to `when`; returns how many rows moved."""
    with engine.db.session() as session:
        moved = session.execute(update(Delivery).where(Delivery.state == "pending").values(due_at=when))
        return int(moved.rowcount)  # type: ignore[attr-defined]
