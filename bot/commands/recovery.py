"""Opening, describing, steering and closing a recovery."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from bot.context import Context
from bot.errors import UserError
from bot.ledger import set_affected, summary_lines
from bot.messages import Reply, Section
from bot.parsing import free_text, parse_date, split_word
from bot.progress import init_steps
from bot.reporting import report_markdown
from bot.scheduling import cancel_pending, pending_for, stop_schedules
from bot.store.models import Recovery
from bot.timefmt import day, moment
from bot.views import affected_summary, reply, status_reply, step_section

MISS_FORM = "miss WHAT WAS MISSED"
_COUNT = re.compile(r"\b(\d{1,5})\s+(patients?|famil(?:y|ies)|providers?|payers?)\b", re.IGNORECASE)
_WAS_DUE = re.compile(r"\s*\(?\b(?:was\s+|were\s+)?due\s+(?:on\s+)?(\d{4}-\d{2}-\d{2})\)?", re.IGNORECASE)
AUDIENCE_WORDS = {
    "patient": "patients", "patients": "patients", "family": "families", "families": "families",
    "provider": "providers", "providers": "providers", "payer": "payers", "payers": "payers",
    "leadership": "leadership", "team": "team",
}


def _audience(word: str) -> str | None:
    return AUDIENCE_WORDS.get(word.lower())


def help_(ctx: Context, args: str) -> list[Reply]:
    from bot.commands import command_table

    lines = [f"`{name}` — {spec.summary}\n    e.g. `{spec.example}`" for name, spec in command_table().items()]
    intro = (
        "Mend walks your team through recovering from a missed deadline: acknowledge it, tell the people "
        "affected, make it right, fix the cause, check in until it is done, and learn from it."
    )
    return [reply("Mend commands", Section(text=intro), Section(text="\n".join(lines)),
                  context="Dates: YYYY-MM-DD, today, tomorrow, a weekday, in N days. Times: HH:MM with an optional IANA zone.")]


def miss(ctx: Context, args: str) -> list[Reply]:
    what = free_text(args, "what was missed", "miss prior-auth renewals for 14 patients were due 2026-11-20")
    existing = ctx.channel_recovery()
    if existing is not None:
        raise UserError(
            f"This channel already has an open recovery, {existing.ref} ({existing.what}). "
            "Close it with `close` first, or open the new one in another channel.",
            "status",
        )
    original = None
    due_match = _WAS_DUE.search(what)
    if due_match:
        original = parse_date(due_match[1], ctx.today(), allow_past=True, form=MISS_FORM)
        what = (what[: due_match.start()] + what[due_match.end() :]).strip(" ,;") or what
    what = ctx.guard(what)
    recovery = Recovery(
        scope=ctx.scope,
        ref_no=ctx.next_ref(Recovery),
        platform=ctx.command.platform,
        channel=ctx.command.channel,
        channel_name=ctx.command.channel_name,
        what=what,
        original_deadline=original,
        opened_by=ctx.actor,
        opened_by_name=ctx.actor_name,
        opened_at=ctx.now,
        lead=ctx.actor,
        lead_name=ctx.actor_name,
        tz=ctx.tz,
        status="open",
        current_step="",
    )
    counts: dict[str, int] = {}
    for number, word in _COUNT.findall(what):
        audience = _audience(word)
        if audience:
            counts[audience] = counts.get(audience, 0) + int(number)
    recovery.affected, recovery.people = [], []
    for audience, count in counts.items():
        if count > 10_000:
            raise UserError("Mend follows at most 10,000 people per group. Please give a smaller count.", MISS_FORM)
        set_affected(recovery, audience, count, ctx.playbook)
    init_steps(recovery, ctx.playbook)
    ctx.session.add(recovery)
    ctx.touch(recovery)
    ctx.session.flush()
    ctx.event(recovery, "opened", f"opened {recovery.ref}: {what}")
    opened = Section(
        text=(
            f"Thank you for raising this openly, {ctx.actor_name}. Owning a miss quickly is the first step to "
            f"rebuilding trust.\nOpened by {ctx.actor_name} on {moment(ctx.now, ctx.tz)}. "
            f"Lead: {ctx.actor_name}. People affected: {affected_summary(recovery)}."
            + (f" Originally due {day(original)}." if original else "")
        )
    )
    return [reply(f"{recovery.ref} opened: {what}", opened, step_section(recovery, ctx.playbook),
                  context=f"Refer to this recovery as {recovery.ref}. `status` shows where it stands.")]


# `status` reads the affected groups and the drafts of every recovery it shows: both are a handful of rows,
# so they come joined to the recovery's own row (one query, not three). People and actions can be
# thousands: they load on their own.
STATUS_READS = (joinedload(Recovery.affected), joinedload(Recovery.outreach))


def status(ctx: Context, args: str) -> list[Reply]:
    recovery = ctx.require_recovery("status", *STATUS_READS)
    upcoming = pending_for(ctx.session, scope=ctx.scope, action_ids=[a.id for a in recovery.actions])
    return [status_reply(recovery, ctx.playbook, ctx.now, ctx.tz, upcoming)]


def affected(ctx: Context, args: str) -> list[Reply]:
    form = "affected 14 patients 3 families"
    recovery = ctx.require_recovery(form)
    words = args.split()
    if not words or len(words) % 2:
        raise UserError("Give a number and a group, such as `14 patients`.", form)
    changes: dict[str, int] = {}
    for number, word in zip(words[::2], words[1::2], strict=True):
        audience = _audience(word)
        if not number.isdigit() or audience is None or int(number) > 10_000:
            raise UserError(
                f"I could not read `{number[:10]} {word[:20]}`. Groups: patients, families, providers, payers.", form
            )
        changes[audience] = int(number)
    for audience, count in changes.items():
        set_affected(recovery, audience, count, ctx.playbook)
    summary = affected_summary(recovery)
    ctx.event(recovery, "affected", f"people affected: {summary}")
    return [reply(f"{recovery.ref}: people affected", Section(
        text=f"Counted: {summary}. Mend refers to people by pseudonym (Patient 1, Family 2), never by name.\n"
             + "\n".join(summary_lines(recovery, ctx.today()))),
        context="Record contact with `reached Patient 3 by phone` or `attempt Patient 5 letter`; `ledger` lists everyone.")]


def impact(ctx: Context, args: str) -> list[Reply]:
    form = "impact 14 families waited two extra weeks for treatment"
    recovery = ctx.require_recovery(form)
    before = recovery.impact
    recovery.impact = ctx.guard(free_text(args, "what the miss means for the people affected", form))
    ctx.event(recovery, "impact", f"impact: {recovery.impact}")
    change = f"\n(It said: {before})" if before else ""
    return [reply(f"{recovery.ref}: the impact", Section(
        text=f"Recorded: {recovery.impact}{change}\nNaming the impact plainly is part of owning the miss."))]


def plan(ctx: Context, args: str) -> list[Reply]:
    form = "plan resubmit every renewal with an expedited review"
    recovery = ctx.require_recovery(form)
    recovery.remedy = ctx.guard(free_text(args, "what is being done to make it right", form))
    ctx.event(recovery, "plan", f"plan: {recovery.remedy}")
    return [reply(f"{recovery.ref}: making it right", Section(text=f"Recorded: {recovery.remedy}"))]


def deadline(ctx: Context, args: str) -> list[Reply]:
    form = "deadline in 10 days"
    recovery = ctx.require_recovery(form)
    new = parse_date(args, ctx.today(), form=form)
    before = recovery.new_deadline
    recovery.new_deadline = new
    change = f" (was {day(before)})" if before else ""
    ctx.event(recovery, "deadline", f"new deadline {new.isoformat()}{change}")
    return [reply(f"{recovery.ref}: new deadline {day(new)}", Section(
        text=f"Committed: {day(new)}{change}. Pick a date you can keep: a kept date rebuilds trust.")) ]


def close(ctx: Context, args: str) -> list[Reply]:
    recovery = ctx.require_recovery("close")
    word, _ = split_word(args)
    if word not in ("", "anyway"):
        raise UserError(f"`close {word[:20]}` is not a form I know.", "close [anyway]")
    still_open = [a for a in recovery.actions if a.status == "open"]
    if still_open and word != "anyway":
        refs = ", ".join(a.ref for a in still_open[:10])
        raise UserError(
            f"{recovery.ref} still has {len(still_open)} open action(s): {refs}. Finish them with "
            "`checkin ACTION done`, or close regardless with `close anyway`.",
            "close anyway",
        )
    for action in still_open:
        stop_schedules(ctx.session, action=action)
    cancel_pending(ctx.session, recovery=recovery, kind="update_due")
    recovery.status, recovery.closed_at, recovery.closed_by = "closed", ctx.now, ctx.actor
    note = f" with {len(still_open)} action(s) still open" if still_open else ""
    ctx.event(recovery, "closed", f"closed {recovery.ref}{note}")
    done = sum(1 for a in recovery.actions if a.status == "done")
    text = (
        f"{recovery.ref} is closed{note}. {done} prevention action(s) done, {len(recovery.wins)} win(s), "
        f"{len(recovery.feedback)} piece(s) of feedback. Thank you all for making this right. "
        "`report` still shows the full story."
    )
    return [reply(f"{recovery.ref} closed", Section(text=text))]


def report(ctx: Context, args: str) -> list[Reply]:
    recovery = ctx.channel_recovery() or _latest(ctx)
    if recovery is None:
        raise UserError("There is no recovery in this channel yet. Open one with `miss WHAT WAS MISSED`.", "report")
    text = report_markdown(recovery, ctx.playbook, ctx.tz)
    return [Reply(text=text, title=f"Report for {recovery.ref}", sections=(Section(text=text),), kind="report")]


def _latest(ctx: Context) -> Recovery | None:
    return ctx.session.scalar(
        select(Recovery)
        .where(Recovery.scope == ctx.scope, Recovery.channel == ctx.command.channel)
        .order_by(Recovery.opened_at.desc())
        .limit(1)
    )
