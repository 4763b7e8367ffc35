"""Commands of the affected-people ledger: who was reached, how, in which language."""

from __future__ import annotations

from bot.context import Context
from bot.errors import UserError
from bot.ledger import CHANNELS, LANGUAGES, pseudonym, select_people, summary_lines
from bot.messages import Reply, Section
from bot.timefmt import day
from bot.views import listed, reply

REACHED_FORM = "reached Patient 3 by phone"
ATTEMPT_FORM = "attempt Patient 5 letter"
LANGUAGE_FORM = "language Patient 3 spanish"
MAX_LINES = 40


def _channel(word: str, form: str) -> str:
    channel = CHANNELS.get(word.lower().strip())
    if channel is None:
        raise UserError(f"`{word[:20]}` is not a way to reach someone. Use phone, letter, email, portal or "
                        "in-person.", form)
    return channel


def reached(ctx: Context, args: str) -> list[Reply]:
    recovery = ctx.require_recovery(REACHED_FORM)
    who, sep, how = args.rpartition(" by ")
    if not sep or not how.strip():
        raise UserError("How were they reached?", REACHED_FORM)
    channel = _channel(how, REACHED_FORM)
    people = select_people(recovery, who, ctx.playbook, REACHED_FORM)
    for person in people:
        person.reached, person.reached_at, person.channel = True, ctx.now, channel
        person.attempts += 1
        person.last_attempt_at = ctx.now
    names = listed([pseudonym(p, ctx.playbook) for p in people], 10)
    ctx.event(recovery, "reached", f"reached {names} by {channel}")
    return [reply(f"{recovery.ref}: reached", Section(
        text=f"Recorded: {names} reached by {channel}.\n" + "\n".join(summary_lines(recovery, ctx.today()))))]


def attempt(ctx: Context, args: str) -> list[Reply]:
    recovery = ctx.require_recovery(ATTEMPT_FORM)
    words = args.split()
    if len(words) < 3:
        raise UserError("Name the person and how you tried to reach them.", ATTEMPT_FORM)
    channel = _channel(words[-1], ATTEMPT_FORM)
    people = select_people(recovery, " ".join(words[:-1]), ctx.playbook, ATTEMPT_FORM)
    for person in people:
        person.attempts += 1
        person.channel, person.last_attempt_at = channel, ctx.now
    names = ", ".join(pseudonym(p, ctx.playbook) for p in people[:10])
    ctx.event(recovery, "attempt", f"tried to reach {names} by {channel}")
    attempts = people[0].attempts if len(people) == 1 else None
    note = f" (attempt {attempts})" if attempts else ""
    return [reply(f"{recovery.ref}: attempt recorded", Section(
        text=f"Recorded: tried to reach {names} by {channel}{note}. Keep trying: being reached matters."))]


def language(ctx: Context, args: str) -> list[Reply]:
    recovery = ctx.require_recovery(LANGUAGE_FORM)
    who, _, lang = args.strip().rpartition(" ")
    code = LANGUAGES.get(lang.lower())
    if not who or code is None:
        raise UserError("Name the person and their language (English or Spanish).", LANGUAGE_FORM)
    people = select_people(recovery, who, ctx.playbook, LANGUAGE_FORM)
    for person in people:
        person.language = code
    names = ", ".join(pseudonym(p, ctx.playbook) for p in people[:10])
    ctx.event(recovery, "language", f"{names} prefer {ctx.playbook.languages.get(code, code)}")
    return [reply(f"{recovery.ref}: language", Section(
        text=f"{names}: {ctx.playbook.languages.get(code, code)}. Drafts for them: `draft patients {code}`."))]


def ledger(ctx: Context, args: str) -> list[Reply]:
    recovery = ctx.require_recovery("ledger")
    if not recovery.people:
        raise UserError("No one is in the ledger yet. Count the people affected first.", "affected 14 patients")
    today = ctx.today()
    lines = []
    for person in recovery.people[:MAX_LINES]:
        state = f"reached by {person.channel}" if person.reached else (
            f"not reached yet ({person.attempts} attempt{'s' if person.attempts != 1 else ''}"
            + (f", last by {person.channel})" if person.channel else ")") if person.attempts else "not contacted yet")
        extra = []
        if person.language != "en":
            extra.append(ctx.playbook.languages.get(person.language, person.language))
        if person.next_update_on:
            extra.append(f"next update {day(person.next_update_on)}")
        lines.append(f"{pseudonym(person, ctx.playbook)} — {state}" + (" · " + " · ".join(extra) if extra else ""))
    if len(recovery.people) > MAX_LINES:
        lines.append(f"…and {len(recovery.people) - MAX_LINES} more (the counts above include everyone)")
    counts = Section(title="Counts", text="\n".join(summary_lines(recovery, today)))
    return [reply(f"{recovery.ref}: people affected", counts, Section(title="By pseudonym", text="\n".join(lines)),
                  context="People are referred to by pseudonym only. Keep names in your records system.")]
