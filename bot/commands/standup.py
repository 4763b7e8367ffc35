"""The standup: posted now, or scheduled daily or on weekdays for this channel."""

from __future__ import annotations

from sqlalchemy import select

from bot.context import Context
from bot.errors import UserError
from bot.messages import Reply, Section
from bot.parsing import parse_cadence, split_word
from bot.scheduling import add_schedule, stop_schedules
from bot.store.models import Recovery
from bot.timefmt import moment
from bot.views import reply, standup_reply

STANDUP_FORM = "standup now | daily at HH:MM [TZ] | weekdays at HH:MM [TZ] | off"


def channel_recoveries(session, scope: str, channel: str) -> list[Recovery]:  # type: ignore[no-untyped-def]
    return list(session.scalars(
        select(Recovery).where(Recovery.scope == scope, Recovery.channel == channel, Recovery.status == "open")
        .order_by(Recovery.ref_no)
    ))


def standup(ctx: Context, args: str) -> list[Reply]:
    word, _rest = split_word(args)
    channel = ctx.command.channel
    if word == "now" and not _rest:
        return [standup_reply(channel_recoveries(ctx.session, ctx.scope, channel), ctx.now, ctx.tz, channel,
                              ctx.playbook)]
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
