"""Delivery from rows: once, on time or marked late, never a burst, retried when a platform says wait."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from adapters.console.channel import ConsoleOutbound
from bot.app import build_core
from bot.config import Settings
from bot.messages import Audience, Reply
from bot.outbound import DeliveryError
from bot.scheduler import DeliveryScheduler
from bot.store.models import Delivery
from tests.conftest import NEW_YORK, open_recovery

NY = ZoneInfo(NEW_YORK)


def _at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=NY)


async def test_checkin_reminder_is_a_direct_message_with_four_answers(chat, clock, scheduler, outbound):
    open_recovery(chat)
    chat.say("/mend action Add renewals to the tracker @sam due friday checkin daily at 09:00")
    clock.set(_at(23, 8, 59))
    assert await scheduler.tick() == 0
    clock.set(_at(23, 9, 0))
    assert await scheduler.tick() == 1
    [reminder] = outbound.sent
    assert (reminder.audience, reminder.to_user, reminder.channel) == (Audience.DIRECT, "sam", "#renewals")
    assert "Hi sam, how is *A1* going?" in reminder.text and "delayed" not in reminder.text
    assert [b.value for b in reminder.buttons] == [
        "checkin A1 on-track", "checkin A1 at-risk", "checkin A1 blocked", "checkin A1 done"]
    assert await scheduler.tick() == 0  # delivered once
    assert len(outbound.sent) == 1


async def test_pressing_a_reminder_button_records_and_replaces_the_message(chat, clock, scheduler, outbound, core):
    open_recovery(chat)
    chat.say("/mend action Add renewals to the tracker @sam due friday checkin daily at 09:00")
    clock.set(_at(23, 9))
    await scheduler.tick()
    replies = chat.send(outbound.sent[0].buttons[2].value, as_user="sam", channel="DM-sam",
                        source=__import__("bot.messages", fromlist=["Source"]).Source.BUTTON)
    assert replies[0].audience == Audience.SOURCE and "A1" in replies[0].text and "blocked" in replies[0].text
    assert replies[1].channel == "#renewals" and "A1 is blocked" in replies[1].text


async def test_the_next_reminder_follows_the_cadence(chat, clock, scheduler, outbound):
    open_recovery(chat)
    chat.say("/mend action Add renewals to the tracker @sam due friday checkin daily at 09:00")
    for day in (23, 24, 25):
        clock.set(_at(day, 9))
        await scheduler.tick()
    assert len(outbound.sent) == 3


async def test_a_recent_checkin_makes_the_reminder_unnecessary(chat, clock, scheduler, outbound, core):
    open_recovery(chat)
    chat.say("/mend action Add renewals to the tracker @sam due friday checkin daily at 09:00")
    clock.set(_at(23, 8, 30))
    chat.say("/mend checkin A1 on-track", as_user="sam")
    clock.set(_at(23, 9))
    await scheduler.tick()
    assert outbound.sent == []
    clock.set(_at(24, 9))
    await scheduler.tick()
    assert len(outbound.sent) == 1  # the series goes on


async def test_restart_repeats_nothing_and_downtime_deliveries_are_marked_late(db_url, clock, chat, core):
    open_recovery(chat)
    chat.say("/mend action Add renewals to the tracker @sam due friday checkin daily at 09:00")
    first = ConsoleOutbound()
    scheduler = DeliveryScheduler(core.db, core.engine, {"console": first}, clock, worker_id="a")
    clock.set(_at(23, 9))
    await scheduler.tick()
    await scheduler.stop()
    assert len(first.sent) == 1

    # The server is down from Monday 09:01 until Thursday 11:00: three reminders fall due meanwhile.
    clock.set(_at(26, 11))
    restarted = build_core(Settings(database_url=db_url, timezone=NEW_YORK), clock)
    second = ConsoleOutbound()
    scheduler = DeliveryScheduler(restarted.db, restarted.engine, {"console": second}, clock, worker_id="b")
    await scheduler.tick()
    await scheduler.tick()
    assert len(second.sent) == 1, "one late reminder, not a burst of three"
    assert "(due at Tue 24 Nov 09:00 EST, delayed" in second.sent[0].text
    with restarted.db.session() as s:
        rows = s.scalars(select(Delivery).where(Delivery.kind == "checkin").order_by(Delivery.id)).all()
        assert [(r.state, r.late) for r in rows] == [("sent", False), ("sent", True), ("pending", False)]
        assert rows[-1].due_at.astimezone(NY) == _at(27, 9)  # resumes at the next occurrence
    restarted.db.dispose()


@dataclass
class FlakyOutbound:
    """Answers 'rate limited, retry after 30 s' to the first `failures` sends."""

    failures: int = 2
    sent: list[Reply] = field(default_factory=list)
    calls: int = 0

    async def send(self, tenant: str, reply: Reply) -> str | None:
        self.calls += 1
        if self.calls <= self.failures:
            raise DeliveryError("ratelimited", retry_after=30)
        self.sent.append(reply)
        return "ts-1"


async def test_rate_limited_sends_are_retried_after_the_platform_asks_and_never_dropped(chat, clock, core):
    open_recovery(chat)
    chat.say("/mend action Add renewals to the tracker @sam due friday checkin daily at 09:00")
    flaky = FlakyOutbound()
    scheduler = DeliveryScheduler(core.db, core.engine, {"console": flaky}, clock, worker_id="w")
    clock.set(_at(23, 9))
    await scheduler.tick()
    clock.advance(timedelta(seconds=10))
    await scheduler.tick()  # still waiting for Retry-After
    assert flaky.calls == 1
    clock.advance(timedelta(seconds=25))
    await scheduler.tick()
    clock.advance(timedelta(seconds=31))
    await scheduler.tick()
    assert flaky.calls == 3 and len(flaky.sent) == 1
    with core.db.session() as s:
        row = s.scalars(select(Delivery).where(Delivery.kind == "checkin").order_by(Delivery.id)).first()
        assert (row.state, row.attempts, row.message_id) == ("sent", 3, "ts-1")
    assert scheduler.stats["retried"] == 2


async def test_a_dead_replicas_lease_expires_and_another_delivers(chat, clock, core):
    open_recovery(chat)
    chat.say("/mend action Add renewals to the tracker @sam due friday checkin daily at 09:00")
    clock.set(_at(23, 9))
    dead = DeliveryScheduler(core.db, core.engine, {"console": ConsoleOutbound()}, clock, worker_id="dead")
    assert dead.claim_due()  # claimed, then the replica dies before sending
    alive_out = ConsoleOutbound()
    alive = DeliveryScheduler(core.db, core.engine, {"console": alive_out}, clock, worker_id="alive")
    assert await alive.tick() == 0  # the lease still holds
    clock.advance(timedelta(minutes=3))
    assert await alive.tick() == 1
    assert len(alive_out.sent) == 1 and "delayed" not in alive_out.sent[0].text.split("\n")[0]


async def test_graceful_stop_releases_unsent_claims(chat, clock, core):
    open_recovery(chat)
    chat.say("/mend action Add renewals to the tracker @sam due friday checkin daily at 09:00")
    clock.set(_at(23, 9))
    replica = DeliveryScheduler(core.db, core.engine, {"console": ConsoleOutbound()}, clock, worker_id="r1")
    assert replica.claim_due()
    await replica.stop()
    with core.db.session() as s:
        row = s.scalars(select(Delivery).where(Delivery.kind == "checkin")).one()
        assert (row.state, row.claimed_by) == ("pending", None)


async def test_standup_is_posted_in_the_channel_on_schedule(chat, clock, scheduler, outbound):
    open_recovery(chat)
    chat.say("/mend action Add renewals to the tracker @sam due tomorrow")
    chat.say("/mend standup weekdays at 09:30")
    clock.set(_at(23, 9, 30))
    await scheduler.tick()
    standups = [r for r in outbound.sent if r.kind == "standup"]
    assert len(standups) == 1 and standups[0].channel == "#renewals"
    assert "R1: prior-auth renewals for 14 patients" in standups[0].text and "Due soon: A1" in standups[0].text
    for day in (24, 25, 26, 27, 28, 29):  # Tuesday to Sunday: none at the weekend
        clock.set(_at(day, 9, 30))
        await scheduler.tick()
    assert len([r for r in outbound.sent if r.kind == "standup"]) == 5


async def test_the_lead_is_reminded_when_a_promised_update_is_due(chat, clock, scheduler, outbound):
    open_recovery(chat)
    chat.say("/mend draft patients")
    clock.set(_at(26, 10))
    await scheduler.tick()
    [reminder] = [r for r in outbound.sent if r.title and r.title.startswith("Update due")]
    assert reminder.to_user == "dana" and "The update you promised" in reminder.text


async def test_nothing_is_sent_for_a_closed_recovery(chat, clock, scheduler, outbound):
    open_recovery(chat)
    chat.say("/mend action Add renewals to the tracker @sam due friday checkin daily at 09:00")
    chat.say("/mend close anyway")
    clock.set(_at(24, 9))
    await scheduler.tick()
    assert outbound.sent == []


async def test_a_scheduler_only_claims_platforms_it_can_send_to(chat, clock, core):
    open_recovery(chat)
    chat.say("/mend action Add renewals to the tracker @sam due friday checkin daily at 09:00")
    clock.set(_at(23, 9))
    slack_only = DeliveryScheduler(core.db, core.engine, {"slack": ConsoleOutbound()}, clock)
    assert slack_only.claim_due() == []
