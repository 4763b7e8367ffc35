"""Outreach: drafts for the people affected (checked for what they must say and how they read), edits,
approval by a second person, sending to people in the ledger, and the progress updates they were promised."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.commands.recovery import AUDIENCE_WORDS
from bot.composer import reading_level, review, review_note
from bot.context import Context
from bot.errors import UserError
from bot.ledger import CHANNELS, LANGUAGES, pseudonym, select_people
from bot.messages import Reply, Section
from bot.parsing import check_text, split_word
from bot.scheduling import add_once, cancel_pending
from bot.store.models import Outreach, Recovery
from bot.timefmt import day, day_in, moment
from bot.views import affected_summary, listed, reply

DRAFT_FORM = "draft patients|families|providers|payers|leadership|team [es]"
EDIT_FORM = "edit patients [es] THE WHOLE NEW TEXT"
APPROVE_FORM = "approve patients [es]"
SENT_FORM = "sent patients [es] [to Patient 1-5] [by letter]"
UPDATE_FORM = "update [es]"
_EXPLAIN = {
    "en": "we are still looking into exactly why it happened, and we will tell you what we find.",
    "es": "todavía estamos investigando por qué pasó. Le diremos lo que encontremos.",
}


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


def _facts(recovery: Recovery, audience: str | None, next_update: datetime, lang: str = "en") -> dict[str, Any]:
    count = next((g.count for g in recovery.affected if g.audience == audience), 0)
    return {
        "what": recovery.what,
        "original_deadline": day_in(recovery.original_deadline, lang) if recovery.original_deadline else None,
        "new_deadline": day_in(recovery.new_deadline, lang) if recovery.new_deadline else None,
        "explanation": recovery.cause_note or _EXPLAIN.get(lang, _EXPLAIN["en"]),
        "impact": recovery.impact,
        "remedy": recovery.remedy,
        "next_update": day_in(next_update.astimezone(ZoneInfo(recovery.tz)).date(), lang),
        "contact": recovery.lead_name or recovery.lead,
        "count": count,
        "count_text": f"{count} {audience}" if count and audience else "some of the people we serve",
        "affected_summary": affected_summary(recovery),
        "actions": [f"{a.title} ({a.owner_name or a.owner}, by {day(a.due)})" for a in recovery.actions],
        "open_actions": [a.title for a in recovery.actions if a.status == "open"],
        "done_actions": [a.title for a in recovery.actions if a.status == "done"],
        "wins": [w.text for w in recovery.wins[-3:]],
    }


def _audience_and_language(ctx: Context, args: str, form: str) -> tuple[str, str, str]:
    word, rest = split_word(args)
    audience = AUDIENCE_WORDS.get(word)
    if audience is None or audience not in ctx.playbook.audiences:
        shown = f"`{word[:30]}` is not an audience I know. " if word else "Which audience? "
        raise UserError(shown + "Choose one of: " + ", ".join(ctx.playbook.audiences) + ".", form)
    lang_word, after = split_word(rest)
    if lang_word in LANGUAGES:
        lang = LANGUAGES[lang_word]
        spec = ctx.playbook.audiences[audience]
        if lang != "en" and lang not in spec.translations:
            raise UserError(f"There is no {ctx.playbook.languages.get(lang, lang)} template for {audience} yet.", form)
        return audience, lang, after
    return audience, "en", rest


def _latest(recovery: Recovery, audience: str, lang: str) -> Outreach | None:
    drafts = [o for o in recovery.outreach if o.audience == audience and o.language == lang and o.kind == "draft"]
    return drafts[-1] if drafts else None


def _review_context(ctx: Context, body: str, audience: str, lang: str) -> tuple[str, bool]:
    spec = ctx.playbook.audiences[audience]
    missing, reading = review(body, lang, ctx.playbook, spec.plain_language)
    return review_note(missing, reading), not missing and (reading is None or reading.ok)


def draft(ctx: Context, args: str) -> list[Reply]:
    recovery = ctx.require_recovery(DRAFT_FORM)
    audience, lang, rest = _audience_and_language(ctx, args, DRAFT_FORM)
    if rest:
        raise UserError(f"`draft` takes an audience and an optional language; I did not expect `{rest[:30]}`.",
                        DRAFT_FORM)
    spec = ctx.playbook.audiences[audience]
    next_update = _promise_update(ctx, recovery)
    template = spec.translations.get(lang, spec.template)
    body = ctx.templates.get_template(template).render(**_facts(recovery, audience, next_update, lang)).strip()
    ctx.session.add(Outreach(recovery=recovery, audience=audience, kind="draft", language=lang, body=body,
                             drafted_by=ctx.actor, drafted_at=ctx.now, next_update_at=next_update))
    ctx.event(recovery, "draft", f"drafted outreach for {audience}" + (f" ({lang})" if lang != "en" else ""))
    note, _ok = _review_context(ctx, body, audience, lang)
    notes = [note, f"Edit it to sound like you (`edit {audience} NEW TEXT`), then ask a colleague to "
                   f"`approve {audience}`."]
    if spec.plain_language and lang == "en":
        speakers = sum(1 for p in recovery.people if p.audience == audience and p.language == "es")
        if speakers:
            notes.append(f"{speakers} of them prefer Spanish: `draft {audience} es`.")
    if lang != "en":
        notes.append("The description of the miss is in your words: translate it before sending.")
    if not recovery.new_deadline:
        notes.append("No new deadline yet: set one with `deadline DATE` and draft again.")
    notes.append(f"It promises the next update by {moment(next_update, recovery.tz)}; Mend will remind the lead.")
    label = spec.label.lower() + (f" ({ctx.playbook.languages.get(lang, lang)})" if lang != "en" else "")
    return [reply(f"{recovery.ref}: draft for {label}", Section(text=body), context=" ".join(notes), kind="draft")]


def edit(ctx: Context, args: str) -> list[Reply]:
    recovery = ctx.require_recovery(EDIT_FORM)
    audience, lang, text = _audience_and_language(ctx, args, EDIT_FORM)
    current = _latest(recovery, audience, lang)
    if current is None:
        raise UserError(f"There is no draft for {audience} to edit yet.", f"draft {audience}")
    if current.sent_at:
        raise UserError(f"The draft for {audience} was already sent. Draft a new one to change it.", f"draft {audience}")
    body = ctx.guard(check_text(text.strip(), limit=3_000, form=EDIT_FORM))
    if not body:
        raise UserError("Give the whole new text after the audience.", EDIT_FORM)
    current.body, current.approved_by, current.approved_at = body, None, None
    current.drafted_by, current.drafted_at = ctx.actor, ctx.now
    ctx.event(recovery, "draft", f"edited the draft for {audience}")
    note, _ok = _review_context(ctx, body, audience, lang)
    return [reply(f"{recovery.ref}: draft for {audience} edited", Section(text=body),
                  context=note + " An edit needs a new approval.", kind="draft")]


def approve(ctx: Context, args: str) -> list[Reply]:
    recovery = ctx.require_recovery(APPROVE_FORM)
    audience, lang, rest = _audience_and_language(ctx, args, APPROVE_FORM)
    current = _latest(recovery, audience, lang)
    if current is None:
        raise UserError(f"There is no draft for {audience} to approve.", f"draft {audience}")
    if current.drafted_by == ctx.actor:
        raise UserError("A draft is approved by someone other than its author: ask a colleague to approve it.",
                        APPROVE_FORM)
    note, ok = _review_context(ctx, current.body, audience, lang)
    if not ok:
        raise UserError(f"This draft is not ready: {note} Fix it with `edit {audience} NEW TEXT`.", APPROVE_FORM)
    current.approved_by, current.approved_at = ctx.actor, ctx.now
    ctx.event(recovery, "approved", f"approved the draft for {audience}")
    return [reply(f"{recovery.ref}: draft for {audience} approved", Section(
        text=f"Approved by {ctx.actor_name}. When it has gone out: `sent {audience} to all by letter`."))]


def sent(ctx: Context, args: str) -> list[Reply]:
    recovery = ctx.require_recovery(SENT_FORM)
    audience, lang, rest = _audience_and_language(ctx, args, SENT_FORM)
    current = _latest(recovery, audience, lang)
    if current is None or current.approved_at is None:
        raise UserError(f"The draft for {audience} needs an approval before it is sent.", APPROVE_FORM)
    who, channel = rest, None
    if " by " in f" {rest}":
        who, _, how = f" {rest}".rpartition(" by ")
        channel = CHANNELS.get(how.strip().lower())
        if channel is None:
            raise UserError(f"`{how.strip()[:20]}` is not a way to reach someone.", SENT_FORM)
    who = who.strip()
    if who.lower().startswith("to "):
        who = who[3:]
    people, other_language = [], []
    if recovery.people and any(p.audience == audience for p in recovery.people):
        if not who or who.lower() == "all":
            people = [p for p in recovery.people if p.audience == audience and p.language == lang]
            other_language = [p for p in recovery.people if p.audience == audience and p.language != lang]
        else:
            people = select_people(recovery, who, ctx.playbook, SENT_FORM)
    elif who and who.lower() != "all":
        raise UserError(f"No {audience} are in the ledger.", "affected 14 patients")
    promised = current.next_update_at.astimezone(ZoneInfo(recovery.tz)).date() if current.next_update_at else None
    for person in people:
        person.attempts += 1
        person.last_attempt_at = ctx.now
        person.channel = channel or person.channel or "letter"
        person.next_update_on = promised
    current.sent_at, current.sent_by = ctx.now, ctx.actor
    names = listed([pseudonym(p, ctx.playbook) for p in people], 8)
    ctx.event(recovery, "sent", f"sent the {audience} message to {len(people)} people" + (f" ({names})" if names else ""))
    text = f"Marked sent to {len(people)} {audience}" + (f": {names}" if names else "") + "."
    if promised:
        text += f" Each was promised an update by {day(promised)}; Mend will remind the lead."
    if other_language:  # "all" means all who read this draft's language: say who still needs theirs
        skipped = listed([pseudonym(p, ctx.playbook) for p in other_language], 8)
        languages = sorted({p.language for p in other_language})
        text += (f"\nNot sent to {len(other_language)} who prefer another language ({skipped}): send them "
                 + " or ".join(f"`draft {audience} {code}`" for code in languages) + ".")
    return [reply(f"{recovery.ref}: {audience} message sent", Section(text=text))]


def update(ctx: Context, args: str) -> list[Reply]:
    recovery = ctx.require_recovery(UPDATE_FORM)
    word, rest = split_word(args)
    lang = LANGUAGES.get(word, "") if word else "en"
    if rest or not lang or (lang != "en" and lang not in ctx.playbook.update_translations):
        raise UserError("`update` drafts from what is recorded; it takes only a language"
                        + (" (" + ", ".join(sorted(ctx.playbook.update_translations)) + ")."
                           if ctx.playbook.update_translations else "."), UPDATE_FORM)
    recovery.next_update_at = None  # this update keeps the last promise; the next one is promised now
    next_update = _promise_update(ctx, recovery)
    template = ctx.playbook.update_translations.get(lang, ctx.playbook.update_template)
    body = ctx.templates.get_template(template).render(**_facts(recovery, None, next_update, lang)).strip()
    ctx.session.add(Outreach(recovery=recovery, audience="affected", kind="update", language=lang, body=body,
                             drafted_by=ctx.actor, drafted_at=ctx.now, next_update_at=next_update))
    promised = next_update.astimezone(ZoneInfo(recovery.tz)).date()
    for person in recovery.people:
        if person.next_update_on is not None:
            person.next_update_on = promised
    ctx.event(recovery, "update", "drafted a progress update" + (f" ({lang})" if lang != "en" else ""))
    notes = [review_note(None, reading_level(body, lang, ctx.playbook.reading_grade_max))]  # elements: first messages
    speakers = sum(1 for p in recovery.people if p.language == "es")
    if lang == "en" and speakers and "es" in ctx.playbook.update_translations:
        notes.append(f"{speakers} of the people affected prefer Spanish: `update es`.")
    if lang != "en":
        notes.append("The description of the miss and the actions are in your words: translate them before sending.")
    notes.append(f"Check it, then send it. The next update is promised by {moment(next_update, recovery.tz)}.")
    label = f" ({ctx.playbook.languages.get(lang, lang)})" if lang != "en" else ""
    return [reply(f"{recovery.ref}: progress update{label}", Section(text=body), context=" ".join(notes),
                  kind="draft")]

