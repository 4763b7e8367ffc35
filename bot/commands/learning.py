"""Wins, feedback and the retrospective: how the team learns and keeps its spirits up."""

from __future__ import annotations

from bot.context import Context
from bot.errors import UserError
from bot.ledger import summary_lines
from bot.messages import Reply, Section
from bot.parsing import free_text, split_word
from bot.progress import next_retro_question
from bot.store.models import Feedback, RetroAnswer, Win
from bot.views import reply

RETRO_FORM = "retro [ANSWER] | retro cause CATEGORY NOTE"


def win(ctx: Context, args: str) -> list[Reply]:
    form = "win all 14 renewals resubmitted"
    recovery = ctx.require_recovery(form)
    text = ctx.guard(free_text(args, "the win", form))
    recovery.wins.append(Win(text=text, by_user=ctx.actor, at=ctx.now))
    ctx.event(recovery, "win", f"win: {text}")
    count = len(recovery.wins)
    progress = summary_lines(recovery, ctx.today())
    done = sum(1 for a in recovery.actions if a.status == "done")
    counts = [f"{count} win{'s' if count != 1 else ''} on the way back"]
    if recovery.actions:
        counts.append(f"{done} of {len(recovery.actions)} actions done")
    counts += progress
    return [reply(f"🎉 A win for {recovery.ref}", Section(
        text=f"{text}\nThat's " + "; ".join(counts) + ". Small steps rebuild trust. "
             f"Thank you, {ctx.actor_name}."), kind="win")]


def feedback(ctx: Context, args: str) -> list[Reply]:
    form = "feedback a family asked for a phone call, not a letter"
    recovery = ctx.require_recovery(form)
    text = ctx.guard(free_text(args, "what was said", form))
    recovery.feedback.append(Feedback(text=text, by_user=ctx.actor, at=ctx.now))
    ctx.event(recovery, "feedback", f"feedback: {text}")
    return [reply(f"Feedback recorded for {recovery.ref}", Section(
        text=f"“{text}”\nThank you for listening. If it asks for a change, make it an action: "
             "`action TITLE @OWNER due DATE`."))]


def retro(ctx: Context, args: str) -> list[Reply]:
    recovery = ctx.require_recovery(RETRO_FORM)
    word, rest = split_word(args)
    pending = next_retro_question(recovery, ctx.playbook)
    if word == "cause" and rest:
        category, _, note = rest.partition(" ")
        if category.lower() not in ctx.playbook.cause_categories:
            raise UserError(f"`{category[:20]}` is not a cause category. Choose one of: "
                            + ", ".join(ctx.playbook.cause_categories) + ".", "retro cause tracking NOTE")
        recovery.cause_category = category.lower()
        recovery.cause_note = ctx.guard(free_text(note, "a short note on the cause", "retro cause tracking NOTE")) \
            if note.strip() else None
        recovery.retro.append(RetroAnswer(question="cause", answer=f"{recovery.cause_category}: "
                                          f"{recovery.cause_note or ''}".strip(), by_user=ctx.actor, at=ctx.now))
        ctx.event(recovery, "retro", f"named the cause: {recovery.cause_category}")
    elif args.strip():
        if pending is None:
            raise UserError("The retrospective is complete. `report` shows it.", "report")
        question, prompt = pending
        if question.followup and prompt.startswith("Please name the cause"):
            raise UserError("You have asked why enough times; now name the cause.", "retro cause CATEGORY NOTE")
        answer = ctx.guard(free_text(args, "your answer", RETRO_FORM))
        recovery.retro.append(RetroAnswer(question=question.id, answer=answer, by_user=ctx.actor, at=ctx.now))
        ctx.event(recovery, "retro", f"retro {question.id}: {answer}")
    following = next_retro_question(recovery, ctx.playbook)
    if following is None:
        lines = [f"• {a.question.replace('_', ' ')}: {a.answer}" for a in recovery.retro]
        return [reply(f"Retrospective for {recovery.ref}: complete", Section(text="\n".join(lines)),
                      context="Thank you. Turn what changes into actions with owners: `action TITLE @OWNER due DATE`.")]
    _question, prompt = following
    return [reply(f"Retrospective for {recovery.ref}", Section(text=prompt),
                  context="Blameless: we look at the process, not at people.")]
