"""Delivering what is due, exactly once, from rows in the database.

Each tick claims due rows with a lease (`FOR UPDATE SKIP LOCKED` on PostgreSQL; SQLite has one writer),
asks the engine what to say, sends it through the platform's `Outbound`, and marks the row sent in the
same transaction that queues the next occurrence. A replica that dies after claiming loses its lease and
another replica delivers. The window in which a crash can repeat a message is between the platform's
acceptance of the send and the commit marking it sent: a few milliseconds.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Mapping
from datetime import datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import and_, func, or_, select, update

from bot.clock import Clock
from bot.engine import LATE_AFTER, Engine
from bot.outbound import DeliveryError, Outbound
from bot.scheduling import queue_following
from bot.store.db import Database
from bot.store.models import Delivery

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8


class DeliveryScheduler:
    def __init__(
        self,
        db: Database,
        engine: Engine,
        outbounds: Mapping[str, Outbound],
        clock: Clock,
        *,
        tick_seconds: float = 2.0,
        lease: timedelta = timedelta(minutes=2),
        batch: int = 1000,
        concurrency: int = 64,
        worker_id: str | None = None,
    ) -> None:
        self.db = db
        self.engine = engine
        self.outbounds = dict(outbounds)
        self.clock = clock
        self.tick_seconds = tick_seconds
        self.lease = lease
        self.batch = batch
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}"
        self._limit = asyncio.Semaphore(concurrency)
        self._scheduler: AsyncIOScheduler | None = None
        self._stopping = False
        self._in_flight: set[asyncio.Task[None]] = set()
        self.last_tick: datetime | None = None
        self.stats = {"sent": 0, "late": 0, "failed": 0, "retried": 0}

    # --- life cycle ---------------------------------------------------------------------------
    def start(self) -> None:
        """Start ticking. Must run inside the running event loop (APScheduler's rule)."""
        self._stopping = False
        self._scheduler = AsyncIOScheduler(timezone="UTC")
        self._scheduler.add_job(self.tick, "interval", seconds=self.tick_seconds, max_instances=1, coalesce=True,
                                misfire_grace_time=None, next_run_time=self.clock.now())
        self._scheduler.start()

    @property
    def running(self) -> bool:
        return self._scheduler is not None and self._scheduler.running and not self._stopping

    async def stop(self) -> None:
        """Stop claiming, finish what is in flight, release the leases nobody will use."""
        self._stopping = True
        if self._scheduler is not None and self._scheduler.running:
            self._scheduler.shutdown(wait=False)
        if self._in_flight:
            await asyncio.gather(*self._in_flight, return_exceptions=True)
        await asyncio.to_thread(self._release)

    def _release(self) -> None:
        with self.db.session() as session:
            session.execute(
                update(Delivery)
                .where(Delivery.state == "claimed", Delivery.claimed_by == self.worker_id)
                .values(state="pending", lease_until=None, claimed_by=None)
            )

    # --- one tick -------------------------------------------------------------------------------
    async def tick(self) -> int:
        """Claim and deliver everything due now. Returns how many rows were claimed."""
        if self._stopping:
            return 0
        self.last_tick = self.clock.now()
        ids = await asyncio.to_thread(self.claim_due)
        tasks = [asyncio.create_task(self._deliver(i)) for i in ids]
        self._in_flight.update(tasks)
        for task in tasks:
            task.add_done_callback(self._in_flight.discard)
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        return len(ids)

    def claim_due(self) -> list[int]:
        now = self.clock.now()
        claimable = and_(
            Delivery.due_at <= now,
            Delivery.platform.in_(list(self.outbounds)),
            or_(Delivery.state == "pending", and_(Delivery.state == "claimed", Delivery.lease_until < now)),
        )
        with self.db.session() as session:
            query = select(Delivery.id).where(claimable).order_by(Delivery.due_at).limit(self.batch)
            if self.db.dialect == "postgresql":
                query = query.with_for_update(skip_locked=True)
            candidates = list(session.scalars(query))
            if not candidates:
                return []
            claimed = session.scalars(
                update(Delivery)
                .where(Delivery.id.in_(candidates), claimable)
                .values(state="claimed", lease_until=now + self.lease, claimed_by=self.worker_id,
                        attempts=Delivery.attempts + 1)
                .returning(Delivery.id)
            ).all()
            return sorted(claimed)

    async def _deliver(self, delivery_id: int) -> None:
        async with self._limit:
            try:
                await self._deliver_one(delivery_id)
            except Exception:
                log.exception("delivery %s failed unexpectedly", delivery_id)
                await asyncio.to_thread(self._fail, delivery_id, "unexpected error", None)

    async def _deliver_one(self, delivery_id: int) -> None:
        replies = await asyncio.to_thread(self.engine.render_delivery, delivery_id)
        platform, tenant = await asyncio.to_thread(self._target, delivery_id)
        outbound = self.outbounds[platform]
        message_id = None
        try:
            for reply in replies:
                message_id = await outbound.send(tenant, reply) or message_id
        except DeliveryError as exc:
            await asyncio.to_thread(self._fail, delivery_id, str(exc), exc)
            return
        await asyncio.to_thread(self._mark_sent, delivery_id, message_id, bool(replies))

    def _target(self, delivery_id: int) -> tuple[str, str]:
        with self.db.session() as session:
            delivery = session.get(Delivery, delivery_id)
            assert delivery is not None
            platform, _, tenant = delivery.scope.partition(":")
            return platform, tenant

    def _mark_sent(self, delivery_id: int, message_id: str | None, sent: bool) -> None:
        now = self.clock.now()
        with self.db.session() as session:
            delivery = session.get(Delivery, delivery_id)
            if delivery is None:
                return
            delivery.state = "sent" if sent else "cancelled"
            delivery.sent_at = now
            delivery.late = sent and now - delivery.due_at > LATE_AFTER
            late = delivery.late
            delivery.message_id = message_id
            delivery.lease_until = None
            queue_following(session, delivery, now)
        if sent:
            self.stats["sent"] += 1
            self.stats["late"] += int(late)

    def _fail(self, delivery_id: int, error: str, exc: DeliveryError | None) -> None:
        now = self.clock.now()
        with self.db.session() as session:
            delivery = session.get(Delivery, delivery_id)
            if delivery is None:
                return
            delivery.last_error = error[:500]
            permanent = exc is not None and exc.permanent
            if permanent or delivery.attempts >= MAX_ATTEMPTS:
                delivery.state = "failed"
                queue_following(session, delivery, now)
                self.stats["failed"] += 1
                log.error("delivery %s gave up after %s attempts: %s", delivery_id, delivery.attempts, error)
                return
            wait = exc.retry_after if exc is not None and exc.retry_after else min(300, 5 * 2 ** delivery.attempts)
            delivery.last_error = f"{error[:400]} (retry after {wait:.0f}s)"
            self._retry_at(session, delivery, now + timedelta(seconds=wait))
            self.stats["retried"] += 1
            log.warning("delivery %s will be retried in %.0fs: %s", delivery_id, wait, error)

    @staticmethod
    def _retry_at(session, delivery: Delivery, when: datetime) -> None:  # type: ignore[no-untyped-def]
        """Hold the row until `when` without moving its due time (so lateness stays visible)."""
        delivery.state = "claimed"
        delivery.claimed_by = "retry"
        delivery.lease_until = when

    def next_due(self) -> datetime | None:
        """When the next pending delivery this scheduler can send is due (the demo's clock jumps there)."""
        with self.db.session() as session:
            return session.scalar(
                select(func.min(Delivery.due_at)).where(
                    Delivery.state == "pending", Delivery.platform.in_(list(self.outbounds))
                )
            )

    def oldest_overdue_seconds(self) -> float | None:
        now = self.clock.now()
        with self.db.session() as session:
            oldest = session.scalar(
                select(func.min(Delivery.due_at)).where(Delivery.state.in_(("pending", "claimed")),
                                                        Delivery.due_at <= now)
            )
        return (now - oldest).total_seconds() if oldest else None
