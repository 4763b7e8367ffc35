"""The standup: posted now, or scheduled daily or on weekdays for this channel."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from bot.context import Context
from bot.errors import UserError
from bot.messages import Reply, Section
from bot.parsing import parse_cadence, split_word
from bot.playbook import Playbook
from bot.scheduling import add_schedule, stop_schedules
from bot.store.models import Action, Checkin, Recovery
from bot.timefmt import moment
from bot.views import STANDUP_CHECKINS, reply, standup_reply

STANDUP_FORM = "standup now | daily at HH:MM [TZ] | weekdays at HH:MM [TZ] | off"


def channel_recoveries(session, scope: str, channel: str) -> list[Recovery]:  # type: ignore[no-untyped-def]
    """The channel's open recoveries with everything a standup reads, in a fixed number of queries.

    Actions come with their recovery (many of them: a standup must not load them one at a time); check-ins
    are not loaded here: `recent_checkins` fetches only the ones a standup shows.
    """
    return list(session.scalars(
        select(Recovery).where(Recovery.scope == scope, Recovery.channel == channel, Recovery.status == "open")
        .order_by(Recovery.ref_no)
        .options(selectinload(Recovery.actions), selectinload(Recovery.wins), selectinload(Recovery.affected),
                 selectinload(Recovery.people))
    ))


def recent_checkins(session, recoveries: list[Recovery], since: datetime) -> dict[int, list[Checkin]]:  # type: ignore[no-untyped-def]
    """Check-ins since `since` per recovery id, oldest first (their actions are already in the session)."""
    found: dict[int, list[Checkin]] = {r.id: [] for r in recoveries}
    if not recoveries:
        return found
    rows = session.execute(
        select(Checkin, Action.recovery_id).join(Action, Checkin.action_id == Action.id)
        .where(Action.recovery_id.in_(list(found)), Checkin.at >= since).order_by(Checkin.at, Checkin.id)
    )
    for checkin, recovery_id in rows:
        found[recovery_id].append(checkin)
    return found


def channel_standup(session, scope: str, channel: str, now: datetime, tz: str, playbook: Playbook) -> Reply:  # type: ignore[no-untyped-def]
    recoveries = channel_recoveries(session, scope, channel)
    return standup_reply(recoveries, recent_checkins(session, recoveries, now - STANDUP_CHECKINS), now, tz,
                         channel, playbook)


def standup(ctx: Context, args: str) -> list[Reply]:
    word, _rest = split_word(args)
    channel = ctx.command.channel
    if word == "now" and not _rest:
        return [channel_standup(ctx.session, ctx.scope, channel, ctx.now, ctx.tz, ctx.playbook)]
    if word == "off" and not _rest:
        stopped = stop_schedules(ctx.session, channel_scope=(ctx.scope, channel), kind="standup")
        ctx.event(ctx.channel_recovery(), "standup", "turned the standup off")
        text = "The scheduled standup for this channel is off." if stopped else "No standup was scheduled here."
        return [reply("Standup off", Section(text=text))]
    if word in ("daily", "weekdays"):
        cadence = parse_cadence(args, ctx.tz, ctx.now, form=STANDUP_FORM)
        stop_schedules(ctx.session, channel_scope=(ctx.scope, channel), kind="standup")
        first = add_schedule(ctx.session, scope=ctx.scope, platform=ctx.command.platform, kind="standup",
                             channel=channel, cadence=cadence, now=ctx.now, created_by=ctx.actor)
        assert first is not None
        ctx.event(ctx.channel_recovery(), "standup", f"scheduled the standup {cadence.describe()}")
        return [reply("Standup scheduled", Section(
            text=f"I'll post the standup here {cadence.describe()}. The first one: {moment(first.due_at, cadence.tz)}."))]
    raise UserError(f"`standup {args[:30]}` is not a form I know." if args else "When should the standup run?",
                    STANDUP_FORM)
