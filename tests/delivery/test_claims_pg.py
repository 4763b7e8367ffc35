"""Claims on PostgreSQL (FOR UPDATE SKIP LOCKED): replicas ticking at the same moment never share a row."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime

from sqlalchemy import func, select

from bench.seed import make_all_due, seed_checkins
from bot.app import build_core
from bot.config import Settings
from bot.scheduler import DeliveryScheduler
from bot.store.db import Database
from bot.store.models import Delivery
from tests.delivery.test_pipeline import SlowOutbound


async def test_four_replicas_ticking_together_deliver_each_row_once(pg_url):
    core = build_core(Settings(database_url=pg_url))
    seed_checkins(core.engine, 150, platform="console", tenant="T1")
    make_all_due(core.engine, datetime.now(UTC))
    outbounds = [SlowOutbound(seconds=0.05) for _ in range(4)]
    databases = [Database(pg_url) for _ in outbounds]
    replicas = [DeliveryScheduler(db, core.engine, {"console": out}, core.clock, worker_id=f"r{i}", batch=40)
                for i, (db, out) in enumerate(zip(databases, outbounds, strict=True))]
    total = 0
    for _round in range(10):
        claimed = await asyncio.gather(*(r.tick() for r in replicas))
        total += sum(claimed)
        if not any(claimed):
            break
    sent = [(r.to_user, r.title) for out in outbounds for r in out.sent]
    assert total == len(sent) == len(set(sent)) == 151
    assert sum(1 for out in outbounds if out.sent) >= 2, "the work was shared"
    with core.db.session() as session:
        by_state = dict(session.execute(select(Delivery.state, func.count()).group_by(Delivery.state)).all())
    assert by_state == {"sent": 151, "pending": 151}
    for db in databases:
        db.dispose()
    core.db.dispose()


def test_claims_in_threads_at_the_same_instant_are_disjoint(pg_url):
    core = build_core(Settings(database_url=pg_url))
    seed_checkins(core.engine, 60, platform="console", tenant="T1", standup=False)
    make_all_due(core.engine, datetime.now(UTC))
    replicas = [DeliveryScheduler(Database(pg_url), core.engine, {"console": SlowOutbound()}, core.clock,
                                  worker_id=f"r{i}", batch=25) for i in range(6)]
    start = threading.Barrier(len(replicas))
    claims: dict[str, list[int]] = {}

    def claim(replica: DeliveryScheduler) -> None:
        start.wait()
        claims[replica.worker_id] = replica.claim_due()

    threads = [threading.Thread(target=claim, args=(r,)) for r in replicas]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    every = [i for ids in claims.values() for i in ids]
    assert len(every) == len(set(every)) == 60, claims
    with core.db.session() as session:
        holders = dict(session.execute(select(Delivery.id, Delivery.claimed_by)).all())
    assert all(holders[i] == worker for worker, ids in claims.items() for i in ids)
    for replica in replicas:
        replica.db.dispose()
    core.db.dispose()
