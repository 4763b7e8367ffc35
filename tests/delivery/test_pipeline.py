"""The tick pipeline: concurrent sends on the scheduler's own threads, settling that never double-queues,
leases that live as long as a send does, retries that never drop a platform's refusal, stop that waits."""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import func, select

from bench.seed import make_all_due, seed_checkins
from bot.app import build_core
from bot.config import Settings
from bot.messages import Reply
from bot.outbound import DeliveryError
from bot.scheduler import MAX_ATTEMPTS, DeliveryScheduler, Outcome
from bot.store.models import Delivery


@dataclass
class SlowOutbound:
    """Takes `seconds` per send, like a platform far away; records what it was given."""

    seconds: float = 0.1
    sent: list[Reply] = field(default_factory=list)
    in_flight: int = 0
    most_in_flight: int = 0

    async def send(self, tenant: str, reply: Reply) -> str | None:
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        await asyncio.sleep(self.seconds)
        self.in_flight -= 1
        self.sent.append(reply)
        return f"m{len(self.sent)}"


def _pending_per_schedule(core) -> list[int]:  # type: ignore[no-untyped-def]
    with core.db.session() as session:
        return list(session.scalars(select(func.count()).select_from(Delivery).where(Delivery.state == "pending")
                                    .group_by(Delivery.schedule_id)))


async def test_a_busy_minute_is_sent_concurrently_on_the_schedulers_own_threads_each_once(core, clock):
    seed_checkins(core.engine, 120, platform="console", tenant="T1")
    make_all_due(core.engine, clock.now())
    outbound = SlowOutbound(seconds=0.1)
    scheduler = DeliveryScheduler(core.db, core.engine, {"console": outbound}, clock, worker_id="w")
    threads: set[str] = set()
    render = core.engine.render_deliveries
    core.engine.render_deliveries = lambda ids: (threads.add(threading.current_thread().name), render(ids))[1]
    started = time.monotonic()
    assert await scheduler.tick() == 121
    assert time.monotonic() - started < 6.0, "one at a time would take 12 s"
    assert outbound.most_in_flight > 20
    assert len({(r.to_user, r.title) for r in outbound.sent}) == len(outbound.sent) == 121
    assert threads and all(name.startswith("mend-delivery") for name in threads), threads
    assert await scheduler.tick() == 0
    assert _pending_per_schedule(core) == [1] * 121, "exactly one next occurrence per schedule"
    assert scheduler.stats == {"sent": 121, "late": 0, "failed": 0, "retried": 0}


async def test_an_outcome_for_a_row_another_replica_settled_meanwhile_changes_nothing(core, clock):
    seed_checkins(core.engine, 1, platform="console", tenant="T1", standup=False)
    make_all_due(core.engine, clock.now())
    stalled = DeliveryScheduler(core.db, core.engine, {"console": SlowOutbound()}, clock, worker_id="stalled",
                                lease=timedelta(seconds=30))
    [row] = stalled._claim()
    clock.advance(timedelta(seconds=31))  # the stalled replica's lease ran out; another delivers
    other = SlowOutbound(seconds=0)
    assert await DeliveryScheduler(core.db, core.engine, {"console": other}, clock, worker_id="b").tick() == 1
    stalled._settle([Outcome(row, sent=True, message_id="late")])  # the stalled one wakes up
    with core.db.session() as session:
        delivery = session.get(Delivery, row.id)
        assert (delivery.state, delivery.claimed_by, delivery.message_id) == ("sent", "b", "m1")
    assert _pending_per_schedule(core) == [1], "the next occurrence is queued once, not twice"
    assert stalled.stats["sent"] == 0


async def test_a_live_replica_keeps_its_lease_while_a_slow_send_runs(tmp_path):
    core = build_core(Settings(database_url=f"sqlite:///{tmp_path / 'mend.db'}"))  # the system clock
    seed_checkins(core.engine, 1, platform="console", tenant="T1", standup=False)
    make_all_due(core.engine, core.clock.now())
    slow = SlowOutbound(seconds=1.5)
    lease = timedelta(seconds=0.6)
    a = DeliveryScheduler(core.db, core.engine, {"console": slow}, core.clock, worker_id="a", lease=lease)
    b = DeliveryScheduler(core.db, core.engine, {"console": SlowOutbound(0)}, core.clock, worker_id="b",
                          lease=lease)
    ticking = asyncio.create_task(a.tick())
    claimed_by_b = 0
    while not ticking.done():
        await asyncio.sleep(0.15)
        claimed_by_b += await b.tick()
    assert await ticking == 1 and claimed_by_b == 0
    assert len(slow.sent) == 1
    core.db.dispose()


