"""Turning cadences into delivery rows. Only one pending row per schedule exists at a time, so a server
that was down for a week sends one late reminder, not seven."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.parsing import Cadence, cadence_from_text
from bot.store.models import Action, Delivery, Recovery, Schedule


def add_schedule(
    session: Session,
    *,
    scope: str,
    platform: str,
    kind: str,
    channel: str,
    cadence: Cadence,
    now: datetime,
    created_by: str,
    action: Action | None = None,
    to_user: str | None = None,
    recovery: Recovery | None = None,
) -> Delivery | None:
    """Store the schedule and its first delivery; return that delivery (None if it never fires)."""
    schedule = Schedule(
        scope=scope,
        platform=platform,
        kind=kind,
        channel=channel,
        action_id=action.id if action else None,
        cadence=cadence.describe(),
        tz=cadence.tz,
        created_by=created_by,
        created_at=now,
    )
    session.add(schedule)
    session.flush()
    return _queue_next(session, schedule, now, to_user=to_user, recovery=recovery, action=action)


def _queue_next(
    session: Session,
    schedule: Schedule,
    after: datetime,
    *,
    to_user: str | None,
    recovery: Recovery | None,
    action: Action | None,
) -> Delivery | None:
    due = cadence_from_text(schedule.cadence).next_after(after)
    if due is None:
        schedule.active = False
        return None
    delivery = Delivery(
        scope=schedule.scope,
        platform=schedule.platform,
        kind=schedule.kind,
        schedule_id=schedule.id,
        recovery_id=recovery.id if recovery else (action.recovery_id if action else None),
        action_id=action.id if action else None,
        channel=schedule.channel,
        to_user=to_user,
        due_at=due,
        state="pending",
    )
    session.add(delivery)
    return delivery


def queue_following(session: Session, delivery: Delivery, now: datetime) -> Delivery | None:
    """After a delivery of a recurring schedule, queue the next occurrence after now (never a burst)."""
    if delivery.schedule_id is None:
        return None
    schedule = session.get(Schedule, delivery.schedule_id)
    if schedule is None or not schedule.active:
        return None
    action = session.get(Action, delivery.action_id) if delivery.action_id else None
    if action is not None and action.status != "open":
        return None
    after = max(now, delivery.due_at)
    return _queue_next(session, schedule, after, to_user=delivery.to_user, recovery=None, action=action) or None


def add_once(
    session: Session,
    *,
    scope: str,
    platform: str,
    kind: str,
    channel: str,
    due_at: datetime,
    to_user: str | None,
    recovery: Recovery | None = None,
) -> Delivery:
    delivery = Delivery(
        scope=scope,
        platform=platform,
        kind=kind,
        channel=channel,
        to_user=to_user,
        recovery_id=recovery.id if recovery else None,
        due_at=due_at,
        state="pending",
    )
    session.add(delivery)
    return delivery


def stop_schedules(session: Session, *, action: Action | None = None, channel_scope: tuple[str, str] | None = None,
                   kind: str | None = None) -> int:
    """Deactivate schedules (of an action, or of a channel and kind) and cancel their pending deliveries."""
    query = select(Schedule).where(Schedule.active.is_(True))
    if action is not None:
        query = query.where(Schedule.action_id == action.id)
    if channel_scope is not None:
        query = query.where(Schedule.scope == channel_scope[0], Schedule.channel == channel_scope[1])
    if kind is not None:
        query = query.where(Schedule.kind == kind)
    schedules = list(session.scalars(query))
    for schedule in schedules:
        schedule.active = False
    ids = [s.id for s in schedules]
    if ids:
        session.execute(
            update(Delivery)
            .where(Delivery.schedule_id.in_(ids), Delivery.state == "pending")
            .values(state="cancelled")
        )
    return len(schedules)


def cancel_pending(session: Session, *, recovery: Recovery, kind: str) -> None:
    session.execute(
        update(Delivery)
        .where(Delivery.recovery_id == recovery.id, Delivery.kind == kind, Delivery.state == "pending")
        .values(state="cancelled")
    )


def pending_for(session: Session, *, scope: str, channel: str | None = None, action_ids: list[int] | None = None,
                kinds: tuple[str, ...] = ()) -> list[Delivery]:
    if action_ids is not None and not action_ids:
        return []
    query = select(Delivery).where(Delivery.scope == scope, Delivery.state == "pending").order_by(Delivery.due_at)
    if channel is not None:
        query = query.where(Delivery.channel == channel)
    if action_ids is not None:
        query = query.where(Delivery.action_id.in_(action_ids))
    if kinds:
        query = query.where(Delivery.kind.in_(kinds))
    return list(session.scalars(query))
