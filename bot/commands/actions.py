"""Prevention actions with one owner each, and the check-ins that follow them until they are done."""

from __future__ import annotations

import re

from bot.context import Context
from bot.errors import UserError
from bot.messages import Audience, Mention, Reply, Section, Source
from bot.parsing import Cadence, find_mentions, free_text, parse_cadence, parse_date
from bot.scheduling import add_schedule, stop_schedules
from bot.store.models import Action, Checkin
from bot.timefmt import day, moment
from bot.views import CHECKIN_STATES, reply

ACTION_FORM = "action TITLE @OWNER due DATE [checkin CADENCE]"
CHECKIN_FORM = "checkin ACTION on-track|at-risk|blocked|done [NOTE]"
_STATES = {
    "on-track": "on-track", "ontrack": "on-track", "on_track": "on-track",
    "at-risk": "at-risk", "atrisk": "at-risk", "at_risk": "at-risk",
    "blocked": "blocked", "done": "done", "complete": "done", "completed": "done",
}
DEFAULT_CHECKIN = (9, 0)  # without a cadence, the owner is asked at 09:00 their time on the due date


def _owner(ctx: Context, args: str) -> tuple[str, Mention, str]:
    """Split `TITLE @OWNER due …` around the owner's mention."""
    mentions = find_mentions(args)
    if not mentions:
        raise UserError("Who owns this action? Mention one person.", ACTION_FORM)
    token = mentions[0]
    title, rest = args[: token.start].strip(), args[token.end :].strip()
    mention = ctx.mentioned(token, ACTION_FORM)
    return title, mention, rest


def action(ctx: Context, args: str) -> list[Reply]:
    recovery = ctx.require_recovery(ACTION_FORM)
    title, owner, rest = _owner(ctx, args)
    title = free_text(title, "a title before the owner", ACTION_FORM)
    match = re.fullmatch(r"due\s+(?P<due>.+?)(?:\s+checkin\s+(?P<cadence>.+))?", rest, re.IGNORECASE | re.DOTALL)
    if not match:
        raise UserError("Please give a due date after the owner.", ACTION_FORM)
    ctx.remember(owner)
    due = parse_date(match["due"], ctx.today(), form=ACTION_FORM)
    owner_tz = ctx.tz_of(owner.user_id)
    cadence: Cadence | None = None
    if match["cadence"]:
        cadence = parse_cadence(match["cadence"], owner_tz, ctx.now)
    title = ctx.guard(title)
    item = Action(
        scope=ctx.scope, ref_no=ctx.next_ref(Action), recovery=recovery, title=title, owner=owner.user_id,
        owner_name=owner.name, due=due, tz=owner_tz, status="open", created_by=ctx.actor, created_at=ctx.now,
    )
    ctx.session.add(item)
    ctx.session.flush()
    if cadence is None:
        cadence = Cadence("once", *DEFAULT_CHECKIN, owner_tz, on=due)
    first = add_schedule(
        ctx.session, scope=ctx.scope, platform=ctx.command.platform, kind="checkin", channel=recovery.channel,
        cadence=cadence, now=ctx.now, created_by=ctx.actor, action=item, to_user=owner.user_id,
    )
    owner_name = owner.name or owner.user_id
    ctx.event(recovery, "action", f"added {item.ref} {title} — owner {owner_name}, due {due.isoformat()}")
    checkins = (
        f"Check-ins: {cadence.describe()}; the first on {moment(first.due_at, owner_tz)}."
        if first else "No check-in is scheduled (the time has passed); use `checkin` any time."
    )
    text = f"*{item.ref}* {title}\nOwner: {owner_name} · Due {day(due)}\n{checkins}"
    return [reply(f"{item.ref} added to {recovery.ref}", Section(text=text),
                  context=f"Mend will ask {owner_name} how it is going until it is done.")]


def checkin(ctx: Context, args: str) -> list[Reply]:
    words = args.split(maxsplit=2)
    if len(words) < 2:
        raise UserError("Name the action and how it is going.", CHECKIN_FORM)
    item = ctx.action(words[0], CHECKIN_FORM)
    state = _STATES.get(words[1].lower())
    if state is None:
        raise UserError(f"`{words[1][:20]}` is not a check-in answer.", CHECKIN_FORM)
    if item.status == "done":
        raise UserError(f"{item.ref} is already done. Nothing to check in on.", "status")
    note = ctx.guard(free_text(words[2], "a note", CHECKIN_FORM)) if len(words) == 3 else None
    ctx.session.add(Checkin(action=item, status=state, note=note, by_user=ctx.actor, by_name=ctx.actor_name,
                            at=ctx.now))
    item.last_checkin = state
    recovery = item.recovery
    if state == "done":
        item.status, item.done_at = "done", ctx.now
        stop_schedules(ctx.session, action=item)
    label, _style, icon = CHECKIN_STATES[state]
    ctx.event(recovery, "checkin", f"{item.ref} {state}" + (f": {note}" if note else ""))
    summary = f"{icon} *{item.ref}* {item.title}: {label.lower()}" + (f" — {note}" if note else "")
    summary += f"\nRecorded by {ctx.actor_name}, {moment(ctx.now, ctx.tz)}."
    if state == "done":
        left = sum(1 for a in recovery.actions if a.status == "open")
        summary += f"\nThank you! {left} action(s) still open in {recovery.ref}."
    replies = []
    if ctx.command.source == Source.BUTTON:
        replies.append(reply(f"Check-in recorded: {item.ref}", Section(text=summary), audience=Audience.SOURCE))
    else:
        replies.append(reply(f"Check-in: {item.ref}", Section(text=summary)))
    in_recovery_channel = ctx.command.channel == recovery.channel and ctx.command.source != Source.BUTTON
    if state in ("at-risk", "blocked", "done") and not in_recovery_channel:
        replies.append(reply(f"{item.ref} is {label.lower()}", Section(text=summary), kind="notice").to(
            channel=recovery.channel))
    return replies
