"""Delivering what is due, exactly once, from rows in the database.

Each tick claims due rows with a lease (`FOR UPDATE SKIP LOCKED` on PostgreSQL; SQLite has one writer),
asks the engine what to say, sends it through the platform's `Outbound`, and marks the row sent in the
same transaction that queues the next occurrence. A replica that dies after claiming loses its lease and
another replica delivers; a live replica renews the leases of what it is still sending. The window in which
a crash can repeat a message is between the platform's acceptance of the send and the commit marking it
sent (see docs/DELIVERY.md).

A tick is a pipeline, so a minute with a thousand check-ins is delivered in seconds: rows are rendered in
chunks on the scheduler's own small thread pool (never the default pool that command handling uses), each
chunk's sends start at once (up to `concurrency` in flight), and outcomes are settled by one writer in
group commits: whatever finished while the previous commit ran is marked in the next transaction.
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
import socket
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import and_, func, or_, select, update

from bot.clock import Clock
from bot.engine import LATE_AFTER, Engine
from bot.messages import Reply
from bot.metrics import Metrics
from bot.outbound import DeliveryError, Outbound
from bot.scheduling import queue_following
from bot.store.db import Database
from bot.store.models import Action, Delivery, Schedule

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
RENDER_CHUNK = 25  # rows rendered per thread call: the first sends start after one chunk, not after all
SETTLE_BATCH = 200  # outcomes marked per transaction at most
T = TypeVar("T")


@dataclass(frozen=True)
class Claimed:
    """A row this replica holds a lease on, with what is needed to send it without reading it again."""

    id: int
    scope: str
    kind: str
    due_at: datetime

    @property
    def platform(self) -> str:
        return self.scope.partition(":")[0]

    @property
    def tenant(self) -> str:
        return self.scope.partition(":")[2]


@dataclass(frozen=True)
class Outcome:
    """How one send ended: sent (with the platform's message id), nothing to send, or an error."""

    row: Claimed
    sent: bool = False
    message_id: str | None = None
    error: Exception | None = None


def _log_failure(task: asyncio.Future[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("a delivery tick failed", exc_info=task.exception())


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
        metrics: Metrics | None = None,
        db_threads: int = 4,
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
        self._in_flight: set[asyncio.Future[Any]] = set()
        self._tick_lock = asyncio.Lock()
        self._unsettled: set[int] = set()  # claimed by this replica and not yet marked: their leases are renewed
        self._db_threads = db_threads
        self._pool: ThreadPoolExecutor | None = None
        self.metrics = metrics
        self.last_tick: datetime | None = None
        self.stats = {"sent": 0, "late": 0, "failed": 0, "retried": 0}

    # --- life cycle ---------------------------------------------------------------------------
    def start(self) -> None:
        """Start ticking. Must run inside the running event loop (APScheduler's rule)."""
        self._stopping = False
        self._scheduler = AsyncIOScheduler(timezone="UTC")
        self._scheduler.add_job(self._tick_job, "date", run_date=None)  # at once: what fell due while down
        # Ticks land on multiples of tick_seconds (wall clock), so one lands on each minute's first second,
        # when cadences (HH:MM) fall due.
        first = math.ceil(time.time() / self.tick_seconds) * self.tick_seconds
        self._scheduler.add_job(self._tick_job, "interval", seconds=self.tick_seconds, max_instances=1, coalesce=True,
                                misfire_grace_time=None,
                                start_date=datetime.fromtimestamp(first, tz=self.clock.now().tzinfo))
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
        await self._db(self._release)
        if self._pool is not None:
            self._pool.shutdown(wait=False)
            self._pool = None

    async def _db(self, fn: Callable[..., T], *args: Any) -> T:
        """Run blocking database work on the scheduler's own threads, so a busy minute never queues the
        commands people type (they use the default pool) behind a thousand deliveries."""
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self._db_threads, thread_name_prefix="mend-delivery")
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)

    def _release(self) -> None:
        with self.db.session() as session:
            session.execute(
                update(Delivery)
                .where(Delivery.state == "claimed", Delivery.claimed_by == self.worker_id)
                .values(state="pending", lease_until=None, claimed_by=None)
            )

    # --- one tick -------------------------------------------------------------------------------
    async def _tick_job(self) -> None:
        """APScheduler's job: start a tick unless one is still delivering, and return at once.

        A busy minute can take longer than the tick interval; the job then skips quietly (APScheduler
        would log a warning for every overrun), and shutdown never cancels a job mid-await.
        """
        if self._stopping or self._tick_lock.locked():
            return
        task = asyncio.ensure_future(self.tick())
        self._in_flight.add(task)  # a reference, so the task is never collected mid-tick
        task.add_done_callback(self._in_flight.discard)
        task.add_done_callback(_log_failure)

    async def tick(self) -> int:
        """Claim and deliver everything due now; return how many rows were claimed.

        Ticks of one replica run one at a time. The work runs in its own task, so `stop()` can wait for it
        even when whoever awaited the tick is cancelled (the loop shutting down on SIGTERM).
        """
        if self._stopping:
            return 0
        async with self._tick_lock:
            if self._stopping:
                return 0
            work = asyncio.ensure_future(self._tick())
            self._in_flight.add(work)
            work.add_done_callback(self._in_flight.discard)
            return await asyncio.shield(work)

    async def _tick(self) -> int:
        self.last_tick = self.clock.now()
        claimed = await self._db(self._claim)
        if claimed:
            await self._deliver_all(claimed)
        return len(claimed)

    def claim_due(self) -> list[int]:
        """Claim what is due now; return the ids (the tick uses `_claim`, which returns more)."""
        return [row.id for row in self._claim()]

    def _claim(self) -> list[Claimed]:
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
            claimed = session.execute(
                update(Delivery)
                .where(Delivery.id.in_(candidates), claimable)
                .values(state="claimed", lease_until=now + self.lease, claimed_by=self.worker_id,
                        attempts=Delivery.attempts + 1)
                .returning(Delivery.id, Delivery.scope, Delivery.kind, Delivery.due_at)
            ).all()
        rows = sorted((Claimed(*row) for row in claimed), key=lambda r: (r.due_at, r.id))
        self._unsettled.update(r.id for r in rows)
        return rows

    async def _deliver_all(self, claimed: list[Claimed]) -> None:
        """Render in chunks, send each chunk's rows concurrently, settle outcomes in group commits."""
        outcomes: asyncio.Queue[Outcome] = asyncio.Queue()
        settler = asyncio.create_task(self._settle_all(outcomes, len(claimed)))
        renewer = asyncio.create_task(self._renew_leases())
        sends: list[asyncio.Task[None]] = []
        if self.metrics:
            self.metrics.in_flight.inc(len(claimed))
        renderers = asyncio.Semaphore(max(1, self._db_threads - 1))  # one thread stays free for settling

        async def render_then_send(chunk: Sequence[Claimed]) -> None:
            async with renderers:
                try:
                    rendered = await self._db(self._render, chunk)
                except Exception as exc:  # the database went away mid-tick: retry these rows later
                    log.exception("rendering %s deliveries failed", len(chunk))
                    rendered = [(row, exc) for row in chunk]
            for row, replies in rendered:
                if isinstance(replies, Exception):
                    outcomes.put_nowait(Outcome(row, error=replies))
                elif not replies:
                    outcomes.put_nowait(Outcome(row, sent=False))  # no longer applies
                else:
                    sends.append(asyncio.create_task(self._send(row, replies, outcomes)))

        try:
            await asyncio.gather(*(render_then_send(claimed[i:i + RENDER_CHUNK])
                                   for i in range(0, len(claimed), RENDER_CHUNK)))
            await settler
        finally:
            renewer.cancel()
            if self.metrics:
                self.metrics.in_flight.dec(len(claimed))

    def _render(self, chunk: Sequence[Claimed]) -> list[tuple[Claimed, list[Reply] | Exception]]:
        """The engine's replies for each row, the whole chunk rendered from a few queries. A row that fails
        gets its exception (retried like a refused send); if the chunk's queries fail, every row does."""
        try:
            many = self.engine.render_deliveries([row.id for row in chunk])
        except Exception as exc:
            log.exception("%s deliveries could not be rendered", len(chunk))
            return [(row, exc) for row in chunk]
        return [(row, many.get(row.id, [])) for row in chunk]

    async def _send(self, row: Claimed, replies: list[Reply], outcomes: asyncio.Queue[Outcome]) -> None:
        outcome = Outcome(row, error=RuntimeError("not sent"))
        try:
            async with self._limit:
                message_id = None
                for reply in replies:
                    message_id = await self.outbounds[row.platform].send(row.tenant, reply) or message_id
                outcome = Outcome(row, sent=True, message_id=message_id)
        except DeliveryError as exc:
            outcome = Outcome(row, error=exc)
        except Exception as exc:
            log.exception("delivery %s failed unexpectedly", row.id)
            outcome = Outcome(row, error=exc)
        finally:
            outcomes.put_nowait(outcome)

    async def _settle_all(self, outcomes: asyncio.Queue[Outcome], total: int) -> None:
        """One writer: each transaction marks every outcome that arrived while the previous one committed."""
        settled = 0
        while settled < total:
            batch = [await outcomes.get()]
            while len(batch) < SETTLE_BATCH and not outcomes.empty():
                batch.append(outcomes.get_nowait())
            for attempt in range(5):
                try:
                    await self._db(self._settle, batch)
                    break
                except Exception:
                    log.exception("marking %s deliveries failed (attempt %s)", len(batch), attempt + 1)
                    await asyncio.sleep(0.5 * 2**attempt)
            settled += len(batch)
            self._unsettled.difference_update(o.row.id for o in batch)

    async def _renew_leases(self) -> None:
        """While sends run (pacing, slow platforms), keep this replica's leases from running out."""
        while True:
            await asyncio.sleep(self.lease.total_seconds() / 3)
            try:
                await self._db(self._renew)
            except Exception:
                log.warning("renewing delivery leases failed", exc_info=True)

    def _renew(self) -> None:
        ids = list(self._unsettled)
        if not ids:
            return
        with self.db.session() as session:
            session.execute(
                update(Delivery)
                .where(Delivery.id.in_(ids), Delivery.state == "claimed", Delivery.claimed_by == self.worker_id)
                .values(lease_until=self.clock.now() + self.lease)
            )

    def _settle(self, batch: Sequence[Outcome]) -> None:
        """Mark sent (and queue the next occurrence) or schedule the retry, for a batch, in one transaction."""
        now = self.clock.now()
        ids = [o.row.id for o in batch]
        counted: list[tuple[str, Outcome, Delivery]] = []
        with self.db.session() as session:
            rows = {d.id: d for d in session.scalars(select(Delivery).where(Delivery.id.in_(ids)))}
            # Load what queue_following reads in two queries, not two per row (held: the identity map is weak).
            held = [
                *session.scalars(select(Schedule).where(
                    Schedule.id.in_({d.schedule_id for d in rows.values() if d.schedule_id}))),
                *session.scalars(select(Action).where(
                    Action.id.in_({d.action_id for d in rows.values() if d.action_id}))),
            ]
            with session.no_autoflush:  # one flush at commit, not one per queued row
                self._settle_rows(session, batch, rows, now, counted)
            del held
        self._count(counted, now)

    def _settle_rows(self, session, batch: Sequence[Outcome], rows: dict[int, Delivery], now: datetime,  # type: ignore[no-untyped-def]
                     counted: list[tuple[str, Outcome, Delivery]]) -> None:
        """Apply each outcome to its row; rows another replica settled meanwhile are left alone."""
        for outcome in batch:
            delivery = rows.get(outcome.row.id)
            if delivery is None:
                continue
            if delivery.state != "claimed" or delivery.claimed_by != self.worker_id:
                log.warning("delivery %s was settled by %s meanwhile", delivery.id, delivery.claimed_by)
                continue
            if outcome.error is None:
                self._apply_sent(session, delivery, outcome, now)
                counted.append(("sent" if outcome.sent else "cancelled", outcome, delivery))
            else:
                counted.append((self._apply_failure(session, delivery, outcome.error, now), outcome, delivery))

    @staticmethod
    def _apply_sent(session, delivery: Delivery, outcome: Outcome, now: datetime) -> None:  # type: ignore[no-untyped-def]
        delivery.state = "sent" if outcome.sent else "cancelled"
        delivery.sent_at = now
        delivery.late = outcome.sent and now - delivery.due_at > LATE_AFTER
        delivery.message_id = outcome.message_id
        delivery.lease_until = None
        queue_following(session, delivery, now)

    def _apply_failure(self, session, delivery: Delivery, error: Exception, now: datetime) -> str:  # type: ignore[no-untyped-def]
        """Give up or hold the row until the retry; return which.

        A platform's refusal (`DeliveryError`: 429, 503, timeouts) is never given up on unless it is
        permanent: the row waits exactly Retry-After when the platform says (its own backoff), else backs
        off 10 s, 20 s, ... up to 5 minutes. Only unexpected errors (a bug) give up after MAX_ATTEMPTS.
        """
        exc = error if isinstance(error, DeliveryError) else None
        message = str(error) or type(error).__name__
        delivery.last_error = message[:500]
        if (exc is not None and exc.permanent) or (exc is None and delivery.attempts >= MAX_ATTEMPTS):
            delivery.state = "failed"
            delivery.lease_until = None
            queue_following(session, delivery, now)
            log.error("delivery %s gave up after %s attempts: %s", delivery.id, delivery.attempts, message)
            return "failed"
        wait = exc.retry_after if exc is not None and exc.retry_after else min(300, 5 * 2 ** delivery.attempts)
        delivery.last_error = f"{message[:400]} (retry after {wait:.0f}s)"
        self._retry_at(session, delivery, now + timedelta(seconds=wait))
        log.warning("delivery %s will be retried in %.0fs: %s", delivery.id, wait, message)
        return "retried"

    def _count(self, counted: list[tuple[str, Outcome, Delivery]], now: datetime) -> None:
        """Counters move only after the commit, so they never count what a rollback undid."""
        for what, outcome, delivery in counted:
            if what == "sent":
                self.stats["sent"] += 1
                self.stats["late"] += int(delivery.late)
                if self.metrics:
                    self.metrics.delivery_sent(outcome.row.kind, delivery.late,
                                               (now - outcome.row.due_at).total_seconds())
            elif what in ("failed", "retried"):
                self.stats[what] += 1
                if self.metrics:
                    (self.metrics.delivery_failed if what == "failed" else self.metrics.delivery_retried)()

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
