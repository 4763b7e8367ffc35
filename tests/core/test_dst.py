"""Daylight saving time never shifts a reminder: 09:00 in New York stays 09:00 local."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.store.models import Delivery

NY = ZoneInfo("America/New_York")


async def _deliver_days(chat, clock, scheduler, outbound, days: int) -> list[datetime]:
    """Let `days` pass, firing due deliveries as they come; return the local times check-ins were due."""
    end = clock.now() + timedelta(days=days)
    while (due := scheduler.next_due()) is not None and due <= end:
        clock.set(due)
        await scheduler.tick()
        chat.say("/mend checkin A1 on-track", as_user="sam")  # answer, so the next one is asked again
        clock.advance(timedelta(hours=13))
    return [r for r in outbound.sent]


async def test_daily_checkin_stays_at_nine_across_the_march_change(chat, core, clock, scheduler, outbound):
    clock.set(datetime(2026, 3, 5, 12, tzinfo=NY))
    chat.say("/mend miss renewals for 3 patients")
    chat.say("/mend action Tracker @sam due 2026-03-20 checkin daily at 09:00 America/New_York")
    await _deliver_days(chat, clock, scheduler, outbound, 6)
    with core.db.session() as s:
        sent = s.scalars(select(Delivery).where(Delivery.kind == "checkin", Delivery.state == "sent")
                         .order_by(Delivery.due_at)).all()
        local = [d.due_at.astimezone(NY) for d in sent]
    assert [d.day for d in local] == [6, 7, 8, 9, 10, 11]  # DST starts on Sunday 8 March 2026
    assert all((d.hour, d.minute) == (9, 0) for d in local)
    assert {d.utcoffset().total_seconds() / 3600 for d in local} == {-5, -4}  # both sides of the change


async def test_daily_checkin_stays_at_nine_across_the_november_change(chat, core, clock, scheduler, outbound):
    clock.set(datetime(2026, 10, 29, 12, tzinfo=NY))
    chat.say("/mend miss renewals for 3 patients")
    chat.say("/mend action Tracker @sam due 2026-11-20 checkin daily at 09:00 America/New_York")
    await _deliver_days(chat, clock, scheduler, outbound, 6)
    with core.db.session() as s:
        sent = s.scalars(select(Delivery).where(Delivery.kind == "checkin", Delivery.state == "sent")
                         .order_by(Delivery.due_at)).all()
        local = [d.due_at.astimezone(NY) for d in sent]
    assert [d.day for d in local] == [30, 31, 1, 2, 3, 4]  # DST ends on Sunday 1 November 2026
    assert all((d.hour, d.minute) == (9, 0) for d in local)
    assert {d.utcoffset().total_seconds() / 3600 for d in local} == {-4, -5}