@dataclass
class Refusing:
    error: Exception
    calls: int = 0

    async def send(self, tenant: str, reply: Reply) -> str | None:
        self.calls += 1
        raise self.error


async def _retry_until(scheduler: DeliveryScheduler, clock, times: int) -> None:  # type: ignore[no-untyped-def]
    for _ in range(times):
        await scheduler.tick()
        clock.advance(timedelta(minutes=6))  # longer than the longest backoff


async def test_a_platforms_refusal_is_never_given_up_on(core, clock):
    seed_checkins(core.engine, 1, platform="console", tenant="T1", standup=False)
    make_all_due(core.engine, clock.now())
    refusing = Refusing(DeliveryError("Teams: HTTP 503"))
    scheduler = DeliveryScheduler(core.db, core.engine, {"console": refusing}, clock, worker_id="w")
    await _retry_until(scheduler, clock, MAX_ATTEMPTS + 3)
    assert refusing.calls == MAX_ATTEMPTS + 3
    with core.db.session() as session:
        row = session.scalars(select(Delivery)).one()
        assert row.state == "claimed" and row.claimed_by == "retry" and "retry after 300s" in row.last_error
    assert scheduler.stats["failed"] == 0


async def test_an_unexpected_error_gives_up_after_max_attempts_and_the_series_goes_on(core, clock):
    seed_checkins(core.engine, 1, platform="console", tenant="T1", standup=False)
    make_all_due(core.engine, clock.now())
    broken = Refusing(KeyError("a bug"))
    scheduler = DeliveryScheduler(core.db, core.engine, {"console": broken}, clock, worker_id="w")
    await _retry_until(scheduler, clock, MAX_ATTEMPTS)
    with core.db.session() as session:
        first, *following = session.scalars(select(Delivery).order_by(Delivery.id))
    assert (first.state, first.attempts, first.last_error) == ("failed", MAX_ATTEMPTS, "'a bug'")
    assert [d.schedule_id for d in following] == [first.schedule_id], "the next occurrence is queued"
    assert scheduler.stats["failed"] == 1


async def test_stop_waits_for_a_tick_in_progress_and_leaves_no_claims(core, clock):
    seed_checkins(core.engine, 5, platform="console", tenant="T1", standup=False)
    make_all_due(core.engine, clock.now())
    slow = SlowOutbound(seconds=0.5)
    scheduler = DeliveryScheduler(core.db, core.engine, {"console": slow}, clock, worker_id="w")
    ticking = asyncio.create_task(scheduler.tick())
    while slow.in_flight == 0:
        await asyncio.sleep(0.01)
    ticking.cancel()  # as the loop does to the scheduler's job on shutdown
    await scheduler.stop()
    assert len(slow.sent) == 5
    with core.db.session() as session:
        assert sorted(session.scalars(select(Delivery.state))) == ["pending"] * 5 + ["sent"] * 5
    assert await scheduler.tick() == 0, "a stopped scheduler claims nothing"


async def test_an_engine_that_renders_many_at_once_gets_whole_chunks(core, clock):
    seed_checkins(core.engine, 60, platform="console", tenant="T1", standup=False)
    make_all_due(core.engine, clock.now())
    chunks: list[int] = []

    def render_deliveries(ids: list[int]) -> dict[int, list[Reply]]:
        chunks.append(len(ids))
        return {i: core.engine.render_delivery(i) for i in ids if i % 2 == 0}  # odd ones: nothing to send

    core.engine.render_deliveries = render_deliveries
    outbound = SlowOutbound(seconds=0)
    assert await DeliveryScheduler(core.db, core.engine, {"console": outbound}, clock).tick() == 60
    assert sorted(chunks) == [10, 25, 25] and len(outbound.sent) == 30
    with core.db.session() as session:
        states = dict(session.execute(select(Delivery.state, func.count()).group_by(Delivery.state)).all())
    assert states == {"sent": 30, "cancelled": 30, "pending": 60}
