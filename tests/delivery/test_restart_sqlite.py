"""`mend serve` on SQLite through kill -9, downtime and restarts: nothing lost, late ones say so, a clean
restart repeats nothing, and SIGTERM finishes the sends in flight before the process exits."""

from __future__ import annotations

import asyncio
import signal
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from bench.seed import owner_id
from bot.store.models import Delivery, Schedule
from tests.delivery.replicas import (
    distinct_posts,
    post_key,
    repeats,
    seeded_core,
    start_replica,
    states,
    stop_all,
    wait_for_posts,
    wait_settled,
)
from tests.fakes.slack_api import SlackApiDouble


async def test_kill_9_mid_minute_then_restart_delivers_each_once(tmp_path):
    url = f"sqlite:///{tmp_path / 'mend.db'}"
    core = seeded_core(url, 20)
    async with SlackApiDouble() as slack:
        slack.delay["chat.postMessage"] = 1.0
        first = await start_replica("first", url, slack, tmp_path, lease=2.0)
        replicas = [first]
        try:
            await first.wait_healthy()
            with core.db.session() as session:
                session.execute(update(Delivery).values(due_at=datetime.now(UTC) + timedelta(seconds=0.5)))
            await slack.wait_for("chat.postMessage", count=5, timeout=15)
            first.signal(signal.SIGKILL)  # sends are in flight, none is marked yet
            await first.wait_exit()
            killed_at = time.monotonic()
            assert states(core).get("claimed", 0) > 0
            second = await start_replica("second", url, slack, tmp_path, lease=2.0)
            replicas.append(second)
            await second.wait_healthy()
            assert (await wait_settled(core, 21, timeout=20)) == {"sent": 21, "pending": 21}
            calls = await wait_for_posts(slack, 21, timeout=5)
        finally:
            await stop_all(replicas)
    assert {c for c, _t in distinct_posts(slack)} == {owner_id(i) for i in range(20)} | {"C00000"}
    assert set(repeats(calls)) <= {post_key(c) for c in calls if c.at < killed_at}, "repeats only in flight"
    assert repeats([c for c in calls if c.at >= killed_at]) == {}
    core.db.dispose()


async def test_downtime_deliveries_are_sent_at_start_marked_late_and_a_clean_restart_repeats_nothing(tmp_path):
    url = f"sqlite:///{tmp_path / 'mend.db'}"
    core = seeded_core(url, 3)
    three_days_ago = datetime.now(UTC) - timedelta(days=3)
    with core.db.session() as session:  # due while Mend was down: three daily reminders and standups missed
        session.execute(update(Delivery).values(due_at=three_days_ago))
    async with SlackApiDouble() as slack:
        replica = await start_replica("one", url, slack, tmp_path)
        try:
            await replica.wait_healthy()
            assert (await wait_settled(core, 4, timeout=15)) == {"sent": 4, "pending": 4}
            calls = await wait_for_posts(slack, 4, timeout=5)
            replica.signal(signal.SIGTERM)
            assert await replica.wait_exit() == 0
            again = await start_replica("again", url, slack, tmp_path)
            await again.wait_healthy()
            await asyncio.sleep(1.0)  # several ticks
            again.signal(signal.SIGTERM)
            assert await again.wait_exit() == 0
        finally:
            await stop_all([replica, again] if "again" in locals() else [replica])
    assert len(calls) == 4 and len(slack.calls_to("chat.postMessage")) == 4, "one late each, no burst, no repeat"
    for call in calls:
        assert "delayed: Mend was not running then" in call.text, call.text
    with core.db.session() as session:
        sent = session.scalars(select(Delivery).where(Delivery.state == "sent")).all()
        assert all(d.late for d in sent)
        pending = session.scalars(select(Delivery).where(Delivery.state == "pending")).all()
        schedules = session.scalars(select(Schedule.id)).all()
    assert sorted(d.schedule_id for d in pending) == sorted(schedules)
    now = datetime.now(UTC)
    assert all(now < d.due_at <= now + timedelta(days=1) for d in pending), "resumes at the next occurrence"
    core.db.dispose()


async def test_sigterm_finishes_sends_in_flight_claims_nothing_new_and_exits_0(tmp_path):
    url = f"sqlite:///{tmp_path / 'mend.db'}"
    core = seeded_core(url, 5)
    async with SlackApiDouble() as slack:
        slack.delay["chat.postMessage"] = 1.5
        replica = await start_replica("one", url, slack, tmp_path)
        try:
            await replica.wait_healthy()
            now = datetime.now(UTC)
            with core.db.session() as session:
                checkins = select(Delivery.id).where(Delivery.kind == "checkin")
                session.execute(update(Delivery).where(Delivery.id.in_(checkins)).values(due_at=now))
                session.execute(update(Delivery).where(Delivery.kind == "standup")
                                .values(due_at=now + timedelta(seconds=0.8)))
            await slack.wait_for("chat.postMessage", count=5, timeout=10)
            replica.signal(signal.SIGTERM)  # five sends are waiting for Slack's answer
            assert await replica.wait_exit(timeout=15) == 0, replica.output()
        finally:
            await stop_all([replica])
    assert sorted(c.params["channel"] for c in slack.calls_to("chat.postMessage")) == \
        [owner_id(i) for i in range(5)], "the standup fell due during shutdown and was left for the next start"
    with core.db.session() as session:
        rows = {(d.kind, d.state) for d in session.scalars(select(Delivery).where(Delivery.sent_at.is_not(None)))}
        assert rows == {("checkin", "sent")}
        assert session.scalar(select(Delivery.state).where(Delivery.kind == "standup",
                                                            Delivery.message_id.is_(None),
                                                            Delivery.due_at <= datetime.now(UTC))) == "pending"
    assert states(core).get("claimed", 0) == 0, "no claimed rows left behind"
    core.db.dispose()
