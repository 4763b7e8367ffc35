"""Outreach: drafts for the people affected, and the progress updates they were promised."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.context import Context
from bot.errors import UserError
from bot.messages import Reply, Section
from bot.parsing import split_word
from bot.scheduling import add_once, cancel_pending
from bot.store.models import Outreach, Recovery
from bot.timefmt import day, moment
from bot.views import affected_summary, reply

DRAFT_FORM = "draft patients|families|providers|payers|leadership|team"


def _next_update(ctx: Context, recovery: Recovery) -> datetime:
    """The promised update: N days on, at 10:00 in the lead's zone (a sensible working hour)."""
    local = (ctx.now + timedelta(days=ctx.playbook.update_every_days)).astimezone(ZoneInfo(recovery.tz))
    return datetime.combine(local.date(), time(10, 0), tzinfo=ZoneInfo(recovery.tz))


def _promise_update(ctx: Context, recovery: Recovery) -> datetime:
    """Keep (or set) the date of the next promised update and the reminder to the lead for it."""
    if recovery.next_update_at is None or recovery.next_update_at <= ctx.now:
        recovery.next_update_at = _next_update(ctx, recovery)
        cancel_pending(ctx.session, recovery=recovery, kind="update_due")
        add_once(ctx.session, scope=ctx.scope, platform=recovery.platform, kind="update_due",
                 channel=recovery.channel, due_at=recovery.next_update_at, to_user=recovery.lead, recovery=recovery)
    return recovery.next_update_at


def _facts(ctx: Context, recovery: Recovery, audience: str | None, next_update: datetime) -> dict[str, Any]:
    count = next((g.count for g in recovery.affected if g.audience == audience), 0)
    explanation = (
        f"{recovery.cause_note}" if recovery.cause_note
        else "we are still looking into exactly why it happened, and we will tell you what we find."
    )
    return {
        "what": recovery.what,
        "original_deadline": day(recovery.original_deadline) if recovery.original_deadline else None,
        "new_deadline": day(recovery.new_deadline) if recovery.new_deadline else None,
        "explanation": explanation,
        "remedy": recovery.remedy,
        "next_update": day(next_update.astimezone(ZoneInfo(recovery.tz)).date()),
        "contact": recovery.lead_name or recovery.lead,
        "count": count,
        "count_text": f"{count} {audience}" if count and audience else "some of the people we serve",
        "affected_summary": affected_summary(recovery),
        "actions": [f"{a.title} ({a.owner_name or a.owner}, by {day(a.due)})" for a in recovery.actions],
        "open_actions": [a.title for a in recovery.actions if a.status == "open"],
        "done_actions": [a.title for a in recovery.actions if a.status == "done"],
        "wins": [w.text for w in recovery.wins[-3:]],
    }


def draft(ctx: Context, args: str) -> list[Reply]:
    recovery = ctx.require_recovery(DRAFT_FORM)
    word, rest = split_word(args)
    from bot.commands.recovery import AUDIENCE_WORDS

    audience = AUDIENCE_WORDS.get(word)
    if audience is None or audience not in ctx.playbook.audiences or rest:
        shown = f"`{args[:30]}` is not an audience I know. " if word else "Who is the draft for? "
        raise UserError(shown + "Choose one of: " + ", ".join(ctx.playbook.audiences) + ".", DRAFT_FORM)
    spec = ctx.playbook.audiences[audience]
    next_update = _promise_update(ctx, recovery)
    body = ctx.templates.get_template(spec.template).render(**_facts(ctx, recovery, audience, next_update)).strip()
    ctx.session.add(Outreach(recovery=recovery, audience=audience, kind="draft", body=body, drafted_by=ctx.actor,
                             drafted_at=ctx.now, next_update_at=next_update))
    ctx.event(recovery, "draft", f"drafted outreach for {audience}")
    notes = [f"Draft for {spec.label.lower()} — edit it to sound like you before sending."]
    if spec.plain_language:
        notes.append("Written in plain language.")
    if not recovery.new_deadline:
        notes.append("No new deadline yet: set one with `deadline DATE` and draft again.")
    notes.append(f"It promises the next update by {moment(next_update, recovery.tz)}; Mend will remind the lead.")
    return [reply(f"{recovery.ref}: draft for {spec.label.lower()}", Section(text=body), context=" ".join(notes),
                  kind="draft")]


def update(ctx: Context, args: str) -> list[Reply]:
    recovery = ctx.require_recovery("update")
    if args.strip():
        raise UserError("`update` takes no words: it drafts from what is recorded.", "update")
    recovery.next_update_at = None  # this update keeps the last promise; the next one is promised now
    next_update = _promise_update(ctx, recovery)
    body = ctx.templates.get_template(ctx.playbook.update_template).render(
        **_facts(ctx, recovery, None, next_update)
    ).strip()
    ctx.session.add(Outreach(recovery=recovery, audience="affected", kind="update", body=body, drafted_by=ctx.actor,
                             drafted_at=ctx.now, next_update_at=next_update))
    ctx.event(recovery, "update", "drafted a progress update")
    return [reply(f"{recovery.ref}: progress update", Section(text=body),
                  context=f"Check it, then send it. The next update is promised by {moment(next_update, recovery.tz)}.",
                  kind="draft")]
